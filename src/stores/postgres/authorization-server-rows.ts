/**
 * Rows of the PostgreSQL authorization-server tables and their mapping to contract records.
 * Absent optional fields are NULL in a row and absent (not `undefined`-valued) in a record, so
 * records read back compare equal to what was written. `text[]` columns arrive as fresh arrays
 * and `bigint` columns as numbers (see `openPool`), so every record returned is the caller's own.
 */
import type {
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentRecord,
  GrantRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  UserRecord,
} from '../authorization-server-contracts.js';

/** A row of `authorization_codes`. */
export interface CodeRow {
  code_hash: string;
  client_id: string;
  redirect_uri: string;
  resource: string;
  scopes: string[];
  subject: string;
  code_challenge: string;
  dpop_jkt: string | null;
  grant_id: string;
  auth_time: number;
  expires_at: number;
  used_at: number | null;
}

/** A row of `grants`. */
export interface GrantRow {
  grant_id: string;
  client_id: string;
  subject: string;
  scopes: string[];
  resources: string[];
  jkt: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

/** A row of `refresh_tokens`. */
export interface RefreshTokenRow {
  token_hash: string;
  grant_id: string;
  generation: number;
  scopes: string[];
  resources: string[];
  jkt: string | null;
  issued_at: number;
  expires_at: number;
  rotated_at: number | null;
  successor_hash: string | null;
  rotation_fingerprint: string | null;
}

/** A row of `clients`. */
export interface ClientRow {
  client_id: string;
  secret_hash: string | null;
  token_endpoint_auth_method: ClientRecord['tokenEndpointAuthMethod'];
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  client_name: string | null;
  client_uri: string | null;
  logo_uri: string | null;
  scope: string | null;
  source: ClientRecord['source'];
  created_at: number;
  expires_at: number | null;
  used_at: number | null;
}

/** A row of `users`. */
export interface UserRow {
  username: string;
  password_hash: string;
  created_at: number;
}

/** A row of `consents`. */
export interface ConsentRow {
  subject: string;
  client_id: string;
  resource: string;
  scopes: string[];
  granted_at: number;
}

/** A row of `signing_keys` (`jsonb` JWKs arrive parsed). */
export interface KeyRow {
  kid: string;
  alg: SigningKeyRecord['alg'];
  private_jwk: Record<string, unknown>;
  public_jwk: Record<string, unknown>;
  state: SigningKeyRecord['state'];
  created_at: number;
  retire_after: number | null;
}

/** Positional parameters, in the column order of the matching `*_COLUMNS` list. */
export type Params = unknown[];

/** Spreads `{ [key]: value }` only when the column holds a value. */
const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } =>
  (value === null ? {} : { [key]: value }) as { [P in K]?: V };
/** `$1, $2, …` for `count` parameters. */
export const placeholders = (count: number): string => Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ');
/** JSON for `jsonb` parameters: pg would send a JS array as a PostgreSQL array literal. */
const json = (value: unknown): string => JSON.stringify(value);

/** Insert column order of `authorization_codes` (`used_at` starts NULL); {@link codeParams} follows it. */
export const CODE_COLUMNS = 'code_hash, client_id, redirect_uri, resource, scopes, subject, code_challenge, dpop_jkt, grant_id, auth_time, expires_at';

/** Parameters for {@link CODE_COLUMNS}. */
export function codeParams(code: AuthorizationCodeRecord): Params {
  return [
    code.codeHash,
    code.clientId,
    code.redirectUri,
    code.resource,
    code.scopes,
    code.subject,
    code.codeChallenge,
    code.dpopJkt ?? null,
    code.grantId,
    code.authTime,
    code.expiresAt,
  ];
}

/** The record a row holds. */
export function codeFromRow(row: CodeRow): AuthorizationCodeRecord {
  return {
    codeHash: row.code_hash,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    resource: row.resource,
    scopes: row.scopes,
    subject: row.subject,
    codeChallenge: row.code_challenge,
    ...optional('dpopJkt', row.dpop_jkt),
    grantId: row.grant_id,
    authTime: row.auth_time,
    expiresAt: row.expires_at,
  };
}

/** Column order of `grants`; {@link grantParams} follows it. */
export const GRANT_COLUMNS = 'grant_id, client_id, subject, scopes, resources, jkt, created_at, expires_at, revoked_at';

/** Parameters for {@link GRANT_COLUMNS}. */
export function grantParams(grant: GrantRecord): Params {
  return [
    grant.grantId,
    grant.clientId,
    grant.subject,
    grant.scopes,
    grant.resources,
    grant.jkt ?? null,
    grant.createdAt,
    grant.expiresAt ?? null,
    grant.revokedAt ?? null,
  ];
}

/** The record a row holds. */
export function grantFromRow(row: GrantRow): GrantRecord {
  return {
    grantId: row.grant_id,
    clientId: row.client_id,
    subject: row.subject,
    scopes: row.scopes,
    resources: row.resources,
    ...optional('jkt', row.jkt),
    createdAt: row.created_at,
    ...optional('expiresAt', row.expires_at),
    ...optional('revokedAt', row.revoked_at),
  };
}

/** Column order of `refresh_tokens`; {@link refreshTokenParams} follows it. */
export const REFRESH_TOKEN_COLUMNS =
  'token_hash, grant_id, generation, scopes, resources, jkt, issued_at, expires_at, rotated_at, successor_hash, rotation_fingerprint';

/** Parameters for {@link REFRESH_TOKEN_COLUMNS}. */
export function refreshTokenParams(token: RefreshTokenRecord): Params {
  return [
    token.tokenHash,
    token.grantId,
    token.generation,
    token.scopes,
    token.resources,
    token.jkt ?? null,
    token.issuedAt,
    token.expiresAt,
    token.rotatedAt ?? null,
    token.successorHash ?? null,
    token.rotationFingerprint ?? null,
  ];
}

/** The record a row holds. */
export function refreshTokenFromRow(row: RefreshTokenRow): RefreshTokenRecord {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    generation: row.generation,
    scopes: row.scopes,
    resources: row.resources,
    ...optional('jkt', row.jkt),
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    ...optional('rotatedAt', row.rotated_at),
    ...optional('successorHash', row.successor_hash),
    ...optional('rotationFingerprint', row.rotation_fingerprint),
  };
}

/** Column order of `clients`; {@link clientParams} follows it. */
export const CLIENT_COLUMNS =
  'client_id, secret_hash, token_endpoint_auth_method, redirect_uris, grant_types, response_types, client_name, client_uri, logo_uri, scope, source, created_at, expires_at, used_at';

/** Parameters for {@link CLIENT_COLUMNS}. */
export function clientParams(client: ClientRecord): Params {
  return [
    client.clientId,
    client.secretHash ?? null,
    client.tokenEndpointAuthMethod,
    client.redirectUris,
    client.grantTypes,
    client.responseTypes,
    client.clientName ?? null,
    client.clientUri ?? null,
    client.logoUri ?? null,
    client.scope ?? null,
    client.source,
    client.createdAt,
    client.expiresAt ?? null,
    client.usedAt ?? null,
  ];
}

/** The record a row holds. */
export function clientFromRow(row: ClientRow): ClientRecord {
  return {
    clientId: row.client_id,
    ...optional('secretHash', row.secret_hash),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    redirectUris: row.redirect_uris,
    grantTypes: row.grant_types,
    responseTypes: row.response_types,
    ...optional('clientName', row.client_name),
    ...optional('clientUri', row.client_uri),
    ...optional('logoUri', row.logo_uri),
    ...optional('scope', row.scope),
    source: row.source,
    createdAt: row.created_at,
    ...optional('expiresAt', row.expires_at),
    ...optional('usedAt', row.used_at),
  };
}

/** The record a row holds. */
export function userFromRow(row: UserRow): UserRecord {
  return { username: row.username, passwordHash: row.password_hash, createdAt: row.created_at };
}

/** The record a row holds. */
export function consentFromRow(row: ConsentRow): ConsentRecord {
  return {
    subject: row.subject,
    clientId: row.client_id,
    resource: row.resource,
    scopes: row.scopes,
    grantedAt: row.granted_at,
  };
}

/** Column order of `signing_keys`; {@link keyParams} follows it. */
export const KEY_COLUMNS = 'kid, alg, private_jwk, public_jwk, state, created_at, retire_after';

/** Parameters for {@link KEY_COLUMNS}; JWKs as JSON text for the `jsonb` columns. */
export function keyParams(key: SigningKeyRecord): Params {
  return [key.kid, key.alg, json(key.privateJwk), json(key.publicJwk), key.state, key.createdAt, key.retireAfter ?? null];
}

/** The record a row holds. */
export function keyFromRow(row: KeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: row.private_jwk,
    publicJwk: row.public_jwk,
    state: row.state,
    createdAt: row.created_at,
    ...optional('retireAfter', row.retire_after),
  };
}
