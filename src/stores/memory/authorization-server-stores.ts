/**
 * The authorization-server stores in process memory, for tests and single-process experiments.
 * Nothing survives a restart and nothing is shared between processes.
 *
 * Every operation runs its check-and-set in one synchronous section (no `await` between a read
 * and the write it decides), so the atomicity rules of the contract hold exactly as they do in
 * the database backends. Records are copied on the way in and out: a caller mutating what it
 * passed or got back never changes the store.
 */
import type {
  AuthorizationCodeRecord,
  AuthorizationServerStores,
  ClientRecord,
  ClientStore,
  CodeStore,
  ConsentRecord,
  ConsentStore,
  GrantRecord,
  GrantStore,
  InteractionStore,
  KeyStore,
  RefreshTokenRecord,
  SigningKeyRecord,
  ThrottleStore,
  UserRecord,
  UserStore,
} from '../authorization-server-contracts.js';
import {
  type FamilyOperations,
  type ThrottleRow,
  checkThrottleInput,
  decideThrottle,
  checkExchangedFrom,
  checkKeyPut,
  checkRotateInput,
  isGrantPurgeable,
  liveThrottleState,
  parseInteraction,
  planKeyRotation,
  rotateRefreshTokenWith,
  serializeInteraction,
  unionScopes,
} from '../authorization-server-store-rules.js';
import { StoreUnavailableError } from '../contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';
import { createMemoryDeviceCodes } from './device-code-store.js';

/** Options of {@link createMemoryAuthorizationServerStores}. */
export interface MemoryAuthorizationServerStoresOptions {
  /**
   * Clock in seconds since the epoch. Accepted for symmetry with the other memory stores; every
   * contract operation takes its time as an argument, so these stores never read a clock.
   */
  now?: () => number;
}

const copy = <T>(value: T): T => structuredClone(value);

/** A deep-frozen copy: handed out as is, since nobody can change it (no clone per read). */
function frozenCopy<T>(value: T): T {
  const out = structuredClone(value);
  const freeze = (v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
      Object.freeze(v);
      for (const child of Object.values(v)) freeze(child);
    }
  };
  freeze(out);
  return out;
}

/**
 * Creates empty in-memory authorization-server stores. `close()` empties them; every later call
 * rejects with {@link StoreUnavailableError}, as the database backends do.
 */
export function createMemoryAuthorizationServerStores(
  _options: MemoryAuthorizationServerStoresOptions = {},
): AuthorizationServerStores {
  const codes = new Map<string, { code: AuthorizationCodeRecord; usedAt?: number }>();
  const grants = new Map<string, GrantRecord>();
  const refreshTokens = new Map<string, RefreshTokenRecord>();
  /**
   * grantId → the hashes of its refresh tokens and the highest generation among them: a rotation
   * asks for its family's latest generation, and a purge for each grant's tokens. Scanning every
   * stored token instead made each rotation O(all tokens) and a purge O(grants × tokens). Kept in
   * step with `refreshTokens` by {@link putToken} and {@link dropToken}, its only writers.
   */
  const families = new Map<string, { hashes: Set<string>; latest: number }>();
  /** grantId → jti → expiresAt of the access tokens issued under the grant. */
  const accessTokens = new Map<string, Map<string, number>>();
  /** jti → the grant it was recorded under (the reverse of `accessTokens`). */
  const accessTokenGrants = new Map<string, string>();
  /** jti → the jtis it was exchanged from, each with the expiry of this record. */
  const exchanged = new Map<string, Map<string, number>>();
  const denied = new Map<string, number>();
  const clients = new Map<string, ClientRecord>();
  const users = new Map<string, UserRecord>();
  const consents = new Map<string, ConsentRecord>();
  const interactions = new Map<string, { json: string; expiresAt: number }>();
  const keys = new Map<string, SigningKeyRecord>();
  const throttles = new Map<string, ThrottleRow>();
  const tables = [throttles, codes, grants, refreshTokens, families, accessTokens, accessTokenGrants, exchanged, denied, clients, users, consents, interactions, keys];
  let closed = false;

  /** Runs `operation` synchronously, as the one atomic section of a call. */
  const atomically = async <T>(operation: () => T): Promise<T> => {
    if (closed) throw new StoreUnavailableError('authorization-server store is closed');
    return operation();
  };
  const deviceCodes = createMemoryDeviceCodes(atomically);

  const deny = (jti: string, expiresAt: number): void => {
    denied.set(jti, Math.max(expiresAt, denied.get(jti) ?? -Infinity));
  };

  const putToken = (token: RefreshTokenRecord): void => {
    refreshTokens.set(token.tokenHash, copy(token));
    let family = families.get(token.grantId);
    if (family === undefined) families.set(token.grantId, (family = { hashes: new Set(), latest: -1 }));
    family.hashes.add(token.tokenHash);
    family.latest = Math.max(family.latest, token.generation);
  };
  const dropToken = (token: RefreshTokenRecord): boolean => {
    const removed = refreshTokens.delete(token.tokenHash);
    const family = families.get(token.grantId);
    if (family !== undefined) {
      family.hashes.delete(token.tokenHash);
      if (family.hashes.size === 0) families.delete(token.grantId);
      // The latest generation expires last, so this is rare: only then look at what is left.
      else if (token.generation >= family.latest) family.latest = familyTokens(token.grantId).reduce((latest, t) => Math.max(latest, t.generation), -1);
    }
    return removed;
  };
  const familyTokens = (grantId: string): RefreshTokenRecord[] => {
    const tokens: RefreshTokenRecord[] = [];
    for (const tokenHash of families.get(grantId)?.hashes ?? []) {
      const token = refreshTokens.get(tokenHash);
      if (token !== undefined) tokens.push(token);
    }
    return tokens;
  };

  const revokeFamily = (grantId: string, now: number): void => {
    const grant = grants.get(grantId);
    if (grant === undefined) return;
    // The first revocation time stands; later calls are no-ops (idempotent).
    if (grant.revokedAt === undefined) grant.revokedAt = now;
    for (const [jti, expiresAt] of accessTokens.get(grantId) ?? []) if (expiresAt > now) deny(jti, expiresAt);
  };

  const recordAccess = (grantId: string, jti: string, expiresAt: number): void => {
    let issued = accessTokens.get(grantId);
    if (issued === undefined) accessTokens.set(grantId, (issued = new Map()));
    issued.set(jti, Math.max(expiresAt, issued.get(jti) ?? -Infinity));
    accessTokenGrants.set(jti, grantId);
  };

  const family: FamilyOperations = {
    getToken: (tokenHash) => {
      const token = refreshTokens.get(tokenHash);
      return token && copy(token);
    },
    getGrant: (grantId) => {
      const grant = grants.get(grantId);
      return grant && copy(grant);
    },
    latestGeneration: (grantId) => families.get(grantId)?.latest ?? -1,
    markRotated: (tokenHash, rotatedAt, successorHash, fingerprint) => {
      const token = refreshTokens.get(tokenHash);
      if (token) Object.assign(token, { rotatedAt, successorHash, rotationFingerprint: fingerprint });
    },
    insertToken: putToken,
    recordAccessToken: (grantId, jti, expiresAt) => recordAccess(grantId, jti, expiresAt),
    revokeFamily,
  };

  const codeStore: CodeStore = {
    save: (code) =>
      atomically(() => {
        if (codes.has(code.codeHash)) throw new StoreConflictError('CodeStore.save: code hash already stored');
        codes.set(code.codeHash, { code: copy(code) });
      }),
    consume: (codeHash, now) =>
      atomically(() => {
        const entry = codes.get(codeHash);
        if (entry === undefined || entry.code.expiresAt <= now) return { state: 'unknown' as const };
        if (entry.usedAt !== undefined) return { state: 'reused' as const, code: copy(entry.code) };
        // Kept, marked, until it expires: a second redemption must be told apart from a typo.
        entry.usedAt = now;
        return { state: 'fresh' as const, code: copy(entry.code) };
      }),
  };

  const grantStore: GrantStore = {
    createGrant: (grant) =>
      atomically(() => {
        if (grants.has(grant.grantId)) throw new StoreConflictError('GrantStore.createGrant: grant id already stored');
        grants.set(grant.grantId, copy(grant));
      }),
    getGrant: (grantId) => atomically(() => family.getGrant(grantId)),
    saveRefreshToken: (token) =>
      atomically(() => {
        if (!grants.has(token.grantId)) throw new TypeError('GrantStore.saveRefreshToken: unknown grant');
        if (refreshTokens.has(token.tokenHash)) {
          throw new StoreConflictError('GrantStore.saveRefreshToken: token hash already stored');
        }
        putToken(token);
      }),
    getRefreshToken: (tokenHash) => atomically(() => family.getToken(tokenHash)),
    rotateRefreshToken: (input) =>
      atomically(() => {
        checkRotateInput(input);
        return rotateRefreshTokenWith(family, input);
      }),
    revokeGrant: (grantId, now) => atomically(() => revokeFamily(grantId, now)),
    revokeGrantsFor: (subject, clientId, now) =>
      atomically(() => {
        let revoked = 0;
        for (const [codeHash, { code, usedAt }] of codes) {
          if (code.subject !== subject || code.clientId !== clientId) continue;
          if (usedAt === undefined) codes.delete(codeHash);
          else if (!grants.has(code.grantId)) {
            grants.set(code.grantId, { grantId: code.grantId, clientId, subject, scopes: [...code.scopes], resources: [code.resource], createdAt: now, revokedAt: now });
            revoked += 1;
          }
        }
        for (const grant of grants.values()) {
          if (grant.subject !== subject || grant.clientId !== clientId || grant.revokedAt !== undefined) continue;
          revokeFamily(grant.grantId, now);
          revoked += 1;
        }
        return revoked;
      }),
    recordAccessToken: (grantId, jti, expiresAt) =>
      atomically(() => {
        const grant = grants.get(grantId);
        if (grant === undefined) throw new TypeError('GrantStore.recordAccessToken: unknown grant');
        recordAccess(grantId, jti, expiresAt);
        // Issued while (or after) the grant was revoked: deny it now, or it would escape.
        if (grant.revokedAt !== undefined) deny(jti, expiresAt);
      }),
    recordExchangedAccessToken: (jti, exchangedFrom, expiresAt) =>
      atomically(() => {
        const from = checkExchangedFrom(exchangedFrom);
        let chain = exchanged.get(jti);
        if (chain === undefined) exchanged.set(jti, (chain = new Map()));
        for (const ancestor of from) chain.set(ancestor, Math.max(expiresAt, chain.get(ancestor) ?? -Infinity));
      }),
    getAccessTokenLineage: (jti) =>
      atomically(() => {
        const grantId = accessTokenGrants.get(jti);
        const exchangedFrom = [...(exchanged.get(jti)?.keys() ?? [])].sort(compare);
        return grantId === undefined ? { exchangedFrom } : { grantId, exchangedFrom };
      }),
    denyAccessToken: (jti, expiresAt) => atomically(() => deny(jti, expiresAt)),
    isAccessTokenDenied: (jti, now) =>
      atomically(() => [jti, ...(exchanged.get(jti)?.keys() ?? [])].some((candidate) => (denied.get(candidate) ?? -Infinity) > now)),
    purgeExpired: (now) => atomically(() => purge(now)),
  };

  function purge(now: number): number {
    let removed = 0;
    const sweep = <K, V>(map: Map<K, V>, expired: (value: V) => boolean): void => {
      for (const [key, value] of map) if (expired(value)) removed += Number(map.delete(key));
    };
    sweep(codes, (entry) => entry.code.expiresAt <= now);
    for (const token of refreshTokens.values()) if (token.expiresAt <= now) removed += Number(dropToken(token));
    for (const issued of accessTokens.values()) sweep(issued, (expiresAt) => expiresAt <= now);
    for (const chain of exchanged.values()) sweep(chain, (expiresAt) => expiresAt <= now);
    for (const [jti, chain] of exchanged) if (chain.size === 0) exchanged.delete(jti);
    sweep(denied, (expiresAt) => expiresAt <= now);
    sweep(interactions, (entry) => entry.expiresAt <= now);
    sweep(throttles, (row) => row.expiresAt <= now);
    removed += deviceCodes.purge(now);
    for (const [grantId, grant] of grants) {
      const issued = accessTokens.get(grantId);
      const tokens = familyTokens(grantId);
      if (!isGrantPurgeable(grant, tokens.length > 0 || (issued?.size ?? 0) > 0, now)) continue;
      for (const token of tokens) removed += Number(dropToken(token));
      removed += (issued?.size ?? 0) + 1;
      accessTokens.delete(grantId);
      grants.delete(grantId);
    }
    for (const [grantId, issued] of accessTokens) if (issued.size === 0) accessTokens.delete(grantId);
    for (const [jti, grantId] of accessTokenGrants) if (accessTokens.get(grantId)?.has(jti) !== true) accessTokenGrants.delete(jti);
    return removed;
  }

  const clientStore: ClientStore = {
    // Clients are read on every token request and never change in place: store them frozen.
    get: (clientId) => atomically(() => clients.get(clientId)),
    put: (client) => atomically(() => void clients.set(client.clientId, frozenCopy(client))),
    delete: (clientId) => atomically(() => void clients.delete(clientId)),
    markUsed: (clientId, now) =>
      atomically(() => {
        const client = clients.get(clientId);
        if (client !== undefined && client.usedAt === undefined) clients.set(clientId, frozenCopy({ ...client, usedAt: now }));
      }),
    deleteUnused: (createdAtOrBefore) =>
      atomically(() => {
        let removed = 0;
        for (const [clientId, client] of clients) {
          if (client.source === 'registered' && client.usedAt === undefined && client.createdAt <= createdAtOrBefore) removed += Number(clients.delete(clientId));
        }
        return removed;
      }),
  };

  const userStore: UserStore = {
    get: (username) => atomically(() => copyOrUndefined(users.get(username))),
    put: (user) => atomically(() => void users.set(user.username, copy(user))),
    delete: (username) => atomically(() => users.delete(username)),
    list: () => atomically(() => [...users.keys()].sort()),
  };

  const consentKey = (subject: string, clientId: string, resource: string): string =>
    JSON.stringify([subject, clientId, resource]);
  const consentStore: ConsentStore = {
    get: (subject, clientId, resource) =>
      atomically(() => copyOrUndefined(consents.get(consentKey(subject, clientId, resource)))),
    put: (consent) =>
      atomically(() => {
        const key = consentKey(consent.subject, consent.clientId, consent.resource);
        const scopes = unionScopes(consents.get(key)?.scopes ?? [], consent.scopes);
        consents.set(key, { ...copy(consent), scopes });
      }),
    revoke: (subject, clientId) =>
      atomically(() => {
        let removed = 0;
        for (const [key, consent] of consents) {
          if (consent.subject === subject && consent.clientId === clientId) removed += Number(consents.delete(key));
        }
        return removed;
      }),
    list: (subject) =>
      atomically(() =>
        [...consents.values()]
          .filter((consent) => consent.subject === subject)
          .sort((a, b) => compare(a.clientId, b.clientId) || compare(a.resource, b.resource))
          .map(copy),
      ),
  };

  const liveInteraction = (id: string, now: number): string | undefined => {
    const entry = interactions.get(id);
    return entry !== undefined && entry.expiresAt > now ? entry.json : undefined;
  };
  const interactionStore: InteractionStore = {
    put: (id, data, expiresAt) =>
      atomically(() => void interactions.set(id, { json: serializeInteraction(data), expiresAt })),
    get: (id, now) => atomically(() => parseInteraction(liveInteraction(id, now))),
    take: (id, now) =>
      atomically(() => {
        const json = liveInteraction(id, now);
        interactions.delete(id);
        return parseInteraction(json);
      }),
  };

  const keyStore: KeyStore = {
    list: () => atomically(() => [...keys.values()].sort(byCreation).map(copy)),
    put: (key) =>
      atomically(() => {
        checkKeyPut([...keys.values()], key);
        keys.set(key.kid, copy(key));
      }),
    delete: (kid) => atomically(() => void keys.delete(kid)),
    rotate: ({ newNext, retireAfter }) =>
      atomically(() => {
        const plan = planKeyRotation([...keys.values()], newNext);
        const retiring = plan.retire === undefined ? undefined : keys.get(plan.retire);
        if (retiring) Object.assign(retiring, { state: 'retired', retireAfter });
        const promoted = plan.promote === undefined ? undefined : keys.get(plan.promote);
        if (promoted) promoted.state = 'current';
        keys.set(plan.insert.kid, copy(plan.insert));
      }),
  };

  const throttleStore: ThrottleStore = {
    attempt: (key, policy, now) =>
      atomically(() => {
        checkThrottleInput(key, policy, now);
        const { result, write } = decideThrottle(throttles.get(key), policy, now);
        if (write !== undefined) throttles.set(key, write);
        return result;
      }),
    release: (key, now) =>
      atomically(() => {
        const row = throttles.get(key);
        if (row !== undefined && row.expiresAt > now) row.count = Math.max(0, row.count - 1);
      }),
    get: (key, now) => atomically(() => liveThrottleState(throttles.get(key), now)),
    delete: (key) => atomically(() => void throttles.delete(key)),
  };

  return {
    codes: codeStore,
    grants: grantStore,
    clients: clientStore,
    users: userStore,
    consents: consentStore,
    interactions: interactionStore,
    keys: keyStore,
    throttles: throttleStore,
    deviceCodes: deviceCodes.store,
    close: async () => {
      closed = true;
      for (const table of tables) table.clear();
      deviceCodes.clear();
    },
  };
}

function copyOrUndefined<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : structuredClone(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Oldest first; kid breaks ties so the order is the same in every backend. */
function byCreation(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.createdAt - b.createdAt || compare(a.kid, b.kid);
}
