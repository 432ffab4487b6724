/** `authorizationServer.identityProviders` and `login.localUsers` (sign-in through an upstream OpenID provider). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { resolveConfig } from './load.js';

const noEnv = { env: {} };
const company = { id: 'company', name: 'Company SSO', issuer: 'https://sso.company.example', clientId: 'warden', clientSecret: 'secret-from-the-idp' };

function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('authorizationServer.identityProviders', () => {
  it('reads providers as given and the localUsers switch', () => {
    const config = resolveConfig({ authorizationServer: { identityProviders: [{ ...company, scopes: ['openid', 'email', 'groups'], claims: { groups: 'roles' } }], login: { localUsers: false } } }, noEnv);
    expect(config.authorizationServer.identityProviders).toEqual([{ ...company, scopes: ['openid', 'email', 'groups'], claims: { groups: 'roles' } }]);
    expect(config.authorizationServer.login.localUsers).toBe(false);
  });

  it('refuses a bad id, a missing secret, scopes without openid and unknown keys, naming the key', () => {
    const issues = issuesOf(() =>
      resolveConfig({ authorizationServer: { identityProviders: [{ ...company, id: 'Company!', clientSecret: '', scopes: ['email'], extra: 1 }] } }, noEnv),
    );
    expect(issues.some((i) => i.startsWith('authorizationServer.identityProviders[0].id:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('authorizationServer.identityProviders[0].clientSecret:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('authorizationServer.identityProviders[0].scopes:'))).toBe(true);
    expect(issues.some((i) => i.includes('extra'))).toBe(true);
  });
});
