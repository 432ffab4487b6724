import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, isIPv4, type LookupFunction } from 'node:net';
import type { ClientRecord } from '../../stores/authorization-server-contracts.js';
import { TemporarilyUnavailableError } from '../../oauth/errors.js';
import type { AsContext } from '../context.js';
import type { FetchRefusal } from './metadata-document-limits.js';
import { isPublicAddress } from './public-address.js';
import { clientRecordFromMetadata, parseClientMetadataJson, validateClientMetadata } from './validate-metadata.js';
import { WardenError } from '../../oauth/errors.js';

/** Cache lifetime bounds for a fetched document (seconds): refetch at least daily, at most every minute. */
export const METADATA_DOCUMENT_MIN_TTL = 60;
export const METADATA_DOCUMENT_MAX_TTL = 24 * 3600;
/** Used when the response carries no `max-age`. */
export const METADATA_DOCUMENT_DEFAULT_TTL = 3600;

const MAX_CLIENT_ID_URL_LENGTH = 2048;
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why a metadata document was not used. Stays inside this module's callers; never carries document content. */
export class MetadataDocumentError extends WardenError {
  /**
   * The fetch could not be made or answered with an error (RFC 5861 §4: a timeout, a connection
   * or DNS failure, 500/502/503/504 — and 429): a cached record may be served stale meanwhile.
   * Otherwise the host's answer is definitive (a 4xx, a redirect, a document refused) and any
   * cached record ends.
   */
  readonly transient: boolean;

  constructor(reason: string, options: { transient?: boolean } = {}) {
    super('invalid_client_metadata_document', reason);
    this.transient = options.transient ?? false;
  }
}

const fail = (reason: string): never => {
  throw new MetadataDocumentError(reason);
};

/** Answers that say "not now" rather than "no": RFC 5861 §4's errors, and 429 (RFC 6585 §4). */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

// ---------------------------------------------------------------------------------------------
// Client id URL

/** True when a raw path has a `.` or `..` segment, percent-encoded or not. */
const hasDotSegment = (path: string): boolean => path.split('/').some((s) => /^(\.|%2e){1,2}$/i.test(s));

/**
 * Checks a client id that should be a metadata-document URL (draft-ietf-oauth-client-id-metadata-document
 * "Client Identifier URL"): https, a path beyond `/`, no fragment, no userinfo, no dot segments, and
 * written in the canonical form a URL parser produces (so one document has exactly one client id).
 * `http:` only with `allowLoopbackHttp` on a loopback host — a development concession.
 */
function parseClientIdUrl(clientId: string, allowLoopbackHttp: boolean): URL {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH || !/^[\x21-\x7E]+$/.test(clientId) || clientId.includes('\\')) fail('client id URL has invalid characters or length');
  if (clientId.includes('#')) fail('client id URL must not contain a fragment');
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return fail('client id is not a URL');
  }
  if (url.protocol === 'http:') {
    if (!allowLoopbackHttp || !LOOPBACK_HOSTS.has(url.hostname)) fail('client id URL must use https');
  } else if (url.protocol !== 'https:') fail('client id URL must use https');
  if (url.username !== '' || url.password !== '' || /^https?:\/\/[^/?#]*@/.test(clientId)) fail('client id URL must not contain userinfo');
  const rawPath = /^https?:\/\/[^/?#]*([^?#]*)/.exec(clientId)?.[1] ?? '';
  if (hasDotSegment(rawPath)) fail('client id URL must not contain dot segments');
  if (url.pathname.length <= 1) fail('client id URL must have a path');
  if (url.href !== clientId) fail('client id URL must be in canonical form');
  return url;
}

/** An address the connection may use: vetted, and the only thing the socket's lookup will ever return. */
interface VettedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves `host` and returns the addresses to connect to, refusing the whole name if any of them is not public. */
async function vetHost(host: string, allowPrivate: boolean): Promise<VettedAddress[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  const addresses: LookupAddress[] =
    literal !== 0
      ? [{ address: bare, family: literal }]
      : await new Promise<LookupAddress[]>((resolve, reject) => {
          dnsLookup(bare, { all: true }, (error, found) => (error === null ? resolve(found) : reject(new MetadataDocumentError('client id host does not resolve', { transient: true }))));
        });
  if (addresses.length === 0) fail('client id host does not resolve');
  // One bad address refuses the name: otherwise a resolver answering [public, private] lets the connect step pick either.
  if (!allowPrivate && addresses.some((a) => !isPublicAddress(a.address))) fail('client id host resolves to a non-public address');
  return addresses.map((a) => ({ address: a.address, family: isIPv4(a.address) ? 4 : 6 }));
}

// ---------------------------------------------------------------------------------------------
// Fetch

/** TTL from `Cache-Control` (RFC 9111 §5.2.2): `max-age` clamped to [60 s, 24 h]; `no-store`/`no-cache` → the minimum. */
function cacheSeconds(header: string | undefined): number {
  if (header === undefined) return METADATA_DOCUMENT_DEFAULT_TTL;
  if (/(^|,)\s*(no-store|no-cache)\s*(,|$|=)/i.test(header)) return METADATA_DOCUMENT_MIN_TTL;
  const maxAge = /(^|,)\s*max-age\s*=\s*"?([0-9]+)"?\s*(,|$)/i.exec(header)?.[2];
  if (maxAge === undefined) return METADATA_DOCUMENT_DEFAULT_TTL;
  return Math.min(METADATA_DOCUMENT_MAX_TTL, Math.max(METADATA_DOCUMENT_MIN_TTL, Number(maxAge)));
}

interface FetchedDocument {
  body: Buffer;
  ttl: number;
}

/** GETs the document from the vetted address: no redirects, no compression, size and time capped. */
function getDocument(url: URL, targets: readonly VettedAddress[], maxBytes: number, signal: AbortSignal): Promise<FetchedDocument> {
  // Pins the connection to the vetted addresses, so a second DNS answer (rebinding) cannot redirect it.
  // With `all` (Node's happy-eyeballs connect) every vetted address is offered, so `localhost` → [::1, 127.0.0.1] still connects.
  const first = targets[0] as VettedAddress;
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all === true) callback(null, targets.map((t) => ({ address: t.address, family: t.family })));
    else callback(null, first.address, first.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<FetchedDocument>((resolve, reject) => {
    const req = client.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { Accept: 'application/json', 'Accept-Encoding': 'identity', 'User-Agent': 'mcp-warden' },
        lookup: pinned,
        agent: false,
        signal,
      },
      (res: IncomingMessage) => {
        const refuse = (reason: string, transient = false): void => {
          res.destroy();
          reject(new MetadataDocumentError(reason, { transient }));
        };
        const status = res.statusCode ?? 0;
        // The draft requires a 200; following a redirect would fetch a URL nobody vetted.
        if (status >= 300 && status < 400) return refuse('metadata document redirects are not followed');
        if (status !== 200) return refuse(`metadata document answered ${status}`, TRANSIENT_STATUSES.has(status));
        if (!/^application\/json[ \t]*(;|$)/i.test(res.headers['content-type'] ?? '')) return refuse('metadata document is not application/json');
        const encoding = res.headers['content-encoding'];
        if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return refuse('metadata document is content-encoded');
        if (Number(res.headers['content-length'] ?? '0') > maxBytes) return refuse(`metadata document exceeds ${maxBytes} bytes`);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) refuse(`metadata document exceeds ${maxBytes} bytes`);
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ body: Buffer.concat(chunks, size), ttl: cacheSeconds(res.headers['cache-control']) }));
        res.on('error', () => reject(new MetadataDocumentError('metadata document could not be read', { transient: true })));
        return undefined;
      },
    );
    req.on('error', () => reject(new MetadataDocumentError(signal.aborted ? 'metadata document fetch timed out' : 'metadata document could not be fetched', { transient: true })));
    req.end();
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Fetches, checks and converts the Client ID Metadata Document at `clientId` (which must be the
 * document's URL), without caching it. Every failure is a {@link MetadataDocumentError} whose
 * message is a reason safe to log (no document content).
 *
 * The fetch is SSRF-guarded: the host's addresses are resolved first and the whole name is refused
 * if any of them is not public ({@link isPublicAddress}) unless `allowPrivateNetworks` is set; the
 * connection is then pinned to the vetted address. No redirects, `timeoutMs` for the whole
 * exchange (lookup included), at most `maxBytes`, `application/json` only. The document's
 * `client_id` must equal the URL byte for byte, and `token_endpoint_auth_method` must be `none`
 * or `private_key_jwt` (with `jwks` or `jwks_uri`, the latter fetched through the same guard).
 *
 * `http:` client ids are accepted only when `allowPrivateNetworks` is set and the host is
 * `127.0.0.1`, `[::1]` or `localhost` — a development and test concession (serving a document
 * without TLS certificates); production ids are https. It uses node:https rather than `fetch`:
 * the guard needs control of name resolution and the socket, which `fetch` does not give.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
export async function fetchClientMetadataDocument(ctx: AsContext, clientId: string): Promise<ClientRecord> {
  const settings = ctx.clientMetadataDocuments;
  const url = parseClientIdUrl(clientId, settings.allowPrivateNetworks);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new MetadataDocumentError('metadata document fetch timed out', { transient: true }));
    }, settings.timeoutMs);
  });
  let fetched: FetchedDocument;
  try {
    fetched = await Promise.race([
      vetHost(url.hostname, settings.allowPrivateNetworks).then((targets) => getDocument(url, targets, settings.maxBytes, controller.signal)),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }

  let text: string;
  try {
    text = utf8.decode(fetched.body);
  } catch {
    return fail('metadata document is not UTF-8');
  }
  let metadata;
  try {
    metadata = validateClientMetadata(parseClientMetadataJson(text), {
      source: 'metadata-document',
      allowLoopbackHttp: settings.allowPrivateNetworks,
      ...(ctx.options.assertions?.algorithms !== undefined && { assertionAlgorithms: ctx.options.assertions.algorithms }),
    });
  } catch (error) {
    return fail(`metadata document is invalid: ${(error as Error).message}`);
  }
  // Simple string comparison, as the draft requires: no normalisation on either side.
  if (metadata.clientId !== clientId) fail('metadata document client_id does not equal its URL');
  const now = ctx.now();
  return clientRecordFromMetadata(metadata, { clientId, source: 'metadata-document', createdAt: now, expiresAt: now + fetched.ttl });
}

/** How one fetch ended: a record, or a failure that may (transient) or may not leave a stale record usable. */
type FetchOutcome = { record: ClientRecord } | { failed: 'transient' | 'definitive' };

/** In-flight fetches per context and client id, so a burst of requests for one new client fetches once. */
const inFlight = new WeakMap<AsContext, Map<string, Promise<FetchOutcome>>>();

/** The answer to a fetch the limits refused: 503 with `Retry-After`, so the client knows to come back. */
function refusal(refused: FetchRefusal): TemporarilyUnavailableError {
  const description =
    refused.reason === 'capacity'
      ? 'too many client metadata documents are being fetched right now; retry shortly'
      : `too many client metadata documents were fetched from ${refused.host} in the last minute; retry in ${refused.retryAfterSeconds} s`;
  return new TemporarilyUnavailableError(description, { retryAfterSeconds: refused.retryAfterSeconds });
}

/** `stale`, if it is an expired metadata-document record still within `maxStaleSeconds` of its expiry. */
function usableStale(ctx: AsContext, stale: ClientRecord | undefined): ClientRecord | undefined {
  if (stale?.source !== 'metadata-document' || stale.expiresAt === undefined) return undefined;
  return stale.expiresAt + ctx.clientMetadataDocuments.maxStaleSeconds > ctx.now() ? stale : undefined;
}

/**
 * Resolves a client id that is a Client ID Metadata Document URL (MCP 2025-11-25), when
 * `clientMetadataDocuments.enabled`: the document is fetched with
 * {@link fetchClientMetadataDocument}, stored as a `metadata-document` client whose `expiresAt`
 * follows the response's `Cache-Control` (clamped to [60 s, 24 h], default 1 h), and returned;
 * `getClient` serves it from the store until then. Ids that are not such URLs are `undefined`
 * without any network activity.
 *
 * The fetch runs on behalf of an unauthenticated request, so it is limited
 * (`metadata-document-limits.ts`): concurrent lookups of one id share one fetch; a failure is
 * remembered for `failureCacheSeconds` (meanwhile nothing is fetched for the id); at most
 * `maxConcurrentFetches` fetches run at once and at most `fetchesPerHostPerMinute` go to one
 * registrable domain (`hostRateKey`) — beyond either, this rejects with 503
 * `temporarily_unavailable` and `Retry-After` (never queued).
 *
 * `stale` is the expired record `getClient` found, if any. While a refetch is refused by those
 * limits, or fails transiently (a timeout, a connection or DNS failure, 429, 500, 502, 503, 504),
 * it is served instead — for at most `maxStaleSeconds` (default 24 h) past its expiry, the
 * stale-if-error of RFC 5861 §4 — so limits meant for strangers never lock out a known client. A
 * definitive answer (another status, a redirect, a document refused) ends it: the record is
 * deleted and the client is unknown. Otherwise a failure yields `undefined` — an unknown client —
 * and nothing is logged. Store failures propagate.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5861#section-4
 */
export async function resolveMetadataDocumentClient(ctx: AsContext, clientId: string, stale?: ClientRecord): Promise<ClientRecord | undefined> {
  const settings = ctx.clientMetadataDocuments;
  if (!settings.enabled) return undefined;
  if (!clientId.startsWith('https://') && !(settings.allowPrivateNetworks && clientId.startsWith('http://'))) return undefined;
  const fallback = usableStale(ctx, stale?.clientId === clientId ? stale : undefined);
  let pending = inFlight.get(ctx);
  if (pending === undefined) inFlight.set(ctx, (pending = new Map()));
  const running = pending.get(clientId);
  if (running !== undefined) return outcomeOf(await running, fallback);

  const limits = ctx.metadataDocumentLimits;
  if (limits.failedRecently(clientId, ctx.now())) return fallback;
  let url: URL;
  try {
    url = parseClientIdUrl(clientId, settings.allowPrivateNetworks);
  } catch {
    return undefined;
  }
  const slot = limits.acquire(url.host, ctx.now());
  if ('refused' in slot) {
    if (fallback !== undefined) return fallback;
    throw refusal(slot.refused);
  }

  const table = pending;
  const work = (async (): Promise<FetchOutcome> => {
    let record: ClientRecord;
    try {
      record = await fetchClientMetadataDocument(ctx, clientId);
    } catch (error) {
      limits.recordFailure(clientId, ctx.now());
      // Anything but a MetadataDocumentError is our own failure, not the host's answer.
      if (error instanceof MetadataDocumentError && !error.transient) {
        if (stale?.source === 'metadata-document') await ctx.stores.clients.delete(clientId);
        return { failed: 'definitive' };
      }
      return { failed: 'transient' };
    }
    await ctx.stores.clients.put(record);
    return { record };
  })().finally(() => {
    slot.release();
    table.delete(clientId);
  });
  table.set(clientId, work);
  return outcomeOf(await work, fallback);
}

/** What a lookup answers for a fetch's outcome: the record, else the stale fallback after a transient failure. */
function outcomeOf(outcome: FetchOutcome, fallback: ClientRecord | undefined): ClientRecord | undefined {
  if ('record' in outcome) return outcome.record;
  return outcome.failed === 'transient' ? fallback : undefined;
}
