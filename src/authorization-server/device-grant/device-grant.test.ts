/**
 * The device authorization grant (RFC 8628) end to end over HTTP: the device authorization
 * endpoint, the verification page and the sign-in/consent pages (as a browser would post them),
 * and the token endpoint's polling answers — with hostile inputs answered by the exact codes.
 */
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cookiePair, csrfOf, get, PASSWORD, postForm, RESOURCE, startAuthorizationServer, TEST_CLIENTS, type TestAs } from '../../../test/helpers/login-flow.js';
import { createDpopKey } from '../../../test/helpers/test-issuer.js';
import { DEVICE_CODE_GRANT_TYPE } from '../grants/device-code.js';
import { normalizeUserCode, USER_CODE_ALPHABET } from './user-code.js';

const TV_SECRET = 'tv-secret-tv-secret-tv-secret-tv-secret';
let t: TestAs;
let offset = 0;
const now = (): number => Math.floor(Date.now() / 1000) + offset;

beforeEach(async () => {
  offset = 0;
  t = await startAuthorizationServer({
    now,
    overrides: {
      clients: [
        ...TEST_CLIENTS,
        { clientId: 'tv', clientName: 'Living-room TV', grantTypes: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'] },
        { clientId: 'conf-tv', clientSecret: TV_SECRET, grantTypes: [DEVICE_CODE_GRANT_TYPE] },
      ],
    },
  });
});
afterEach(async () => {
  await t.close();
});

interface Json {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function json(response: Response): Promise<Json> {
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

const deviceAuthorization = async (fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Json> =>
  json(await postForm(t, '/device_authorization', { client_id: 'tv', resource: RESOURCE, ...fields }, undefined, headers));

const poll = async (deviceCode: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Json> =>
  json(await postForm(t, '/token', { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: deviceCode, client_id: 'tv', ...fields }, undefined, headers));

const basic = (id: string, secret: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

const origin = (): Record<string, string> => ({ origin: t.base });

/** Enters the user code on the verification page; returns the response (a 303 to the interaction when it was right). */
const enterCode = (userCode: string, headers: Record<string, string> = origin()): Promise<Response> => postForm(t, '/device', { user_code: userCode }, undefined, headers);

/** Enters the code, signs in as alice and presses `decision` on the consent page; returns the final page. */
async function approve(userCode: string, decision: 'allow' | 'deny' = 'allow'): Promise<Response> {
  const entered = await enterCode(userCode);
  expect(entered.status).toBe(303);
  const interaction = entered.headers.get('location') as string;
  const login = await get(t, interaction);
  const signedIn = await postForm(t, interaction, { csrf: csrfOf(await login.text()), action: 'login', username: 'alice', password: PASSWORD }, undefined, origin());
  expect(signedIn.status).toBe(200);
  const consent = await signedIn.text();
  expect(consent).toContain('Allow access?');
  const cookie = cookiePair(signedIn.headers.get('set-cookie') as string);
  return postForm(t, interaction, { csrf: csrfOf(consent), action: decision }, cookie, origin());
}

describe('device authorization endpoint (RFC 8628 §3.1-3.2)', () => {
  it('RFC 8628 §3.2: answers device_code, user_code, verification_uri(_complete), expires_in, interval, no-store', async () => {
    const r = await deviceAuthorization();
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body).toMatchObject({ verification_uri: `${t.base}/device`, expires_in: 600, interval: 5 });
    expect(r.body.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.body.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(r.body.verification_uri_complete).toBe(`${t.base}/device?user_code=${String(r.body.user_code)}`);
  });

  it('RFC 8628 §4: metadata names the endpoint and the grant type', async () => {
    const metadata = t.server.metadata();
    expect(metadata.device_authorization_endpoint).toBe(`${t.base}/device_authorization`);
    expect(metadata.grant_types_supported).toContain(DEVICE_CODE_GRANT_TYPE);
  });

  it('RFC 8628 §6.1: user codes are 8 characters of the base-20 alphabet, read case- and dash-insensitively', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 20; i += 1) codes.add(String((await deviceAuthorization()).body.user_code));
    expect(codes.size).toBe(20);
    for (const code of codes) for (const c of code.replace('-', '')) expect(USER_CODE_ALPHABET).toContain(c);
    expect(normalizeUserCode(' bcdf-ghjk ')).toBe('BCDFGHJK');
    expect(normalizeUserCode('BCDFGHJA')).toBeUndefined();
    expect(normalizeUserCode('BCDFGHJ')).toBeUndefined();
  });

  it('RFC 8628 §3.1 / RFC 6749 §5.2: unknown client → 401 invalid_client; client not registered for the grant → 400 unauthorized_client', async () => {
    const unknown = await deviceAuthorization({ client_id: 'nobody' });
    expect([unknown.status, unknown.body.error]).toEqual([401, 'invalid_client']);
    const app = await deviceAuthorization({ client_id: 'app' });
    expect([app.status, app.body.error]).toEqual([400, 'unauthorized_client']);
  });

  it('RFC 8628 §3.1: a confidential client must authenticate as at the token endpoint (wrong secret → 401 invalid_client)', async () => {
    const bad = await deviceAuthorization({ client_id: 'conf-tv', client_secret: 'wrong-wrong-wrong-wrong-wrong-wrong' });
    expect([bad.status, bad.body.error]).toEqual([401, 'invalid_client']);
    const none = await deviceAuthorization({ client_id: 'conf-tv' });
    expect([none.status, none.body.error]).toEqual([401, 'invalid_client']);
    const good = await deviceAuthorization({ client_id: 'conf-tv' }, basic('conf-tv', TV_SECRET));
    expect(good.status).toBe(200);
  });

  it('RFC 8707 §2 / RFC 6749 §3.3: missing or unknown resource → invalid_target; unknown scope → invalid_scope', async () => {
    const { status, body } = await json(await postForm(t, '/device_authorization', { client_id: 'tv' }));
    expect([status, body.error]).toEqual([400, 'invalid_target']);
    expect((await deviceAuthorization({ resource: 'https://elsewhere.example/mcp' })).body.error).toBe('invalid_target');
    expect((await deviceAuthorization({ scope: 'files:write' })).body.error).toBe('invalid_scope');
  });

  it('RFC 6749 §3.1: a duplicated parameter is invalid_request', async () => {
    const r = await json(await postForm(t, '/device_authorization', `client_id=tv&resource=${encodeURIComponent(RESOURCE)}&scope=mcp:tools&scope=mcp:admin`));
    expect([r.status, r.body.error]).toEqual([400, 'invalid_request']);
  });
});

describe('device code polling at the token endpoint (RFC 8628 §3.4-3.5)', () => {
  it('RFC 8628 §3.5: pending → authorization_pending; approved → tokens for the resource, once; then invalid_grant', async () => {
    const { body } = await deviceAuthorization({ scope: 'mcp:tools mcp:admin' });
    const deviceCode = body.device_code as string;
    const pending = await poll(deviceCode);
    expect([pending.status, pending.body.error]).toEqual([400, 'authorization_pending']);
    expect(pending.headers.get('cache-control')).toBe('no-store');

    const done = await approve(body.user_code as string);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Device connected');

    offset += 5;
    const tokens = await poll(deviceCode);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools mcp:admin' });
    expect(typeof tokens.body.refresh_token).toBe('string');
    expect(decodeJwt(tokens.body.access_token as string)).toMatchObject({ sub: 'alice', aud: RESOURCE, client_id: 'tv' });

    offset += 5;
    const again = await poll(deviceCode);
    expect([again.status, again.body.error]).toEqual([400, 'invalid_grant']);
  });

  it('RFC 8628 §3.5 / RFC 9449 §5: a poll with a DPoP proof gets a DPoP-bound token (cnf.jkt)', async () => {
    const { body } = await deviceAuthorization();
    await approve(body.user_code as string);
    const key = await createDpopKey();
    const tokens = await poll(body.device_code as string, {}, { DPoP: await key.proof({ htm: 'POST', htu: `${t.base}/token` }) });
    expect(tokens.status).toBe(200);
    expect(tokens.body.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('RFC 8628 §3.5: polling faster than the interval → slow_down, and the interval grows by 5 s each time', async () => {
    const { body } = await deviceAuthorization();
    const deviceCode = body.device_code as string;
    expect((await poll(deviceCode)).body.error).toBe('authorization_pending');
    offset += 1;
    const slow = await poll(deviceCode);
    expect([slow.status, slow.body.error]).toEqual([400, 'slow_down']);
    offset += 5; // 5 s: enough before, now the interval is 10 s
    expect((await poll(deviceCode)).body.error).toBe('slow_down');
    offset += 15; // the interval is 15 s now
    expect((await poll(deviceCode)).body.error).toBe('authorization_pending');
  });

  it('RFC 8628 §3.5: the user denies → access_denied on every poll', async () => {
    const { body } = await deviceAuthorization();
    const page = await approve(body.user_code as string, 'deny');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Request denied');
    const denied = await poll(body.device_code as string);
    expect([denied.status, denied.body.error]).toEqual([400, 'access_denied']);
    offset += 5;
    expect((await poll(body.device_code as string)).body.error).toBe('access_denied');
  });

  it('RFC 8628 §3.5: after expires_in → expired_token, and the user code no longer works', async () => {
    const { body } = await deviceAuthorization();
    offset += 600;
    const expired = await poll(body.device_code as string);
    expect([expired.status, expired.body.error]).toEqual([400, 'expired_token']);
    const entered = await enterCode(body.user_code as string);
    expect(entered.status).toBe(400);
    expect(await entered.text()).toContain('not valid or has expired');
  });

  it('RFC 8628 §3.5: a wrong or guessed device code → invalid_grant; a missing one → invalid_request', async () => {
    expect((await poll('A'.repeat(43))).body.error).toBe('invalid_grant');
    const { status, body } = await json(await postForm(t, '/token', { grant_type: DEVICE_CODE_GRANT_TYPE, client_id: 'tv' }));
    expect([status, body.error]).toEqual([400, 'invalid_request']);
  });

  it('RFC 6749 §5.2: a device code issued to another client → invalid_grant; a client not registered for the grant → unauthorized_client', async () => {
    const { body } = await deviceAuthorization();
    await approve(body.user_code as string);
    const other = await poll(body.device_code as string, { client_id: 'conf-tv' }, basic('conf-tv', TV_SECRET));
    expect([other.status, other.body.error]).toEqual([400, 'invalid_grant']);
    const app = await poll(body.device_code as string, { client_id: 'app' });
    expect([app.status, app.body.error]).toEqual([400, 'unauthorized_client']);
  });

  it('RFC 8707 §2.2: a resource other than the one approved → invalid_target', async () => {
    const { body } = await deviceAuthorization();
    await approve(body.user_code as string);
    const r = await poll(body.device_code as string, { resource: 'https://elsewhere.example/mcp' });
    expect([r.status, r.body.error]).toEqual([400, 'invalid_target']);
  });
});

describe('verification page (RFC 8628 §3.3, §5.1)', () => {
  it('RFC 8628 §3.3.1: verification_uri_complete prefills the code but still asks the user to continue', async () => {
    const page = await get(t, '/device?user_code=BCDF-GHJK');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('value="BCDF-GHJK"');
    expect(html).toContain('Never enter a code someone sent you');
  });

  it('RFC 8628 §5.4: consent is asked every time, even when remembered (a code someone sent is not approved silently)', async () => {
    const first = await deviceAuthorization();
    await approve(first.body.user_code as string);
    const second = await deviceAuthorization();
    // approve() expects the consent page after sign-in: it fails if the remembered consent skipped it.
    expect((await approve(second.body.user_code as string)).status).toBe(200);
  });

  it('RFC 8628 §5.1: wrong codes are slowed down per source (429 + Retry-After); a right code is not counted', async () => {
    const { body } = await deviceAuthorization();
    for (let i = 0; i < 5; i += 1) {
      const wrong = await enterCode('BBBB-BBBB');
      expect(wrong.status).toBe(400);
      expect(await wrong.text()).toContain('not valid or has expired');
    }
    const limited = await enterCode('BBBB-BBBB');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    // Even the right code waits: the throttle is checked before the code is looked up.
    expect((await enterCode(body.user_code as string)).status).toBe(429);
    offset += 2;
    expect((await enterCode(body.user_code as string)).status).toBe(303);
  });

  it('input that cannot be a code is refused with the form again (400), not counted', async () => {
    for (let i = 0; i < 8; i += 1) expect((await enterCode('hello')).status).toBe(400);
    expect((await enterCode('BBBB-BBBB')).status).toBe(400);
  });

  it('a cross-site POST of a code is refused (403) before the code is read', async () => {
    const { body } = await deviceAuthorization();
    const r = await enterCode(body.user_code as string, { origin: 'https://evil.example' });
    expect(r.status).toBe(403);
  });

  it('a decided code cannot be entered again', async () => {
    const { body } = await deviceAuthorization();
    await approve(body.user_code as string);
    expect((await enterCode(body.user_code as string)).status).toBe(400);
  });
});
