/**
 * Limits on open dynamic registration: registrations throttled per source address (429 +
 * Retry-After), and registered clients that are never used expiring.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 * @see https://www.rfc-editor.org/rfc/rfc6585#section-4
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectError, REDIRECT_URI, RESOURCE, startHarness, type Harness } from '../../../../test/helpers/as-harness.js';
import { StoreUnavailableError } from '../../../stores/contracts.js';
import { createMemoryAuthorizationServerStores } from '../../../stores/memory/authorization-server-stores.js';
import { createAuthorizationServer } from '../../create-authorization-server.js';
import { DEFAULTS } from '../../../oauth/defaults.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ trustedProxyHops: 1 });
});
afterEach(async () => {
  await h.close();
});

const metadata = { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };

async function register(source: string, body: unknown = metadata): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${h.issuer}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': source },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('open registration is throttled per source address (RFC 7591 §3, RFC 6585 §4)', () => {
  it('RFC 6585 §4: beyond the free registrations from one address: 429 temporarily_unavailable with Retry-After, nothing stored; another address is unaffected', async () => {
    for (let i = 0; i < DEFAULTS.registration.throttle.free; i += 1) expect((await register('203.0.113.5')).status).toBe(201);
    const refused = await register('203.0.113.5');
    expectError(refused as never, 429, 'temporarily_unavailable');
    expect(refused.headers.get('retry-after')).toBe(String(DEFAULTS.registration.throttle.baseDelaySeconds));
    // Browser-based clients (CORS) can read how long to wait.
    expect(refused.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(refused.body.error_description).toMatch(/too many client registrations from this address; retry in 10 s/);
    expect(refused.body.client_id).toBeUndefined();
    expect(h.audit.filter((e) => e.type === 'client.registered')).toHaveLength(DEFAULTS.registration.throttle.free);
    expect((await register('198.51.100.9')).status).toBe(201);
    // The wait passes; then it doubles.
    h.advance(DEFAULTS.registration.throttle.baseDelaySeconds);
    expect((await register('203.0.113.5')).status).toBe(201);
    expect((await register('203.0.113.5')).headers.get('retry-after')).toBe(String(2 * DEFAULTS.registration.throttle.baseDelaySeconds));
  });

  it('RFC 7591 §3.2.2: an invalid registration is refused as before and not counted; one IPv6 /64 is one source', async () => {
    await h.close();
    h = await startHarness({ trustedProxyHops: 1, registration: { throttle: { free: 1, baseDelaySeconds: 60, maxDelaySeconds: 60, forgetAfterSeconds: 60 } } });
    for (let i = 0; i < 3; i += 1) expect((await register('2001:db8:1:2::1', { redirect_uris: 'nope' })).status).toBe(400);
    expect((await register('2001:db8:1:2::1')).status).toBe(201);
    const refused = await register('2001:db8:1:2::ffff');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect((await register('2001:db8:1:3::1')).status).toBe(201);
  });
});

describe('registered clients that are never used expire', () => {
  /** Registers a public client and returns its id. */
  async function registered(): Promise<string> {
    const response = await register('203.0.113.5');
    expect(response.status).toBe(201);
    return response.body.client_id as string;
  }
  const authorize = (clientId: string) =>
    fetch(`${h.issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: RESOURCE })}`, { redirect: 'manual' });

  it('RFC 7591 §3: a client not used within registration.expireUnusedAfterSeconds (default 24 h) is unknown, then purged', async () => {
    const clientId = await registered();
    expect((await authorize(clientId)).status).toBe(303);
    h.advance(DEFAULTS.registration.expireUnusedAfterSeconds - 1);
    expect((await authorize(clientId)).status).toBe(303);
    h.advance(1);
    const page = await authorize(clientId);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('not registered with this server');
    expectError(await h.post(h.tokenUrl, { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }), 401, 'invalid_client');
    expect(await h.as.context.stores.clients.get(clientId)).toBeDefined();
    await h.as.purgeExpired();
    expect(await h.as.context.stores.clients.get(clientId)).toBeUndefined();
  });

  it('RFC 7591 §3: a client that obtained a token is used: it stays, past the expiry and the purge', async () => {
    const clientId = await registered();
    const seeded = await h.seedCode({ clientId });
    const issued = await h.redeem(seeded, { clientId });
    expect(issued.status).toBe(200);
    expect((await h.as.context.stores.clients.get(clientId))?.usedAt).toBe(h.now());
    h.advance(DEFAULTS.registration.expireUnusedAfterSeconds * 2);
    await h.as.purgeExpired();
    expect(await h.as.context.stores.clients.get(clientId)).toBeDefined();
    expect((await authorize(clientId)).status).toBe(303);
  });

  it('fail closed where it matters: a store that cannot record the first use does not turn the issued tokens into a 503', async () => {
    const clientId = await registered();
    const clients = h.as.context.stores.clients;
    const markUsed = clients.markUsed.bind(clients);
    clients.markUsed = () => Promise.reject(new StoreUnavailableError('down'));
    try {
      expect((await h.redeem(await h.seedCode({ clientId }), { clientId })).status).toBe(200);
    } finally {
      clients.markUsed = markUsed;
    }
    expect((await clients.get(clientId))?.usedAt).toBeUndefined();
    // The next token recorded it.
    expect((await h.redeem(await h.seedCode({ clientId }), { clientId })).status).toBe(200);
    expect((await clients.get(clientId))?.usedAt).toBe(h.now());
  });

  it('RFC 7591 §3: a client that failed to obtain a token is not used by that', async () => {
    const clientId = await registered();
    expectError(await h.post(h.tokenUrl, { grant_type: 'authorization_code', client_id: clientId, code: 'nope', redirect_uri: REDIRECT_URI, code_verifier: 'a'.repeat(43) }), 400, 'invalid_grant');
    expect((await h.as.context.stores.clients.get(clientId))?.usedAt).toBeUndefined();
  });

  it('registration.expireUnusedAfterSeconds is configurable and checked at start', async () => {
    await h.close();
    h = await startHarness({ trustedProxyHops: 1, registration: { expireUnusedAfterSeconds: 600 } });
    const clientId = await registered();
    h.advance(600);
    expect((await authorize(clientId)).status).toBe(400);
    const base = { issuer: 'https://as.example.com', secret: 'a-test-secret-of-at-least-32-bytes-0123456789ab', resources: [{ uri: RESOURCE, name: 'd', scopes: ['mcp:tools'] }] };
    await expect(createAuthorizationServer({ ...base, stores: createMemoryAuthorizationServerStores(), registration: { expireUnusedAfterSeconds: 5 } })).rejects.toThrow(
      'createAuthorizationServer: registration.expireUnusedAfterSeconds must be a whole number from 60 to',
    );
    await expect(createAuthorizationServer({ ...base, stores: createMemoryAuthorizationServerStores(), registration: { throttle: { maxDelaySeconds: 100_000 } } })).rejects.toThrow(
      'createAuthorizationServer: registration.throttle.forgetAfterSeconds must be at least maxDelaySeconds (100000)',
    );
  });
});
