/**
 * What a durable backend (SQLite, PostgreSQL) promises beyond the store contracts, as one vitest
 * suite: everything stored survives close and reopen, and a database written by schema version 1
 * is brought up to date with its data kept.
 */
import { describe, expect, it } from 'vitest';
import type { AuthorizationServerStores, GrantRecord, RefreshTokenRecord } from '../authorization-server-contracts.js';
import { StoreUnavailableError } from '../contracts.js';

/** Opens the stores at one place (a file, a schema); may be called again to reopen it. */
export type OpenStores = () => Promise<AuthorizationServerStores> | AuthorizationServerStores;

/** A durable backend under test. */
export interface DurableBackend {
  /** A new, empty place: each call a different one. */
  freshPlace(): OpenStores;
  /**
   * A new place holding a database of schema version 1 (no migration after it applied), with
   * {@link grant} in `grants` and a `registered` client `old-client` created at {@link T0} in
   * `clients`, written with the backend's own SQL.
   */
  placeAtVersion1(): Promise<OpenStores> | OpenStores;
}

/** The fixed clock of the suite (and of the backends' own tests). */
export const T0 = 1_700_000_000;

/** The grant the suite writes, and a version-1 database holds. */
export const grant: GrantRecord = {
  grantId: 'g1',
  clientId: 'c1',
  subject: 'alice',
  scopes: ['a'],
  resources: ['https://mcp.example/mcp'],
  createdAt: T0,
};

/** A refresh token of {@link grant}'s family (or of `grantId`'s). */
export const token = (tokenHash: string, generation: number, grantId = 'g1'): RefreshTokenRecord => ({
  tokenHash,
  grantId,
  generation,
  scopes: ['a'],
  resources: ['https://mcp.example/mcp'],
  issuedAt: T0,
  expiresAt: T0 + 86_400,
});

/** Everything the durability test wrote, as read back. */
async function snapshot(stores: AuthorizationServerStores): Promise<Record<string, unknown>> {
  return {
    client: await stores.clients.get('c1'),
    users: await stores.users.list(),
    user: await stores.users.get('alice'),
    consents: await stores.consents.list('alice'),
    grant: await stores.grants.getGrant('g1'),
    rt0: await stores.grants.getRefreshToken('rt-0'),
    rt1: await stores.grants.getRefreshToken('rt-1'),
    keys: await stores.keys.list(),
  };
}

/** Declares the durable-stores conformance suite for one backend. */
export function describeDurableStoresConformance(name: string, backend: DurableBackend): void {
  describe(`Durable stores conformance: ${name}`, () => {
    it('durability: clients, users, consents, grants, refresh tokens, codes and keys survive close and reopen', async () => {
      const open = backend.freshPlace();
      const write = await open();
      await write.clients.put({
        clientId: 'c1', tokenEndpointAuthMethod: 'client_secret_post', secretHash: 'scrypt$x', redirectUris: ['https://c.example/cb'],
        grantTypes: ['authorization_code'], responseTypes: ['code'], source: 'configured', createdAt: T0,
      });
      await write.users.put({ username: 'alice', passwordHash: 'scrypt$y', createdAt: T0 });
      await write.consents.put({ subject: 'alice', clientId: 'c1', resource: 'https://mcp.example/mcp', scopes: ['a'], grantedAt: T0 });
      await write.grants.createGrant(grant);
      await write.grants.saveRefreshToken(token('rt-0', 0));
      await write.grants.recordAccessToken('g1', 'at-0', T0 + 600);
      const rotation = { tokenHash: 'rt-0', successor: token('rt-1', 1), fingerprint: 'fp', graceSeconds: 10, now: T0 + 1 };
      expect((await write.grants.rotateRefreshToken(rotation)).state).toBe('rotated');
      await write.codes.save({
        codeHash: 'code-1', clientId: 'c1', redirectUri: 'https://c.example/cb', resource: 'https://mcp.example/mcp', scopes: ['a'],
        subject: 'alice', codeChallenge: 'ch', grantId: 'g2', authTime: T0, expiresAt: T0 + 60,
      });
      expect((await write.codes.consume('code-1', T0 + 1)).state).toBe('fresh');
      const signingKey = { kid: 'k1', alg: 'ES256' as const, privateJwk: { kty: 'EC', d: 'd' }, publicJwk: { kty: 'EC' }, createdAt: T0 };
      await write.keys.rotate({ newNext: { ...signingKey, state: 'next' }, retireAfter: T0 + 1 });
      const before = await snapshot(write);
      await write.close();
      await expect(write.users.list()).rejects.toBeInstanceOf(StoreUnavailableError);

      const read = await open();
      try {
        expect(await snapshot(read)).toEqual(before);
        expect(before.keys).toEqual([{ ...signingKey, state: 'current' }]);
        // The rotation state survived: a retry still gets the same successor, the code stays used.
        expect(await read.grants.rotateRefreshToken({ ...rotation, successor: token('rt-x', 1), now: T0 + 2 })).toMatchObject({
          state: 'retry',
          successor: { tokenHash: 'rt-1' },
        });
        expect((await read.codes.consume('code-1', T0 + 2)).state).toBe('reused');
      } finally {
        await read.close();
      }
    });

    it('brings a database of schema version 1 up to date, keeping its data', async () => {
      const stores = await (await backend.placeAtVersion1())();
      try {
        expect(await stores.grants.getGrant('g1')).toEqual(grant);
        await stores.grants.recordExchangedAccessToken('x', ['s'], T0 + 60);
        expect(await stores.grants.getAccessTokenLineage('x')).toEqual({ exchangedFrom: ['s'] });
        // A client registered before usage was recorded counts as used: it never expires as unused.
        expect((await stores.clients.get('old-client'))?.usedAt).toBe(T0);
        expect(await stores.clients.deleteUnused(T0 + 10 * 86_400)).toBe(0);
      } finally {
        await stores.close();
      }
    });
  });
}
