/**
 * Without credentials: every method and transport path must answer 401 with a challenge an MCP
 * client can act on (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1).
 */
import { defineCheck } from '../check.js';
import type { AuditContext } from '../context.js';
import { baseline, challengesOf, resourceMetadata } from '../discovery.js';
import type { Exchange } from '../http-client.js';
import { batchBody, initializedNotificationBody, postHeaders, served, toolsCallBody, toolsListBody } from '../mcp-messages.js';
import { STANDARDS } from '../standards.js';

/** One unauthenticated request, and what serving it would mean. */
interface Probe {
  label: string;
  exchange: Exchange;
  kind: 'request' | 'notification' | 'stream';
}

/** The unauthenticated requests, sent once: POST request/notification/batch, GET stream, DELETE, and the probe tool. */
function unauthenticatedProbes(ctx: AuditContext): Promise<Probe[]> {
  return ctx.memo('unauthenticated-probes', async () => {
    const url = ctx.target.url;
    const probes: Probe[] = [{ label: 'POST initialize', exchange: await baseline(ctx), kind: 'request' }];
    const post = async (label: string, body: string, kind: Probe['kind'] = 'request') =>
      probes.push({ label, kind, exchange: await ctx.send({ method: 'POST', url, headers: postHeaders(), body }) });
    await post('POST tools/list', toolsListBody());
    await post('POST notifications/initialized', initializedNotificationBody(), 'notification');
    await post('POST batch [tools/list]', batchBody());
    probes.push({ label: 'GET (event stream)', kind: 'stream', exchange: await ctx.send({ method: 'GET', url, headers: { accept: 'text/event-stream' } }) });
    probes.push({
      label: 'DELETE (session termination)',
      kind: 'notification',
      exchange: await ctx.send({ method: 'DELETE', url, headers: { 'mcp-session-id': 'warden-audit-no-such-session' } }),
    });
    // Only the tool the user named as harmless is ever called.
    if (ctx.options.probeTool !== undefined) await post(`POST tools/call ${ctx.options.probeTool}`, toolsCallBody(ctx.options.probeTool));
    return probes;
  });
}

function wasServed(probe: Probe): boolean {
  const { response } = probe.exchange;
  if (probe.kind === 'stream') return response.status >= 200 && response.status < 300;
  return served(response, probe.kind === 'notification' ? 'notification' : 'request');
}

const is401 = (probe: Probe) => probe.exchange.response.status === 401;

export const unauthenticatedChecks = [
  defineCheck({
    id: 'discovery.unauthenticated-access',
    area: 'discovery',
    severity: 'critical',
    title: 'The MCP endpoint serves requests without an access token',
    summary: 'Sends initialize, tools/list, a notification, a batch, a GET stream and a DELETE without credentials (and a tools/call of --probe-tool, if named); each must be refused with 401.',
    standards: [STANDARDS.mcpTokenRequirements, STANDARDS.oauth21TokenValidation],
    fix: 'Authenticate every request on every method before it reaches the MCP handler (notifications, GET streams and DELETE included), and answer 401 with a challenge.',
    needs: [],
    async run({ ctx, fail }) {
      const open = (await unauthenticatedProbes(ctx)).filter(wasServed);
      if (open.length > 0) fail(`Served without credentials: ${open.map((p) => `${p.label} → ${p.exchange.response.status}`).join('; ')}.`, open.map((p) => p.exchange));
    },
  }),
  defineCheck({
    id: 'discovery.challenge-missing',
    area: 'discovery',
    severity: 'high',
    title: 'A 401 carries no Bearer or DPoP challenge',
    summary: 'Every 401 to the unauthenticated requests must carry WWW-Authenticate with a Bearer or DPoP challenge.',
    standards: [STANDARDS.rfc6750Challenge, STANDARDS.mcpPrmDiscovery],
    fix: 'Send `WWW-Authenticate: Bearer resource_metadata="…", scope="…"` (and a DPoP challenge when DPoP is accepted) with every 401.',
    needs: [],
    async run({ ctx, fail }) {
      const bare = (await unauthenticatedProbes(ctx)).filter(is401).filter((p) => !challengesOf(p.exchange.response).some((c) => /^(bearer|dpop)$/i.test(c.scheme)));
      if (bare.length > 0) fail(`No Bearer or DPoP challenge on: ${bare.map((p) => p.label).join('; ')}.`, bare.slice(0, 2).map((p) => p.exchange));
    },
  }),
  defineCheck({
    id: 'discovery.challenge-error-without-credentials',
    area: 'discovery',
    severity: 'low',
    title: 'A challenge to a request without credentials carries an error code',
    summary: 'A 401 to a request that sent no credentials should not include an error code.',
    standards: [STANDARDS.rfc6750ErrorCodes, STANDARDS.rfc9449BoundTokenScheme],
    fix: 'Omit `error` (and `error_description`) from the challenge when the request carried no credentials; keep them for requests whose token failed.',
    needs: [],
    async run({ ctx, fail }) {
      const noisy = (await unauthenticatedProbes(ctx)).filter(is401).filter((p) => challengesOf(p.exchange.response).some((c) => c.params.error !== undefined));
      if (noisy.length > 0) fail(`Error codes in the challenge to: ${noisy.map((p) => p.label).join('; ')}.`, noisy.slice(0, 1).map((p) => p.exchange));
    },
  }),
  defineCheck({
    id: 'discovery.challenge-no-resource-metadata',
    area: 'discovery',
    severity: 'low',
    title: 'The 401 challenge does not name the resource metadata',
    summary: 'The challenge to an unauthenticated initialize should carry resource_metadata, the first place MCP clients look.',
    standards: [STANDARDS.rfc9728Challenge, STANDARDS.mcpPrmDiscovery],
    fix: 'Add `resource_metadata="<URL of the protected-resource metadata>"` to the Bearer (and DPoP) challenge.',
    needs: [],
    async run({ ctx, fail }) {
      const exchange = await baseline(ctx);
      if (exchange.response.status !== 401) return;
      if (!challengesOf(exchange.response).some((c) => c.params.resource_metadata !== undefined)) {
        fail('The challenge has no resource_metadata parameter; clients must guess the well-known URL.', [exchange]);
      }
    },
  }),
  defineCheck({
    id: 'discovery.challenge-no-scope',
    area: 'discovery',
    severity: 'low',
    title: 'The 401 challenge does not say which scopes to request',
    summary: 'The challenge should carry scope, so clients request least privilege.',
    standards: [STANDARDS.mcpPrmDiscovery, STANDARDS.rfc6750Challenge],
    fix: 'Add `scope="…"` with the scopes the request needs to the challenge.',
    needs: [],
    async run({ ctx, fail }) {
      const exchange = await baseline(ctx);
      if (exchange.response.status !== 401) return;
      if (!challengesOf(exchange.response).some((c) => c.params.scope !== undefined)) {
        fail('The challenge has no scope parameter; clients fall back to requesting every scope in scopes_supported.', [exchange]);
      }
    },
  }),
  defineCheck({
    id: 'discovery.dpop-challenge-missing',
    area: 'discovery',
    severity: 'medium',
    title: 'DPoP is required but the 401 offers no DPoP challenge',
    summary: 'When the metadata says dpop_bound_access_tokens_required, the 401 must challenge with the DPoP scheme and list algs.',
    standards: [STANDARDS.rfc9449Challenge, STANDARDS.rfc9728Metadata],
    fix: 'Answer with `WWW-Authenticate: DPoP algs="ES256 …", resource_metadata="…"` when DPoP-bound tokens are required.',
    needs: [],
    async run({ ctx, fail }) {
      const prm = await resourceMetadata(ctx);
      if (prm?.document.dpop_bound_access_tokens_required !== true) return;
      const exchange = await baseline(ctx);
      const dpop = challengesOf(exchange.response).find((c) => c.scheme.toLowerCase() === 'dpop');
      if (dpop === undefined || dpop.params.algs === undefined) {
        fail(dpop === undefined ? 'The metadata requires DPoP-bound tokens, yet the 401 has no DPoP challenge.' : 'The DPoP challenge does not list algs.', [exchange]);
      }
    },
  }),
];
