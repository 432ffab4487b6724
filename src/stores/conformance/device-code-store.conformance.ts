/**
 * The device-code store contract (`DeviceCodeStore`, RFC 8628) as a vitest block, run inside
 * the authorization-server stores conformance suite, so every backend passes it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
import { describe, expect, it } from 'vitest';
import type { AuthorizationServerStores, DeviceCodeRecord, DeviceCodeStore } from '../authorization-server-contracts.js';
import { StoreConflictError } from '../store-conflict-error.js';
import { StoreUnavailableError } from '../contracts.js';

const T0 = 1_700_000_000;

const record = (overrides: Partial<DeviceCodeRecord> = {}): DeviceCodeRecord => ({
  deviceCodeHash: 'device-hash-1',
  userCodeHash: 'user-hash-1',
  clientId: 'client-1',
  resource: 'https://mcp.example/mcp',
  scopes: ['mcp:tools'],
  interval: 5,
  status: 'pending',
  grantId: 'device-grant-1',
  expiresAt: T0 + 600,
  ...overrides,
});

const approve = { approved: true as const, subject: 'alice', scopes: ['mcp:tools'], authTime: T0 + 3 };

/** Registers the device-code and federated-user contract tests; `stores()` is the suite's current, open stores. */
export function describeDeviceCodeStoreConformance(stores: () => AuthorizationServerStores): void {
  describe('device codes (RFC 8628)', () => {
    const codes = (): DeviceCodeStore => {
      const store = stores().deviceCodes;
      if (store === undefined) throw new Error('every Warden backend has device codes');
      return store;
    };

    it('contract: save then findByUserCode while live; expired or unknown → undefined', async () => {
      await codes().save(record());
      expect(await codes().findByUserCode('user-hash-1', T0)).toEqual(record());
      expect(await codes().findByUserCode('user-hash-1', T0 + 600)).toBeUndefined();
      expect(await codes().findByUserCode('nope', T0)).toBeUndefined();
    });

    it('contract: a second record with the same device or user code is a StoreConflictError', async () => {
      await codes().save(record());
      await expect(codes().save(record({ userCodeHash: 'user-hash-2' }))).rejects.toBeInstanceOf(StoreConflictError);
      await expect(codes().save(record({ deviceCodeHash: 'device-hash-2' }))).rejects.toBeInstanceOf(StoreConflictError);
    });

    it('RFC 8628 §3.5: pending → authorization_pending; polled before the interval → slow_down, interval +5 each time', async () => {
      await codes().save(record());
      expect(await codes().poll('device-hash-1', T0)).toEqual({ state: 'pending' });
      expect(await codes().poll('device-hash-1', T0 + 4)).toEqual({ state: 'slow_down', interval: 10 });
      expect(await codes().poll('device-hash-1', T0 + 13)).toEqual({ state: 'slow_down', interval: 15 });
      expect(await codes().poll('device-hash-1', T0 + 28)).toEqual({ state: 'pending' });
      expect((await codes().findByUserCode('user-hash-1', T0 + 28))?.interval).toBe(15);
    });

    it('RFC 8628 §3.5: approved → redeemed exactly once, with the decided subject and scopes', async () => {
      await codes().save(record({ scopes: ['mcp:tools', 'mcp:admin'] }));
      expect(await codes().decide('user-hash-1', approve, T0 + 3)).toBe(true);
      expect(await codes().decide('user-hash-1', { approved: false }, T0 + 4)).toBe(false);
      const first = await codes().poll('device-hash-1', T0 + 10);
      expect(first).toEqual({ state: 'approved', record: { ...record(), status: 'approved', subject: 'alice', scopes: ['mcp:tools'], authTime: T0 + 3 } });
      expect(await codes().poll('device-hash-1', T0 + 20)).toEqual({ state: 'redeemed' });
    });

    it('contract: 10 concurrent polls of an approved code → exactly one approved', async () => {
      await codes().save(record());
      await codes().decide('user-hash-1', approve, T0 + 3);
      const results = await Promise.all(Array.from({ length: 10 }, () => codes().poll('device-hash-1', T0 + 10)));
      expect(results.filter((r) => r.state === 'approved')).toHaveLength(1);
      expect(results.filter((r) => r.state === 'redeemed')).toHaveLength(9);
    });

    it('contract: 10 concurrent decisions → exactly one wins', async () => {
      await codes().save(record());
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => codes().decide('user-hash-1', i % 2 === 0 ? approve : { approved: false }, T0 + 3)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('RFC 8628 §3.5: denied → access_denied on every poll; expired → expired_token; unknown → unknown', async () => {
      await codes().save(record());
      expect(await codes().decide('user-hash-1', { approved: false }, T0 + 3)).toBe(true);
      expect(await codes().poll('device-hash-1', T0 + 10)).toEqual({ state: 'denied' });
      expect(await codes().poll('device-hash-1', T0 + 20)).toEqual({ state: 'denied' });
      expect(await codes().poll('device-hash-1', T0 + 600)).toEqual({ state: 'expired' });
      expect(await codes().poll('nope', T0)).toEqual({ state: 'unknown' });
    });

    it('contract: an expired record cannot be decided; purgeExpired deletes it and counts it', async () => {
      await codes().save(record());
      await codes().save(record({ deviceCodeHash: 'device-hash-2', userCodeHash: 'user-hash-2', expiresAt: T0 + 900 }));
      expect(await codes().decide('user-hash-1', approve, T0 + 600)).toBe(false);
      expect(await stores().grants.purgeExpired(T0 + 600)).toBe(1);
      expect(await codes().poll('device-hash-1', T0 + 600)).toEqual({ state: 'unknown' });
      expect(await codes().findByUserCode('user-hash-2', T0 + 600)).toBeDefined();
    });

    it('contract: after close every call rejects with StoreUnavailableError', async () => {
      const store = codes();
      await stores().close();
      await expect(store.poll('device-hash-1', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.save(record())).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  describe('federated users (the link of a user to an upstream OpenID provider)', () => {
    it('contract: a user keeps its federation link (issuer, subject, claims) through put and get', async () => {
      const federation = { issuer: 'https://idp.example', subject: '248289761001', email: 'a@example.com', groups: ['eng', 'ops'], updatedAt: T0 };
      await stores().users.put({ username: 'fed-abc', passwordHash: 'federated', createdAt: T0, federation });
      expect(await stores().users.get('fed-abc')).toEqual({ username: 'fed-abc', passwordHash: 'federated', createdAt: T0, federation });
      await stores().users.put({ username: 'local', passwordHash: 'scrypt$x', createdAt: T0 });
      expect((await stores().users.get('local'))?.federation).toBeUndefined();
    });
  });
}
