import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { noteReason, reasonOf } from './response-reason.js';

function response(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

describe('noteReason / reasonOf — why a response refused, passed as a value (never parsed back out of a header)', () => {
  it('nothing is recorded for a response until noted', () => {
    expect(reasonOf(response())).toBeUndefined();
  });

  it('returns the wire code noted for that response', () => {
    const res = response();
    noteReason(res, 'invalid_dpop_proof');
    expect(reasonOf(res)).toBe('invalid_dpop_proof');
  });

  it('the last note wins', () => {
    const res = response();
    noteReason(res, 'no_credentials');
    noteReason(res, 'insufficient_scope');
    expect(reasonOf(res)).toBe('insufficient_scope');
  });

  it('one response\'s reason is not another\'s, and nothing is written to the response itself', () => {
    const a = response();
    const b = response();
    noteReason(a, 'invalid_token');
    expect(reasonOf(b)).toBeUndefined();
    expect(a.getHeaderNames()).toEqual([]);
    expect(Object.keys(a)).toEqual(Object.keys(b));
  });
});
