/**
 * The kit's device flow (RFC 8628) against a real Warden authorization server: the user's part
 * is played over HTTP on the server's own pages while the kit "sleeps" (the test's sleep moves
 * the server's clock instead of waiting).
 */
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cookiePair, csrfOf, get, PASSWORD, postForm, RESOURCE, startAuthorizationServer, TEST_CLIENTS, type TestAs } from '../../test/helpers/login-flow.js';
import { DEVICE_CODE_GRANT_TYPE, DeviceFlowError, runDeviceFlow, type DeviceUserPrompt } from './device-flow.js';
import { generateDpopKey } from './dpop-key.js';

let t: TestAs;
let offset = 0;

beforeEach(async () => {
  offset = 0;
  t = await startAuthorizationServer({
    now: () => Math.floor(Date.now() / 1000) + offset,
    overrides: { clients: [...TEST_CLIENTS, { clientId: 'cli', clientName: 'Agent CLI', grantTypes: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'] }] },
  });
});
afterEach(async () => {
  await t.close();
});

/** The user at the verification page: enters the code, signs in, and allows or denies. */
async function userDecides(userCode: string, decision: 'allow' | 'deny'): Promise<void> {
  const origin = { origin: t.base };
  const entered = await postForm(t, '/device', { user_code: userCode.toLowerCase() }, undefined, origin);
  const interaction = entered.headers.get('location') as string;
  const login = await get(t, interaction);
  const signedIn = await postForm(t, interaction, { csrf: csrfOf(await login.text()), action: 'login', username: 'alice', password: PASSWORD }, undefined, origin);
  const cookie = cookiePair(signedIn.headers.get('set-cookie') as string);
  const done = await postForm(t, interaction, { csrf: csrfOf(await signedIn.text()), action: decision }, cookie, origin);
  expect(done.status).toBe(200);
}

describe('runDeviceFlow (RFC 8628 §3)', () => {
  it('RFC 8628 §3.4 / RFC 9449 §5: shows the code, polls until the user allows, and returns DPoP-bound tokens', async () => {
    const key = await generateDpopKey();
    let prompt: DeviceUserPrompt | undefined;
    const sleeps: number[] = [];
    const tokens = await runDeviceFlow({
      issuer: t.base,
      clientId: 'cli',
      resource: RESOURCE,
      dpop: key,
      onUserCode: (p) => void (prompt = p),
      sleep: async (ms) => {
        sleeps.push(ms);
        offset += ms / 1000;
        // The user is slow: the first poll finds the request still pending.
        if (sleeps.length === 2) await userDecides(prompt?.userCode as string, 'allow');
      },
    });
    expect(prompt).toMatchObject({ verificationUri: `${t.base}/device`, expiresIn: 600 });
    expect(prompt?.verificationUriComplete).toContain('user_code=');
    expect(sleeps).toEqual([5000, 5000]);
    expect(tokens.token_type).toBe('DPoP');
    expect(typeof tokens.refresh_token).toBe('string');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'alice', aud: RESOURCE, cnf: { jkt: key.thumbprint } });
  });

  it('RFC 8628 §3.5: on slow_down the kit waits 5 s longer for this and every later poll', async () => {
    let prompt: DeviceUserPrompt | undefined;
    const sleeps: number[] = [];
    await runDeviceFlow({
      issuer: t.base,
      clientId: 'cli',
      resource: RESOURCE,
      onUserCode: (p) => void (prompt = p),
      sleep: async (ms) => {
        sleeps.push(ms);
        // The second wait is cut short (a clock jump, a too-eager loop): the server says slow_down.
        offset += sleeps.length === 2 ? 1 : ms / 1000;
        if (sleeps.length === 4) await userDecides(prompt?.userCode as string, 'allow');
      },
    });
    expect(sleeps).toEqual([5000, 5000, 10000, 10000]);
  });

  it('RFC 8628 §3.5: the user denies → DeviceFlowError access_denied', async () => {
    let prompt: DeviceUserPrompt | undefined;
    const flow = runDeviceFlow({
      issuer: t.base,
      clientId: 'cli',
      resource: RESOURCE,
      onUserCode: (p) => void (prompt = p),
      sleep: async (ms) => {
        offset += ms / 1000;
        await userDecides(prompt?.userCode as string, 'deny');
      },
    });
    await expect(flow).rejects.toMatchObject({ name: 'DeviceFlowError', code: 'access_denied' });
  });

  it('RFC 8628 §3.5: nobody approves in time → DeviceFlowError expired_token', async () => {
    const flow = runDeviceFlow({ issuer: t.base, clientId: 'cli', resource: RESOURCE, onUserCode: () => {}, sleep: async () => void (offset += 300) });
    await expect(flow).rejects.toMatchObject({ code: 'expired_token' });
  });

  it('RFC 8414 §3.3: metadata naming another issuer is refused before any request for a code', async () => {
    let asked = false;
    const flow = runDeviceFlow({ issuer: `${t.base}/`, clientId: 'cli', resource: RESOURCE, onUserCode: () => void (asked = true) });
    await expect(flow).rejects.toBeInstanceOf(DeviceFlowError);
    expect(asked).toBe(false);
  });

  it('RFC 8628 §3.1: a client the server does not allow the grant → DeviceFlowError unauthorized_client', async () => {
    const flow = runDeviceFlow({ issuer: t.base, clientId: 'app', resource: RESOURCE, onUserCode: () => {} });
    await expect(flow).rejects.toMatchObject({ code: 'unauthorized_client' });
  });
});
