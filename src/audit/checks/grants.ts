/**
 * Grants the audit holds a real instance of — a code from a sign-in (or from a server that issues
 * codes without one) and the refresh token that came with it — replayed as an attacker who
 * intercepted them would.
 */
import { defineCheck, type CheckRun } from '../check.js';
import type { AuditClient, TokenResponse } from '../credentials.js';
import { errorOf, tokenRequest } from '../credentials.js';
import { authorizationServerMetadata } from '../discovery.js';
import { signInGrant } from '../sign-in.js';
import { inconclusive, skip } from '../signals.js';
import { STANDARDS } from '../standards.js';
import { authorizeControl } from './authorize.js';

/** A code the audit redeemed once, legitimately. */
interface RedeemedCode {
  code: string;
  form: Record<string, string>;
  client: AuditClient;
  dpop: boolean;
  first: TokenResponse;
  /** The authorization response it came in. */
  callback: URL;
}

/** The sign-in's code, else a code the server handed out without a user; redeemed once. */
function redeemedCode(run: CheckRun): Promise<RedeemedCode> {
  const { ctx } = run;
  return ctx.memo('redeemed-code', async () => {
    if (ctx.options.signIn !== undefined) {
      const grant = await signInGrant(ctx);
      if ('reason' in grant) skip(`the sign-in did not complete: ${grant.reason}`);
      const form = { grant_type: 'authorization_code', code: grant.code, code_verifier: grant.verifier, redirect_uri: grant.redirectUri, resource: ctx.target.canonical };
      return { code: grant.code, form, client: grant.client, dpop: grant.dpop, first: grant.tokens, callback: grant.callback };
    }
    const control = await authorizeControl(run).catch(() => undefined);
    if (control?.outcome.kind !== 'redirect' || control.outcome.code === undefined) skip('needs a code: --sign-in');
    const code = control.outcome.code;
    const form = { grant_type: 'authorization_code', code, code_verifier: control.verifier, redirect_uri: control.client.redirectUri, resource: ctx.target.canonical };
    const client: AuditClient = { clientId: control.client.clientId, ...(ctx.options.clientSecret !== undefined && control.client.source === 'option' && { clientSecret: ctx.options.clientSecret }) };
    const first = await tokenRequest(ctx, form, { client, note: 'the code, redeemed for the first time' });
    if (first.accessToken === undefined) inconclusive(`the first redemption of the code was refused (HTTP ${first.exchange.response.status}${errorOf(first)})`);
    return { code, form, client, dpop: false, first, callback: new URL(control.outcome.location) };
  });
}

// Refresh reuse runs before code reuse: a server that revokes a code's tokens when the code is
// replayed (RFC 6749 §4.1.2) would otherwise have revoked the refresh token this check needs.
export const grantChecks = [
  defineCheck({
    id: 'as.refresh-reuse',
    area: 'authorization-server',
    severity: 'high',
    title: 'A used refresh token still works',
    summary: 'Refreshes once (the token must rotate for a public client), then presents the old refresh token again. Runs only with --allow-refresh: detecting reuse may revoke the grant.',
    standards: [STANDARDS.rfc9700RefreshToken, STANDARDS.mcpTokenTheft],
    fix: 'Rotate refresh tokens on every use (or sender-constrain them) and treat reuse of a rotated one as theft: refuse it and revoke the family.',
    needs: ['sign-in', 'allow-refresh'],
    async run(run) {
      const { ctx } = run;
      if (ctx.options.allowRefresh !== true) skip('needs --allow-refresh (reuse detection may revoke the signed-in grant)');
      const redeemed = await redeemedCode(run);
      const original = redeemed.first.refreshToken;
      if (original === undefined) skip('no refresh token was issued');
      const refresh = (token: string, note: string) =>
        tokenRequest(ctx, { grant_type: 'refresh_token', refresh_token: token }, { client: redeemed.client, ...(redeemed.dpop && { key: ctx.auditKey }), note });
      const rotated = await refresh(original, 'the refresh token, used once');
      if (rotated.accessToken === undefined) inconclusive(`the first refresh was refused (HTTP ${rotated.exchange.response.status}${errorOf(rotated)})`);
      if (rotated.refreshToken === undefined || rotated.refreshToken === original) {
        if (redeemed.dpop || redeemed.client.clientSecret !== undefined) return;
        run.fail('The refresh token of a public client is neither rotated nor sender-constrained: a stolen one works until it expires.', [rotated.exchange]);
        return;
      }
      const reused = await refresh(original, 'the same (now rotated) refresh token again');
      if (reused.accessToken === undefined) return;
      if (reused.refreshToken === rotated.refreshToken) {
        // A grace window for retries: the same successor again, not a new grant. With a
        // sender-constrained refresh token only the key holder can even try.
        run.fail(
          `Reusing the rotated refresh token returned the same successor again — a grace window for client retries (a deliberate trade-off in some servers), not a new grant${redeemed.dpop ? '; the refresh token is DPoP-bound, so only the key holder can use the window' : ''}.`,
          [rotated.exchange, reused.exchange],
          { severity: redeemed.dpop ? 'info' : 'low' },
        );
        return;
      }
      run.fail('The rotated refresh token was accepted again and produced new tokens: reuse is not detected.', [rotated.exchange, reused.exchange]);
    },
  }),
  defineCheck({
    id: 'as.code-reuse',
    area: 'authorization-server',
    severity: 'high',
    title: 'An authorization code can be redeemed twice',
    summary: 'Redeems the sign-in\'s authorization code a second time (same client, verifier and key).',
    standards: [STANDARDS.rfc6749CodeSingleUse],
    fix: 'Consume codes atomically on first use; refuse a second use with invalid_grant and revoke the tokens the code produced.',
    needs: ['sign-in'],
    async run(run) {
      const redeemed = await redeemedCode(run);
      const again = await tokenRequest(run.ctx, redeemed.form, { client: redeemed.client, ...(redeemed.dpop && { key: run.ctx.auditKey }), note: 'the same code, redeemed a second time' });
      if (again.accessToken !== undefined) run.fail('The code was redeemed a second time for new tokens: an intercepted code stays usable after the client used it.', [redeemed.first.exchange, again.exchange]);
    },
  }),
  defineCheck({
    id: 'as.authorization-response-iss',
    area: 'authorization-server',
    severity: 'medium',
    title: 'The authorization response lacks the iss it advertises',
    summary: 'When the metadata says authorization_response_iss_parameter_supported, the sign-in\'s redirect must carry iss equal to the issuer.',
    standards: [STANDARDS.rfc9207Iss],
    fix: 'Add `iss=<issuer>` to every authorization response, success and error alike.',
    needs: ['sign-in'],
    async run(run) {
      const metadata = await authorizationServerMetadata(run.ctx);
      if (metadata?.document.authorization_response_iss_parameter_supported !== true) skip('the metadata does not advertise iss in authorization responses');
      const redeemed = await redeemedCode(run);
      const iss = redeemed.callback.searchParams.get('iss');
      // RFC 9207 §2.4: the client compares iss with the issuer it expects — the one the resource named.
      if (iss !== metadata.issuer) {
        const what = iss === null ? 'has no iss parameter' : `says iss=${iss}; the issuer is ${metadata.issuer}`;
        run.fail(`The authorization response ${redeemed.callback.href} ${what}.`, []);
      }
    },
  }),
];
