/**
 * The sign-in page with identity providers: a button per provider, and with `login.localUsers:
 * false` no password form and no password sign-in (even posted by hand). No provider is
 * contacted here; the flow itself is tested against a real one in test/e2e.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { csrfOf, get, PASSWORD, pkcePair, postForm, RESOURCE, startAuthorizationServer, TEST_CLIENTS, type TestAs } from '../../../test/helpers/login-flow.js';

let t: TestAs | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const company = { id: 'company', name: 'Company SSO', issuer: 'https://sso.company.example', clientId: 'warden', clientSecret: 'secret' };

async function loginPage(localUsers: boolean): Promise<{ html: string; interaction: string }> {
  t = await startAuthorizationServer({ overrides: { clients: TEST_CLIENTS, identityProviders: [company], login: { localUsers } } });
  const { challenge } = pkcePair();
  const params = new URLSearchParams({ response_type: 'code', client_id: 'app', redirect_uri: 'https://app.example/cb', code_challenge: challenge, code_challenge_method: 'S256', resource: RESOURCE });
  const interaction = (await get(t, `/authorize?${params}`)).headers.get('location') as string;
  return { html: await (await get(t, interaction)).text(), interaction };
}

describe('sign-in page with upstream identity providers', () => {
  it('offers a button per provider above the password form', async () => {
    const { html } = await loginPage(true);
    expect(html).toContain('value="idp:company">Sign in with Company SSO</button>');
    expect(html).toContain('name="password"');
  });

  it('login.localUsers false: no password form, and a posted password sign-in is refused (400) without a session', async () => {
    const { html, interaction } = await loginPage(false);
    expect(html).toContain('Sign in with Company SSO');
    expect(html).not.toContain('name="password"');
    const r = await postForm(t as TestAs, interaction, { csrf: csrfOf(html), action: 'login', username: 'alice', password: PASSWORD }, undefined, { origin: (t as TestAs).base });
    expect(r.status).toBe(400);
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(await r.text()).toContain("Sign in with your organisation&#39;s identity provider.");
  });

  it('an unknown provider in the form is refused (400)', async () => {
    const { html, interaction } = await loginPage(true);
    const r = await postForm(t as TestAs, interaction, { csrf: csrfOf(html), action: 'idp:nobody' }, undefined, { origin: (t as TestAs).base });
    expect(r.status).toBe(400);
  });

  it('createAuthorizationServer refuses login.localUsers false without any provider, saying what to change', async () => {
    await expect(startAuthorizationServer({ overrides: { login: { localUsers: false } } })).rejects.toThrow(/login\.localUsers may be false only with at least one identity provider/);
  });
});
