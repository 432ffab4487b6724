/**
 * The console's servers page shows servers added at run time through the admin API, whose every
 * name and text an admin client wrote: a rule name, tool name, scope description or upstream
 * with markup is shown as text, never run (HTML escaping; the console's session and CSRF token
 * must not be readable by a script an entry brought).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { startStack, type RunningStack } from '../stack/stack.js';
import { sealCookie } from './signed-cookie.js';

const running: RunningStack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const MARKUP = '<img src=x onerror=alert(1)>';

describe('console servers page: registry entries are escaped (HTML 13.1.2 text, no raw markup)', () => {
  it('markup in a runtime-added server\'s tool name, scope description and upstream query is text', async () => {
    const config = resolveConfig({ storage: { kind: 'memory' }, authorizationServer: { demo: true }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }], admin: { subjects: ['demo'] } }, { env: {} });
    const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => {} }) });
    running.push(stack);
    const cookie = `warden_admin=${sealCookie(stack.authorizationServer!.context.hmac, 'warden_admin', { sub: 'demo', csrf: 'c'.repeat(32), exp: Math.floor(Date.now() / 1000) + 600 })}`;
    const spec = {
      name: 'files',
      path: '/files',
      upstream: `http://127.0.0.1:9/mcp?x="${MARKUP}`,
      scopes: { default: ['files:read'], tools: { [`t${MARKUP}`]: ['files:read'] }, descriptions: { 'files:read': MARKUP } },
      policy: { rules: [{ name: 'ops-only', allow: 'true' }] }, // rule names are slugs (refused otherwise)
    };
    const proposed = await stack.registry.propose({ put: { name: 'files', spec } });
    // An entry the schema refuses cannot reach the page at all; one it accepts must be escaped.
    const html = await (await fetch(`${stack.url}/admin/servers`, { redirect: 'manual', headers: { cookie } })).text();
    expect(html).not.toContain('<img');
    expect(proposed.ok ? [] : (proposed as { problems?: unknown }).problems).toEqual([]);
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
  });
});
