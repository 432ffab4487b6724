import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { describeAuthorizationServerStoresConformance } from '../conformance/authorization-server-stores.conformance.js';
import { T0, describeDurableStoresConformance, grant, token } from '../conformance/durable-stores.conformance.js';
import { StoreUnavailableError } from '../contracts.js';
import { MIGRATIONS, SCHEMA_VERSION } from './authorization-server-schema.js';
import { openSqliteAuthorizationServerStores } from './authorization-server-stores.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

const dir = mkdtempSync(join(tmpdir(), 'warden-as-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `as-${++files}.db`);

describeAuthorizationServerStoresConformance('sqlite (file)', () => openSqliteAuthorizationServerStores({ path: freshPath() }));
describeAuthorizationServerStoresConformance('sqlite (:memory:)', () => openSqliteAuthorizationServerStores({ path: ':memory:' }));
describeDurableStoresConformance('sqlite', {
  freshPlace: () => {
    const path = freshPath();
    return () => openSqliteAuthorizationServerStores({ path });
  },
  placeAtVersion1: () => {
    const path = freshPath();
    const old = new Database(path);
    old.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    old.exec(MIGRATIONS[0]!.sql);
    old.prepare('INSERT INTO schema_version VALUES (1, ?)').run(T0);
    old.prepare(
      `INSERT INTO grants (grant_id, client_id, subject, scopes, resources, created_at)
       VALUES ('g1', 'c1', 'alice', '["a"]', '["https://mcp.example/mcp"]', ?)`,
    ).run(T0);
    old.prepare(
      `INSERT INTO clients (client_id, token_endpoint_auth_method, redirect_uris, grant_types, response_types, source, created_at)
       VALUES ('old-client', 'none', '[]', '[]', '[]', 'registered', ?)`,
    ).run(T0);
    old.close();
    return () => openSqliteAuthorizationServerStores({ path });
  },
});


describe('SQLite authorization-server stores: the file', () => {
  it('creates missing parent directories and the file with mode 0600 (it holds private keys)', async () => {
    const path = join(dir, 'nested', 'deeper', 'warden.db');
    const stores = openSqliteAuthorizationServerStores({ path });
    await stores.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).isDirectory()).toBe(true);
  });

  it('uses WAL and records each schema version once, however often it is reopened', async () => {
    const path = freshPath();
    for (let i = 0; i < 3; i += 1) await openSqliteAuthorizationServerStores({ path }).close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer schema version', () => {
    const path = freshPath();
    const db = new Database(path);
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    db.prepare('INSERT INTO schema_version VALUES (?, ?)').run(SCHEMA_VERSION + 1, T0);
    db.close();
    expect(() => openSqliteAuthorizationServerStores({ path })).toThrow(/newer.*upgrade Warden/);
  });

  it('rejects invalid options at open', () => {
    expect(() => openSqliteAuthorizationServerStores({ path: '' })).toThrow(TypeError);
    expect(() => openSqliteAuthorizationServerStores({ path: freshPath(), busyTimeoutMs: -1 })).toThrow(TypeError);
  });

  it('a write that cannot get the lock within busyTimeoutMs rejects with StoreUnavailableError', async () => {
    const path = freshPath();
    const stores = openSqliteAuthorizationServerStores({ path, busyTimeoutMs: 50 });
    await stores.codes.save({
      codeHash: 'code-1', clientId: 'c1', redirectUri: 'https://c.example/cb', resource: 'r', scopes: [],
      subject: 'alice', codeChallenge: 'ch', grantId: 'g', authTime: T0, expiresAt: T0 + 60,
    });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(stores.codes.consume('code-1', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await stores.codes.consume('code-1', T0)).state).toBe('fresh');
    await stores.close();
  });
});

describe('SQLite authorization-server stores: several processes share one file', () => {
  const ROUNDS = 25;
  const PROCESSES = 4;

  it(`contract: ${PROCESSES} processes race on ${ROUNDS} codes and ${ROUNDS} refresh tokens → one fresh / one rotated each`, async () => {
    const moduleUrl = transpileStoresForChildren();
    const path = freshPath();
    const setup = openSqliteAuthorizationServerStores({ path });
    for (let i = 0; i < ROUNDS; i += 1) {
      await setup.codes.save({
        codeHash: `code-${i}`, clientId: 'c1', redirectUri: 'https://c.example/cb', resource: 'r', scopes: [],
        subject: 'alice', codeChallenge: 'ch', grantId: `g-${i}`, authTime: T0, expiresAt: T0 + 60,
      });
      await setup.grants.createGrant({ ...grant, grantId: `g-${i}` });
      await setup.grants.saveRefreshToken(token(`rt-${i}`, 0, `g-${i}`));
    }
    await setup.close();

    const outputs = await runChildren(PROCESSES, moduleUrl, path, ROUNDS);
    // The store module loads better-sqlite3 only when a store is opened.
    for (const output of outputs) expect(output.driverLoadedByImport).toBe(false);
    for (let i = 0; i < ROUNDS; i += 1) {
      const codes = outputs.map((output) => output.codes[i]);
      expect(codes.filter((state) => state === 'fresh'), `code-${i}`).toHaveLength(1);
      expect(codes.filter((state) => state === 'reused'), `code-${i}`).toHaveLength(PROCESSES - 1);
      const rotations = outputs.map((output) => output.rotations[i]);
      expect(rotations.filter((r) => r?.state === 'rotated'), `rt-${i}`).toHaveLength(1);
      if (i % 2 === 0) {
        // Same fingerprint in every process: the others retry and get the one successor.
        const winner = rotations.find((r) => r?.state === 'rotated')?.successorHash;
        expect(rotations.filter((r) => r?.state === 'retry' && r.successorHash === winner), `rt-${i}`).toHaveLength(PROCESSES - 1);
      } else {
        expect(rotations.filter((r) => r?.state === 'reused'), `rt-${i}`).toHaveLength(PROCESSES - 1);
      }
    }
    const check = openSqliteAuthorizationServerStores({ path });
    try {
      for (let i = 0; i < ROUNDS; i += 1) {
        expect((await check.grants.getGrant(`g-${i}`))?.revokedAt === undefined, `g-${i}`).toBe(i % 2 === 0);
      }
    } finally {
      await check.close();
    }
  });
});

interface ChildOutput {
  driverLoadedByImport: boolean;
  codes: string[];
  rotations: Array<{ state: string; successorHash?: string }>;
}

/**
 * Node 20 cannot run TypeScript, so the children import the real store modules transpiled (not
 * type-checked) into a temp dir, with `node_modules` linked so better-sqlite3 resolves.
 */
function transpileStoresForChildren(): string {
  const source = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const src = resolve(source, '..');
  const out = join(dir, 'compiled');
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(folder, entry.name)) : [join(folder, entry.name)],
    );
  // The stores and the one layer below them they import (errors, defaults).
  for (const file of [...walk(source), ...walk(join(src, 'oauth'))]) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.endsWith('.conformance.ts')) continue;
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const target = join(out, relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }');
  symlinkSync(resolve(source, '../../node_modules'), join(out, 'node_modules'), 'dir');
  return pathToFileURL(join(out, 'stores', 'sqlite', 'authorization-server-stores.js')).href;
}

/** Each child opens the file, reports ready, waits for "go", then races the others. */
const CHILD = `
import { createRequire } from 'node:module';
import { once } from 'node:events';
const cache = createRequire(import.meta.url).cache;
const driverLoaded = () => Object.keys(cache).some((id) => id.includes('better-sqlite3'));
const { openSqliteAuthorizationServerStores } = await import(process.env.WARDEN_STORES_MODULE);
const driverLoadedByImport = driverLoaded();
const stores = openSqliteAuthorizationServerStores({ path: process.env.WARDEN_DB, busyTimeoutMs: 30000 });
const rounds = Number(process.env.WARDEN_ROUNDS);
const T0 = ${T0};
process.stdout.write('ready\\n');
await once(process.stdin, 'data');
const codes = [];
const rotations = [];
for (let i = 0; i < rounds; i += 1) {
  codes.push((await stores.codes.consume('code-' + i, T0 + 1)).state);
  const result = await stores.grants.rotateRefreshToken({
    tokenHash: 'rt-' + i,
    successor: { tokenHash: 'rt-' + i + '-' + process.pid, grantId: 'g-' + i, generation: 1, scopes: ['a'],
      resources: ['https://mcp.example/mcp'], issuedAt: T0 + 1, expiresAt: T0 + 86400 },
    fingerprint: i % 2 === 0 ? 'fp-shared' : 'fp-' + process.pid,
    graceSeconds: 10,
    now: T0 + 1,
  });
  rotations.push({
    state: result.state,
    successorHash: result.state === 'rotated' ? result.previous.successorHash
      : result.state === 'retry' ? result.successor.tokenHash : undefined,
  });
}
await stores.close();
process.stdout.write(JSON.stringify({ driverLoadedByImport, codes, rotations }) + '\\n');
process.exit(0);
`;

async function runChildren(count: number, moduleUrl: string, path: string, rounds: number): Promise<ChildOutput[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, WARDEN_STORES_MODULE: moduleUrl, WARDEN_DB: path, WARDEN_ROUNDS: String(rounds) },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = children.map((child) => {
    let buffered = '';
    const received: string[] = [];
    const waiters: Array<() => void> = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        received.push(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        waiters.shift()?.();
      }
    });
    const exited = new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
    const next = async (): Promise<string> => {
      while (received.length === 0) {
        const arrived = new Promise<void>((resolveLine) => waiters.push(resolveLine));
        const code = await Promise.race([arrived.then(() => undefined), exited]);
        if (code !== undefined && received.length === 0) throw new Error(`child exited (${code}) before answering`);
      }
      return received.shift() as string;
    };
    return { next, exited };
  });
  for (const line of lines) expect(await line.next()).toBe('ready');
  for (const child of children) child.stdin.end('go\n');
  const outputs = await Promise.all(lines.map(async (line) => JSON.parse(await line.next()) as ChildOutput));
  expect(await Promise.all(lines.map((line) => line.exited))).toEqual(Array(count).fill(0));
  return outputs;
}
