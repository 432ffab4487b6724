/**
 * The authorization-server store contracts (`authorization-server-contracts.ts`) as one vitest
 * suite. Every backend runs it, so "exactly one `fresh`", "exactly one `rotated`" and "reuse
 * revokes the family" mean the same thing in memory, in SQLite and anywhere else.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AuthorizationCodeRecord,
  AuthorizationServerStores,
  ClientRecord,
  GrantRecord,
  RefreshTokenRecord,
  RotateResult,
  SigningKeyRecord,
} from '../authorization-server-contracts.js';
import { IDLE_GRANT_PURGE_SECONDS } from '../authorization-server-store-rules.js';
import { StoreUnavailableError } from '../contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';
import { describeDeviceCodeStoreConformance } from './device-code-store.conformance.js';

/** A fixed clock: the stores take time as arguments, so tests never wait. */
const T0 = 1_700_000_000;
const GRACE = 10;

const code = (overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
  codeHash: 'code-hash-1',
  clientId: 'client-1',
  redirectUri: 'https://client.example/cb',
  resource: 'https://mcp.example/mcp',
  scopes: ['mcp:tools'],
  subject: 'alice',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  grantId: 'grant-1',
  authTime: T0,
  expiresAt: T0 + 60,
  ...overrides,
});

const grant = (overrides: Partial<GrantRecord> = {}): GrantRecord => ({
  grantId: 'grant-1',
  clientId: 'client-1',
  subject: 'alice',
  scopes: ['mcp:tools', 'offline_access'],
  resources: ['https://mcp.example/mcp'],
  createdAt: T0,
  ...overrides,
});

const token = (overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord => ({
  tokenHash: 'rt-0',
  grantId: 'grant-1',
  generation: 0,
  scopes: ['mcp:tools', 'offline_access'],
  resources: ['https://mcp.example/mcp'],
  issuedAt: T0,
  expiresAt: T0 + 7 * 86_400,
  ...overrides,
});

/** The successor of `previous` a token endpoint would mint. */
const successorOf = (previous: RefreshTokenRecord, tokenHash: string, at = T0 + 1): RefreshTokenRecord =>
  token({ tokenHash, grantId: previous.grantId, generation: previous.generation + 1, issuedAt: at, expiresAt: at + 7 * 86_400 });

const key = (kid: string, state: SigningKeyRecord['state'], createdAt = T0): SigningKeyRecord => ({
  kid,
  alg: 'ES256',
  privateJwk: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}`, d: `d-${kid}`, kid },
  publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}`, kid },
  state,
  createdAt,
});

const client = (overrides: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId: 'client-1',
  tokenEndpointAuthMethod: 'none',
  redirectUris: ['https://client.example/cb'],
  grantTypes: ['authorization_code', 'refresh_token'],
  responseTypes: ['code'],
  source: 'registered',
  createdAt: T0,
  ...overrides,
});

const countStates = (results: RotateResult[]): Record<string, number> =>
  results.reduce<Record<string, number>>((counts, r) => ({ ...counts, [r.state]: (counts[r.state] ?? 0) + 1 }), {});

/**
 * Declares the authorization-server store conformance suite for one backend.
 *
 * @param name - Backend name, shown in test titles.
 * @param factory - Creates empty stores; called before every test, and the stores are closed after it.
 */
export function describeAuthorizationServerStoresConformance(
  name: string,
  factory: () => Promise<AuthorizationServerStores> | AuthorizationServerStores,
): void {
  describe(`AuthorizationServerStores conformance: ${name}`, () => {
    let stores: AuthorizationServerStores;
    beforeEach(async () => {
      stores = await factory();
    });
    afterEach(async () => {
      await stores.close();
    });

    /** A grant with its generation-0 refresh token and one recorded access token. */
    const family = async (): Promise<RefreshTokenRecord> => {
      await stores.grants.createGrant(grant());
      await stores.grants.saveRefreshToken(token());
      await stores.grants.recordAccessToken('grant-1', 'at-0', T0 + 600);
      return token();
    };
    const rotate = (previous: RefreshTokenRecord, successorHash: string, fingerprint: string, now = T0 + 1) =>
      stores.grants.rotateRefreshToken({
        tokenHash: previous.tokenHash,
        successor: successorOf(previous, successorHash, now),
        fingerprint,
        graceSeconds: GRACE,
        now,
      });
    /** The grant is revoked, none of `tokenHashes` rotates any more, recorded `at-0` is denied. */
    const expectFamilyRevoked = async (...tokenHashes: string[]): Promise<void> => {
      expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBeDefined();
      for (const tokenHash of tokenHashes) {
        const stored = await stores.grants.getRefreshToken(tokenHash);
        expect(stored).toBeDefined();
        const result = await stores.grants.rotateRefreshToken({
          tokenHash,
          successor: successorOf(stored ?? token(), `${tokenHash}-after`),
          fingerprint: 'fp',
          graceSeconds: GRACE,
          now: T0 + 2,
        });
        // A rotated token presented again is reuse (even of a revoked family); an unrotated one is revoked.
        expect(result).toEqual(
          stored?.rotatedAt === undefined ? { state: 'revoked' } : { state: 'reused', grantId: 'grant-1' },
        );
        expect(await stores.grants.getRefreshToken(`${tokenHash}-after`)).toBeUndefined();
      }
      expect(await stores.grants.isAccessTokenDenied('at-0', T0 + 2)).toBe(true);
    };

    describe('CodeStore', () => {
      it('RFC 6749 §4.1.2: the first consume is fresh, every later one reused (with the code)', async () => {
        await stores.codes.save(code({ dpopJkt: 'jkt-1' }));
        expect(await stores.codes.consume('code-hash-1', T0 + 1)).toEqual({ state: 'fresh', code: code({ dpopJkt: 'jkt-1' }) });
        expect(await stores.codes.consume('code-hash-1', T0 + 2)).toEqual({ state: 'reused', code: code({ dpopJkt: 'jkt-1' }) });
        expect(await stores.codes.consume('code-hash-1', T0 + 59)).toMatchObject({ state: 'reused' });
      });

      it('RFC 6749 §4.1.2: an unknown code is unknown', async () => {
        expect(await stores.codes.consume('nope', T0)).toEqual({ state: 'unknown' });
      });

      it('RFC 6749 §4.1.2: an expired code is unknown (at expiresAt exactly), used or not', async () => {
        await stores.codes.save(code());
        await stores.codes.save(code({ codeHash: 'code-hash-2' }));
        expect((await stores.codes.consume('code-hash-2', T0)).state).toBe('fresh');
        expect(await stores.codes.consume('code-hash-1', T0 + 60)).toEqual({ state: 'unknown' });
        expect(await stores.codes.consume('code-hash-2', T0 + 60)).toEqual({ state: 'unknown' });
      });

      it('contract: 20 concurrent consumes of one code → exactly one fresh, 19 reused', async () => {
        await stores.codes.save(code());
        const results = await Promise.all(Array.from({ length: 20 }, () => stores.codes.consume('code-hash-1', T0 + 1)));
        expect(results.filter((r) => r.state === 'fresh')).toHaveLength(1);
        expect(results.filter((r) => r.state === 'reused')).toHaveLength(19);
      });

      it('contract: saving a code hash twice rejects with StoreConflictError and keeps the first', async () => {
        await stores.codes.save(code());
        await expect(stores.codes.save(code({ clientId: 'other' }))).rejects.toBeInstanceOf(StoreConflictError);
        expect(await stores.codes.consume('code-hash-1', T0)).toMatchObject({ code: { clientId: 'client-1' } });
      });

      it('contract: optional fields stay absent; callers get copies', async () => {
        const saved = code();
        await stores.codes.save(saved);
        saved.scopes.push('mutated-after-save');
        const first = await stores.codes.consume('code-hash-1', T0);
        expect(first.state === 'fresh' && 'dpopJkt' in first.code).toBe(false);
        if (first.state === 'fresh') first.code.scopes.push('mutated-after-read');
        expect(await stores.codes.consume('code-hash-1', T0)).toEqual({ state: 'reused', code: code() });
      });
    });

    describe('GrantStore: grants and refresh tokens', () => {
      it('contract: grants and refresh tokens read back as written; unknown ids are undefined', async () => {
        await stores.grants.createGrant(grant({ jkt: 'jkt-1', expiresAt: T0 + 30 * 86_400 }));
        await stores.grants.saveRefreshToken(token({ jkt: 'jkt-1' }));
        expect(await stores.grants.getGrant('grant-1')).toEqual(grant({ jkt: 'jkt-1', expiresAt: T0 + 30 * 86_400 }));
        expect(await stores.grants.getRefreshToken('rt-0')).toEqual(token({ jkt: 'jkt-1' }));
        expect(await stores.grants.getGrant('nope')).toBeUndefined();
        expect(await stores.grants.getRefreshToken('nope')).toBeUndefined();
      });

      it('contract: duplicate grant ids and token hashes reject with StoreConflictError', async () => {
        await family();
        await expect(stores.grants.createGrant(grant())).rejects.toBeInstanceOf(StoreConflictError);
        await expect(stores.grants.saveRefreshToken(token())).rejects.toBeInstanceOf(StoreConflictError);
      });

      it('contract: a refresh token of an unknown grant is a caller bug (TypeError)', async () => {
        await expect(stores.grants.saveRefreshToken(token({ grantId: 'nope' }))).rejects.toBeInstanceOf(TypeError);
        await expect(stores.grants.recordAccessToken('nope', 'at', T0 + 600)).rejects.toBeInstanceOf(TypeError);
      });

      it('contract: returned grants and tokens are copies', async () => {
        await family();
        (await stores.grants.getGrant('grant-1'))?.scopes.push('x');
        (await stores.grants.getRefreshToken('rt-0'))?.scopes.push('x');
        expect(await stores.grants.getGrant('grant-1')).toEqual(grant());
        expect(await stores.grants.getRefreshToken('rt-0')).toEqual(token());
      });
    });

    describe('GrantStore.rotateRefreshToken', () => {
      it('RFC 9700 §4.14.2: rotating the current token marks it rotated and stores the successor', async () => {
        const first = await family();
        const result = await rotate(first, 'rt-1', 'fp-a');
        const rotated = { ...first, rotatedAt: T0 + 1, successorHash: 'rt-1', rotationFingerprint: 'fp-a' };
        expect(result).toEqual({ state: 'rotated', previous: rotated, grant: grant() });
        expect(await stores.grants.getRefreshToken('rt-0')).toEqual(rotated);
        expect(await stores.grants.getRefreshToken('rt-1')).toEqual(successorOf(first, 'rt-1'));
        // The successor is the family's current token and rotates in turn.
        expect((await rotate(successorOf(first, 'rt-1'), 'rt-2', 'fp-b', T0 + 100)).state).toBe('rotated');
      });

      it('RFC 9700 §4.14.2: an unknown token is unknown', async () => {
        await family();
        expect(await rotate(token({ tokenHash: 'nope' }), 'rt-1', 'fp')).toEqual({ state: 'unknown' });
        expect(await stores.grants.getRefreshToken('rt-1')).toBeUndefined();
      });

      it('RFC 9700 §4.14.2: an expired token (at expiresAt) or grant is expired, and revokes nothing', async () => {
        const first = await family();
        const atExpiry = first.expiresAt;
        expect(await rotate(first, 'rt-1', 'fp', atExpiry)).toEqual({ state: 'expired' });
        expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBeUndefined();
        expect(await stores.grants.getRefreshToken('rt-1')).toBeUndefined();

        await stores.grants.createGrant(grant({ grantId: 'grant-2', expiresAt: T0 + 100 }));
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-g2', grantId: 'grant-2' }));
        const result = await stores.grants.rotateRefreshToken({
          tokenHash: 'rt-g2',
          successor: token({ tokenHash: 'rt-g2-1', grantId: 'grant-2', generation: 1 }),
          fingerprint: 'fp',
          graceSeconds: GRACE,
          now: T0 + 100,
        });
        expect(result).toEqual({ state: 'expired' });
      });

      it('RFC 7009 §2.1: a token of a revoked grant is revoked', async () => {
        const first = await family();
        await stores.grants.revokeGrant('grant-1', T0 + 1);
        expect(await rotate(first, 'rt-1', 'fp', T0 + 2)).toEqual({ state: 'revoked' });
        expect(await stores.grants.getRefreshToken('rt-1')).toBeUndefined();
      });

      it('RFC 9700 §4.14.2: after the family is revoked, even the same request within the grace window gets no retry', async () => {
        const first = await family();
        await rotate(first, 'rt-1', 'fp-a', T0 + 1);
        await stores.grants.revokeGrant('grant-1', T0 + 2);
        expect(await rotate(first, 'rt-x', 'fp-a', T0 + 3)).toEqual({ state: 'reused', grantId: 'grant-1' });
        expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBe(T0 + 2);
      });

      it('RFC 9700 §4.14.2: the same request again within the grace window gets retry with the stored successor', async () => {
        const first = await family();
        await rotate(first, 'rt-1', 'fp-a', T0 + 1);
        const result = await rotate(first, 'rt-1-offered-by-retry', 'fp-a', T0 + 1 + GRACE - 1);
        expect(result).toEqual({
          state: 'retry',
          previous: { ...first, rotatedAt: T0 + 1, successorHash: 'rt-1', rotationFingerprint: 'fp-a' },
          successor: successorOf(first, 'rt-1'),
          grant: grant(),
        });
        // Nothing new was stored and the session lives on.
        expect(await stores.grants.getRefreshToken('rt-1-offered-by-retry')).toBeUndefined();
        expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBeUndefined();
        expect(await stores.grants.isAccessTokenDenied('at-0', T0 + 20)).toBe(false);
      });

      it('RFC 9700 §4.14.2: the same request at rotatedAt + graceSeconds is reuse and revokes the family', async () => {
        const first = await family();
        await rotate(first, 'rt-1', 'fp-a', T0 + 1);
        expect(await rotate(first, 'rt-x', 'fp-a', T0 + 1 + GRACE)).toEqual({ state: 'reused', grantId: 'grant-1' });
        await expectFamilyRevoked('rt-0', 'rt-1');
      });

      it('RFC 9700 §4.14.2: graceSeconds 0 disables retry: any second use is reuse', async () => {
        const first = await family();
        await stores.grants.rotateRefreshToken({ tokenHash: 'rt-0', successor: successorOf(first, 'rt-1'), fingerprint: 'fp', graceSeconds: 0, now: T0 + 1 });
        const again = await stores.grants.rotateRefreshToken({ tokenHash: 'rt-0', successor: successorOf(first, 'rt-x'), fingerprint: 'fp', graceSeconds: 0, now: T0 + 1 });
        expect(again).toEqual({ state: 'reused', grantId: 'grant-1' });
      });

      it('RFC 9700 §4.14.2: a different request within the grace window is reuse: grant, tokens and recorded access tokens revoked', async () => {
        const first = await family();
        await stores.grants.recordAccessToken('grant-1', 'at-expired', T0 + 1);
        await rotate(first, 'rt-1', 'fp-a', T0 + 1);
        await stores.grants.recordAccessToken('grant-1', 'at-1', T0 + 601);
        expect(await rotate(first, 'rt-x', 'fp-attacker', T0 + 2)).toEqual({ state: 'reused', grantId: 'grant-1' });
        await expectFamilyRevoked('rt-0', 'rt-1');
        expect(await stores.grants.isAccessTokenDenied('at-1', T0 + 600)).toBe(true);
        // Denied until each token's own expiry, no longer; one already expired is not listed.
        expect(await stores.grants.isAccessTokenDenied('at-1', T0 + 601)).toBe(false);
        expect(await stores.grants.isAccessTokenDenied('at-expired', T0 + 2)).toBe(false);
        expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBe(T0 + 2);
      });

      it('RFC 9700 §4.14.2: presenting a superseded generation is reuse, even if never marked rotated', async () => {
        await family();
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-1', generation: 1 }));
        expect(await rotate(token(), 'rt-x', 'fp')).toEqual({ state: 'reused', grantId: 'grant-1' });
        await expectFamilyRevoked('rt-1');
      });

      it('RFC 9700 §4.14.2: once the successor has itself been rotated, a retry of the predecessor is reuse', async () => {
        const first = await family();
        await rotate(first, 'rt-1', 'fp-a', T0 + 1);
        await rotate(successorOf(first, 'rt-1'), 'rt-2', 'fp-b', T0 + 2);
        expect(await rotate(first, 'rt-x', 'fp-a', T0 + 3)).toEqual({ state: 'reused', grantId: 'grant-1' });
        await expectFamilyRevoked('rt-2');
      });

      it('RFC 9700 §4.14.2: families are apart: a later generation of one grant never makes another grant\'s current token "superseded"', async () => {
        const first = await family();
        await rotate(first, 'rt-1', 'fp-a', T0 + 1);
        await rotate(successorOf(first, 'rt-1'), 'rt-2', 'fp-a', T0 + 2);
        await stores.grants.createGrant(grant({ grantId: 'grant-2' }));
        const other = token({ tokenHash: 'rt-g2-0', grantId: 'grant-2' });
        await stores.grants.saveRefreshToken(other);
        // grant-2's generation 0 is its family's latest, whatever grant-1 reached.
        expect((await rotate(other, 'rt-g2-1', 'fp-b', T0 + 3)).state).toBe('rotated');
        // Reuse in grant-2 revokes grant-2 only; grant-1's current token still rotates.
        expect(await rotate(other, 'rt-g2-x', 'fp-thief', T0 + 4)).toEqual({ state: 'reused', grantId: 'grant-2' });
        expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBeUndefined();
        expect((await rotate(successorOf(successorOf(first, 'rt-1'), 'rt-2', T0 + 2), 'rt-3', 'fp-a', T0 + 5)).state).toBe('rotated');
      });

      it('RFC 9700 §4.14.2: after purgeExpired drops a family\'s expired generations, its live token rotates and a superseded live one is reuse', async () => {
        await family(); // rt-0, generation 0, expires T0 + 7 days
        const early = T0 + 7 * 86_400;
        // Generation 1 expires with generation 0; generation 2 and 3 later (sliding lifetime).
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-1', generation: 1, expiresAt: early }));
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-2', generation: 2, expiresAt: early + 100 }));
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-3', generation: 3, expiresAt: early + 100 }));
        expect(await stores.grants.purgeExpired(early)).toBeGreaterThanOrEqual(2);
        expect(await stores.grants.getRefreshToken('rt-0')).toBeUndefined();
        expect(await stores.grants.getRefreshToken('rt-1')).toBeUndefined();
        // rt-2 is live but superseded by rt-3 (still stored): presenting it is reuse.
        expect(await rotate(token({ tokenHash: 'rt-2', generation: 2, expiresAt: early + 100 }), 'rt-x', 'fp', early + 1)).toEqual({ state: 'reused', grantId: 'grant-1' });
      });

      it('RFC 9700 §4.14.2: a purged grant leaves nothing behind: a new family under the same grant id starts at generation 0', async () => {
        await family();
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-5', generation: 5 }));
        await stores.grants.revokeGrant('grant-1', T0 + 1);
        // Revoked, and once its tokens expire nothing is left under it: the grant goes.
        await stores.grants.purgeExpired(T0 + 8 * 86_400);
        expect(await stores.grants.getGrant('grant-1')).toBeUndefined();
        await stores.grants.createGrant(grant({ createdAt: T0 + 8 * 86_400 }));
        const fresh = token({ tokenHash: 'rt-new-0', issuedAt: T0 + 8 * 86_400, expiresAt: T0 + 15 * 86_400 });
        await stores.grants.saveRefreshToken(fresh);
        expect((await rotate(fresh, 'rt-new-1', 'fp', T0 + 8 * 86_400 + 1)).state).toBe('rotated');
      });

      it('RFC 7009 §2.1: with accessToken, a rotation records it under the grant in the same step: revoking the grant denies it', async () => {
        const first = await family();
        const input = { tokenHash: 'rt-0', successor: successorOf(first, 'rt-1'), fingerprint: 'fp', graceSeconds: GRACE, now: T0 + 1 };
        expect((await stores.grants.rotateRefreshToken({ ...input, accessToken: { jti: 'at-r1', expiresAt: T0 + 601 } })).state).toBe('rotated');
        // A retry of the same request records its own access token too.
        expect((await stores.grants.rotateRefreshToken({ ...input, successor: successorOf(first, 'rt-1b'), accessToken: { jti: 'at-r1-retry', expiresAt: T0 + 602 } })).state).toBe('retry');
        expect(await stores.grants.getAccessTokenLineage('at-r1')).toEqual({ grantId: 'grant-1', exchangedFrom: [] });
        expect(await stores.grants.isAccessTokenDenied('at-r1', T0 + 2)).toBe(false);
        await stores.grants.revokeGrant('grant-1', T0 + 3);
        expect(await stores.grants.isAccessTokenDenied('at-r1', T0 + 600)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('at-r1-retry', T0 + 601)).toBe(true);
      });

      it('RFC 9700 §4.14.2: with accessToken, reuse, unknown, expired and revoked results record nothing', async () => {
        const first = await family();
        await rotate(first, 'rt-1', 'fp-a', T0 + 1);
        const reuse = await stores.grants.rotateRefreshToken({ tokenHash: 'rt-0', successor: successorOf(first, 'rt-x'), fingerprint: 'fp-thief', graceSeconds: GRACE, now: T0 + 2, accessToken: { jti: 'at-reuse', expiresAt: T0 + 602 } });
        expect(reuse.state).toBe('reused');
        const unknown = await stores.grants.rotateRefreshToken({ tokenHash: 'nope', successor: successorOf(token({ tokenHash: 'nope' }), 'rt-y'), fingerprint: 'fp', graceSeconds: GRACE, now: T0 + 2, accessToken: { jti: 'at-unknown', expiresAt: T0 + 602 } });
        expect(unknown.state).toBe('unknown');
        const revoked = await stores.grants.rotateRefreshToken({ tokenHash: 'rt-1', successor: successorOf(successorOf(first, 'rt-1'), 'rt-z'), fingerprint: 'fp', graceSeconds: GRACE, now: T0 + 3, accessToken: { jti: 'at-revoked', expiresAt: T0 + 603 } });
        expect(revoked.state).toBe('revoked');
        for (const jti of ['at-reuse', 'at-unknown', 'at-revoked']) expect(await stores.grants.getAccessTokenLineage(jti)).toEqual({ exchangedFrom: [] });
      });

      it('contract: an accessToken without a jti or a finite expiresAt is a caller bug (TypeError), nothing changes', async () => {
        const first = await family();
        for (const accessToken of [{ jti: '', expiresAt: T0 + 600 }, { jti: 'at-x', expiresAt: Number.NaN }]) {
          await expect(stores.grants.rotateRefreshToken({ tokenHash: 'rt-0', successor: successorOf(first, 'rt-1'), fingerprint: 'fp', graceSeconds: GRACE, now: T0 + 1, accessToken })).rejects.toThrow(TypeError);
        }
        expect(await stores.grants.getRefreshToken('rt-1')).toBeUndefined();
      });

      it('contract: 20 concurrent rotations, same fingerprint → one rotated, 19 retry with that one successor', async () => {
        const first = await family();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => rotate(first, `rt-1-${i}`, 'fp-same', T0 + 1)),
        );
        expect(countStates(results)).toEqual({ rotated: 1, retry: 19 });
        const winner = results.find((r) => r.state === 'rotated');
        const successorHash = winner?.state === 'rotated' ? winner.previous.successorHash : undefined;
        expect(successorHash).toMatch(/^rt-1-\d+$/);
        for (const r of results) if (r.state === 'retry') expect(r.successor.tokenHash).toBe(successorHash);
        // Exactly one successor exists; the session survives.
        const stored = await Promise.all(Array.from({ length: 20 }, (_, i) => stores.grants.getRefreshToken(`rt-1-${i}`)));
        expect(stored.filter((t) => t !== undefined)).toHaveLength(1);
        expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBeUndefined();
      });

      it('contract: 20 concurrent rotations, different fingerprints → one rotated, 19 reused, family revoked', async () => {
        const first = await family();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => rotate(first, `rt-1-${i}`, `fp-${i}`, T0 + 1)),
        );
        expect(countStates(results)).toEqual({ rotated: 1, reused: 19 });
        const winner = results.find((r) => r.state === 'rotated');
        const successorHash = winner?.state === 'rotated' ? winner.previous.successorHash : 'missing';
        await expectFamilyRevoked('rt-0', successorHash ?? 'missing');
      });

      it('contract: a successor that does not continue the family is a caller bug (TypeError), nothing changes', async () => {
        const first = await family();
        const bad = [
          { ...successorOf(first, 'rt-1'), grantId: 'grant-other' },
          { ...successorOf(first, 'rt-1'), generation: 5 },
          { ...successorOf(first, 'rt-1'), tokenHash: 'rt-0' },
        ];
        for (const successor of bad) {
          await expect(
            stores.grants.rotateRefreshToken({ tokenHash: 'rt-0', successor, fingerprint: 'fp', graceSeconds: GRACE, now: T0 + 1 }),
          ).rejects.toBeInstanceOf(TypeError);
        }
        await expect(
          stores.grants.rotateRefreshToken({ tokenHash: 'rt-0', successor: successorOf(first, 'rt-1'), fingerprint: 'fp', graceSeconds: -1, now: T0 + 1 }),
        ).rejects.toBeInstanceOf(TypeError);
        expect(await stores.grants.getRefreshToken('rt-0')).toEqual(first);
        expect((await rotate(first, 'rt-1', 'fp')).state).toBe('rotated');
      });

      it('contract: a successor hash already stored rejects with StoreConflictError, nothing changes', async () => {
        const first = await family();
        await stores.grants.createGrant(grant({ grantId: 'grant-2' }));
        await stores.grants.saveRefreshToken(token({ tokenHash: 'taken', grantId: 'grant-2' }));
        await expect(rotate(first, 'taken', 'fp')).rejects.toBeInstanceOf(StoreConflictError);
        expect(await stores.grants.getRefreshToken('rt-0')).toEqual(first);
      });
    });

    describe('GrantStore: revocation and the access-token deny-list', () => {
      it('RFC 7009 §2.1: revokeGrant revokes the family and denies its recorded access tokens; idempotent', async () => {
        await family();
        await stores.grants.revokeGrant('grant-1', T0 + 5);
        await stores.grants.revokeGrant('grant-1', T0 + 9);
        expect((await stores.grants.getGrant('grant-1'))?.revokedAt).toBe(T0 + 5);
        await expectFamilyRevoked('rt-0');
        await stores.grants.revokeGrant('nope', T0);
      });

      it('RFC 7009 §2.1: an access token recorded under an already revoked grant is denied at once', async () => {
        await family();
        await stores.grants.revokeGrant('grant-1', T0 + 5);
        await stores.grants.recordAccessToken('grant-1', 'at-late', T0 + 605);
        expect(await stores.grants.isAccessTokenDenied('at-late', T0 + 6)).toBe(true);
      });

      it('contract: a denied jti is denied until its expiry, then not; a later denial can only extend', async () => {
        await stores.grants.denyAccessToken('jti-1', T0 + 100);
        expect(await stores.grants.isAccessTokenDenied('jti-1', T0)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('jti-1', T0 + 99)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('jti-1', T0 + 100)).toBe(false);
        await stores.grants.denyAccessToken('jti-1', T0 + 50);
        expect(await stores.grants.isAccessTokenDenied('jti-1', T0 + 99)).toBe(true);
        await stores.grants.denyAccessToken('jti-1', T0 + 200);
        expect(await stores.grants.isAccessTokenDenied('jti-1', T0 + 150)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('other', T0)).toBe(false);
      });
    });

    describe('GrantStore.revokeGrantsFor (withdrawn consent)', () => {
      it('RFC 7009 §2.1: revokes every grant of the user and client (families, recorded access tokens), no one else\'s; counts; idempotent', async () => {
        await family(); // grant-1: alice, client-1, rt-0, at-0
        await stores.grants.createGrant(grant({ grantId: 'grant-2', resources: ['https://other.example/mcp'] }));
        await stores.grants.recordAccessToken('grant-2', 'at-2', T0 + 600);
        await stores.grants.createGrant(grant({ grantId: 'grant-bob', subject: 'bob' }));
        await stores.grants.recordAccessToken('grant-bob', 'at-bob', T0 + 600);
        await stores.grants.createGrant(grant({ grantId: 'grant-c2', clientId: 'client-2' }));
        await stores.grants.recordAccessToken('grant-c2', 'at-c2', T0 + 600);
        await stores.grants.createGrant(grant({ grantId: 'grant-old', revokedAt: T0 }));

        expect(await stores.grants.revokeGrantsFor('alice', 'client-1', T0 + 5)).toBe(2);
        await expectFamilyRevoked('rt-0');
        expect((await stores.grants.getGrant('grant-2'))?.revokedAt).toBe(T0 + 5);
        expect((await stores.grants.getGrant('grant-old'))?.revokedAt).toBe(T0);
        expect(await stores.grants.isAccessTokenDenied('at-2', T0 + 6)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('at-bob', T0 + 6)).toBe(false);
        expect(await stores.grants.isAccessTokenDenied('at-c2', T0 + 6)).toBe(false);
        expect((await stores.grants.getGrant('grant-bob'))?.revokedAt).toBeUndefined();
        expect(await stores.grants.revokeGrantsFor('alice', 'client-1', T0 + 9)).toBe(0);
        expect(await stores.grants.revokeGrantsFor('nobody', 'client-1', T0 + 9)).toBe(0);
      });

      it('RFC 6749 §4.1.2: an unredeemed code of the pair is deleted; another pair\'s code is kept', async () => {
        await stores.codes.save(code({ codeHash: 'c-alice' }));
        await stores.codes.save(code({ codeHash: 'c-bob', subject: 'bob', grantId: 'grant-b' }));
        expect(await stores.grants.revokeGrantsFor('alice', 'client-1', T0 + 1)).toBe(0);
        expect(await stores.codes.consume('c-alice', T0 + 2)).toEqual({ state: 'unknown' });
        expect((await stores.codes.consume('c-bob', T0 + 2)).state).toBe('fresh');
        expect(await stores.grants.getGrant('grant-1')).toBeUndefined();
      });

      it('contract: a code redeemed whose grant is not created yet leaves that grant revoked; creating it then conflicts, and what it records is denied', async () => {
        await stores.codes.save(code());
        expect((await stores.codes.consume('code-hash-1', T0 + 1)).state).toBe('fresh');
        expect(await stores.grants.revokeGrantsFor('alice', 'client-1', T0 + 2)).toBe(1);
        expect(await stores.grants.getGrant('grant-1')).toMatchObject({ grantId: 'grant-1', clientId: 'client-1', subject: 'alice', revokedAt: T0 + 2 });
        await expect(stores.grants.createGrant(grant())).rejects.toBeInstanceOf(StoreConflictError);
        await stores.grants.recordAccessToken('grant-1', 'at-late', T0 + 600);
        expect(await stores.grants.isAccessTokenDenied('at-late', T0 + 3)).toBe(true);
        // The code itself is kept, used, so a second redemption is still told apart (reuse).
        expect((await stores.codes.consume('code-hash-1', T0 + 3)).state).toBe('reused');
      });

      it('contract: a code redeemed whose grant exists already: that grant is revoked once, not replaced', async () => {
        await stores.codes.save(code());
        await stores.codes.consume('code-hash-1', T0 + 1);
        await family();
        expect(await stores.grants.revokeGrantsFor('alice', 'client-1', T0 + 2)).toBe(1);
        expect(await stores.grants.getGrant('grant-1')).toEqual({ ...grant(), revokedAt: T0 + 2 });
        await expectFamilyRevoked('rt-0');
      });
    });

    describe('GrantStore: exchanged access tokens (RFC 8693)', () => {
      it('RFC 8693 §2.1 / RFC 7009 §2.1: denying a token denies every token exchanged from it, down the chain, whenever the denial comes', async () => {
        await stores.grants.recordExchangedAccessToken('x-1', ['s-0'], T0 + 300);
        await stores.grants.recordExchangedAccessToken('x-2', ['x-1', 's-0'], T0 + 200);
        await stores.grants.recordExchangedAccessToken('y-1', ['s-other'], T0 + 300);
        for (const jti of ['s-0', 'x-1', 'x-2', 'y-1']) expect(await stores.grants.isAccessTokenDenied(jti, T0)).toBe(false);

        await stores.grants.denyAccessToken('x-1', T0 + 300);
        expect(await stores.grants.isAccessTokenDenied('x-1', T0)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('x-2', T0)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('s-0', T0)).toBe(false);
        expect(await stores.grants.isAccessTokenDenied('y-1', T0)).toBe(false);

        // Recorded after the denial: denied at once all the same.
        await stores.grants.recordExchangedAccessToken('x-3', ['x-1', 's-0'], T0 + 250);
        expect(await stores.grants.isAccessTokenDenied('x-3', T0)).toBe(true);
        // The deny-list entry's own expiry still decides.
        await stores.grants.denyAccessToken('s-other', T0 + 100);
        expect(await stores.grants.isAccessTokenDenied('y-1', T0 + 99)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('y-1', T0 + 100)).toBe(false);
      });

      it('contract: the lineage of a jti: its grant and what it was exchanged from (sorted); unknown → none; recording is idempotent', async () => {
        expect(await stores.grants.getAccessTokenLineage('nope')).toEqual({ exchangedFrom: [] });
        await family(); // at-0 under grant-1
        expect(await stores.grants.getAccessTokenLineage('at-0')).toEqual({ grantId: 'grant-1', exchangedFrom: [] });
        await stores.grants.recordAccessToken('grant-1', 'x-1', T0 + 300);
        await stores.grants.recordExchangedAccessToken('x-1', ['at-0'], T0 + 300);
        await stores.grants.recordExchangedAccessToken('x-2', ['x-1', 'at-0'], T0 + 200);
        await stores.grants.recordExchangedAccessToken('x-2', ['x-1', 'at-0', 'x-1'], T0 + 200);
        expect(await stores.grants.getAccessTokenLineage('x-1')).toEqual({ grantId: 'grant-1', exchangedFrom: ['at-0'] });
        expect(await stores.grants.getAccessTokenLineage('x-2')).toEqual({ exchangedFrom: ['at-0', 'x-1'] });
        // Revoking the grant denies what was recorded under it, and through the chain what was not.
        await stores.grants.revokeGrant('grant-1', T0 + 5);
        expect(await stores.grants.isAccessTokenDenied('x-1', T0 + 6)).toBe(true);
        expect(await stores.grants.isAccessTokenDenied('x-2', T0 + 6)).toBe(true);
      });

      it('contract: an empty or malformed chain is a caller bug (TypeError)', async () => {
        await expect(stores.grants.recordExchangedAccessToken('x-1', [], T0 + 1)).rejects.toBeInstanceOf(TypeError);
        await expect(stores.grants.recordExchangedAccessToken('x-1', [''], T0 + 1)).rejects.toBeInstanceOf(TypeError);
        await expect(stores.grants.recordExchangedAccessToken('x-1', [1 as unknown as string], T0 + 1)).rejects.toBeInstanceOf(TypeError);
      });

      it('contract: purgeExpired deletes exchange records at their expiry and counts one per link', async () => {
        await stores.grants.recordExchangedAccessToken('x-old', ['a', 'b'], T0 + 10);
        await stores.grants.recordExchangedAccessToken('x-live', ['a'], T0 + 1000);
        expect(await stores.grants.purgeExpired(T0 + 10)).toBe(2);
        expect(await stores.grants.getAccessTokenLineage('x-old')).toEqual({ exchangedFrom: [] });
        expect(await stores.grants.getAccessTokenLineage('x-live')).toEqual({ exchangedFrom: ['a'] });
      });
    });

    describe('GrantStore.purgeExpired', () => {
      it('contract: deletes expired codes, tokens, deny-list entries and interactions, counts them, keeps live ones', async () => {
        await family(); // grant-1, rt-0 (live), at-0 (exp T0+600)
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-old', generation: 0, expiresAt: T0 + 10 }));
        await stores.codes.save(code({ codeHash: 'c-old', expiresAt: T0 + 10 }));
        await stores.codes.save(code({ codeHash: 'c-live', expiresAt: T0 + 1000 }));
        await stores.grants.recordAccessToken('grant-1', 'at-old', T0 + 10);
        await stores.grants.denyAccessToken('d-old', T0 + 10);
        await stores.grants.denyAccessToken('d-live', T0 + 1000);
        await stores.interactions.put('i-old', { a: 1 }, T0 + 10);
        await stores.interactions.put('i-live', { a: 2 }, T0 + 1000);
        const removed = await stores.grants.purgeExpired(T0 + 10);
        // c-old, rt-old, at-old, d-old, i-old.
        expect(removed).toBe(5);
        expect(await stores.codes.consume('c-old', T0)).toEqual({ state: 'unknown' });
        expect((await stores.codes.consume('c-live', T0 + 11)).state).toBe('fresh');
        expect(await stores.grants.getRefreshToken('rt-old')).toBeUndefined();
        expect(await stores.grants.getRefreshToken('rt-0')).toBeDefined();
        expect(await stores.grants.getGrant('grant-1')).toBeDefined();
        expect(await stores.grants.isAccessTokenDenied('d-live', T0 + 11)).toBe(true);
        expect(await stores.interactions.get('i-live', T0 + 11)).toEqual({ a: 2 });
        expect(await stores.grants.purgeExpired(T0 + 10)).toBe(0);
      });

      it('contract: a grant goes once past its expiresAt, or once nothing is left under it and it is revoked or idle', async () => {
        await stores.grants.createGrant(grant({ grantId: 'g-expiring', expiresAt: T0 + 100 }));
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-e', grantId: 'g-expiring' }));
        await stores.grants.recordAccessToken('g-expiring', 'at-e', T0 + 600);
        await stores.grants.createGrant(grant({ grantId: 'g-revoked' }));
        await stores.grants.revokeGrant('g-revoked', T0 + 1);
        await stores.grants.createGrant(grant({ grantId: 'g-idle' }));
        await stores.grants.createGrant(grant({ grantId: 'g-new', createdAt: T0 + 100 }));
        await stores.grants.createGrant(grant({ grantId: 'g-live' }));
        await stores.grants.saveRefreshToken(token({ tokenHash: 'rt-live', grantId: 'g-live', expiresAt: T0 + 10 * 86_400 }));

        // g-expiring with its token and access record (3), g-revoked (1).
        expect(await stores.grants.purgeExpired(T0 + 100)).toBe(4);
        expect(await stores.grants.getGrant('g-expiring')).toBeUndefined();
        expect(await stores.grants.getRefreshToken('rt-e')).toBeUndefined();
        expect(await stores.grants.getGrant('g-revoked')).toBeUndefined();
        expect(await stores.grants.getGrant('g-idle')).toBeDefined();

        // A day on, g-idle (nothing under it) goes; g-new is younger, g-live still has a token.
        expect(await stores.grants.purgeExpired(T0 + IDLE_GRANT_PURGE_SECONDS)).toBe(1);
        expect(await stores.grants.getGrant('g-idle')).toBeUndefined();
        expect(await stores.grants.getGrant('g-new')).toBeDefined();
        expect(await stores.grants.getGrant('g-live')).toBeDefined();
      });
    });

    describe('ClientStore and UserStore', () => {
      it('contract: clients insert, replace, read back (copies or frozen) and delete', async () => {
        const confidential = client({
          secretHash: 'scrypt$...',
          tokenEndpointAuthMethod: 'client_secret_basic',
          clientName: 'Example',
          clientUri: 'https://client.example',
          logoUri: 'https://client.example/logo.png',
          scope: 'mcp:tools',
          source: 'metadata-document',
          expiresAt: T0 + 3600,
        });
        await stores.clients.put(confidential);
        expect(await stores.clients.get('client-1')).toEqual(confidential);
        await stores.clients.put(client());
        const read = await stores.clients.get('client-1');
        expect(read).toEqual(client());
        // A read is a copy or frozen: either way, changing it cannot change the store.
        try {
          read?.redirectUris.push('https://evil.example');
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
        expect(await stores.clients.get('client-1')).toEqual(client());
        await stores.clients.delete('client-1');
        await stores.clients.delete('client-1');
        expect(await stores.clients.get('client-1')).toBeUndefined();
      });

      it('contract: a private_key_jwt client keeps its jwks and jwks_uri (RFC 7591 §2, RFC 7523 §2.2)', async () => {
        const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' };
        const inline = client({ clientId: 'pkjwt-1', tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
        const remote = client({ clientId: 'pkjwt-2', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'https://client.example/jwks' });
        await stores.clients.put(inline);
        await stores.clients.put(remote);
        expect(await stores.clients.get('pkjwt-1')).toEqual(inline);
        expect(await stores.clients.get('pkjwt-2')).toEqual(remote);
        await stores.clients.delete('pkjwt-1');
        await stores.clients.delete('pkjwt-2');
      });

      it('contract: markUsed sets usedAt once; deleteUnused removes only registered clients never used, created at or before the cutoff', async () => {
        await stores.clients.put(client({ clientId: 'used', createdAt: T0 }));
        await stores.clients.put(client({ clientId: 'unused-old', createdAt: T0 }));
        await stores.clients.put(client({ clientId: 'unused-new', createdAt: T0 + 100 }));
        await stores.clients.put(client({ clientId: 'configured', source: 'configured', createdAt: T0 }));
        await stores.clients.put(client({ clientId: 'document', source: 'metadata-document', createdAt: T0, expiresAt: T0 + 60 }));
        await stores.clients.markUsed('used', T0 + 5);
        await stores.clients.markUsed('used', T0 + 9);
        await stores.clients.markUsed('nobody', T0 + 5);
        expect(await stores.clients.get('used')).toEqual(client({ clientId: 'used', createdAt: T0, usedAt: T0 + 5 }));
        expect(await stores.clients.deleteUnused(T0 + 99)).toBe(1);
        expect(await stores.clients.get('unused-old')).toBeUndefined();
        for (const id of ['used', 'unused-new', 'configured', 'document']) expect(await stores.clients.get(id)).toBeDefined();
        expect(await stores.clients.deleteUnused(T0 + 100)).toBe(1);
        expect(await stores.clients.get('unused-new')).toBeUndefined();
        expect(await stores.clients.deleteUnused(T0 + 100_000)).toBe(0);
      });

      it('contract: users insert, replace, list sorted and delete (true only if there was one)', async () => {
        await stores.users.put({ username: 'bob', passwordHash: 'h1', createdAt: T0 });
        await stores.users.put({ username: 'alice', passwordHash: 'h2', createdAt: T0 });
        await stores.users.put({ username: 'bob', passwordHash: 'h3', createdAt: T0 + 1 });
        expect(await stores.users.get('bob')).toEqual({ username: 'bob', passwordHash: 'h3', createdAt: T0 + 1 });
        expect(await stores.users.list()).toEqual(['alice', 'bob']);
        expect(await stores.users.delete('bob')).toBe(true);
        expect(await stores.users.delete('bob')).toBe(false);
        expect(await stores.users.get('bob')).toBeUndefined();
        expect(await stores.users.list()).toEqual(['alice']);
      });

      it('contract: a user keeps its roles; replacing without roles drops them (the console\'s admin role)', async () => {
        await stores.users.put({ username: 'root', passwordHash: 'h1', createdAt: T0, roles: ['admin'] });
        expect(await stores.users.get('root')).toEqual({ username: 'root', passwordHash: 'h1', createdAt: T0, roles: ['admin'] });
        await stores.users.put({ username: 'root', passwordHash: 'h1', createdAt: T0 });
        expect(await stores.users.get('root')).toEqual({ username: 'root', passwordHash: 'h1', createdAt: T0 });
        await stores.users.delete('root');
      });

      it('contract: a client keeps disabledAt; replacing without it enables the client again', async () => {
        await stores.clients.put(client({ clientId: 'off', disabledAt: T0 + 7 }));
        expect(await stores.clients.get('off')).toEqual(client({ clientId: 'off', disabledAt: T0 + 7 }));
        await stores.clients.put(client({ clientId: 'off' }));
        expect(await stores.clients.get('off')).toEqual(client({ clientId: 'off' }));
        await stores.clients.delete('off');
      });
    });

    describe('ConsentStore', () => {
      const consent = { subject: 'alice', clientId: 'client-1', resource: 'https://mcp.example/mcp' };

      it('contract: put widens (union of scopes, never narrows) for the same subject, client and resource', async () => {
        await stores.consents.put({ ...consent, scopes: ['a', 'b'], grantedAt: T0 });
        await stores.consents.put({ ...consent, scopes: ['b', 'c'], grantedAt: T0 + 5 });
        await stores.consents.put({ ...consent, scopes: ['a'], grantedAt: T0 + 9 });
        expect(await stores.consents.get('alice', 'client-1', consent.resource)).toEqual({
          ...consent,
          scopes: ['a', 'b', 'c'],
          grantedAt: T0 + 9,
        });
      });

      it('contract: 20 concurrent widenings all survive', async () => {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => stores.consents.put({ ...consent, scopes: [`s${i}`], grantedAt: T0 })),
        );
        const scopes = (await stores.consents.get('alice', 'client-1', consent.resource))?.scopes ?? [];
        expect([...scopes].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`).sort());
      });

      it('contract: consents are per resource; revoke removes one client’s and counts; list is per subject', async () => {
        await stores.consents.put({ ...consent, scopes: ['a'], grantedAt: T0 });
        await stores.consents.put({ ...consent, resource: 'https://other.example/mcp', scopes: ['b'], grantedAt: T0 });
        await stores.consents.put({ ...consent, clientId: 'client-2', scopes: ['c'], grantedAt: T0 });
        await stores.consents.put({ ...consent, subject: 'bob', scopes: ['d'], grantedAt: T0 });
        expect(await stores.consents.get('alice', 'client-1', 'https://other.example/mcp')).toMatchObject({ scopes: ['b'] });
        expect((await stores.consents.list('alice')).map((c) => [c.clientId, c.resource])).toEqual([
          ['client-1', 'https://mcp.example/mcp'],
          ['client-1', 'https://other.example/mcp'],
          ['client-2', 'https://mcp.example/mcp'],
        ]);
        expect(await stores.consents.revoke('alice', 'client-1')).toBe(2);
        expect(await stores.consents.revoke('alice', 'client-1')).toBe(0);
        expect(await stores.consents.list('alice')).toEqual([{ ...consent, clientId: 'client-2', scopes: ['c'], grantedAt: T0 }]);
        expect(await stores.consents.list('bob')).toHaveLength(1);
        expect(await stores.consents.get('alice', 'client-1', consent.resource)).toBeUndefined();
      });
    });

    describe('InteractionStore', () => {
      const data = { clientId: 'client-1', scopes: ['a'], nested: { n: 1, flag: true, none: null } };

      it('contract: get reads without consuming; take returns the data exactly once', async () => {
        await stores.interactions.put('i-1', data, T0 + 600);
        expect(await stores.interactions.get('i-1', T0)).toEqual(data);
        expect(await stores.interactions.get('i-1', T0)).toEqual(data);
        expect(await stores.interactions.take('i-1', T0)).toEqual(data);
        expect(await stores.interactions.take('i-1', T0)).toBeUndefined();
        expect(await stores.interactions.get('i-1', T0)).toBeUndefined();
      });

      it('contract: 20 concurrent takes → exactly one gets the data', async () => {
        await stores.interactions.put('i-1', data, T0 + 600);
        const results = await Promise.all(Array.from({ length: 20 }, () => stores.interactions.take('i-1', T0)));
        expect(results.filter((r) => r !== undefined)).toEqual([data]);
      });

      it('contract: expired (at expiresAt) interactions are gone for get and take', async () => {
        await stores.interactions.put('i-1', data, T0 + 600);
        expect(await stores.interactions.get('i-1', T0 + 600)).toBeUndefined();
        expect(await stores.interactions.take('i-1', T0 + 600)).toBeUndefined();
      });

      it('contract: data travels as JSON (copies; put replaces; no JSON form is a TypeError)', async () => {
        const mutable = structuredClone(data);
        await stores.interactions.put('i-1', mutable, T0 + 600);
        mutable.scopes.push('x');
        const read = (await stores.interactions.get('i-1', T0)) as typeof data;
        read.scopes.push('y');
        expect(await stores.interactions.get('i-1', T0)).toEqual(data);
        await stores.interactions.put('i-1', 'replaced', T0 + 600);
        expect(await stores.interactions.take('i-1', T0)).toBe('replaced');
        await expect(stores.interactions.put('i-2', undefined, T0 + 600)).rejects.toBeInstanceOf(TypeError);
      });
    });

    describe('KeyStore', () => {
      const states = async (): Promise<Record<string, string>> =>
        Object.fromEntries((await stores.keys.list()).map((k) => [k.kid, k.state]));

      it('contract: keys read back as written (JWKs included), oldest first; delete removes', async () => {
        await stores.keys.put(key('k2', 'next', T0 + 1));
        await stores.keys.put(key('k1', 'current', T0));
        expect(await stores.keys.list()).toEqual([key('k1', 'current', T0), key('k2', 'next', T0 + 1)]);
        const listed = await stores.keys.list();
        if (listed[0]) listed[0].publicJwk['x'] = 'mutated';
        expect((await stores.keys.list())[0]).toEqual(key('k1', 'current', T0));
        await stores.keys.delete('k2');
        expect(await stores.keys.list()).toEqual([key('k1', 'current', T0)]);
      });

      it('contract: rotate retires current (retireAfter), promotes next, inserts newNext as next', async () => {
        await stores.keys.put(key('k1', 'current', T0));
        await stores.keys.put(key('k2', 'next', T0 + 1));
        await stores.keys.rotate({ newNext: key('k3', 'current', T0 + 2), retireAfter: T0 + 3600 });
        expect(await stores.keys.list()).toEqual([
          { ...key('k1', 'retired', T0), retireAfter: T0 + 3600 },
          key('k2', 'current', T0 + 1),
          key('k3', 'next', T0 + 2),
        ]);
      });

      it('contract: with no next key, rotate keeps current and publishes newNext as next (only published keys are promoted)', async () => {
        await stores.keys.put(key('k1', 'current', T0));
        await stores.keys.rotate({ newNext: key('k2', 'next', T0 + 1), retireAfter: T0 + 3600 });
        expect(await states()).toEqual({ k1: 'current', k2: 'next' });
        await stores.keys.rotate({ newNext: key('k3', 'next', T0 + 2), retireAfter: T0 + 3600 });
        expect(await states()).toEqual({ k1: 'retired', k2: 'current', k3: 'next' });
      });

      it('contract: rotate on an empty store makes newNext current (bootstrap)', async () => {
        await stores.keys.rotate({ newNext: key('k1', 'next', T0), retireAfter: T0 + 3600 });
        expect(await states()).toEqual({ k1: 'current' });
      });

      it('contract: exactly one current key through many rotations, even concurrent ones', async () => {
        await stores.keys.put(key('k0', 'current', T0));
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            stores.keys.rotate({ newNext: key(`k${i + 1}`, 'next', T0 + i + 1), retireAfter: T0 + 3600 }),
          ),
        );
        const list = await stores.keys.list();
        expect(list).toHaveLength(11);
        expect(list.filter((k) => k.state === 'current')).toHaveLength(1);
        expect(list.filter((k) => k.state === 'next')).toHaveLength(1);
        for (const k of list.filter((k) => k.state === 'retired')) expect(k.retireAfter).toBe(T0 + 3600);
      });

      it('contract: a second current or next key, or a reused kid in rotate, rejects with StoreConflictError and changes nothing', async () => {
        await stores.keys.put(key('k1', 'current', T0));
        await stores.keys.put(key('k2', 'next', T0 + 1));
        await expect(stores.keys.put(key('k3', 'current', T0 + 2))).rejects.toBeInstanceOf(StoreConflictError);
        await expect(stores.keys.put(key('k3', 'next', T0 + 2))).rejects.toBeInstanceOf(StoreConflictError);
        await expect(stores.keys.put(key('k2', 'current', T0 + 1))).rejects.toBeInstanceOf(StoreConflictError);
        await expect(stores.keys.rotate({ newNext: key('k1', 'next', T0 + 3), retireAfter: T0 + 9 })).rejects.toBeInstanceOf(
          StoreConflictError,
        );
        expect(await states()).toEqual({ k1: 'current', k2: 'next' });
        // Replacing a key in its own state is allowed (e.g. re-saving the current key).
        await stores.keys.put(key('k1', 'current', T0));
        await stores.keys.put({ ...key('k0', 'retired', T0 - 1), retireAfter: T0 + 1 });
        expect(await states()).toEqual({ k0: 'retired', k1: 'current', k2: 'next' });
      });
    });

    describe('ThrottleStore', () => {
      const policy = { free: 2, baseDelaySeconds: 10, maxDelaySeconds: 40, forgetAfterSeconds: 100 };

      it('contract: free events pass back to back, then each waits base × 2^(n − free), capped; a refused attempt counts nothing', async () => {
        expect(await stores.throttles.attempt('k', policy, T0)).toEqual({ allowed: true, count: 1 });
        expect(await stores.throttles.attempt('k', policy, T0)).toEqual({ allowed: true, count: 2 });
        expect(await stores.throttles.attempt('k', policy, T0 + 3)).toEqual({ allowed: false, count: 2, retryAfterSeconds: 7 });
        expect(await stores.throttles.attempt('k', policy, T0 + 10)).toEqual({ allowed: true, count: 3 });
        expect(await stores.throttles.attempt('k', policy, T0 + 29)).toEqual({ allowed: false, count: 3, retryAfterSeconds: 1 });
        expect(await stores.throttles.attempt('k', policy, T0 + 30)).toEqual({ allowed: true, count: 4 });
        expect(await stores.throttles.attempt('k', policy, T0 + 60)).toEqual({ allowed: false, count: 4, retryAfterSeconds: 10 });
        expect(await stores.throttles.attempt('k', policy, T0 + 70)).toEqual({ allowed: true, count: 5 });
        // Capped at maxDelaySeconds: never a lock-out.
        expect(await stores.throttles.attempt('k', policy, T0 + 110)).toEqual({ allowed: true, count: 6 });
        expect(await stores.throttles.get('k', T0 + 110)).toEqual({ count: 6, lastAt: T0 + 110 });
        expect(await stores.throttles.get('other', T0)).toBeUndefined();
      });

      it('contract: a key quiet for forgetAfterSeconds starts again; release takes one back (never below zero); delete forgets', async () => {
        for (let i = 0; i < 3; i += 1) await stores.throttles.attempt('k', policy, T0 + 10 * i);
        expect(await stores.throttles.get('k', T0 + 20 + 99)).toEqual({ count: 3, lastAt: T0 + 20 });
        expect(await stores.throttles.get('k', T0 + 20 + 100)).toBeUndefined();
        expect(await stores.throttles.attempt('k', policy, T0 + 120)).toEqual({ allowed: true, count: 1 });
        await stores.throttles.release('k', T0 + 121);
        await stores.throttles.release('k', T0 + 121);
        expect(await stores.throttles.get('k', T0 + 121)).toEqual({ count: 0, lastAt: T0 + 120 });
        await stores.throttles.release('missing', T0);
        await stores.throttles.delete('k');
        expect(await stores.throttles.get('k', T0 + 121)).toBeUndefined();
      });

      it('contract: 20 concurrent attempts on a fresh key → exactly `free` allowed', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, () => stores.throttles.attempt('burst', policy, T0)));
        expect(results.filter((r) => r.allowed)).toHaveLength(2);
        expect(await stores.throttles.get('burst', T0)).toEqual({ count: 2, lastAt: T0 });
      });

      it('contract: a bad key or policy is a caller bug (TypeError)', async () => {
        await expect(stores.throttles.attempt('', policy, T0)).rejects.toBeInstanceOf(TypeError);
        await expect(stores.throttles.attempt('x'.repeat(513), policy, T0)).rejects.toBeInstanceOf(TypeError);
        await expect(stores.throttles.attempt('k', { ...policy, baseDelaySeconds: 0 }, T0)).rejects.toBeInstanceOf(TypeError);
        await expect(stores.throttles.attempt('k', { ...policy, maxDelaySeconds: 5 }, T0)).rejects.toBeInstanceOf(TypeError);
        await expect(stores.throttles.attempt('k', { ...policy, forgetAfterSeconds: 39 }, T0)).rejects.toBeInstanceOf(TypeError);
        await expect(stores.throttles.attempt('k', { ...policy, free: 1.5 }, T0)).rejects.toBeInstanceOf(TypeError);
      });

      it('contract: purgeExpired deletes forgotten keys and counts them', async () => {
        await stores.throttles.attempt('old', policy, T0);
        await stores.throttles.attempt('live', policy, T0 + 50);
        expect(await stores.grants.purgeExpired(T0 + 100)).toBe(1);
        expect(await stores.throttles.get('live', T0 + 100)).toEqual({ count: 1, lastAt: T0 + 50 });
      });
    });

    describe('close', () => {
      it('contract: close is idempotent; every later call rejects with StoreUnavailableError', async () => {
        await stores.close();
        await stores.close();
        await expect(stores.codes.consume('x', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(stores.grants.getGrant('x')).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(stores.keys.list()).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(stores.interactions.take('x', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(stores.throttles.attempt('k', { free: 1, baseDelaySeconds: 1, maxDelaySeconds: 1, forgetAfterSeconds: 1 }, T0)).rejects.toBeInstanceOf(StoreUnavailableError);
      });
    });

    describeDeviceCodeStoreConformance(() => stores);
  });
}
