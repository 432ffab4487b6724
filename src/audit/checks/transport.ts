/**
 * Transport: TLS off the local machine, browser access (CORS), and DNS rebinding of local servers.
 */
import { defineCheck } from '../check.js';
import { isLoopbackHost } from '../context.js';
import { authorizationServer, authorizationServerMetadata, baseline, endpoint } from '../discovery.js';
import type { Exchange } from '../http-client.js';
import { initializeBody, postHeaders, served } from '../mcp-messages.js';
import { skip } from '../signals.js';
import { STANDARDS } from '../standards.js';

/** An origin no server should trust; `.invalid` never resolves (RFC 2606). */
export const FOREIGN_ORIGIN = 'https://attacker.warden-audit.invalid';
/** A host name a DNS-rebinding page would send. */
export const FOREIGN_HOST = 'rebind.warden-audit.invalid';

const ENDPOINT_NAMES = ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'jwks_uri', 'revocation_endpoint', 'introspection_endpoint'];

export const transportChecks = [
  defineCheck({
    id: 'transport.plain-http',
    area: 'transport',
    severity: 'high',
    title: 'Tokens travel over plain HTTP',
    summary: 'The MCP endpoint, the issuer and every authorization-server endpoint must use https unless they are on the local machine.',
    standards: [STANDARDS.mcpCommunicationSecurity, STANDARDS.oauth21CommunicationSecurity],
    fix: 'Serve the MCP endpoint and the authorization server over https (TLS); redirect nothing from http, refuse it.',
    needs: [],
    async run({ ctx, fail }) {
      await baseline(ctx);
      const urls = [ctx.target.url];
      const issuer = await authorizationServer(ctx);
      if (issuer !== undefined) urls.push(issuer);
      const metadata = await authorizationServerMetadata(ctx);
      for (const name of ENDPOINT_NAMES) {
        const value = metadata?.document[name];
        if (typeof value === 'string' && URL.canParse(value)) urls.push(value);
      }
      const plain = [...new Set(urls)].filter((u) => {
        const url = new URL(u);
        return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
      });
      if (plain.length > 0) fail(`Plain http off the local machine: ${plain.join(', ')}.`, [await baseline(ctx)]);
    },
  }),
  defineCheck({
    id: 'transport.hsts-missing',
    area: 'transport',
    severity: 'low',
    title: 'No Strict-Transport-Security on an https endpoint',
    summary: 'An https MCP endpoint off the local machine should send HSTS, so clients never fall back to http.',
    standards: [STANDARDS.rfc6797Hsts],
    fix: 'Send `Strict-Transport-Security: max-age=31536000` on every https response.',
    needs: [],
    async run({ ctx, fail }) {
      if (!ctx.target.url.startsWith('https:') || ctx.target.loopback) skip('applies to https endpoints off the local machine');
      const exchange = await baseline(ctx);
      if (exchange.response.header('strict-transport-security') === undefined) fail('The MCP endpoint answers without Strict-Transport-Security.', [exchange]);
    },
  }),
  defineCheck({
    id: 'transport.cors-credentialed',
    area: 'transport',
    severity: 'high',
    title: 'Any web page may make credentialed requests (CORS)',
    summary: `Sends CORS preflights from ${FOREIGN_ORIGIN} to the MCP endpoint and the token endpoint; neither may allow that origin (or "*") together with credentials.`,
    standards: [STANDARDS.fetchCors, STANDARDS.mcpOriginValidation],
    fix: 'Never reflect the request Origin together with `Access-Control-Allow-Credentials: true`; allow credentials only for an explicit list of trusted origins (bearer tokens need no credentials mode).',
    needs: [],
    async run({ ctx, fail }) {
      const targets = [ctx.target.url];
      const token = await endpoint(ctx, 'token_endpoint');
      if (token !== undefined) targets.push(token);
      const bad: Exchange[] = [];
      for (const url of targets) {
        const exchange = await ctx.send({
          method: 'OPTIONS',
          url,
          headers: { origin: FOREIGN_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, dpop' },
        });
        const origin = exchange.response.header('access-control-allow-origin');
        const credentials = exchange.response.header('access-control-allow-credentials')?.trim().toLowerCase() === 'true';
        if (credentials && (origin === FOREIGN_ORIGIN || origin === '*')) bad.push(exchange);
      }
      if (bad.length > 0) {
        const wildcard = bad.every((e) => e.response.header('access-control-allow-origin') === '*');
        fail(
          wildcard
            ? `"Access-Control-Allow-Origin: *" with credentials at ${bad.map((e) => e.request.url).join(', ')} (browsers refuse this combination, but the intent is to let any page send credentials).`
            : `The foreign origin is reflected with "Access-Control-Allow-Credentials: true" at ${bad.map((e) => e.request.url).join(', ')}: any web page can send the user's cookies and read the answers.`,
          bad,
          wildcard ? { severity: 'medium' } : {},
        );
      }
    },
  }),
  defineCheck({
    id: 'transport.dns-rebinding',
    area: 'transport',
    severity: 'low',
    title: 'A local server does not refuse a foreign Origin or Host',
    summary: `On a loopback target, sends initialize with Origin ${FOREIGN_ORIGIN}, and with Host ${FOREIGN_HOST}; each must be refused (403) before anything else.`,
    standards: [STANDARDS.mcpOriginValidation],
    fix: 'Answer 403 to any request whose Origin is present and not yours, and to any Host that is not the server\'s own name (DNS rebinding).',
    needs: ['loopback'],
    async run({ ctx, fail }) {
      if (!ctx.target.loopback) skip('applies to servers on the local machine');
      const send = (headers: Record<string, string>, note: string) => ctx.send({ method: 'POST', url: ctx.target.url, headers: { ...postHeaders(), ...headers }, body: initializeBody(), note });
      const withOrigin = await send({ origin: FOREIGN_ORIGIN }, 'a page on a foreign origin');
      const withHost = await send({ host: FOREIGN_HOST }, 'a DNS-rebinding page: the browser sends the attacker\'s host name');
      const unrefused = [withOrigin, withHost].filter((e) => e.response.status !== 403 && e.response.status !== 421 && e.response.status !== 400);
      if (unrefused.length === 0) return;
      const what = unrefused.map((e) => (e === withOrigin ? `Origin ${FOREIGN_ORIGIN}` : `Host ${FOREIGN_HOST}`));
      const servedAny = unrefused.some((e) => served(e.response));
      fail(
        `Not refused: ${what.join(' and ')} (answered ${unrefused.map((e) => e.response.status).join(', ')}).${servedAny ? '' : ' Authentication still stands in the way: a rebinding page holds no token.'}`,
        unrefused,
        servedAny ? { severity: 'high' } : {},
      );
    },
  }),
];
