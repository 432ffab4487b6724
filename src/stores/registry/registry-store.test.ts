/**
 * The registry store conformance suite against memory, SQLite (two connections on one file) and
 * PostgreSQL (two pools on one schema; runs when WARDEN_TEST_POSTGRES_URL is set — each run in
 * its own `warden_test_<random>` schema, dropped afterwards).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { requireService, testService } from '../../../test/helpers/services.js';
import { describeRegistryStoreConformance } from '../conformance/registry-store.conformance.js';
import { createMemoryRegistryStore } from './memory-registry-store.js';
import { openPostgresRegistryStore } from './postgres-registry-store.js';
import { openSqliteRegistryStore } from './sqlite-registry-store.js';

describeRegistryStoreConformance('memory', async () => ({ store: createMemoryRegistryStore() }));

const dir = mkdtempSync(join(tmpdir(), 'warden-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
describeRegistryStoreConformance('sqlite', async () => {
  const path = join(dir, `registry-${++files}.db`);
  return { store: openSqliteRegistryStore({ path }), second: async () => openSqliteRegistryStore({ path }) };
});

const postgres = await testService('postgres');
describe.skipIf(postgres.skip)(`PostgreSQL registry store${postgres.note}`, () => {
  const schemas: string[] = [];
  let url = '';
  beforeAll(async () => {
    url = await requireService(postgres);
  });
  afterAll(async () => {
    if (url === '') return;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  describeRegistryStoreConformance('postgres', async () => {
    const schema = `warden_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return { store: await openPostgresRegistryStore({ url, schema }), second: () => openPostgresRegistryStore({ url, schema }) };
  });
});
