/**
 * Sessions: an `Mcp-Session-Id` must belong to the principal that opened it. Another principal
 * presenting it — with a valid token of their own — must be refused, or they can read the first
 * principal's results and streams.
 */
import { defineCheck } from '../check.js';
import type { Credential } from '../context.js';
import { boundThumbprint, positiveControl, requireCredential } from '../credentials.js';
import { served, toolsListBody } from '../mcp-messages.js';
import { closeSession, openSession } from '../session.js';
import { inconclusive, skip } from '../signals.js';
import { STANDARDS } from '../standards.js';

export const sessionChecks = [
  defineCheck({
    id: 'sessions.not-bound',
    area: 'sessions',
    severity: 'high',
    title: 'A session can be used by another principal',
    summary: 'Opens a session with the token, then sends tools/list in that session with --second-token (another principal\'s valid token).',
    standards: [STANDARDS.mcpSessionHijacking, STANDARDS.mcpSessionManagement],
    fix: 'Bind every session id to the principal (issuer, subject, client) that opened it, and answer 404 when anyone else presents it.',
    needs: ['token', 'second-token'],
    async run(run) {
      const { ctx } = run;
      const secondToken = ctx.options.secondToken;
      if (secondToken === undefined) skip('needs --second-token: a valid token of another principal');
      const first = await requireCredential(ctx);
      const second: Credential =
        boundThumbprint(secondToken) !== undefined && ctx.options.dpopKey?.thumbprint === boundThumbprint(secondToken)
          ? { token: secondToken, key: ctx.options.dpopKey, label: '--second-token' }
          : { token: secondToken, label: '--second-token' };
      if (boundThumbprint(secondToken) !== undefined && second.key === undefined) skip('--second-token is DPoP-bound to a key the audit does not hold');
      await positiveControl(ctx, second);
      const { session } = await openSession(ctx, first);
      if (session === undefined) skip('the server issues no session ids (stateless)');
      try {
        const own = await ctx.authorized(first, { body: toolsListBody(), session, note: `${first.label} in its own session` });
        if (!served(own.response)) inconclusive(`the session's own principal could not use it (HTTP ${own.response.status})`);
        const hijack = await ctx.authorized(second, { body: toolsListBody(), session, note: 'another principal presents the first principal\'s session id' });
        if (served(hijack.response)) run.fail('Another principal was served in a session it did not open.', [own, hijack]);
      } finally {
        await closeSession(ctx, first, session);
      }
    },
  }),
];
