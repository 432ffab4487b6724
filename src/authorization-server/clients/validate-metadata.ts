import { DEFAULTS } from '../../oauth/defaults.js';
import { InvalidClientMetadataError } from '../../oauth/errors.js';
import { isScopeToken, parseScope } from '../../oauth/scope.js';
import { validateClientKeys } from './client-jwks.js';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import { validateRedirectUri } from '../../oauth/redirect-uri.js';

/** Client authentication methods Warden implements at the token endpoint. */
export type TokenEndpointAuthMethod = ClientRecord['tokenEndpointAuthMethod'];

/** RFC 8628 §3.4: the device authorization grant. */
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * Grant types a client may register for itself (RFC 7591 registration or a Client ID Metadata
 * Document): the user-facing ones, where every token follows a user's login and consent — and
 * `client_credentials` for a self-registered `private_key_jwt` client when the operator allows it
 * (`allowClientCredentials`).
 */
export type ClientGrantType = 'authorization_code' | 'refresh_token' | typeof DEVICE_CODE | 'client_credentials';

/** Where the metadata comes from: an RFC 7591 registration request, or a fetched Client ID Metadata Document. */
export type ClientMetadataSource = 'registered' | 'metadata-document';

/** Options of {@link validateClientMetadata}. */
export interface ValidateClientMetadataOptions {
  source: ClientMetadataSource;
  /** `jwks_uri` may be `http:` on a loopback host (development: `clientMetadataDocuments.allowPrivateNetworks`). */
  allowLoopbackHttp?: boolean;
  /** A registration may ask for `client_credentials` with `private_key_jwt` (`registration.clientCredentials`). Default false. */
  allowClientCredentials?: boolean;
  /** Algorithms accepted for client assertions (`assertions.algorithms`); `jwks` keys must fit one. Default: Warden's defaults. */
  assertionAlgorithms?: readonly string[];
}

/** Client metadata that passed {@link validateClientMetadata}, defaults applied, in Warden's field names. */
export interface ValidatedClientMetadata {
  redirectUris: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: ClientGrantType[];
  /** `['code']` when `authorization_code` is among the grant types, else `[]` (RFC 7591 §2.1). */
  responseTypes: Array<'code'>;
  clientName?: string;
  clientUri?: string;
  logoUri?: string;
  /** Space-separated, de-duplicated scope tokens. */
  scope?: string;
  contacts?: string[];
  softwareId?: string;
  softwareVersion?: string;
  /** The document's own `client_id` (metadata documents only; the caller compares it with the URL). */
  clientId?: string;
  /** `private_key_jwt`: the client's public keys (RFC 7591 §2 `jwks`). */
  jwks?: { keys: unknown[] };
  /** `private_key_jwt`: where the client publishes them (RFC 7591 §2 `jwks_uri`); never with `jwks`. */
  jwksUri?: string;
}

/** Nesting deeper than this (the top-level object is depth 1) is refused before anything else is read. */
export const MAX_METADATA_DEPTH = 5;
const MAX_MEMBERS = 64;
const MAX_REDIRECT_URIS = 32;
const MAX_CONTACTS = 16;
const MAX_NAME_CHARS = 200;
const MAX_SHORT_STRING = 255;
const MAX_URL_LENGTH = 2000;

const AUTH_METHODS: ReadonlySet<string> = new Set<TokenEndpointAuthMethod>(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);
/** RFC 8628: the user approves every device request on the verification page, so the device grant is user-facing too. */
const GRANT_TYPES: ReadonlySet<string> = new Set<ClientGrantType>(['authorization_code', 'refresh_token', DEVICE_CODE]);

/**
 * Grants that issue tokens with no user involved. A client that registers itself chooses its own
 * `scope`, so allowing these by default would let anyone mint tokens; machine clients are declared
 * by the operator (configuration). The one exception is `client_credentials` for a
 * `private_key_jwt` registration when the operator turns `registration.clientCredentials` on —
 * its tokens then carry only a resource's default scopes (`allowedScopes`).
 */
const MACHINE_GRANT_TYPES: ReadonlySet<string> = new Set(['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer']);

/** Keys that mutate prototypes when a consumer copies the object naively; refused wherever they appear. */
const POISON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Members that ask the server to trust client keys, fetch client URLs or send users to more
 * client-controlled URIs. Warden implements none of them; accepting them silently would leave a
 * record that later code (or a reader) might believe was honoured, so they are refused.
 */
const DANGEROUS_MEMBERS: ReadonlySet<string> = new Set([
  'sector_identifier_uri',
  'request_uris',
  'initiate_login_uri',
  'post_logout_redirect_uris',
  'frontchannel_logout_uri',
  'backchannel_logout_uri',
  'claims_redirect_uris',
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
]);

/**
 * Registered metadata names (RFC 7591 §2, §3.2.1, OpenID Connect Dynamic Registration, RFC 9449
 * §5.2) that change nothing in Warden: accepted, not stored and not echoed — so, per RFC 7591
 * §3.2.1, the client can see from the response that they were not registered. Server-assigned
 * values (`client_id`, `client_secret`, ...) are among them: a client cannot choose its own.
 */
const IGNORED_MEMBERS: ReadonlySet<string> = new Set([
  'tos_uri',
  'policy_uri',
  'software_statement',
  'application_type',
  'subject_type',
  'default_max_age',
  'require_auth_time',
  'default_acr_values',
  'dpop_bound_access_tokens',
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
]);

/** RFC 7591 §2.2 language-tagged human-readable members (`client_name#ja-Jpan-JP`): ignored, Warden shows the untagged value. */
const LANGUAGE_TAGGED = /^(client_name|client_uri|logo_uri|tos_uri|policy_uri)#[A-Za-z0-9-]{1,35}$/;

/** Members Warden reads. */
const SUPPORTED_MEMBERS: ReadonlySet<string> = new Set([
  'jwks',
  'jwks_uri',
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'scope',
  'contacts',
  'software_id',
  'software_version',
]);

/** C0/C1 controls, DEL, and Unicode bidi/invisible formatting that could disguise a name on the consent page. */
const UNSAFE_TEXT = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

const refuse = (description: string): never => {
  throw new InvalidClientMetadataError(description);
};

/** A client-supplied name made safe to quote in `error_description` (RFC 6749 §5.2 character set), and short. */
const quote = (value: string): string => `"${value.slice(0, 64).replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?')}"`;

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Parses a JSON text without a reviver, as the first step before {@link validateClientMetadata}.
 * `JSON.parse` creates `__proto__` as an own data property (never sets the prototype), which the
 * validator then refuses.
 *
 * @throws {InvalidClientMetadataError} when the text is not JSON.
 */
export function parseClientMetadataJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return refuse('the client metadata is not valid JSON');
  }
}

/** Refuses poison keys at any depth and nesting beyond {@link MAX_METADATA_DEPTH}; recursion stops at the limit. */
function checkStructure(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_METADATA_DEPTH) refuse(`the client metadata is nested more than ${MAX_METADATA_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    for (const item of value) checkStructure(item, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    if (POISON_KEYS.has(key)) refuse(`the member name ${quote(key)} is not allowed`);
    checkStructure((value as Record<string, unknown>)[key], depth + 1);
  }
}

/** Reads an own member; JSON `null` counts as absent (some client libraries serialise unset options as null). */
function member(input: Record<string, unknown>, name: string): unknown {
  if (!Object.hasOwn(input, name)) return undefined;
  const value = input[name];
  return value === null ? undefined : value;
}

function text(name: string, value: unknown, maxChars: number): string {
  if (typeof value !== 'string') return refuse(`${name} must be a string`);
  if (value.trim().length === 0) refuse(`${name} must not be empty`);
  if ([...value].length > maxChars) refuse(`${name} must be at most ${maxChars} characters`);
  if (UNSAFE_TEXT.test(value)) refuse(`${name} must not contain control or invisible formatting characters`);
  return value;
}

function stringArray(name: string, value: unknown, max: number): string[] {
  if (!Array.isArray(value)) return refuse(`${name} must be an array of strings`);
  if (value.length > max) refuse(`${name} must have at most ${max} entries`);
  for (const item of value) if (typeof item !== 'string') refuse(`${name} must be an array of strings`);
  return [...new Set(value as string[])];
}

/** An https URL shown to users (`client_uri`, `logo_uri`): absolute, https, no userinfo, no whitespace. */
function httpsUrl(name: string, value: unknown): string {
  if (typeof value !== 'string') return refuse(`${name} must be a string`);
  if (value.length > MAX_URL_LENGTH) refuse(`${name} must be at most ${MAX_URL_LENGTH} characters`);
  if (!/^[\x21-\x7E]+$/.test(value) || value.includes('\\')) refuse(`${name} must contain only visible ASCII characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse(`${name} must be an absolute https URL`);
  }
  if (url.protocol !== 'https:' || !value.startsWith('https://')) refuse(`${name} must be an absolute https URL`);
  if (url.username !== '' || url.password !== '' || /^https:\/\/[^/?#]*@/.test(value)) refuse(`${name} must not contain userinfo`);
  return value;
}

function authMethod(value: unknown, source: ClientMetadataSource): TokenEndpointAuthMethod {
  // RFC 7591 §2 defaults to client_secret_basic; a metadata document has no secret to use, so `none`.
  if (value === undefined) return source === 'metadata-document' ? 'none' : 'client_secret_basic';
  if (typeof value !== 'string' || !AUTH_METHODS.has(value)) return refuse('token_endpoint_auth_method must be one of none, client_secret_basic, client_secret_post, private_key_jwt');
  // draft-ietf-oauth-client-id-metadata-document: shared-secret methods are not allowed for URL
  // client ids; a key the document publishes (private_key_jwt with jwks / jwks_uri) is.
  if (source === 'metadata-document' && value !== 'none' && value !== 'private_key_jwt') refuse('a client metadata document must use token_endpoint_auth_method "none" or "private_key_jwt"');
  return value as TokenEndpointAuthMethod;
}

/** `client_credentials` only for a `private_key_jwt` registration the operator allows; the other machine grants never. */
function machineGrantAllowed(grant: string, method: TokenEndpointAuthMethod, options: ValidateClientMetadataOptions): boolean {
  return grant === 'client_credentials' && options.source === 'registered' && options.allowClientCredentials === true && method === 'private_key_jwt';
}

function grantTypes(value: unknown, method: TokenEndpointAuthMethod, options: ValidateClientMetadataOptions): ClientGrantType[] {
  if (value === undefined) return ['authorization_code'];
  const list = stringArray('grant_types', value, 8);
  if (list.length === 0) refuse('grant_types must not be empty');
  for (const grant of list) {
    if (MACHINE_GRANT_TYPES.has(grant)) {
      if (machineGrantAllowed(grant, method, options)) continue;
      const hint = grant === 'client_credentials' && options.source === 'registered' && options.allowClientCredentials === true ? ' except with token_endpoint_auth_method "private_key_jwt"' : '';
      refuse(`grant_types: ${quote(grant)} is not available to self-registered clients${hint}; machine clients must be configured by the operator`);
    }
    if (!GRANT_TYPES.has(grant)) refuse(`grant_types: ${quote(grant)} is not supported (use authorization_code, refresh_token, ${DEVICE_CODE})`);
  }
  return list as ClientGrantType[];
}

/** RFC 7591 §2.1: `code` ⇔ `authorization_code`. Absent response_types are derived rather than defaulted to `code`. */
function responseTypes(value: unknown, grants: readonly ClientGrantType[]): Array<'code'> {
  const wantsCode = grants.includes('authorization_code');
  if (value === undefined) return wantsCode ? ['code'] : [];
  const list = stringArray('response_types', value, 4);
  for (const type of list) if (type !== 'code') refuse(`response_types: only "code" is supported`);
  if (wantsCode !== list.includes('code')) refuse('grant_types and response_types are inconsistent: "authorization_code" goes with "code" (RFC 7591 §2.1)');
  return list as Array<'code'>;
}

function scope(value: unknown): string {
  if (typeof value !== 'string') return refuse('scope must be a string');
  if (value.length > 2000) refuse('scope must be at most 2000 characters');
  const tokens = parseScope(value);
  if (tokens.length === 0) refuse('scope must not be empty');
  for (const token of tokens) if (!isScopeToken(token)) refuse('scope must be space-separated scope tokens (RFC 6749 §3.3)');
  return tokens.join(' ');
}

/**
 * Validates client metadata (RFC 7591 §2) for a registration request or a Client ID Metadata
 * Document and applies the defaults. Structure first: the value must be a JSON object, nested at
 * most {@link MAX_METADATA_DEPTH} levels, with no `__proto__`, `constructor` or `prototype` key
 * anywhere. Then each member:
 *
 * - supported members are type- and value-checked (`redirect_uris` through
 *   {@link validateRedirectUri}, required when `authorization_code` is a grant type);
 *   `grant_types` may name `authorization_code`, `refresh_token` and the device grant (RFC 8628:
 *   the user approves each request); `client_credentials`, token exchange and jwt-bearer are
 *   refused (`invalid_client_metadata`), because a self-registered client picks its own `scope`
 *   and those grants involve no user — except `client_credentials` for a registration with
 *   `private_key_jwt` when `allowClientCredentials` is set; `jwks`/`jwks_uri` through
 *   {@link validateClientKeys};
 * - dangerous members (`sector_identifier_uri`, `request_uris`, `initiate_login_uri`, logout
 *   URIs, mTLS subjects) are refused;
 * - harmless registered members (`tos_uri`, `policy_uri`, `software_statement`, server-assigned
 *   `client_id`/`client_secret`, language-tagged names, ...) are ignored;
 * - any other member is refused. This is stricter than RFC 7591 §2 ("MUST ignore any client
 *   metadata ... it does not understand"), deliberately: an unknown member is more likely a
 *   probe or a feature the client believes it has than something safe to drop.
 *
 * With `source: 'metadata-document'`, `client_id` must be present (the caller compares it with the
 * URL), `token_endpoint_auth_method` defaults to `none` and may only be `none` or `private_key_jwt`, and `client_secret` /
 * `client_secret_expires_at` are refused.
 *
 * @throws {InvalidClientMetadataError} `invalid_client_metadata`
 * @throws {InvalidRedirectUriError} `invalid_redirect_uri` for a bad redirect URI (RFC 7591 §3.2.2)
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/
 */
export function validateClientMetadata(input: unknown, options: ValidateClientMetadataOptions): ValidatedClientMetadata {
  if (!isPlainObject(input)) return refuse('the client metadata must be a JSON object');
  checkStructure(input, 1);
  const names = Object.keys(input);
  if (names.length > MAX_MEMBERS) refuse(`the client metadata has more than ${MAX_MEMBERS} members`);
  for (const name of names) {
    if (input[name] === null) continue;
    if (DANGEROUS_MEMBERS.has(name)) refuse(`${name} is not supported`);
    if (SUPPORTED_MEMBERS.has(name) || IGNORED_MEMBERS.has(name) || LANGUAGE_TAGGED.test(name)) continue;
    refuse(`unknown client metadata member ${quote(name)}`);
  }

  const source = options.source;
  let clientId: string | undefined;
  if (source === 'metadata-document') {
    const id = member(input, 'client_id');
    if (typeof id !== 'string') refuse('a client metadata document must contain its client_id');
    clientId = id as string;
    if (member(input, 'client_secret') !== undefined || member(input, 'client_secret_expires_at') !== undefined) {
      refuse('a client metadata document must not contain client_secret or client_secret_expires_at');
    }
  }

  const tokenEndpointAuthMethod = authMethod(member(input, 'token_endpoint_auth_method'), source);
  // User-facing grants; of the machine grants only client_credentials, and only when the operator allows it.
  const grants = grantTypes(member(input, 'grant_types'), tokenEndpointAuthMethod, options);
  const responses = responseTypes(member(input, 'response_types'), grants);

  const rawRedirects = member(input, 'redirect_uris');
  const redirectUris = rawRedirects === undefined ? [] : stringArray('redirect_uris', rawRedirects, MAX_REDIRECT_URIS).map(validateRedirectUri);
  if (grants.includes('authorization_code') && redirectUris.length === 0) refuse('redirect_uris is required for the authorization_code grant (RFC 7591 §2)');

  const result: ValidatedClientMetadata = { redirectUris, tokenEndpointAuthMethod, grantTypes: grants, responseTypes: responses };
  const optional = (name: string): unknown => member(input, name);
  if (optional('client_name') !== undefined) {
    const name = text('client_name', optional('client_name'), MAX_NAME_CHARS);
    // Rendered on the consent page; escaping covers it there, this keeps markup out of every other place it travels.
    if (/[<>]/.test(name)) refuse('client_name must be plain text (no "<" or ">")');
    result.clientName = name;
  }
  if (optional('client_uri') !== undefined) result.clientUri = httpsUrl('client_uri', optional('client_uri'));
  if (optional('logo_uri') !== undefined) result.logoUri = httpsUrl('logo_uri', optional('logo_uri'));
  if (optional('scope') !== undefined) result.scope = scope(optional('scope'));
  if (optional('contacts') !== undefined) {
    result.contacts = stringArray('contacts', optional('contacts'), MAX_CONTACTS).map((contact) => text('contacts', contact, 320));
  }
  if (optional('software_id') !== undefined) result.softwareId = text('software_id', optional('software_id'), MAX_SHORT_STRING);
  if (optional('software_version') !== undefined) result.softwareVersion = text('software_version', optional('software_version'), MAX_SHORT_STRING);
  if (clientId !== undefined) result.clientId = clientId;
  const keys = validateClientKeys(member(input, 'jwks'), member(input, 'jwks_uri'), tokenEndpointAuthMethod, {
    allowLoopbackHttp: options.allowLoopbackHttp === true,
    algorithms: options.assertionAlgorithms ?? DEFAULTS.assertions.algorithms,
  });
  if (keys.jwks !== undefined) result.jwks = keys.jwks;
  if (keys.jwksUri !== undefined) result.jwksUri = keys.jwksUri;
  return result;
}

/** Builds the stored client from validated metadata (secret hash, source and times supplied by the caller). */
export function clientRecordFromMetadata(
  metadata: ValidatedClientMetadata,
  fields: { clientId: string; source: ClientRecord['source']; createdAt: number; secretHash?: string; expiresAt?: number },
): ClientRecord {
  const record: ClientRecord = {
    clientId: fields.clientId,
    tokenEndpointAuthMethod: metadata.tokenEndpointAuthMethod,
    redirectUris: [...metadata.redirectUris],
    grantTypes: [...metadata.grantTypes],
    responseTypes: [...metadata.responseTypes],
    source: fields.source,
    createdAt: fields.createdAt,
  };
  if (fields.secretHash !== undefined) record.secretHash = fields.secretHash;
  if (fields.expiresAt !== undefined) record.expiresAt = fields.expiresAt;
  if (metadata.clientName !== undefined) record.clientName = metadata.clientName;
  if (metadata.clientUri !== undefined) record.clientUri = metadata.clientUri;
  if (metadata.logoUri !== undefined) record.logoUri = metadata.logoUri;
  if (metadata.scope !== undefined) record.scope = metadata.scope;
  if (metadata.jwks !== undefined) record.jwks = metadata.jwks;
  if (metadata.jwksUri !== undefined) record.jwksUri = metadata.jwksUri;
  return record;
}
