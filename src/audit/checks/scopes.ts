/**
 * Scopes per tool. The only tool the audit ever calls is the one the user names with
 * `--probe-tool`: a harmless tool the token is NOT scoped for. A server that enforces scopes
 * refuses it with 403 insufficient_scope; one that does not runs a harmless tool — so a server
 * that fails this check is never harmed by it.
 */
import { defineCheck, type CheckRun } from '../check.js';
import { requireCredential } from '../credentials.js';
import { challengesOf } from '../discovery.js';
import type { Exchange } from '../http-client.js';
import { jsonRpcMessages, toolRan, toolsCallBody } from '../mcp-messages.js';
import { closeSession, openSession } from '../session.js';
import { inconclusive, skip } from '../signals.js';
import { STANDARDS } from '../standards.js';

/** The one call of the probe tool, made once per audit. */
function probeToolCall(run: CheckRun): Promise<Exchange> {
  const { ctx } = run;
  return ctx.memo('probe-tool-call', async () => {
    const tool = ctx.options.probeTool;
    if (tool === undefined) skip('needs --probe-tool: a harmless tool the token is not scoped for');
    const credential = await requireCredential(ctx);
    const { session } = await openSession(ctx, credential);
    const call = await ctx.authorized(credential, { body: toolsCallBody(tool), ...(session && { session }), note: `${credential.label} calls ${tool}, the tool named by --probe-tool` });
    if (session !== undefined) await closeSession(ctx, credential, session);
    return call;
  });
}

function jsonRpcError(exchange: Exchange): string | undefined {
  for (const message of jsonRpcMessages(exchange.response)) {
    const error = (message as { error?: { message?: unknown } } | null)?.error;
    if (error !== undefined) return typeof error.message === 'string' ? error.message : 'error';
  }
  return undefined;
}

export const scopeChecks = [
  defineCheck({
    id: 'scopes.not-enforced',
    area: 'scopes',
    severity: 'high',
    title: 'A tool outside the token\'s scope runs',
    summary: 'Calls --probe-tool (a harmless tool the token is not scoped for) with the token; it must be refused with 403 insufficient_scope.',
    standards: [STANDARDS.mcpScopeChallenge, STANDARDS.rfc6750ErrorCodes, STANDARDS.oauth21TokenValidation],
    fix: 'Check the scopes every tools/call needs (per tool, batches included) before running it; answer 403 with error="insufficient_scope" and the scopes needed.',
    needs: ['probe-tool', 'token'],
    async run(run) {
      const call = await probeToolCall(run);
      const { status } = call.response;
      if (status === 403) return;
      if (toolRan(call.response)) {
        run.fail(`${run.ctx.options.probeTool} ran with a token that is not scoped for it (HTTP ${status}).`, [call]);
        return;
      }
      const error = jsonRpcError(call);
      inconclusive(
        status === 401
          ? 'the call was refused with 401 (the token itself was not accepted)'
          : `the call neither ran nor was refused for scope (HTTP ${status}${error ? `, "${error}"` : ''}): is --probe-tool the name of a tool, callable without arguments?`,
      );
    },
  }),
  defineCheck({
    id: 'scopes.step-up-challenge',
    area: 'scopes',
    severity: 'low',
    title: 'A scope refusal does not say which scopes are needed',
    summary: 'The 403 for --probe-tool must carry WWW-Authenticate with error="insufficient_scope" and scope, so clients can step up.',
    standards: [STANDARDS.mcpScopeChallenge, STANDARDS.rfc6750ErrorCodes],
    fix: 'Answer `403` with `WWW-Authenticate: Bearer error="insufficient_scope", scope="<all scopes the call needs>", resource_metadata="…"`.',
    needs: ['probe-tool', 'token'],
    async run(run) {
      const call = await probeToolCall(run);
      if (call.response.status !== 403) skip('the probe tool was not refused with 403');
      const challenge = challengesOf(call.response).find((c) => c.params.error === 'insufficient_scope');
      if (challenge === undefined) run.fail('The 403 has no challenge with error="insufficient_scope".', [call]);
      else if (challenge.params.scope === undefined) run.fail('The insufficient_scope challenge does not list the scopes needed.', [call]);
    },
  }),
];
