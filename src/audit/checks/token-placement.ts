/**
 * Where a token may travel: only in the Authorization header. A token in a URL ends up in logs,
 * browser history and Referer headers; a token in a form body invites CSRF.
 */
import { randomBytes } from 'node:crypto';
import { defineCheck, type CheckRun } from '../check.js';
import { primaryCredential, requireProtected } from '../credentials.js';
import { baseline, challengesOf } from '../discovery.js';
import type { Exchange } from '../http-client.js';
import { initializeBody, postHeaders, served } from '../mcp-messages.js';
import { STANDARDS } from '../standards.js';

/**
 * What to put where the token should not be: the user's token when there is one (then acceptance
 * is proven by a served request), else a random string (then the server gives itself away by
 * judging it — an `error` in its challenge that a request without credentials does not get).
 */
async function tokenToMisplace(run: CheckRun): Promise<{ token: string; real: boolean }> {
  await requireProtected(run.ctx);
  const credential = await primaryCredential(run.ctx).catch(() => undefined);
  if (credential !== undefined && credential.key === undefined) return { token: credential.token, real: true };
  const token = `warden-audit-${randomBytes(12).toString('hex')}`;
  run.ctx.redactor.add(token);
  return { token, real: false };
}

/** The server read the misplaced token: it served the request, or judged the token in its challenge. */
async function readToken(run: CheckRun, exchange: Exchange): Promise<boolean> {
  if (served(exchange.response)) return true;
  const baselineHasError = challengesOf((await baseline(run.ctx)).response).some((c) => c.params.error !== undefined);
  if (baselineHasError) return false;
  return (exchange.response.status === 401 || exchange.response.status === 403) && challengesOf(exchange.response).some((c) => c.params.error === 'invalid_token' || c.params.error === 'insufficient_scope');
}

function describe(exchange: Exchange, real: boolean, where: string): string {
  return served(exchange.response)
    ? `The server served a request whose only credential was ${real ? 'the token' : 'a token'} in the ${where}.`
    : `The server judged a made-up token sent in the ${where} (it answered error=${challengesOf(exchange.response).find((c) => c.params.error)?.params.error}), so it reads tokens there.`;
}

export const tokenPlacementChecks = [
  defineCheck({
    id: 'tokens.token-in-query',
    area: 'tokens',
    severity: 'high',
    title: 'Access tokens are accepted in the query string',
    summary: 'Sends initialize with the token in ?access_token= and no Authorization header; the server must not read it.',
    standards: [STANDARDS.mcpTokenRequirements, STANDARDS.rfc6750Query],
    fix: 'Read access tokens from the Authorization header only; answer 400 invalid_request (or ignore the parameter) when one arrives in the URL.',
    needs: [],
    async run(run) {
      const { token, real } = await tokenToMisplace(run);
      const url = new URL(run.ctx.target.url);
      url.searchParams.set('access_token', token);
      const exchange = await run.ctx.send({ method: 'POST', url: url.href, headers: postHeaders(), body: initializeBody() });
      if (await readToken(run, exchange)) run.fail(describe(exchange, real, 'query string'), [exchange]);
    },
  }),
  defineCheck({
    id: 'tokens.token-in-body',
    area: 'tokens',
    severity: 'high',
    title: 'Access tokens are accepted in a form body',
    summary: 'Sends a form-encoded POST carrying access_token= and no Authorization header; the server must not read it.',
    standards: [STANDARDS.mcpTokenRequirements, STANDARDS.rfc6750FormBody],
    fix: 'Read access tokens from the Authorization header only.',
    needs: [],
    async run(run) {
      const { token, real } = await tokenToMisplace(run);
      const exchange = await run.ctx.send({
        method: 'POST',
        url: run.ctx.target.url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json, text/event-stream' },
        body: new URLSearchParams({ access_token: token }).toString(),
      });
      if (await readToken(run, exchange)) run.fail(describe(exchange, real, 'form body'), [exchange]);
    },
  }),
];
