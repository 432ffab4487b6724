/**
 * `warden audit-log verify` as users run it: spawned from dist/ (the `npm test` script builds
 * first) on a log written by the audit trail.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARDEN_')));
const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist');

/** A chained log of `n` records, written by the built trail. */
async function writeLog(n: number): Promise<string> {
  const { createAuditTrail } = (await import(join(DIST, 'observability/audit-trail.js'))) as typeof import('../observability/audit-trail.js');
  const { securityEvent } = (await import(join(DIST, 'observability/audit-events.js'))) as typeof import('../observability/audit-events.js');
  const lines: string[] = [];
  const trail = createAuditTrail({ instance: 'cli-test', sinks: [{ write: (_r, line) => lines.push(line) }] });
  for (let i = 0; i < n; i += 1) trail.emit(securityEvent({ type: 'keys.rotated', admin: `op${i}` }));
  const path = join(mkdtempSync(join(tmpdir(), 'warden-audit-cli-')), 'audit.log');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const verify = (...files: string[]) => spawnSync(process.execPath, [BIN, 'audit-log', 'verify', ...files], { env: ENV, encoding: 'utf8' });

describe('warden audit-log verify FILE', () => {
  it('exits 0 and says intact for an untouched log', async () => {
    const path = await writeLog(4);
    const run = verify(path);
    expect(run.stdout).toContain('intact: 4 record(s) in 1 chain(s)');
    expect(run.status).toBe(0);
  });

  it('exits 1 and names the line where a record was cut or edited', async () => {
    const path = await writeLog(5);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, `${[lines[0], lines[1]!.replace('op1', 'op9'), lines[2], lines[4]].join('\n')}\n`);
    const run = verify(path);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('NOT intact: 2 problem(s)');
    expect(run.stdout).toContain(`${path}:3: edited`);
    expect(run.stdout).toContain(`${path}:4: cut: 1 record(s) missing`);
  });

  it('exits 1 for a file it cannot read, and 2 without a file (usage)', () => {
    const missing = verify('/nonexistent/audit.log');
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('cannot read the audit log');
    expect(verify().status).toBe(2);
  });
});
