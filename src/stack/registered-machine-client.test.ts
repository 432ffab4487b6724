/**
 * `authorizationServer.registration.clientCredentials` from the configuration to a working token:
 * a machine client registers itself with its public key (RFC 7591 §2 `jwks`, RFC 7523 §2.2), gets
 * a token by client_credentials, and calls a tool of the stack's demo resource with it.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { SignJWT } from 'jose';
import { createLogger } from '../observability/logger.js';
import { startStack, type RunningStack } from './stack.js';

const running: RunningStack[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function start(registration: object): Promise<RunningStack> {
  const config = resolveConfig({ storage: { kind: 'memory' }, authorizationServer: { registration }, resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }] }, { env: {} });
  const stack = await startStack(config, { port: 0, logger: createLogger({ write: () => undefined }) });
  running.push(stack);
  return stack;
}

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = { ...key.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
const machine = { client_name: 'Nightly job', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] } };

const register = async (stack: RunningStack): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await fetch(`${stack.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(machine) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('warden.yaml authorizationServer.registration.clientCredentials', () => {
  it('RFC 7591 §2 / RFC 7523 §2.2: on, a self-registered private_key_jwt client gets a client_credentials token that the demo resource accepts', async () => {
    const stack = await start({ clientCredentials: true });
    const registered = await register(stack);
    expect(registered.status).toBe(201);
    const clientId = registered.body.client_id as string;
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: clientId, sub: clientId, aud: stack.url, iat: now, exp: now + 60, jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(key.privateKey);
    const token = await fetch(`${stack.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${stack.url}/mcp`, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    expect(token.status).toBe(200);
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    const call = await fetch(`${stack.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'machine' } } }),
    });
    expect(call.status).toBe(200);
    expect(await call.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'machine' }] } });
  });

  it('RFC 7591 §3.2.2: off (the default), the same registration is invalid_client_metadata', async () => {
    const stack = await start({});
    const refused = await register(stack);
    expect([refused.status, refused.body.error]).toEqual([400, 'invalid_client_metadata']);
  });
});
