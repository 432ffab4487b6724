/**
 * Rows of the authorization-server tables and their mapping to contract records, shared by the
 * SQL backends (SQLite and PostgreSQL have the same tables and columns). What differs between
 * them is a {@link SqlDialect} passed to {@link createRowCodec}: how a list of strings and a JWK
 * are held, and whether statements bind parameters by name or by position.
 *
 * Absent optional fields are NULL in a row and absent (not `undefined`-valued) in a record, so
 * records read back compare equal to what was written.
 */
import type {
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentRecord,
  GrantRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  UserRecord,
  FederatedIdentity,
} from '../authorization-server-contracts.js';
import type { ThrottleRow } from '../authorization-server-store-rules.js';

/** The types a backend's list and JWK columns arrive as when read. */
export interface ColumnTypes {
  /** A list of strings (scopes, resources, redirect URIs, …). */
  list: unknown;
  /** A JWK. */
  jwk: unknown;
}

/** What one backend's columns and statements do differently; everything else is shared. */
export interface SqlDialect<C extends ColumnTypes, Params> {
  /** A list of strings as its column is bound. */
  writeList(list: string[]): C['list'];
  /** A list column as read, as an array the record may keep (shared with nothing else). */
  readList(column: C['list']): string[];
  /** A JWK column as read. Every backend binds JWKs as JSON text. */
  readJwk(column: C['jwk']): Record<string, unknown>;
  /** The statement parameters for `row`, whose keys are `columns` in that order. */
  params(row: object, columns: readonly string[]): Params;
}

/** A row of `authorization_codes`. */
export interface CodeRow<C extends ColumnTypes> {
  code_hash: string;
  client_id: string;
  redirect_uri: string;
  resource: string;
  scopes: C['list'];
  subject: string;
  code_challenge: string;
  dpop_jkt: string | null;
  grant_id: string;
  auth_time: number;
  expires_at: number;
  used_at: number | null;
}

/** A row of `grants`. */
export interface GrantRow<C extends ColumnTypes> {
  grant_id: string;
  client_id: string;
  subject: string;
  scopes: C['list'];
  resources: C['list'];
  jkt: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

/** A row of `refresh_tokens`. */
export interface RefreshTokenRow<C extends ColumnTypes> {
  token_hash: string;
  grant_id: string;
  generation: number;
  scopes: C['list'];
  resources: C['list'];
  jkt: string | null;
  issued_at: number;
  expires_at: number;
  rotated_at: number | null;
  successor_hash: string | null;
  rotation_fingerprint: string | null;
}

/** A row of `clients`. */
export interface ClientRow<C extends ColumnTypes> {
  client_id: string;
  secret_hash: string | null;
  token_endpoint_auth_method: ClientRecord['tokenEndpointAuthMethod'];
  redirect_uris: C['list'];
  grant_types: C['list'];
  response_types: C['list'];
  client_name: string | null;
  client_uri: string | null;
  logo_uri: string | null;
  scope: string | null;
  source: ClientRecord['source'];
  created_at: number;
  expires_at: number | null;
  used_at: number | null;
  /** JSON text of the client's JWKS (private_key_jwt). */
  jwks: string | null;
  jwks_uri: string | null;
  /** When an operator disabled the client (schema version 9). */
  disabled_at?: number | null;
}

/** A row of `users`. */
export interface UserRow {
  username: string;
  password_hash: string;
  created_at: number;
  /** JSON of the `FederatedIdentity`, or null for a local user (schema version 7). */
  federation?: string | null;
  /** Roles held, or null for none (schema version 9). */
  roles?: unknown;
}

/** The JSON column of a federated user (`users.federation`). */
export function serializeFederation(federation: FederatedIdentity | undefined): string | null {
  return federation === undefined ? null : JSON.stringify(federation);
}

/** Reads `users.federation` back; anything not exactly the shape is no link. */
export function parseFederation(text: string | null): FederatedIdentity | undefined {
  if (text === null) return undefined;
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof d !== 'object' || d === null || typeof d.issuer !== 'string' || typeof d.subject !== 'string' || typeof d.updatedAt !== 'number') return undefined;
  const out: FederatedIdentity = { issuer: d.issuer, subject: d.subject, updatedAt: d.updatedAt };
  if (typeof d.email === 'string') out.email = d.email;
  if (Array.isArray(d.groups) && d.groups.every((g) => typeof g === 'string')) out.groups = [...(d.groups as string[])];
  return out;
}

/** A row of `consents`. */
export interface ConsentRow<C extends ColumnTypes> {
  subject: string;
  client_id: string;
  resource: string;
  scopes: C['list'];
  granted_at: number;
}

/** A row of `signing_keys`. */
export interface KeyRow<C extends ColumnTypes> {
  kid: string;
  alg: SigningKeyRecord['alg'];
  private_jwk: C['jwk'];
  public_jwk: C['jwk'];
  state: SigningKeyRecord['state'];
  created_at: number;
  retire_after: number | null;
}

/** A row of `throttles`, its key aside. */
export interface ThrottleTableRow {
  count: number;
  last_at: number;
  expires_at: number;
}

/** Columns `CodeStore.save` writes, in parameter order (`used_at` starts NULL). */
export const CODE_COLUMNS = [
  'code_hash', 'client_id', 'redirect_uri', 'resource', 'scopes', 'subject', 'code_challenge', 'dpop_jkt', 'grant_id', 'auth_time', 'expires_at',
] as const;
/** Columns of `grants`, in parameter order. */
export const GRANT_COLUMNS = ['grant_id', 'client_id', 'subject', 'scopes', 'resources', 'jkt', 'created_at', 'expires_at', 'revoked_at'] as const;
/** Columns of `refresh_tokens`, in parameter order. */
export const REFRESH_TOKEN_COLUMNS = [
  'token_hash', 'grant_id', 'generation', 'scopes', 'resources', 'jkt', 'issued_at', 'expires_at', 'rotated_at', 'successor_hash', 'rotation_fingerprint',
] as const;
/** Columns of `clients`, in parameter order. */
export const CLIENT_COLUMNS = [
  'client_id', 'secret_hash', 'token_endpoint_auth_method', 'redirect_uris', 'grant_types', 'response_types', 'client_name', 'client_uri',
  'logo_uri', 'scope', 'source', 'created_at', 'expires_at', 'used_at', 'jwks', 'jwks_uri', 'disabled_at',
] as const;
/** Columns of `signing_keys`, in parameter order. */
export const KEY_COLUMNS = ['kid', 'alg', 'private_jwk', 'public_jwk', 'state', 'created_at', 'retire_after'] as const;

/** Spreads `{ [key]: value }` only when the column holds a value. */
const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } =>
  (value === null ? {} : { [key]: value }) as { [P in K]?: V };

/** JWKs are bound as JSON text by every backend: SQLite keeps the text, PostgreSQL's `jsonb` parses it. */
const json = (value: unknown): string => JSON.stringify(value);

/** The row ↔ record mapping for one backend's {@link SqlDialect}. */
export function createRowCodec<C extends ColumnTypes, Params>(dialect: SqlDialect<C, Params>) {
  const { writeList, readList, readJwk, params } = dialect;
  return {
    /** Parameters for {@link CODE_COLUMNS}. */
    codeParams: (code: AuthorizationCodeRecord): Params =>
      params(
        {
          code_hash: code.codeHash,
          client_id: code.clientId,
          redirect_uri: code.redirectUri,
          resource: code.resource,
          scopes: writeList(code.scopes),
          subject: code.subject,
          code_challenge: code.codeChallenge,
          dpop_jkt: code.dpopJkt ?? null,
          grant_id: code.grantId,
          auth_time: code.authTime,
          expires_at: code.expiresAt,
        } satisfies Omit<CodeRow<C>, 'used_at'>,
        CODE_COLUMNS,
      ),

    /** The record a row holds. */
    codeFromRow: (row: CodeRow<C>): AuthorizationCodeRecord => ({
      codeHash: row.code_hash,
      clientId: row.client_id,
      redirectUri: row.redirect_uri,
      resource: row.resource,
      scopes: readList(row.scopes),
      subject: row.subject,
      codeChallenge: row.code_challenge,
      ...optional('dpopJkt', row.dpop_jkt),
      grantId: row.grant_id,
      authTime: row.auth_time,
      expiresAt: row.expires_at,
    }),

    /** Parameters for {@link GRANT_COLUMNS}. */
    grantParams: (grant: GrantRecord): Params =>
      params(
        {
          grant_id: grant.grantId,
          client_id: grant.clientId,
          subject: grant.subject,
          scopes: writeList(grant.scopes),
          resources: writeList(grant.resources),
          jkt: grant.jkt ?? null,
          created_at: grant.createdAt,
          expires_at: grant.expiresAt ?? null,
          revoked_at: grant.revokedAt ?? null,
        } satisfies GrantRow<C>,
        GRANT_COLUMNS,
      ),

    /** The record a row holds. */
    grantFromRow: (row: GrantRow<C>): GrantRecord => ({
      grantId: row.grant_id,
      clientId: row.client_id,
      subject: row.subject,
      scopes: readList(row.scopes),
      resources: readList(row.resources),
      ...optional('jkt', row.jkt),
      createdAt: row.created_at,
      ...optional('expiresAt', row.expires_at),
      ...optional('revokedAt', row.revoked_at),
    }),

    /** Parameters for {@link REFRESH_TOKEN_COLUMNS}. */
    refreshTokenParams: (token: RefreshTokenRecord): Params =>
      params(
        {
          token_hash: token.tokenHash,
          grant_id: token.grantId,
          generation: token.generation,
          scopes: writeList(token.scopes),
          resources: writeList(token.resources),
          jkt: token.jkt ?? null,
          issued_at: token.issuedAt,
          expires_at: token.expiresAt,
          rotated_at: token.rotatedAt ?? null,
          successor_hash: token.successorHash ?? null,
          rotation_fingerprint: token.rotationFingerprint ?? null,
        } satisfies RefreshTokenRow<C>,
        REFRESH_TOKEN_COLUMNS,
      ),

    /** The record a row holds. */
    refreshTokenFromRow: (row: RefreshTokenRow<C>): RefreshTokenRecord => ({
      tokenHash: row.token_hash,
      grantId: row.grant_id,
      generation: row.generation,
      scopes: readList(row.scopes),
      resources: readList(row.resources),
      ...optional('jkt', row.jkt),
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
      ...optional('rotatedAt', row.rotated_at),
      ...optional('successorHash', row.successor_hash),
      ...optional('rotationFingerprint', row.rotation_fingerprint),
    }),

    /** Parameters for {@link CLIENT_COLUMNS}. */
    clientParams: (client: ClientRecord): Params =>
      params(
        {
          client_id: client.clientId,
          secret_hash: client.secretHash ?? null,
          token_endpoint_auth_method: client.tokenEndpointAuthMethod,
          redirect_uris: writeList(client.redirectUris),
          grant_types: writeList(client.grantTypes),
          response_types: writeList(client.responseTypes),
          client_name: client.clientName ?? null,
          client_uri: client.clientUri ?? null,
          logo_uri: client.logoUri ?? null,
          scope: client.scope ?? null,
          source: client.source,
          created_at: client.createdAt,
          expires_at: client.expiresAt ?? null,
          used_at: client.usedAt ?? null,
          jwks: client.jwks === undefined ? null : json(client.jwks),
          jwks_uri: client.jwksUri ?? null,
          disabled_at: client.disabledAt ?? null,
        } satisfies ClientRow<C>,
        CLIENT_COLUMNS,
      ),

    /** The record a row holds. */
    clientFromRow: (row: ClientRow<C>): ClientRecord => ({
      clientId: row.client_id,
      ...optional('secretHash', row.secret_hash),
      tokenEndpointAuthMethod: row.token_endpoint_auth_method,
      redirectUris: readList(row.redirect_uris),
      grantTypes: readList(row.grant_types),
      responseTypes: readList(row.response_types),
      ...optional('clientName', row.client_name),
      ...optional('clientUri', row.client_uri),
      ...optional('logoUri', row.logo_uri),
      ...optional('scope', row.scope),
      source: row.source,
      createdAt: row.created_at,
      ...optional('expiresAt', row.expires_at),
      ...optional('usedAt', row.used_at),
      ...(row.jwks === null || row.jwks === undefined ? {} : { jwks: JSON.parse(row.jwks) as { keys: unknown[] } }),
      ...optional('jwksUri', row.jwks_uri ?? null),
      ...optional('disabledAt', row.disabled_at ?? null),
    }),

    /** The record a row holds. */
    userFromRow: (row: UserRow): UserRecord => {
      const user: UserRecord = { username: row.username, passwordHash: row.password_hash, createdAt: row.created_at };
      const federation = parseFederation(row.federation ?? null);
      if (federation !== undefined) user.federation = federation;
      if (row.roles !== null && row.roles !== undefined) {
        const roles = readList(row.roles as C['list']);
        if (roles.length > 0) user.roles = roles;
      }
      return user;
    },

    /** `users.roles` as bound: null for none. */
    userRoles: (roles: string[] | undefined): C['list'] | null => (roles === undefined || roles.length === 0 ? null : writeList(roles)),

    /** Consent scopes as their column is bound. */
    consentScopes: (scopes: string[]): C['list'] => writeList(scopes),

    /** The record a row holds. */
    consentFromRow: (row: ConsentRow<C>): ConsentRecord => ({
      subject: row.subject,
      clientId: row.client_id,
      resource: row.resource,
      scopes: readList(row.scopes),
      grantedAt: row.granted_at,
    }),

    /** Parameters for {@link KEY_COLUMNS}; JWKs as JSON text, whatever their column reads back as. */
    keyParams: (key: SigningKeyRecord): Params =>
      params(
        {
          kid: key.kid,
          alg: key.alg,
          private_jwk: json(key.privateJwk),
          public_jwk: json(key.publicJwk),
          state: key.state,
          created_at: key.createdAt,
          retire_after: key.retireAfter ?? null,
        } satisfies KeyRow<{ list: never; jwk: string }>,
        KEY_COLUMNS,
      ),

    /** The record a row holds. */
    keyFromRow: (row: KeyRow<C>): SigningKeyRecord => ({
      kid: row.kid,
      alg: row.alg,
      privateJwk: readJwk(row.private_jwk),
      publicJwk: readJwk(row.public_jwk),
      state: row.state,
      createdAt: row.created_at,
      ...optional('retireAfter', row.retire_after),
    }),

    /** The throttle state a row holds, as the shared throttle rules read it. */
    throttleFromRow: (row: ThrottleTableRow): ThrottleRow => ({ count: row.count, lastAt: row.last_at, expiresAt: row.expires_at }),
  };
}
