import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../oauth/errors.js';
import { clientRecordFromMetadata, parseClientMetadataJson, validateClientMetadata, type ClientMetadataSource } from './validate-metadata.js';

const REDIRECT = 'http://127.0.0.1:33418/callback';

function refusal(input: unknown, source: ClientMetadataSource = 'registered'): { status: number; code: string; description: string } {
  try {
    validateClientMetadata(input, { source });
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    const e = error as OAuthError;
    return { status: e.status, code: e.code, description: e.description };
  }
  throw new Error('expected the metadata to be refused');
}

const bad = (description: string) => ({ status: 400, code: 'invalid_client_metadata', description });

describe('validateClientMetadata: defaults and supported members (RFC 7591 §2)', () => {
  it('applies the RFC 7591 §2 defaults: client_secret_basic, authorization_code, code', () => {
    expect(validateClientMetadata({ redirect_uris: [REDIRECT] }, { source: 'registered' })).toEqual({
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
    });
  });

  it('reads a typical MCP public client', () => {
    const metadata = validateClientMetadata(
      {
        redirect_uris: [REDIRECT, REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'Claude Code (mcp-warden) — 日本語',
        client_uri: 'https://claude.ai',
        logo_uri: 'https://claude.ai/logo.png',
        scope: 'mcp:tools  mcp:tools mcp:read',
        contacts: ['ops@example.com'],
        software_id: '2a5c1b0e-1a6b-4a5e-9a0e-0e4d0f6d1f7a',
        software_version: '1.2.3',
      },
      { source: 'registered' },
    );
    expect(metadata).toEqual({
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      clientName: 'Claude Code (mcp-warden) — 日本語',
      clientUri: 'https://claude.ai',
      logoUri: 'https://claude.ai/logo.png',
      scope: 'mcp:tools mcp:read',
      contacts: ['ops@example.com'],
      softwareId: '2a5c1b0e-1a6b-4a5e-9a0e-0e4d0f6d1f7a',
      softwareVersion: '1.2.3',
    });
  });

  it('derives response_types [] for a client without authorization_code (RFC 7591 §2.1)', () => {
    const metadata = validateClientMetadata({ grant_types: ['refresh_token'], token_endpoint_auth_method: 'client_secret_post' }, { source: 'registered' });
    expect(metadata).toMatchObject({ grantTypes: ['refresh_token'], responseTypes: [], redirectUris: [] });
  });

  it('ignores harmless registered members and server-assigned values, treating null as absent (RFC 7591 §2, §3.2.1)', () => {
    const metadata = validateClientMetadata(
      {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        client_id: 'i-choose-my-id',
        client_secret: 'i-choose-my-secret',
        client_id_issued_at: 1,
        tos_uri: 'https://example.com/tos',
        policy_uri: 'https://example.com/privacy',
        'client_name#ja-Jpan-JP': 'クライアント名',
        software_statement: 'eyJhbGciOiJub25lIn0.e30.',
        application_type: 'native',
        logo_uri: null,
        jwks_uri: null,
      },
      { source: 'registered' },
    );
    expect(metadata).toEqual({ redirectUris: [REDIRECT], tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'], responseTypes: ['code'] });
  });

  it('builds a ClientRecord with only the stored fields', () => {
    const metadata = validateClientMetadata({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'A', contacts: ['x'] }, { source: 'registered' });
    expect(clientRecordFromMetadata(metadata, { clientId: 'c1', source: 'registered', createdAt: 10 })).toEqual({
      clientId: 'c1',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
      clientName: 'A',
      source: 'registered',
      createdAt: 10,
    });
  });
});

describe('validateClientMetadata: hostile and invalid metadata → invalid_client_metadata (RFC 7591 §3.2.2)', () => {
  const base = { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' };

  it.each([
    ['an array', [base], 'the client metadata must be a JSON object'],
    ['null', null, 'the client metadata must be a JSON object'],
    ['a string', 'x', 'the client metadata must be a JSON object'],
  ])('refuses %s at the top level', (_label, input, description) => {
    expect(refusal(input)).toEqual(bad(description));
  });

  it.each([
    ['top-level __proto__', '{"redirect_uris":["http://127.0.0.1/cb"],"__proto__":{"admin":true}}', 'the member name "__proto__" is not allowed'],
    ['nested __proto__', '{"redirect_uris":["http://127.0.0.1/cb"],"client_name#x":{"a":{"__proto__":{"admin":true}}}}', 'the member name "__proto__" is not allowed'],
    ['__proto__ inside an array', '{"redirect_uris":["http://127.0.0.1/cb"],"tos_uri":[{"__proto__":1}]}', 'the member name "__proto__" is not allowed'],
    ['constructor', '{"redirect_uris":["http://127.0.0.1/cb"],"constructor":{"prototype":{"x":1}}}', 'the member name "constructor" is not allowed'],
    ['prototype', '{"redirect_uris":["http://127.0.0.1/cb"],"policy_uri":{"prototype":1}}', 'the member name "prototype" is not allowed'],
  ])('refuses %s at any depth, and the prototype stays clean', (_label, json, description) => {
    expect(refusal(parseClientMetadataJson(json))).toEqual(bad(description));
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses nesting deeper than 5 levels', () => {
    expect(refusal({ ...base, tos_uri: [[[[{}]]]] })).toEqual(bad('the client metadata is nested more than 5 levels deep'));
    const deep = `{"tos_uri":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(refusal(parseClientMetadataJson(deep))).toEqual(bad('the client metadata is nested more than 5 levels deep'));
  });

  it('accepts nesting of exactly 5 levels in an ignored member', () => {
    expect(() => validateClientMetadata({ ...base, tos_uri: [[[{}]]] }, { source: 'registered' })).not.toThrow();
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseClientMetadataJson('{"redirect_uris":')).toThrow(expect.objectContaining({ code: 'invalid_client_metadata', status: 400, description: 'the client metadata is not valid JSON' }));
  });

  it('RFC 7591 §2: jwks goes only with private_key_jwt, which needs it', () => {
    expect(refusal({ ...base, jwks: { keys: [] } })).toEqual(bad('jwks is only for token_endpoint_auth_method "private_key_jwt"'));
    expect(refusal({ ...base, token_endpoint_auth_method: 'private_key_jwt' })).toEqual(bad('private_key_jwt needs the client\'s public keys in "jwks" or "jwks_uri" (RFC 7591 §2)'));
    expect(refusal({ ...base, jwks_uri: 'https://keys.example/jwks' })).toEqual(bad('jwks_uri is only for token_endpoint_auth_method "private_key_jwt"'));
  });

  it.each([
    ['sector_identifier_uri', 'https://evil.example/sector'],
    ['request_uris', ['https://evil.example/req']],
    ['initiate_login_uri', 'https://evil.example/login'],
    ['post_logout_redirect_uris', ['https://evil.example/bye']],
    ['backchannel_logout_uri', 'https://evil.example/bcl'],
  ])('refuses the dangerous member %s', (name, value) => {
    expect(refusal({ ...base, [name]: value })).toEqual(bad(`${name} is not supported`));
  });

  it('refuses unknown members, quoting the name safely', () => {
    expect(refusal({ ...base, is_admin: true })).toEqual(bad('unknown client metadata member "is_admin"'));
    expect(refusal({ ...base, 'x"\n<y>': 1 })).toEqual(bad('unknown client metadata member "x??<y>"'));
    expect(refusal({ ...base, ['a'.repeat(500)]: 1 })).toEqual(bad(`unknown client metadata member "${'a'.repeat(64)}"`));
  });

  it.each([
    ['missing redirect_uris for authorization_code', { token_endpoint_auth_method: 'none' }, 'redirect_uris is required for the authorization_code grant (RFC 7591 §2)'],
    ['empty redirect_uris', { redirect_uris: [], token_endpoint_auth_method: 'none' }, 'redirect_uris is required for the authorization_code grant (RFC 7591 §2)'],
    ['redirect_uris not an array', { redirect_uris: REDIRECT }, 'redirect_uris must be an array of strings'],
    ['redirect_uris with a number', { redirect_uris: [REDIRECT, 1] }, 'redirect_uris must be an array of strings'],
    ['too many redirect_uris', { redirect_uris: Array.from({ length: 33 }, (_, i) => `http://127.0.0.1/cb${i}`) }, 'redirect_uris must have at most 32 entries'],
    ['unknown auth method', { ...base, token_endpoint_auth_method: 'tls_client_auth' }, 'token_endpoint_auth_method must be one of none, client_secret_basic, client_secret_post, private_key_jwt'],
    ['auth method not a string', { ...base, token_endpoint_auth_method: ['none'] }, 'token_endpoint_auth_method must be one of none, client_secret_basic, client_secret_post, private_key_jwt'],
    ['implicit grant', { ...base, grant_types: ['implicit'] }, 'grant_types: "implicit" is not supported (use authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code)'],
    ['password grant', { ...base, grant_types: ['authorization_code', 'password'] }, 'grant_types: "password" is not supported (use authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code)'],
    ['empty grant_types', { ...base, grant_types: [] }, 'grant_types must not be empty'],
    ['public client_credentials', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, 'grant_types: "client_credentials" is not available to self-registered clients; machine clients must be configured by the operator'],
    ['response_type token', { ...base, response_types: ['token'] }, 'response_types: only "code" is supported'],
    ['code without authorization_code', { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['refresh_token'], response_types: ['code'] }, 'grant_types and response_types are inconsistent: "authorization_code" goes with "code" (RFC 7591 §2.1)'],
    ['authorization_code without code', { ...base, response_types: [] }, 'grant_types and response_types are inconsistent: "authorization_code" goes with "code" (RFC 7591 §2.1)'],
    ['client_name not a string', { ...base, client_name: { en: 'x' } }, 'client_name must be a string'],
    ['blank client_name', { ...base, client_name: '   ' }, 'client_name must not be empty'],
    ['long client_name', { ...base, client_name: 'a'.repeat(201) }, 'client_name must be at most 200 characters'],
    ['client_name with a bidi override', { ...base, client_name: 'Good\u202Egnp.exe' }, 'client_name must not contain control or invisible formatting characters'],
    ['client_name with a newline', { ...base, client_name: 'Good\nApp' }, 'client_name must not contain control or invisible formatting characters'],
    ['client_name with markup', { ...base, client_name: '<img src=x onerror=alert(1)>' }, 'client_name must be plain text (no "<" or ">")'],
    ['http client_uri', { ...base, client_uri: 'http://example.com' }, 'client_uri must be an absolute https URL'],
    ['javascript logo_uri', { ...base, logo_uri: 'javascript:alert(1)' }, 'logo_uri must be an absolute https URL'],
    ['data logo_uri', { ...base, logo_uri: 'data:image/svg+xml,<svg/onload=alert(1)>' }, 'logo_uri must be an absolute https URL'],
    ['relative client_uri', { ...base, client_uri: '/home' }, 'client_uri must be an absolute https URL'],
    ['client_uri with userinfo', { ...base, client_uri: 'https://good.example@evil.example/' }, 'client_uri must not contain userinfo'],
    ['scope with a quote', { ...base, scope: 'mcp:tools "x"' }, 'scope must be space-separated scope tokens (RFC 6749 §3.3)'],
    ['scope not a string', { ...base, scope: ['mcp:tools'] }, 'scope must be a string'],
    ['empty scope', { ...base, scope: '  ' }, 'scope must not be empty'],
    ['contacts not an array', { ...base, contacts: 'ops@example.com' }, 'contacts must be an array of strings'],
    ['software_id not a string', { ...base, software_id: 42 }, 'software_id must be a string'],
    ['long software_version', { ...base, software_version: 'v'.repeat(256) }, 'software_version must be at most 255 characters'],
    ['too many members', Object.fromEntries([...Object.entries(base), ...Array.from({ length: 63 }, (_, i) => [`tos_uri#l${i}`, 'x'])]), 'the client metadata has more than 64 members'],
  ])('refuses %s', (_label, input, description) => {
    expect(refusal(input)).toEqual(bad(description));
  });

  it.each([
    ['client_credentials', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', scope: 'mcp:admin' }],
    ['client_credentials beside authorization_code', { redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] }],
    ['token exchange', { grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'], token_endpoint_auth_method: 'client_secret_basic' }],
  ])('C1 / RFC 7591 §3.2.2: refuses %s for a self-registered client: machine clients are configured by the operator', (_label, input) => {
    const grant = (input.grant_types as string[]).find((g) => g !== 'authorization_code' && g !== 'refresh_token') as string;
    expect(refusal(input)).toEqual(bad(`grant_types: "${grant}" is not available to self-registered clients; machine clients must be configured by the operator`));
  });

  it('refuses a bad redirect URI with invalid_redirect_uri (RFC 7591 §3.2.2)', () => {
    expect(refusal({ redirect_uris: [REDIRECT, 'javascript:alert(1)'], token_endpoint_auth_method: 'none' })).toEqual({
      status: 400,
      code: 'invalid_redirect_uri',
      description: 'redirect URI must not use the javascript: scheme',
    });
  });
});

describe('validateClientMetadata: metadata documents (draft-ietf-oauth-client-id-metadata-document)', () => {
  const id = 'https://app.example.com/oauth/client.json';

  it('defaults token_endpoint_auth_method to none and returns the document client_id', () => {
    expect(validateClientMetadata({ client_id: id, redirect_uris: [REDIRECT] }, { source: 'metadata-document' })).toEqual({
      clientId: id,
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code'],
      responseTypes: ['code'],
    });
  });

  it.each([
    ['a missing client_id', { redirect_uris: [REDIRECT] }, 'a client metadata document must contain its client_id'],
    ['a shared-secret auth method', { client_id: id, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' }, 'a client metadata document must use token_endpoint_auth_method "none" or "private_key_jwt"'],
    ['a client_secret', { client_id: id, redirect_uris: [REDIRECT], client_secret: 'x' }, 'a client metadata document must not contain client_secret or client_secret_expires_at'],
    ['client_credentials', { client_id: id, grant_types: ['client_credentials'] }, 'grant_types: "client_credentials" is not available to self-registered clients; machine clients must be configured by the operator'],
    ['client_credentials with a scope (C1)', { client_id: id, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'client_credentials'], scope: 'mcp:admin' }, 'grant_types: "client_credentials" is not available to self-registered clients; machine clients must be configured by the operator'],
    ['token exchange (C1)', { client_id: id, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange'] }, 'grant_types: "urn:ietf:params:oauth:grant-type:token-exchange" is not available to self-registered clients; machine clients must be configured by the operator'],
  ])('refuses %s', (_label, input, description) => {
    expect(refusal(input, 'metadata-document')).toEqual(bad(description));
  });
});
