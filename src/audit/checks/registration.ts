/**
 * Open dynamic registration (RFC 7591): what anyone on the internet can register. A client that
 * registers itself must not get machine access (client_credentials) nor a redirect URI a browser
 * would run as script or send over plain http.
 */
import { defineCheck } from '../check.js';
import { asSupportsDpop, tokenRequest } from '../credentials.js';
import { endpoint, resourceMetadata, stringList } from '../discovery.js';
import type { Exchange } from '../http-client.js';
import { register } from '../registration.js';
import { skip } from '../signals.js';
import { STANDARDS } from '../standards.js';
import type { Severity } from '../types.js';

async function requireRegistration(ctx: Parameters<typeof register>[0]): Promise<void> {
  if (ctx.options.register === false) skip('registration probes are off (--no-register)');
  if ((await endpoint(ctx, 'registration_endpoint')) === undefined) skip('the authorization server offers no registration endpoint');
}

/** Redirect URIs no registration should accept, and how bad accepting each is. */
const DANGEROUS_REDIRECTS: Array<{ uri: string; what: string; severity: Severity }> = [
  { uri: 'javascript:alert(document.domain)//https://client.warden-audit.invalid/callback', what: 'a javascript: URI', severity: 'medium' },
  { uri: 'data:text/html,warden-audit', what: 'a data: URI', severity: 'medium' },
  { uri: 'http://client.warden-audit.invalid/callback', what: 'plain http off the local machine', severity: 'low' },
];

export const registrationChecks = [
  defineCheck({
    id: 'as.registration-machine-grant',
    area: 'authorization-server',
    severity: 'high',
    title: 'Anyone can register a client that gets tokens without a user',
    summary: 'Registers a confidential client asking for client_credentials and every scope in scopes_supported, then asks for a token for the target.',
    standards: [STANDARDS.rfc7591Security, STANDARDS.rfc6749ClientCredentials],
    fix: 'Grant client_credentials (and other machine grants) only to clients an operator registered; open registration should yield user-facing clients (authorization code + PKCE) only.',
    needs: [],
    async run({ ctx, fail }) {
      await requireRegistration(ctx);
      const scopes = stringList((await resourceMetadata(ctx))?.document, 'scopes_supported');
      const registration = await register(ctx, {
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [],
        ...(scopes.length > 0 && { scope: scopes.join(' ') }),
      }, 'a confidential client asking for client_credentials');
      if (registration?.clientId === undefined || registration.clientSecret === undefined) return;
      const dpop = await asSupportsDpop(ctx);
      const response = await tokenRequest(
        ctx,
        { grant_type: 'client_credentials', resource: ctx.target.canonical, ...(scopes.length > 0 && { scope: scopes.join(' ') }) },
        { client: { clientId: registration.clientId, clientSecret: registration.clientSecret }, ...(dpop && { key: ctx.auditKey }), note: 'client_credentials for the client the audit just registered' },
      );
      if (response.accessToken === undefined) return;
      const granted = typeof response.body?.scope === 'string' ? ` with scope "${response.body.scope}"` : '';
      fail(`A client anyone can register obtained an access token for ${ctx.target.canonical}${granted} without any user involved.`, [registration.exchange, response.exchange]);
    },
  }),
  defineCheck({
    id: 'as.registration-dangerous-redirect',
    area: 'authorization-server',
    severity: 'medium',
    title: 'Registration accepts dangerous redirect URIs',
    summary: 'Registers public clients whose redirect URI is a javascript: or data: URI, or plain http off the local machine.',
    standards: [STANDARDS.mcpCommunicationSecurity, STANDARDS.rfc9700RedirectUri, STANDARDS.rfc6749RedirectionEndpoint],
    fix: 'Accept only https redirect URIs (http only on loopback) and private-use schemes of native apps; never script or data schemes.',
    needs: [],
    async run({ ctx, fail }) {
      await requireRegistration(ctx);
      const accepted: Array<{ what: string; severity: Severity; exchange: Exchange }> = [];
      for (const candidate of DANGEROUS_REDIRECTS) {
        const registration = await register(ctx, {
          redirect_uris: [candidate.uri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }, `redirect URI: ${candidate.what}`);
        const kept = stringList(registration?.body, 'redirect_uris');
        if (registration?.clientId !== undefined && (kept.length === 0 || kept.includes(candidate.uri))) accepted.push({ ...candidate, exchange: registration.exchange });
      }
      if (accepted.length === 0) return;
      const worst: Severity = accepted.some((a) => a.severity === 'medium') ? 'medium' : 'low';
      fail(`Registered clients with ${accepted.map((a) => a.what).join('; ')}.`, accepted.slice(0, 2).map((a) => a.exchange), { severity: worst });
    },
  }),
];
