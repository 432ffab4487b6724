/**
 * The PostgreSQL authorization-server stores against a real server: the shared conformance
 * suite (each test in a fresh schema), then what only a shared database can show — two
 * instances (two pools) racing on one code and one refresh token, migrations racing, durability,
 * and failing closed when the server is unreachable, slow or drops connections.
 *
 * Runs when WARDEN_TEST_POSTGRES_URL is set (skipped with a note otherwise; fails under CI when
 * set but unreachable). Every schema it creates is `warden_test_<random>` and dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService, testService } from '../../../test/helpers/services.js';
import type { AuthorizationServerStores, RotateResult } from '../authorization-server-contracts.js';
import { describeAuthorizationServerStoresConformance } from '../conformance/authorization-server-stores.conformance.js';
import { T0, describeDurableStoresConformance, grant, token } from '../conformance/durable-stores.conformance.js';
import { StoreUnavailableError } from '../contracts.js';
import { MIGRATIONS, SCHEMA_VERSION } from './authorization-server-schema.js';
import { type PostgresAuthorizationServerStoresOptions, openPostgresAuthorizationServerStores } from './authorization-server-stores.js';

const postgres = await testService('postgres');

const schemas: string[] = [];
const freshSchema = (): string => {
  const name = `warden_test_${randomBytes(6).toString('hex')}`;
  schemas.push(name);
  return name;
};

let url = '';
/** A plain connection for setting up races and inspecting what the stores wrote. */
let admin: pg.Client;

const open = (options: Partial<PostgresAuthorizationServerStoresOptions> = {}): Promise<AuthorizationServerStores> =>
  openPostgresAuthorizationServerStores({ url, schema: freshSchema(), ...options });

const code = (codeHash: string) => ({
  codeHash, clientId: 'c1', redirectUri: 'https://c.example/cb', resource: 'https://mcp.example/mcp', scopes: ['a'],
  subject: 'alice', codeChallenge: 'ch', grantId: 'g2', authTime: T0, expiresAt: T0 + 60,
});
const countStates = (results: RotateResult[]): Record<string, number> =>
  results.reduce<Record<string, number>>((counts, r) => ({ ...counts, [r.state]: (counts[r.state] ?? 0) + 1 }), {});

describe.skipIf(postgres.skip)(`PostgreSQL authorization-server stores${postgres.note}`, () => {
  beforeAll(async () => {
    url = await requireService(postgres);
    admin = new pg.Client({ connectionString: url });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  afterAll(async () => {
    if (admin === undefined) return;
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  describeAuthorizationServerStoresConformance('postgres', () => open());
  describeDurableStoresConformance('postgres', {
    freshPlace: () => {
      const schema = freshSchema();
      return () => openPostgresAuthorizationServerStores({ url, schema });
    },
    placeAtVersion1: async () => {
      const schema = freshSchema();
      const s = `"${schema}"`;
      await admin.query(`CREATE SCHEMA ${s}`);
      await admin.query(`CREATE TABLE ${s}.schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)`);
      await admin.query(MIGRATIONS[0]!.sql(s));
      await admin.query(`INSERT INTO ${s}.schema_version VALUES (1, $1)`, [T0]);
      await admin.query(`INSERT INTO ${s}.grants (grant_id, client_id, subject, scopes, resources, created_at) VALUES ('g1', 'c1', 'alice', '{a}', '{https://mcp.example/mcp}', $1)`, [T0]);
      await admin.query(
        `INSERT INTO ${s}.clients (client_id, token_endpoint_auth_method, redirect_uris, grant_types, response_types, source, created_at)
         VALUES ('old-client', 'none', '{}', '{}', '{}', 'registered', $1)`,
        [T0],
      );
      return () => openPostgresAuthorizationServerStores({ url, schema });
    },
  });

  describe('schema and migrations', () => {
    it('creates its tables in the named schema and records each schema version once, however often it is opened', async () => {
      const schema = freshSchema();
      for (let i = 0; i < 3; i += 1) await (await openPostgresAuthorizationServerStores({ url, schema })).close();
      const versions = await admin.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`);
      expect(versions.rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
      const tables = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual([
        'access_tokens', 'authorization_codes', 'clients', 'consents', 'denied_access_tokens', 'device_codes', 'exchanged_access_tokens', 'grants', 'interactions',
        'refresh_tokens', 'schema_version', 'signing_keys', 'throttles', 'users',
      ]);
    });

    it('migrations are idempotent when several instances open a new schema at once (advisory lock)', async () => {
      const schema = freshSchema();
      const opened = await Promise.all(Array.from({ length: 4 }, () => openPostgresAuthorizationServerStores({ url, schema })));
      try {
        expect((await admin.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`)).rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
        // Every instance works on the one schema.
        await opened[0]!.users.put({ username: 'alice', passwordHash: 'h', createdAt: T0 });
        for (const stores of opened) expect(await stores.users.list()).toEqual(['alice']);
      } finally {
        await Promise.all(opened.map((stores) => stores.close()));
      }
    });

    it('refuses a schema written by a newer version', async () => {
      const schema = freshSchema();
      await admin.query(`CREATE SCHEMA "${schema}"`);
      await admin.query(`CREATE TABLE "${schema}".schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)`);
      await admin.query(`INSERT INTO "${schema}".schema_version VALUES ($1, $2)`, [SCHEMA_VERSION + 1, T0]);
      await expect(openPostgresAuthorizationServerStores({ url, schema })).rejects.toThrow(/newer.*upgrade Warden/);
    });

    it('rejects invalid options with TypeError, never echoing the URL', async () => {
      const secretUrl = 'postgres://warden:hunter2-secret@db.example/warden';
      const attempts: Array<Partial<PostgresAuthorizationServerStoresOptions>> = [
        { url: '' },
        { url: 'http://warden:hunter2-secret@db.example/warden' },
        { url: 'postgres://warden:hunter2-secret@db.example:99999/warden' },
        { url: secretUrl, schema: 'Robert"; DROP TABLE users; --' },
        { url: secretUrl, schema: '1abc' },
        { url: secretUrl, poolSize: 0 },
        { url: secretUrl, statementTimeoutMs: -1 },
        { url: secretUrl, connectTimeoutMs: 1.5 },
      ];
      for (const attempt of attempts) {
        const error = await openPostgresAuthorizationServerStores({ url: secretUrl, ...attempt }).catch((e: unknown) => e);
        expect(error, JSON.stringify(attempt.schema ?? attempt.poolSize ?? null)).toBeInstanceOf(TypeError);
        expect((error as Error).message).not.toContain('hunter2');
      }
    });
  });

  it('times are whole seconds (bigint): a fractional time is a caller bug (TypeError), not an outage', async () => {
    const stores = await open();
    try {
      await expect(stores.grants.denyAccessToken('jti-1', T0 + 0.5)).rejects.toBeInstanceOf(TypeError);
      await expect(stores.grants.isAccessTokenDenied('jti-1', T0 + 0.5)).rejects.toBeInstanceOf(TypeError);
    } finally {
      await stores.close();
    }
  });

  describe('fail closed', () => {
    it('an unreachable server: open rejects promptly with StoreUnavailableError, without the URL or password', async () => {
      const unreachable = 'postgres://warden:hunter2-secret@127.0.0.1:1/warden';
      const started = Date.now();
      const error = await openPostgresAuthorizationServerStores({ url: unreachable, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      const message = (error as Error).message;
      expect(message).not.toContain('hunter2');
      expect(message).not.toContain(unreachable);
      expect(message).toMatch(/PostgreSQL/);
    });

    it('a row locked past statementTimeoutMs: consume and rotate reject with StoreUnavailableError, and change nothing', async () => {
      const schema = freshSchema();
      const stores = await openPostgresAuthorizationServerStores({ url, schema, statementTimeoutMs: 200 });
      const blocker = new pg.Client({ connectionString: url });
      await blocker.connect();
      try {
        await stores.codes.save(code('code-1'));
        await stores.grants.createGrant(grant);
        await stores.grants.saveRefreshToken(token('rt-0', 0));
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM "${schema}".authorization_codes WHERE code_hash = 'code-1' FOR UPDATE`);
        await blocker.query(`SELECT 1 FROM "${schema}".grants WHERE grant_id = 'g1' FOR UPDATE`);
        await expect(stores.codes.consume('code-1', T0 + 1)).rejects.toBeInstanceOf(StoreUnavailableError);
        const rotation = { tokenHash: 'rt-0', successor: token('rt-1', 1), fingerprint: 'fp', graceSeconds: 10, now: T0 + 1 };
        await expect(stores.grants.rotateRefreshToken(rotation)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(stores.grants.revokeGrant('g1', T0 + 1)).rejects.toBeInstanceOf(StoreUnavailableError);
        await blocker.query('ROLLBACK');
        expect(await stores.grants.getRefreshToken('rt-0')).toEqual(token('rt-0', 0));
        expect(await stores.grants.getRefreshToken('rt-1')).toBeUndefined();
        expect((await stores.grants.getGrant('g1'))?.revokedAt).toBeUndefined();
        expect((await stores.codes.consume('code-1', T0 + 1)).state).toBe('fresh');
        expect((await stores.grants.rotateRefreshToken(rotation)).state).toBe('rotated');
      } finally {
        await blocker.end();
        await stores.close();
      }
    });

    it('dropped connections do not crash the process; onError is told (without the URL) and the pool reconnects', async () => {
      const schema = freshSchema();
      const errors: Error[] = [];
      const stores = await openPostgresAuthorizationServerStores({ url, schema, onError: (error) => errors.push(error) });
      try {
        await Promise.all([stores.users.list(), stores.users.list(), stores.keys.list()]);
        const killed = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'warden' AND query LIKE $1 AND pid <> pg_backend_pid()`,
          [`%${schema}%`],
        );
        expect(killed.rowCount).toBeGreaterThan(0);
        const killedCount = killed.rowCount ?? 0;
        for (let i = 0; i < 100 && errors.length < killedCount; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(errors.length).toBe(killedCount);
        for (const error of errors) expect(error.message).not.toContain(url);
        // Every terminated idle connection was reported and dropped from the pool: the next calls
        // get new ones. (A call that picks a dropped connection before its error arrives rejects
        // with StoreUnavailableError: fail closed, and the client retries.)
        expect(await stores.users.list()).toEqual([]);
        await stores.users.put({ username: 'bob', passwordHash: 'h', createdAt: T0 });
        expect(await stores.users.list()).toEqual(['bob']);
      } finally {
        await stores.close();
      }
    });
  });

  describe('revocation and access-token records across sessions', () => {
    it('an access token recorded while a revocation holds the grant is denied once the revocation commits', async () => {
      const schema = freshSchema();
      const stores = await openPostgresAuthorizationServerStores({ url, schema });
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await stores.grants.createGrant(grant);
        // Another instance's revocation, caught between its two statements.
        await other.query('BEGIN');
        await other.query(`UPDATE "${schema}".grants SET revoked_at = $1 WHERE grant_id = 'g1'`, [T0 + 5]);
        const recording = stores.grants.recordAccessToken('g1', 'at-late', T0 + 600);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await other.query('COMMIT');
        await recording;
        expect(await stores.grants.isAccessTokenDenied('at-late', T0 + 6)).toBe(true);
      } finally {
        await other.end();
        await stores.close();
      }
    });

    it('a revocation waiting on a concurrent access-token record denies that token too', async () => {
      const schema = freshSchema();
      const stores = await openPostgresAuthorizationServerStores({ url, schema });
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await stores.grants.createGrant(grant);
        // Another instance's recordAccessToken, not yet committed.
        await other.query('BEGIN');
        await other.query(`SELECT 1 FROM "${schema}".grants WHERE grant_id = 'g1' FOR SHARE`);
        await other.query(`INSERT INTO "${schema}".access_tokens (grant_id, jti, expires_at) VALUES ('g1', 'at-racing', $1)`, [T0 + 600]);
        const revoking = stores.grants.revokeGrant('g1', T0 + 5);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await other.query('COMMIT');
        await revoking;
        expect(await stores.grants.isAccessTokenDenied('at-racing', T0 + 6)).toBe(true);
      } finally {
        await other.end();
        await stores.close();
      }
    });
  });

  describe('two instances (two pools) on one schema', () => {
    let a: AuthorizationServerStores;
    let b: AuthorizationServerStores;
    beforeAll(async () => {
      const schema = freshSchema();
      [a, b] = await Promise.all([
        openPostgresAuthorizationServerStores({ url, schema }),
        openPostgresAuthorizationServerStores({ url, schema }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });
    const either = (i: number): AuthorizationServerStores => (i % 2 === 0 ? a : b);

    it('contract: consent withdrawn on one instance while the other redeems codes: nothing issued escapes revocation', async () => {
      // Each round: instance a redeems a code (consume, create grant, record an access token) while
      // instance b revokes everything of the pair; whatever the interleaving, no live token remains.
      for (let round = 0; round < 15; round += 1) {
        const subject = `withdraw-${round}`;
        const grantId = `withdraw-g-${round}`;
        await a.codes.save({ ...code(`withdraw-code-${round}`), subject, grantId });
        const redeem = (async () => {
          const consumed = await a.codes.consume(`withdraw-code-${round}`, T0 + 1);
          if (consumed.state !== 'fresh') return undefined;
          try {
            await a.grants.createGrant({ ...grant, grantId, subject });
          } catch {
            // The placeholder won: go on, as the authorization-code grant does.
          }
          await a.grants.recordAccessToken(grantId, `withdraw-at-${round}`, T0 + 600);
          return `withdraw-at-${round}`;
        })();
        const [issued] = await Promise.all([redeem, b.grants.revokeGrantsFor(subject, 'c1', T0 + 1)]);
        if (issued !== undefined) expect(await b.grants.isAccessTokenDenied(issued, T0 + 2)).toBe(true);
        const stored = await b.grants.getGrant(grantId);
        if (stored !== undefined) expect(stored.revokedAt).toBeDefined();
      }
    });

    it('contract: 20 concurrent consumes of one code split across both → exactly one fresh', async () => {
      await a.codes.save(code('race-code'));
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => either(i).codes.consume('race-code', T0 + 1)));
      expect(results.filter((r) => r.state === 'fresh')).toHaveLength(1);
      expect(results.filter((r) => r.state === 'reused')).toHaveLength(19);
    });

    it('contract: 20 concurrent rotations split across both, same fingerprint → one rotated, 19 retry with the one successor', async () => {
      await a.grants.createGrant({ ...grant, grantId: 'race-g1' });
      await a.grants.saveRefreshToken(token('race-rt-0', 0, 'race-g1'));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          either(i).grants.rotateRefreshToken({
            tokenHash: 'race-rt-0',
            successor: token(`race-rt-1-${i}`, 1, 'race-g1'),
            fingerprint: 'fp-same',
            graceSeconds: 10,
            now: T0 + 1,
          }),
        ),
      );
      expect(countStates(results)).toEqual({ rotated: 1, retry: 19 });
      const winner = results.find((r) => r.state === 'rotated');
      const successorHash = winner?.state === 'rotated' ? winner.previous.successorHash : undefined;
      expect(successorHash).toMatch(/^race-rt-1-\d+$/);
      for (const r of results) if (r.state === 'retry') expect(r.successor.tokenHash).toBe(successorHash);
      const stored = await Promise.all(Array.from({ length: 20 }, (_, i) => b.grants.getRefreshToken(`race-rt-1-${i}`)));
      expect(stored.filter((t) => t !== undefined)).toHaveLength(1);
      expect((await b.grants.getGrant('race-g1'))?.revokedAt).toBeUndefined();
    });

    it('contract: 20 concurrent rotations split across both, different fingerprints → one rotated, 19 reused, family revoked', async () => {
      await a.grants.createGrant({ ...grant, grantId: 'race-g2' });
      await a.grants.saveRefreshToken(token('race2-rt-0', 0, 'race-g2'));
      await a.grants.recordAccessToken('race-g2', 'race2-at', T0 + 600);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          either(i).grants.rotateRefreshToken({
            tokenHash: 'race2-rt-0',
            successor: token(`race2-rt-1-${i}`, 1, 'race-g2'),
            fingerprint: `fp-${i}`,
            graceSeconds: 10,
            now: T0 + 1,
          }),
        ),
      );
      expect(countStates(results)).toEqual({ rotated: 1, reused: 19 });
      expect((await b.grants.getGrant('race-g2'))?.revokedAt).toBe(T0 + 1);
      expect(await a.grants.isAccessTokenDenied('race2-at', T0 + 2)).toBe(true);
    });

    it('contract: 20 concurrent takes of one interaction split across both → exactly one gets it', async () => {
      await a.interactions.put('race-i', { n: 1 }, T0 + 600);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => either(i).interactions.take('race-i', T0)));
      expect(results.filter((r) => r !== undefined)).toEqual([{ n: 1 }]);
    });

    it('contract: concurrent consent widenings and key rotations split across both all survive, one current key', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          either(i).consents.put({ subject: 'alice', clientId: 'c1', resource: 'r', scopes: [`s${i}`], grantedAt: T0 }),
        ),
      );
      const scopes = (await a.consents.get('alice', 'c1', 'r'))?.scopes ?? [];
      expect([...scopes].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`).sort());

      const key = (kid: string) => ({
        kid, alg: 'ES256' as const, privateJwk: { kty: 'EC', d: kid }, publicJwk: { kty: 'EC', x: kid }, state: 'next' as const, createdAt: T0,
      });
      await Promise.all(Array.from({ length: 10 }, (_, i) => either(i).keys.rotate({ newNext: key(`k${i}`), retireAfter: T0 + 3600 })));
      const keys = await b.keys.list();
      expect(keys).toHaveLength(10);
      expect(keys.filter((k) => k.state === 'current')).toHaveLength(1);
      expect(keys.filter((k) => k.state === 'next')).toHaveLength(1);
    });
  });
});
