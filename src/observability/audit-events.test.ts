/**
 * A security event's body takes the request it happened in from the request scope the stack's
 * router opens: id, source and W3C trace — and nothing outside a request.
 */
import { describe, expect, it } from 'vitest';
import { currentRequestContext, runInRequestScope } from '../oauth/request-scope.js';
import { callerTrace } from './caller-trace.js';
import { securityEvent } from './audit-events.js';

const TRACE = callerTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')!;

describe('securityEvent with the request context (warden.audit/1 requestId, source, traceId, spanId)', () => {
  it('adds the request id, source and trace (W3C Trace Context §3.2) of the context given', () => {
    const body = securityEvent({ type: 'login.failed', clientId: 'app', subject: 'alice' }, { requestId: 'r-1', sourceAddress: '192.0.2.7', trace: TRACE });
    expect(body).toEqual({ type: 'login.failed', outcome: 'failure', clientId: 'app', subject: 'alice', requestId: 'r-1', source: '192.0.2.7', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
  });

  it('without a context the body names no request', () => {
    const body = securityEvent({ type: 'keys.rotated' });
    expect(body).toEqual({ type: 'keys.rotated' });
  });

  it('bounds and scrubs what a request id could carry, like every other field', () => {
    const body = securityEvent({ type: 'token.revoked' }, { requestId: `Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.${'s'.repeat(600)}` });
    expect(body.requestId).not.toContain('eyJhbGciOiJFUzI1NiJ9');
    expect(body.requestId!.length).toBeLessThanOrEqual(513);
  });
});

describe('request scope', () => {
  it('is undefined outside a request, and follows each request across awaits without mixing them', async () => {
    expect(currentRequestContext()).toBeUndefined();
    const seen = await Promise.all(
      ['a', 'b', 'c'].map((requestId, i) =>
        runInRequestScope({ requestId }, async () => {
          await new Promise((resolve) => setTimeout(resolve, (3 - i) * 5));
          await Promise.resolve();
          return securityEvent({ type: 'login.succeeded' }, currentRequestContext()).requestId;
        }),
      ),
    );
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(currentRequestContext()).toBeUndefined();
  });
});
