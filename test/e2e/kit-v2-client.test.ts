/**
 * The kit's provider under the v2 MCP SDK client (`@modelcontextprotocol/client`), against `warden
 * start`, the user in Chromium: `createOAuthProvider({ auth: v2.auth })`, the v2 transport,
 * `connectWithAuthorization`, DPoP signed by the kit (the v2 transport's own DPoP hook stays idle),
 * and step-up on 403 through the v2 SDK's `auth`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as v2 from '@modelcontextprotocol/client';
import { connectWithAuthorization, createOAuthProvider, generateDpopKey, startLoopbackCallback, type FetchLike, type LoopbackCallback } from '../../src/client/index.js';
import { approveInBrowser, browserSupport, launchBrowser } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { spawnWarden, type SpawnedWarden } from '../helpers/spawn-warden.js';

const support = await browserSupport();

function textOf(result: unknown): string {
  return ((result as { content?: Array<{ text?: string }> }).content ?? []).map((c) => c.text ?? '').join('');
}

describe.skipIf(support.skip)(`the kit's provider under the v2 SDK client, against warden start${support.note}`, () => {
  let warden: SpawnedWarden;
  let browser: Browser;
  let callback: LoopbackCallback;

  beforeAll(async () => {
    [warden, browser, callback] = await Promise.all([spawnWarden({ command: 'start', port: await freePort() }), launchBrowser(), startLoopbackCallback()]);
  });
  afterAll(async () => {
    await callback?.close();
    await browser?.close();
    await warden?.stop();
  });

  it('RFC 9449 + MCP step-up: DPoP-bound tokens signed by the kit, and a 403 insufficient_scope re-authorized through v2’s auth for the union of scopes', async () => {
    const resource = warden.stack.resources[0]?.url as string;
    const user = warden.stack.users[0] as { username: string; password: string };
    const key = await generateDpopKey();
    const context = await browser.newContext();
    const visits: URL[] = [];
    const statuses: Array<{ url: string; status: number; scheme: string | undefined }> = [];
    const recording: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      statuses.push({ url: new Request(input, init).url, status: response.status, scheme: new Headers(init?.headers).get('authorization')?.split(' ')[0] });
      return response;
    };
    const provider = createOAuthProvider({
      redirectUrl: callback.redirectUrl,
      clientName: 'E2E kit under v2',
      dpop: key,
      fetch: recording,
      auth: v2.auth,
      async authorize(url) {
        visits.push(url);
        await approveInBrowser(await context.newPage(), url, user);
        return callback.next({ state: url.searchParams.get('state') });
      },
    });
    const client = new v2.Client({ name: 'e2e-kit-v2', version: '1.0.0' });
    try {
      await connectWithAuthorization(client, () => new v2.StreamableHTTPClientTransport(new URL(resource), { authProvider: provider, fetch: provider.fetch }), provider);
      expect((await provider.tokens())?.token_type).toBe('DPoP');
      const whoami = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as Record<string, unknown>;
      expect(whoami).toMatchObject({ jkt: key.thumbprint, tokenType: 'DPoP' });

      expect(textOf(await client.callTool({ name: 'admin_reset', arguments: {} }))).toBe('demo state reset');
      expect(visits).toHaveLength(2);
      expect(visits[1]?.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
      expect(visits[1]?.searchParams.get('dpop_jkt')).toBe(key.thumbprint);
      expect(provider.grantedScopes()).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
      expect(statuses.some((s) => s.url === resource && s.status === 403)).toBe(true);
      // Every request to the resource with a token went as DPoP (the kit rewrote v2's Bearer).
      expect(statuses.filter((s) => s.url === resource && s.scheme !== undefined).every((s) => s.scheme === 'DPoP')).toBe(true);
    } finally {
      await client.close();
      await context.close();
    }
  });
});
