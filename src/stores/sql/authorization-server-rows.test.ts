import { describe, expect, it } from 'vitest';
import type {
  AuthorizationCodeRecord,
  ClientRecord,
  GrantRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
} from '../authorization-server-contracts.js';
import { codec as postgres } from '../postgres/authorization-server-rows.js';
import { codec as sqlite } from '../sqlite/authorization-server-rows.js';
import {
  CLIENT_COLUMNS,
  CODE_COLUMNS,
  GRANT_COLUMNS,
  KEY_COLUMNS,
  REFRESH_TOKEN_COLUMNS,
  createRowCodec,
} from './authorization-server-rows.js';

const T0 = 1_700_000_000;

const code: AuthorizationCodeRecord = {
  codeHash: 'code-1', clientId: 'c1', redirectUri: 'https://c.example/cb', resource: 'https://mcp.example/mcp', scopes: ['a', 'b'],
  subject: 'alice', codeChallenge: 'ch', grantId: 'g1', authTime: T0, expiresAt: T0 + 60,
};
const grant: GrantRecord = {
  grantId: 'g1', clientId: 'c1', subject: 'alice', scopes: ['a'], resources: ['https://mcp.example/mcp'], jkt: 'jkt-1', createdAt: T0, expiresAt: T0 + 86_400,
};
const token: RefreshTokenRecord = {
  tokenHash: 'rt-0', grantId: 'g1', generation: 0, scopes: ['a'], resources: ['https://mcp.example/mcp'], issuedAt: T0, expiresAt: T0 + 600,
};
const client: ClientRecord = {
  clientId: 'c1', tokenEndpointAuthMethod: 'none', redirectUris: ['https://c.example/cb'], grantTypes: ['authorization_code'],
  responseTypes: ['code'], source: 'registered', createdAt: T0,
};
const key: SigningKeyRecord = {
  kid: 'k1', alg: 'ES256', privateJwk: { kty: 'EC', d: 'd' }, publicJwk: { kty: 'EC', x: 'x' }, state: 'current', createdAt: T0,
};

/** A dialect that hands back what the codec asked it to bind. */
const bound = createRowCodec<{ list: string[]; jwk: string }, { row: object; columns: readonly string[] }>({
  writeList: (list) => list,
  readList: (list) => list,
  readJwk: (text) => JSON.parse(text) as Record<string, unknown>,
  params: (row, columns) => ({ row, columns }),
});

/** The row SQLite reads back after binding `params`: the same values under the same names. */
const sqliteRow = <Row>(params: object, rest: object = {}): Row => ({ ...params, ...rest }) as Row;
/** The row PostgreSQL reads back after binding `params` to `columns` (lists and JWKs as `pg` returns them). */
const postgresRow = <Row>(params: unknown[], columns: readonly string[], rest: object = {}): Row =>
  ({ ...Object.fromEntries(columns.map((column, i) => [column, params[i]])), ...rest }) as Row;

describe('SQL row codec (shared by SQLite and PostgreSQL)', () => {
  it('contract: every insert binds exactly its column list, in that order', () => {
    const cases = [
      [bound.codeParams(code), CODE_COLUMNS],
      [bound.grantParams(grant), GRANT_COLUMNS],
      [bound.refreshTokenParams(token), REFRESH_TOKEN_COLUMNS],
      [bound.clientParams(client), CLIENT_COLUMNS],
      [bound.keyParams(key), KEY_COLUMNS],
    ] as const;
    for (const [{ row, columns }, expected] of cases) {
      expect(columns).toBe(expected);
      expect(Object.keys(row)).toEqual([...expected]);
    }
  });

  it('SQLite: lists and JWKs are JSON text; parameters are named by column; absent fields NULL', () => {
    expect(sqlite.codeParams(code)).toMatchObject({ code_hash: 'code-1', scopes: '["a","b"]', dpop_jkt: null });
    expect(sqlite.keyParams(key)).toMatchObject({ private_jwk: '{"kty":"EC","d":"d"}', public_jwk: '{"kty":"EC","x":"x"}', retire_after: null });
    expect(sqlite.consentScopes(['a', 'b'])).toBe('["a","b"]');
  });

  it('PostgreSQL: lists are arrays (text[]), JWKs JSON text (jsonb); parameters in column order; absent fields NULL', () => {
    expect(postgres.codeParams(code)).toEqual(['code-1', 'c1', 'https://c.example/cb', 'https://mcp.example/mcp', ['a', 'b'], 'alice', 'ch', null, 'g1', T0, T0 + 60]);
    expect(postgres.keyParams(key)).toEqual(['k1', 'ES256', '{"kty":"EC","d":"d"}', '{"kty":"EC","x":"x"}', 'current', T0, null]);
    expect(postgres.consentScopes(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('contract: records read back equal what was written, absent fields absent (not undefined), on either backend', () => {
    expect(sqlite.codeFromRow(sqliteRow(sqlite.codeParams(code), { used_at: null }))).toStrictEqual(code);
    expect(sqlite.grantFromRow(sqliteRow(sqlite.grantParams(grant)))).toStrictEqual(grant);
    expect(sqlite.refreshTokenFromRow(sqliteRow(sqlite.refreshTokenParams(token)))).toStrictEqual(token);
    expect(sqlite.clientFromRow(sqliteRow(sqlite.clientParams(client)))).toStrictEqual(client);
    expect(sqlite.keyFromRow(sqliteRow(sqlite.keyParams(key)))).toStrictEqual(key);

    const jwks = { private_jwk: key.privateJwk, public_jwk: key.publicJwk };
    expect(postgres.codeFromRow(postgresRow(postgres.codeParams(code), CODE_COLUMNS, { used_at: null }))).toStrictEqual(code);
    expect(postgres.grantFromRow(postgresRow(postgres.grantParams(grant), GRANT_COLUMNS))).toStrictEqual(grant);
    expect(postgres.refreshTokenFromRow(postgresRow(postgres.refreshTokenParams(token), REFRESH_TOKEN_COLUMNS))).toStrictEqual(token);
    expect(postgres.clientFromRow(postgresRow(postgres.clientParams(client), CLIENT_COLUMNS))).toStrictEqual(client);
    expect(postgres.keyFromRow(postgresRow(postgres.keyParams(key), KEY_COLUMNS, jwks))).toStrictEqual(key);
  });

  it('users, consents and throttles read back from their rows', () => {
    expect(sqlite.userFromRow({ username: 'alice', password_hash: 'h', created_at: T0 })).toStrictEqual({ username: 'alice', passwordHash: 'h', createdAt: T0 });
    const consent = { subject: 'alice', clientId: 'c1', resource: 'r', scopes: ['a'], grantedAt: T0 };
    expect(sqlite.consentFromRow({ subject: 'alice', client_id: 'c1', resource: 'r', scopes: '["a"]', granted_at: T0 })).toStrictEqual(consent);
    expect(postgres.consentFromRow({ subject: 'alice', client_id: 'c1', resource: 'r', scopes: ['a'], granted_at: T0 })).toStrictEqual(consent);
    expect(postgres.throttleFromRow({ count: 2, last_at: T0, expires_at: T0 + 60 })).toStrictEqual({ count: 2, lastAt: T0, expiresAt: T0 + 60 });
  });
});
