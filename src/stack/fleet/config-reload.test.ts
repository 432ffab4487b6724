/**
 * `warden serve` follows its configuration file: a change to `resources` applies without a
 * restart (file watch, SIGHUP); a file that no longer loads, or servers that do not pass, change
 * nothing and are logged with their key paths.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import { startStack } from '../stack.js';
import { reloadServersOnChange, type ReloadOutcome } from './config-reload.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const yaml = (paths: string[]) =>
  ['storage: { kind: memory }', 'resources:', ...paths.map((p) => `  - { name: ${p.slice(1).replace(/\//g, '-')}, path: ${p}, upstream: "builtin:demo" }`)].join('\n');

/** Resolves with the next reload outcome. */
function nextReload(outcomes: ReloadOutcome[]): Promise<ReloadOutcome> {
  const seen = outcomes.length;
  return new Promise((resolve) => {
    const tick = setInterval(() => {
      if (outcomes.length > seen) {
        clearInterval(tick);
        resolve(outcomes[seen]!);
      }
    }, 20);
  });
}

describe('configuration reload (file watch, SIGHUP)', () => {
  it('a changed file adds and removes servers; a broken one is refused and the running servers stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'warden.yaml');
    writeFileSync(file, yaml(['/mcp']));
    const lines: string[] = [];
    const stack = await startStack(await loadConfigFile(file, { env: {} }), { port: 0, logger: createLogger({ write: (l) => lines.push(l) }), registryPollMs: 0 });
    cleanup.push(() => stack.close());
    const outcomes: ReloadOutcome[] = [];
    const stop = reloadServersOnChange(stack, file, { logger: createLogger({ write: (l) => lines.push(l) }), sighup: false, onReload: (o) => outcomes.push(o) });
    cleanup.push(stop);
    const names = () => stack.registry.current().servers.map((s) => s.name);

    let reloaded = nextReload(outcomes);
    writeFileSync(file, yaml(['/mcp', '/files']));
    expect(await reloaded).toEqual({ ok: true, ignored: [] });
    expect(names()).toEqual(['mcp', 'files']);
    expect((await fetch(`${stack.url}/.well-known/oauth-protected-resource/files`)).status).toBe(200);

    reloaded = nextReload(outcomes);
    writeFileSync(file, `${yaml(['/mcp'])}\n    dpop: sometimes`);
    const refused = await reloaded;
    expect(refused.ok).toBe(false);
    expect(names()).toEqual(['mcp', 'files']);
    expect(lines.some((l) => l.includes('configuration reload refused'))).toBe(true);

    reloaded = nextReload(outcomes);
    writeFileSync(file, yaml(['/files', '/files/deeper']));
    expect(await reloaded).toMatchObject({ ok: false, problems: [expect.stringContaining('resources[1].path')] });
    expect(names()).toEqual(['mcp', 'files']);

    reloaded = nextReload(outcomes);
    writeFileSync(file, yaml(['/files']));
    expect(await reloaded).toEqual({ ok: true, ignored: [] });
    expect(names()).toEqual(['files']);
    expect((await fetch(`${stack.url}/mcp`, { method: 'POST' })).status).toBe(404);
  });

  it('SIGHUP re-reads the file; keys other than resources are named as needing a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'warden.yaml');
    writeFileSync(file, yaml(['/mcp']));
    const stack = await startStack(await loadConfigFile(file, { env: {} }), { port: 0, logger: createLogger({ write: () => {} }), registryPollMs: 0 });
    cleanup.push(() => stack.close());
    const outcomes: ReloadOutcome[] = [];
    const stop = reloadServersOnChange(stack, file, { logger: createLogger({ write: () => {} }), watch: false, onReload: (o) => outcomes.push(o) });
    cleanup.push(stop);
    writeFileSync(file, `clockSkewSeconds: 5\n${yaml(['/mcp', '/two'])}`);
    const reloaded = nextReload(outcomes);
    process.emit('SIGHUP');
    expect(await reloaded).toEqual({ ok: true, ignored: ['clockSkewSeconds'] });
    expect(stack.registry.current().servers.map((s) => s.name)).toEqual(['mcp', 'two']);
  });
});
