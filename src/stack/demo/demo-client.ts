/**
 * `warden demo-client`: an MCP client (the v1 SDK client with `mcp-warden/client`) that walks
 * through the whole flow against a running stack and says what happens at each step and why.
 * Tokens, proofs, codes and passwords are never printed: only what they carry.
 */
import { spawn } from 'node:child_process';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectWithAuthorization, createOAuthProvider, generateDpopKey, startLoopbackCallback, type FetchLike } from '../../client/index.js';
import { UsageError } from '../errors.js';
import { readStackInfo } from '../stack-file.js';
import { deviceDemo } from './demo-device.js';

/** Options of {@link demoClientCommand}, as commander parses them. */
export interface DemoClientOptions {
  stateDir: string;
  /** The MCP server. Default: the first resource in `stack.json`. */
  url?: string;
  /** `auto`: sign in as the demo user by submitting the pages; `browser`: open a browser; `manual`: print the URL; `device`: the device grant (RFC 8628), you enter a code. */
  login?: 'auto' | 'browser' | 'manual' | 'device';
}

interface Seen {
  url: URL;
  method: string;
  status: number;
  headers: Headers;
  requestHeaders: Headers;
  body: string | undefined;
  json: Record<string, unknown> | undefined;
}

/** Runs the walk-through; `print` prints one step. */
export async function demoClientCommand(options: DemoClientOptions, print: (line: string) => void): Promise<void> {
  // What servers send is printed: no terminal control sequences from them.
  const say = (line: string) => print(line.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '?'));
  const info = await readStackInfo(options.stateDir);
  const mcpUrl = options.url ?? info.resources[0]?.url;
  if (mcpUrl === undefined) throw new UsageError('the running stack protects no MCP server: pass --url');
  const demoUser = info.users[0];
  const login = options.login ?? (demoUser ? 'auto' : 'browser');
  if (login === 'auto' && !demoUser) throw new UsageError('--login auto needs the demo user of "warden start" in stack.json; use --login browser');

  const seen: Seen[] = [];
  const recording: FetchLike = async (input, init = {}) => {
    const request = new Request(input, init);
    const response = await fetch(input, init);
    let json: Record<string, unknown> | undefined;
    if ((response.headers.get('content-type') ?? '').includes('application/json')) json = (await response.clone().json().catch(() => undefined)) as Record<string, unknown> | undefined;
    seen.push({ url: new URL(request.url), method: request.method, status: response.status, headers: response.headers, requestHeaders: request.headers, body: typeof init.body === 'string' ? init.body : init.body instanceof URLSearchParams ? init.body.toString() : undefined, json });
    narrate(seen.at(-1) as Seen, mcpUrl, say);
    return response;
  };

  say(`MCP server: ${mcpUrl}`);
  const key = await generateDpopKey();
  say(`A DPoP key was made for this client (ES256, private key non-extractable). Its thumbprint, which tokens will be bound to: ${key.thumbprint}`);
  if (login === 'device') return deviceDemo(info, mcpUrl, key, recording, say);
  const callback = await startLoopbackCallback();
  const client = new Client({ name: 'warden-demo-client', version: '1.0.0' });
  try {
    const provider = createOAuthProvider({
      redirectUrl: callback.redirectUrl,
      clientName: 'Warden demo client',
      dpop: key,
      fetch: recording,
      async authorize(url) {
        const scope = url.searchParams.get('scope') ?? '';
        say(`Sign-in and consent: the authorization request asks for "${scope}" on ${url.searchParams.get('resource')}, with PKCE (S256), state and dpop_jkt.`);
        if (login === 'auto' && demoUser) {
          // The demo password goes only to this stack's own sign-in page, never to a server --url discovered.
          if (url.origin !== new URL(info.issuer).origin) {
            throw new UsageError(`the authorization server of ${mcpUrl} is ${url.origin}, not this stack (${info.issuer}): the demo user's password stays here; use --login browser`);
          }
          say(`  Signing in as "${demoUser.username}" and allowing, by submitting the sign-in and consent pages (what you would do in a browser; --login browser lets you).`);
          await submitPages(url, demoUser);
        } else {
          say(`  Open this URL, sign in and allow:\n  ${url.href}`);
          if (login === 'browser') openBrowser(url.href);
        }
        const back = await callback.next({ state: url.searchParams.get('state') });
        say(`  Back at ${callback.redirectUrl} with a code, the same state and iss=${back.searchParams.get('iss') ?? '(none)'} (RFC 9207).`);
        return back;
      },
    });
    const transport = () => new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: provider.fetch });
    await connectWithAuthorization(client, transport, provider);
    say('Connected: the MCP session is initialized with the DPoP-bound token.');

    const tools = await client.listTools();
    say(`tools/list → ${tools.tools.map((t) => t.name).join(', ')}`);
    const whoami = await client.callTool({ name: 'whoami', arguments: {} });
    say(`tools/call whoami → ${textOf(whoami)}`);

    if (tools.tools.some((t) => t.name === 'admin_reset')) {
      say('tools/call admin_reset: this tool needs a scope the token does not have.');
      const result = await client.callTool({ name: 'admin_reset', arguments: {} });
      say(`  → ${textOf(result)} (granted now: ${provider.grantedScopes().join(' ')})`);
    }

    say('Refresh: asking for a new access token with the refresh token and a proof of the same key.');
    const before = await provider.tokens();
    await auth(provider, { serverUrl: mcpUrl, fetchFn: provider.fetch });
    const after = await provider.tokens();
    say(`  → new access token; refresh token ${after?.refresh_token !== before?.refresh_token ? 'rotated (the old one is now refused)' : 'unchanged'}.`);
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'hello after refresh' } });
    say(`tools/call echo → ${textOf(echo)}`);

    const captured = seen.findLast((s) => s.url.href === mcpUrl && s.method === 'POST' && s.status === 200 && s.requestHeaders.has('dpop'));
    if (captured) {
      say('Replay: sending the last tools/call again, byte for byte (same token, same proof), as an attacker who captured it would.');
      const replay = await fetch(captured.url, { method: 'POST', headers: captured.requestHeaders, body: captured.body ?? null });
      const challenge = replay.headers.get('www-authenticate') ?? '';
      const error = /error="([^"]+)"/.exec(challenge)?.[1] ?? '';
      const description = /error_description="([^"]+)"/.exec(challenge)?.[1] ?? '';
      say(`  → ${replay.status} ${error}${description ? `: ${description}` : ''}`);
    }
    say('Done.');
  } finally {
    await client.close().catch(() => undefined);
    await callback.close();
  }
}

/** One plain-words line per HTTP exchange the SDK makes during authorization. */
function narrate(s: Seen, mcpUrl: string, say: (line: string) => void): void {
  const path = s.url.pathname;
  if (s.url.href === mcpUrl && s.status === 401) {
    const challenge = s.headers.get('www-authenticate') ?? '';
    const metadata = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    const error = /error="([^"]+)"/.exec(challenge)?.[1];
    if (error === 'use_dpop_nonce') say('  The MCP server asked for a DPoP nonce (RFC 9449 §9): signing the request again with it.');
    else if (error !== undefined) say(`  The MCP server refused the token (${error}): the client authorizes again.`);
    else say(`Discovery: the MCP server answered 401 without a token. Its WWW-Authenticate points to its metadata${metadata ? `: ${metadata}` : ''} (RFC 9728 §5.1).`);
  } else if (s.url.href === mcpUrl && s.status === 403) {
    const scope = /scope="([^"]+)"/.exec(s.headers.get('www-authenticate') ?? '')?.[1];
    say(`  403 insufficient_scope: the call needs "${scope}". Step-up: authorizing again for the union of granted and required scopes.`);
  } else if (path.startsWith('/.well-known/oauth-protected-resource') && s.status === 200 && s.json) {
    say(`Resource metadata (RFC 9728): authorization server ${String((s.json.authorization_servers as string[] | undefined)?.[0])}, scopes ${String((s.json.scopes_supported as string[] | undefined)?.join(' '))}, DPoP ${s.json.dpop_bound_access_tokens_required === true ? 'required' : 'accepted'}.`);
  } else if ((path.startsWith('/.well-known/oauth-authorization-server') || path.startsWith('/.well-known/openid-configuration')) && s.status === 200 && s.json) {
    say(`Authorization server metadata (RFC 8414): authorize at ${String(s.json.authorization_endpoint)}, tokens at ${String(s.json.token_endpoint)}, PKCE ${String((s.json.code_challenge_methods_supported as string[] | undefined)?.join(' '))}.`);
  } else if (s.method === 'POST' && s.json && typeof s.json.client_id === 'string' && s.status === 201) {
    say(`Registration (RFC 7591): this client is now ${s.json.client_id} (public client, redirect ${String((s.json.redirect_uris as string[] | undefined)?.[0])}).`);
  } else if (s.method === 'POST' && s.status === 400 && s.json?.error === 'use_dpop_nonce') {
    say('  The token endpoint asked for a DPoP nonce (RFC 9449 §8): signing the token request again with it.');
  } else if (s.method === 'POST' && s.status === 200 && s.json && typeof s.json.access_token === 'string') {
    const claims = claimsOf(s.json.access_token);
    const grant = new URLSearchParams(s.body ?? '').get('grant_type') ?? '';
    say(`Token (${grant}): type ${String(s.json.token_type)}, scope "${String(s.json.scope)}", expires in ${String(s.json.expires_in)} s, audience ${String(claims.aud)}${claims.cnf?.jkt ? `, bound to key ${claims.cnf.jkt}` : ''}.`);
  }
}

/** Signs in and allows on the stack's own pages, as a browser would (same-origin form posts). */
async function submitPages(authorizationUrl: URL, user: { username: string; password: string }): Promise<void> {
  const origin = authorizationUrl.origin;
  const start = await fetch(authorizationUrl, { redirect: 'manual' });
  const interaction = new URL(start.headers.get('location') ?? '', authorizationUrl);
  if (start.status !== 303 || interaction.origin !== origin) return void (await deliver(interaction));
  const page = await fetch(interaction);
  const post = (fields: Record<string, string>, cookie?: string) =>
    fetch(interaction, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...(cookie && { cookie }) },
      body: new URLSearchParams(fields),
    });
  const signedIn = await post({ csrf: csrfOf(await page.text()), action: 'login', username: user.username, password: user.password });
  if (signedIn.status === 303) return void (await deliver(new URL(signedIn.headers.get('location') ?? '', interaction)));
  if (signedIn.status !== 200) throw new UsageError(`signing in as ${user.username} failed (${signedIn.status}): is stack.json from this stack?`);
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const allowed = await post({ csrf: csrfOf(await signedIn.text()), action: 'allow' }, cookie);
  if (allowed.status !== 303) throw new UsageError(`the consent page did not accept "allow" (${allowed.status})`);
  await deliver(new URL(allowed.headers.get('location') ?? '', interaction));
}

/** Follows the redirect to the client's loopback listener, as the browser would. */
async function deliver(url: URL): Promise<void> {
  await (await fetch(url)).body?.cancel();
}

function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new UsageError('the sign-in page has no CSRF field: is this a Warden stack?');
  return token;
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** What a JWT access token carries; nothing for a token that is not one (opaque tokens exist). */
function claimsOf(token: string): { aud?: unknown; cnf?: { jkt?: string } } {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { aud?: unknown; cnf?: { jkt?: string } };
  } catch {
    return {};
  }
}

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}
