/**
 * The device authorization grant (RFC 8628) for a client that registered itself (RFC 7591):
 * registration → device authorization → the user approves at the verification page (over HTTP,
 * as a browser posts it) → polling → tokens, and refresh.
 */
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cookiePair, csrfOf, get, PASSWORD, postForm, RESOURCE, startAuthorizationServer, type TestAs } from '../../../test/helpers/login-flow.js';
import { createDpopKey } from '../../../test/helpers/test-issuer.js';
import { DEVICE_CODE_GRANT_TYPE } from '../grants/device-code.js';

let t: TestAs;
let offset = 0;
const now = (): number => Math.floor(Date.now() / 1000) + offset;

beforeEach(async () => {
  offset = 0;
  t = await startAuthorizationServer({ now });
});
afterEach(async () => {
  await t.close();
});

interface Json {
  status: number;
  body: Record<string, unknown>;
}

const json = async (response: Response): Promise<Json> => ({ status: response.status, body: (await response.json()) as Record<string, unknown> });

async function register(metadata: Record<string, unknown>): Promise<Json> {
  return json(await fetch(`${t.base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) }));
}

const origin = (): Record<string, string> => ({ origin: t.base });

/** Enters the code, signs in as alice and returns the consent page (HTML) with what it takes to answer it. */
async function consentPage(userCode: string): Promise<{ html: string; interaction: string; cookie: string }> {
  const entered = await postForm(t, '/device', { user_code: userCode }, undefined, origin());
  expect(entered.status).toBe(303);
  const interaction = entered.headers.get('location') as string;
  const login = await get(t, interaction);
  const signedIn = await postForm(t, interaction, { csrf: csrfOf(await login.text()), action: 'login', username: 'alice', password: PASSWORD }, undefined, origin());
  expect(signedIn.status).toBe(200);
  return { html: await signedIn.text(), interaction, cookie: cookiePair(signedIn.headers.get('set-cookie') as string) };
}

const deviceClient = { client_name: 'Kitchen display', grant_types: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'], token_endpoint_auth_method: 'none' };

describe('device authorization grant for self-registered clients (RFC 8628, RFC 7591)', () => {
  it('RFC 7591 §2 / RFC 8628 §3.1-3.5: a public client registered for the device grant (no redirect_uris) gets a code, the user approves it, polling yields tokens, and refresh works', async () => {
    const registered = await register(deviceClient);
    expect(registered.status).toBe(201);
    // RFC 7591 §2.1: the device grant has no response type; no redirect URI is needed.
    expect(registered.body).toMatchObject({ grant_types: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'none' });
    const clientId = registered.body.client_id as string;

    const started = await json(await postForm(t, '/device_authorization', { client_id: clientId, resource: RESOURCE }));
    expect(started.status).toBe(200);
    const deviceCode = started.body.device_code as string;
    const poll = async (headers: Record<string, string> = {}): Promise<Json> =>
      json(await postForm(t, '/token', { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: deviceCode, client_id: clientId }, undefined, headers));
    const pending = await poll();
    expect([pending.status, pending.body.error]).toEqual([400, 'authorization_pending']);

    const consent = await consentPage(started.body.user_code as string);
    expect(consent.html).toContain('Kitchen display');
    // RFC 8628 §5.4 (remote phishing): the user is told nobody vouches for a self-chosen name.
    expect(consent.html).toContain('This name was chosen by the application itself and has not been verified.');
    const done = await postForm(t, consent.interaction, { csrf: csrfOf(consent.html), action: 'allow' }, consent.cookie, origin());
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Device connected');

    offset += 5;
    const key = await createDpopKey();
    const tokens = await poll({ DPoP: await key.proof({ htm: 'POST', htu: `${t.base}/token` }) });
    expect(tokens.status).toBe(200);
    expect(tokens.body.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.body.access_token as string)).toMatchObject({ sub: 'alice', aud: RESOURCE, client_id: clientId, cnf: { jkt: key.jkt } });
    expect(typeof tokens.body.refresh_token).toBe('string');

    // RFC 9449 §5: the public client's refresh token is bound to its DPoP key.
    const refresh = (proof: string): Promise<Response> =>
      postForm(t, '/token', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string, client_id: clientId }, undefined, { DPoP: proof });
    const stranger = await createDpopKey();
    const stolen = await json(await refresh(await stranger.proof({ htm: 'POST', htu: `${t.base}/token` })));
    expect([stolen.status, stolen.body.error]).toEqual([400, 'invalid_grant']);
    const refreshed = await json(await refresh(await key.proof({ htm: 'POST', htu: `${t.base}/token` })));
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string)).toMatchObject({ sub: 'alice', client_id: clientId });
  });

  it('RFC 8628 §3.1 / RFC 6749 §5.2: a self-registered client not registered for the device grant → 400 unauthorized_client', async () => {
    const app = await register({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' });
    expect(app.status).toBe(201);
    const refused = await json(await postForm(t, '/device_authorization', { client_id: app.body.client_id as string, resource: RESOURCE }));
    expect([refused.status, refused.body.error]).toEqual([400, 'unauthorized_client']);
  });

  it('RFC 8628 §3.1: a confidential self-registered device client must authenticate (no secret → 401 invalid_client)', async () => {
    const conf = await register({ grant_types: [DEVICE_CODE_GRANT_TYPE], token_endpoint_auth_method: 'client_secret_basic' });
    expect(conf.status).toBe(201);
    const clientId = conf.body.client_id as string;
    const none = await json(await postForm(t, '/device_authorization', { client_id: clientId, resource: RESOURCE }));
    expect([none.status, none.body.error]).toEqual([401, 'invalid_client']);
    const basic = `Basic ${Buffer.from(`${clientId}:${conf.body.client_secret as string}`).toString('base64')}`;
    const ok = await postForm(t, '/device_authorization', { resource: RESOURCE }, undefined, { authorization: basic });
    expect(ok.status).toBe(200);
  });

  it('RFC 7591 §2.1: response_types "code" with only the device grant is inconsistent → invalid_client_metadata', async () => {
    const refused = await register({ ...deviceClient, response_types: ['code'] });
    expect([refused.status, refused.body.error]).toEqual([400, 'invalid_client_metadata']);
  });
});
