/**
 * `warden token`: a client of the running stack. Reads `<state-dir>/stack.json`, discovers the
 * token endpoint from the authorization server's metadata (RFC 8414) and asks it for an access
 * token with the client_credentials grant — the same request any machine client makes.
 */
import { readStackInfo, STACK_FILE, type StackInfo } from '../stack/index.js';
import { UsageError } from './errors.js';

export { UsageError };

/** How long each HTTP request to the stack may take. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@link tokenCommand}, as commander parses them. */
export interface TokenCommandOptions {
  stateDir: string;
  /** Audience (RFC 8707). Default: the first resource in `stack.json`. */
  resource?: string;
  /** Space-separated scopes. Default: none sent, so the server grants the client's defaults. */
  scope?: string;
  /** Which client of `stack.json` to use. Default: the first with a secret and client_credentials. */
  clientId?: string;
}

type StackClient = StackInfo['clients'][number];

function pickClient(info: StackInfo, clientId: string | undefined): StackClient & { client_secret: string } {
  const usable = (c: StackClient): c is StackClient & { client_secret: string } =>
    typeof c.client_secret === 'string' && Array.isArray(c.grant_types) && c.grant_types.includes('client_credentials');
  const clients = Array.isArray(info.clients) ? info.clients : [];
  if (clientId !== undefined) {
    const named = clients.find((c) => c.client_id === clientId);
    if (named === undefined) throw new UsageError(`${STACK_FILE} lists no client "${clientId}"`);
    if (!usable(named)) throw new UsageError(`client "${clientId}" in ${STACK_FILE} has no secret or no client_credentials grant`);
    return named;
  }
  const found = clients.find(usable);
  if (found === undefined) {
    throw new UsageError(
      `${STACK_FILE} lists no client with a secret for client_credentials: only the demo data of "warden start" (authorizationServer.demo: true) puts one there`,
    );
  }
  return found;
}

/** RFC 8414 §3.1: the well-known path is inserted between the issuer's host and its path. */
export function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

/** Fetches, turning "nothing listens there" into advice instead of a stack trace. */
async function request(url: string, init: RequestInit, stateDir: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new UsageError(
      `the stack of ${stateDir} is not answering at ${new URL(url).origin} (${cause}): is it still running? Start it with "warden start --state-dir ${stateDir}"`,
    );
  }
}

async function json(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body = (await response.json()) as unknown;
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Requests an access token from the running stack and returns it (the caller prints it alone,
 * for piping).
 *
 * @throws {UsageError} when there is no stack, no usable client, or the server refuses.
 */
export async function tokenCommand(options: TokenCommandOptions): Promise<string> {
  const info = await readStackInfo(options.stateDir);
  const client = pickClient(info, options.clientId);
  const resource = options.resource ?? info.resources?.[0]?.url;
  if (resource === undefined) throw new UsageError(`${STACK_FILE} lists no resource: pass --resource <url>`);
  if (typeof info.issuer !== 'string' || !URL.canParse(info.issuer)) throw new UsageError(`${STACK_FILE} has no valid issuer`);

  const discovery = metadataUrl(info.issuer);
  const metadataResponse = await request(discovery, { headers: { accept: 'application/json' } }, options.stateDir);
  const metadata = metadataResponse.ok ? await json(metadataResponse) : undefined;
  const tokenEndpoint = metadata?.token_endpoint;
  if (typeof tokenEndpoint !== 'string' || !URL.canParse(tokenEndpoint)) {
    throw new UsageError(`no authorization server metadata at ${discovery} (HTTP ${metadataResponse.status}): is the authorization server enabled?`);
  }

  const form = new URLSearchParams({ grant_type: 'client_credentials', resource });
  if (options.scope !== undefined) form.set('scope', options.scope);
  // RFC 6749 §2.3.1: both halves form-urlencoded before Basic encoding.
  const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64');
  const response = await request(
    tokenEndpoint,
    {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    },
    options.stateDir,
  );
  const body = await json(response);
  if (response.ok && typeof body?.access_token === 'string') return body.access_token;
  const error = typeof body?.error === 'string' ? body.error : `HTTP ${response.status}`;
  const description = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
  throw new UsageError(`the authorization server refused the token request (${error}${description})`);
}
