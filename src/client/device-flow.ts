/**
 * The client side of the device authorization grant (RFC 8628), for agents and CLIs with no
 * browser: discover the authorization server, ask for a device code, show the user where to go
 * and the code, then poll the token endpoint — waiting the interval, slowing down when told
 * (§3.5), with DPoP proofs when a key is given so the tokens are bound to it (RFC 9449 §5).
 */
import { createDpopFetch, type FetchLike } from './dpop-fetch.js';
import type { DpopKey } from './dpop-key.js';
import { McpAuthError } from './errors.js';

/** The grant type of RFC 8628 §3.4. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** What to show the user (RFC 8628 §3.3): where to go and the code to type there. */
export interface DeviceUserPrompt {
  userCode: string;
  verificationUri: string;
  /** The URI with the code in it, e.g. for a QR code (§3.3.1); the user still confirms the code. */
  verificationUriComplete?: string;
  /** Seconds the code stays valid. */
  expiresIn: number;
}

/** Options of {@link runDeviceFlow}. */
export interface DeviceFlowOptions {
  /** The authorization server's issuer; its RFC 8414 metadata is fetched and its `issuer` must equal this exactly. */
  issuer: string;
  clientId: string;
  /** For a confidential client: sent with `client_secret_basic`. Public clients send only `client_id`. */
  clientSecret?: string;
  /** The MCP server the tokens are for (RFC 8707). */
  resource: string;
  /** Space-separated scopes; default: what the server gives by default. */
  scope?: string;
  /** Binds the tokens to this key (RFC 9449): every token request carries a proof. */
  dpop?: DpopKey;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Shows the user the code and where to enter it; polling starts once it returns. */
  onUserCode(prompt: DeviceUserPrompt): void | Promise<void>;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** How to wait between polls; default a timer (tests pass their own). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The token response (RFC 6749 §5.1, RFC 9449 §5). */
export interface DeviceFlowTokens {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  refresh_token?: string;
}

/**
 * The device flow ended without tokens: `code` is the server's error (`access_denied`: the user
 * said no; `expired_token`: nobody approved in time) or `invalid_response` for a server that
 * broke the protocol.
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
export class DeviceFlowError extends McpAuthError {
  override name = 'DeviceFlowError';
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/**
 * Runs the device authorization grant to the end and returns the tokens.
 *
 * @throws DeviceFlowError for `access_denied`, `expired_token`, any other error answer, or a
 *   server that breaks the protocol (no device endpoint, a different `issuer`, a malformed answer).
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.4
 */
export async function runDeviceFlow(options: DeviceFlowOptions): Promise<DeviceFlowTokens> {
  const plain = options.fetch ?? ((input, init) => fetch(input, init));
  const sleep = options.sleep ?? defaultSleep;
  const metadata = await discover(plain, options.issuer);
  const auth: Record<string, string> = {};
  const clientForm: Record<string, string> = { client_id: options.clientId };
  if (options.clientSecret !== undefined) {
    const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
    auth.authorization = `Basic ${Buffer.from(`${encode(options.clientId)}:${encode(options.clientSecret)}`).toString('base64')}`;
  }
  const post = (f: FetchLike, url: string, form: Record<string, string>) =>
    f(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...auth }, body: new URLSearchParams(form).toString(), ...(options.signal && { signal: options.signal }) });

  const started = Date.now();
  const request = { ...clientForm, resource: options.resource, ...(options.scope !== undefined && { scope: options.scope }) };
  const answer = await readJson(await post(plain, metadata.deviceAuthorizationEndpoint, request));
  if (answer.status !== 200) throw errorOf(answer.body, 'device authorization request refused');
  const grant = answer.body;
  if (typeof grant.device_code !== 'string' || typeof grant.user_code !== 'string' || typeof grant.verification_uri !== 'string' || typeof grant.expires_in !== 'number') {
    throw new DeviceFlowError('invalid_response', 'the device authorization response lacks device_code, user_code, verification_uri or expires_in (RFC 8628 §3.2)');
  }
  await options.onUserCode({
    userCode: grant.user_code,
    verificationUri: grant.verification_uri,
    ...(typeof grant.verification_uri_complete === 'string' && { verificationUriComplete: grant.verification_uri_complete }),
    expiresIn: grant.expires_in,
  });

  // RFC 8628 §3.2: 5 seconds when the server names no interval.
  let interval = typeof grant.interval === 'number' && grant.interval > 0 ? grant.interval : 5;
  const deadline = started + grant.expires_in * 1000;
  const tokenFetch = options.dpop === undefined ? plain : createDpopFetch(plain, options.dpop);
  for (;;) {
    await sleep(interval * 1000, options.signal);
    const polled = await readJson(await post(tokenFetch, metadata.tokenEndpoint, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: grant.device_code, ...clientForm }));
    if (polled.status === 200) {
      if (typeof polled.body.access_token !== 'string' || typeof polled.body.token_type !== 'string') throw new DeviceFlowError('invalid_response', 'the token response lacks access_token or token_type');
      return polled.body as unknown as DeviceFlowTokens;
    }
    const error = polled.body.error;
    if (error === 'authorization_pending' && Date.now() < deadline) continue;
    // §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests".
    if (error === 'slow_down' && Date.now() < deadline) {
      interval += 5;
      continue;
    }
    if (error === 'authorization_pending' || error === 'slow_down') throw new DeviceFlowError('expired_token', 'nobody approved the request before the code expired');
    throw errorOf(polled.body, 'the token request was refused');
  }
}

interface Endpoints {
  deviceAuthorizationEndpoint: string;
  tokenEndpoint: string;
}

/** RFC 8414 §3.1 (path insertion); the document's `issuer` must be the issuer asked for, exactly (§3.3). */
async function discover(f: FetchLike, issuer: string): Promise<Endpoints> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const response = await f(`${url.origin}/.well-known/oauth-authorization-server${path}`, { headers: { accept: 'application/json' } });
  const { status, body } = await readJson(response);
  if (status !== 200) throw new DeviceFlowError('invalid_response', `no authorization server metadata at ${issuer} (HTTP ${status})`);
  if (body.issuer !== issuer) throw new DeviceFlowError('invalid_response', `the metadata names issuer ${JSON.stringify(body.issuer)}, not ${issuer} (RFC 8414 §3.3)`);
  if (typeof body.device_authorization_endpoint !== 'string' || typeof body.token_endpoint !== 'string') {
    throw new DeviceFlowError('invalid_response', `${issuer} offers no device authorization endpoint (RFC 8628 §4)`);
  }
  return { deviceAuthorizationEndpoint: body.device_authorization_endpoint, tokenEndpoint: body.token_endpoint };
}

async function readJson(response: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return { status: response.status, body: typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {} };
}

function errorOf(body: Record<string, unknown>, what: string): DeviceFlowError {
  const code = typeof body.error === 'string' ? body.error : 'invalid_response';
  const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
  return new DeviceFlowError(code, `${what} (${code})${description}`);
}
