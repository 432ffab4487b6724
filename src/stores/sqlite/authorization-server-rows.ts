/**
 * Rows of the SQLite authorization-server tables and their mapping to contract records. Absent
 * optional fields are NULL in a row and absent (not `undefined`-valued) in a record, so records
 * read back compare equal to what was written.
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

export interface CodeRow {
  code_hash: string;
  client_id: string;
  redirect_uri: string;
  resource: string;
  scopes: string;
  subject: string;
  code_challenge: string;
  dpop_jkt: string | null;
  grant_id: string;
  auth_time: number;
  expires_at: number;
  used_at: number | null;
}

export interface GrantRow {
  grant_id: string;
  client_id: string;
  subject: string;
  scopes: string;
  resources: string;
  jkt: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface RefreshTokenRow {
  token_hash: string;
  grant_id: string;
  generation: number;
  scopes: string;
  resources: string;
  jkt: string | null;
  issued_at: number;
  expires_at: number;
  rotated_at: number | null;
  successor_hash: string | null;
  rotation_fingerprint: string | null;
}

export interface ClientRow {
  client_id: string;
  secret_hash: string | null;
  token_endpoint_auth_method: ClientRecord['tokenEndpointAuthMethod'];
  redirect_uris: string;
  grant_types: string;
  response_types: string;
  client_name: string | null;
  client_uri: string | null;
  logo_uri: string | null;
  scope: string | null;
  source: ClientRecord['source'];
  created_at: number;
  expires_at: number | null;
  used_at: number | null;
}

export interface UserRow {
  username: string;
  password_hash: string;
  created_at: number;
}

export interface ConsentRow {
  subject: string;
  client_id: string;
  resource: string;
  scopes: string;
  granted_at: number;
}

export interface KeyRow {
  kid: string;
  alg: SigningKeyRecord['alg'];
  private_jwk: string;
  public_jwk: string;
  state: SigningKeyRecord['state'];
  created_at: number;
  retire_after: number | null;
}

/** Parameters bound by name: one per column, `null` for an absent optional field. */
export type Params = Record<string, string | number | null>;

const json = (value: unknown): string => JSON.stringify(value);
const strings = (text: string): string[] => JSON.parse(text) as string[];
const object = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;
/** Spreads `{ [key]: value }` only when the column holds a value. */
const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } =>
  (value === null ? {} : { [key]: value }) as { [P in K]?: V };

export function codeParams(code: AuthorizationCodeRecord): Params {
  return {
    code_hash: code.codeHash,
    client_id: code.clientId,
    redirect_uri: code.redirectUri,
    resource: code.resource,
    scopes: json(code.scopes),
    subject: code.subject,
    code_challenge: code.codeChallenge,
    dpop_jkt: code.dpopJkt ?? null,
    grant_id: code.grantId,
    auth_time: code.authTime,
    expires_at: code.expiresAt,
  };
}

export function codeFromRow(row: CodeRow): AuthorizationCodeRecord {
  return {
    codeHash: row.code_hash,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    resource: row.resource,
    scopes: strings(row.scopes),
    subject: row.subject,
    codeChallenge: row.code_challenge,
    ...optional('dpopJkt', row.dpop_jkt),
    grantId: row.grant_id,
    authTime: row.auth_time,
    expiresAt: row.expires_at,
  };
}

export function grantParams(grant: GrantRecord): Params {
  return {
    grant_id: grant.grantId,
    client_id: grant.clientId,
    subject: grant.subject,
    scopes: json(grant.scopes),
    resources: json(grant.resources),
    jkt: grant.jkt ?? null,
    created_at: grant.createdAt,
    expires_at: grant.expiresAt ?? null,
    revoked_at: grant.revokedAt ?? null,
  };
}

export function grantFromRow(row: GrantRow): GrantRecord {
  return {
    grantId: row.grant_id,
    clientId: row.client_id,
    subject: row.subject,
    scopes: strings(row.scopes),
    resources: strings(row.resources),
    ...optional('jkt', row.jkt),
    createdAt: row.created_at,
    ...optional('expiresAt', row.expires_at),
    ...optional('revokedAt', row.revoked_at),
  };
}

export function refreshTokenParams(token: RefreshTokenRecord): Params {
  return {
    token_hash: token.tokenHash,
    grant_id: token.grantId,
    generation: token.generation,
    scopes: json(token.scopes),
    resources: json(token.resources),
    jkt: token.jkt ?? null,
    issued_at: token.issuedAt,
    expires_at: token.expiresAt,
    rotated_at: token.rotatedAt ?? null,
    successor_hash: token.successorHash ?? null,
    rotation_fingerprint: token.rotationFingerprint ?? null,
  };
}

export function refreshTokenFromRow(row: RefreshTokenRow): RefreshTokenRecord {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    generation: row.generation,
    scopes: strings(row.scopes),
    resources: strings(row.resources),
    ...optional('jkt', row.jkt),
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    ...optional('rotatedAt', row.rotated_at),
    ...optional('successorHash', row.successor_hash),
    ...optional('rotationFingerprint', row.rotation_fingerprint),
  };
}

export function clientParams(client: ClientRecord): Params {
  return {
    client_id: client.clientId,
    secret_hash: client.secretHash ?? null,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    redirect_uris: json(client.redirectUris),
    grant_types: json(client.grantTypes),
    response_types: json(client.responseTypes),
    client_name: client.clientName ?? null,
    client_uri: client.clientUri ?? null,
    logo_uri: client.logoUri ?? null,
    scope: client.scope ?? null,
    source: client.source,
    created_at: client.createdAt,
    expires_at: client.expiresAt ?? null,
    used_at: client.usedAt ?? null,
  };
}

export function clientFromRow(row: ClientRow): ClientRecord {
  return {
    clientId: row.client_id,
    ...optional('secretHash', row.secret_hash),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    redirectUris: strings(row.redirect_uris),
    grantTypes: strings(row.grant_types),
    responseTypes: strings(row.response_types),
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

export function userFromRow(row: UserRow): UserRecord {
  return { username: row.username, passwordHash: row.password_hash, createdAt: row.created_at };
}

export function consentFromRow(row: ConsentRow): ConsentRecord {
  return {
    subject: row.subject,
    clientId: row.client_id,
    resource: row.resource,
    scopes: strings(row.scopes),
    grantedAt: row.granted_at,
  };
}

export function keyParams(key: SigningKeyRecord): Params {
  return {
    kid: key.kid,
    alg: key.alg,
    private_jwk: json(key.privateJwk),
    public_jwk: json(key.publicJwk),
    state: key.state,
    created_at: key.createdAt,
    retire_after: key.retireAfter ?? null,
  };
}

export function keyFromRow(row: KeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: object(row.private_jwk),
    publicJwk: object(row.public_jwk),
    state: row.state,
    createdAt: row.created_at,
    ...optional('retireAfter', row.retire_after),
  };
}
