import { describe, expect, it } from 'vitest';
import { InvalidDpopProofError, InvalidRequestError, type OAuthError } from '../oauth/errors.js';
import { headerValues, readCredentials, type Credentials } from './read-credentials.js';
import type { VerifyRequest } from './types.js';

const LIMITS = { maxAuthorizationBytes: 8192, maxProofBytes: 8192 };
/** A JWT-shaped access token (token68 characters only). */
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
const PROOF = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJodG0iOiJQT1NUIn0.c2ln';

function read(headers: VerifyRequest['headers'], extra: Partial<VerifyRequest> = {}, limits = LIMITS): Credentials {
  return readCredentials({ method: 'POST', url: '/mcp', headers, ...extra }, limits);
}

function refusal(headers: VerifyRequest['headers'], extra: Partial<VerifyRequest> = {}, limits = LIMITS): { name: string; code: string; status: number; description: string } {
  try {
    read(headers, extra, limits);
  } catch (error) {
    if (!(error instanceof InvalidRequestError) && !(error instanceof InvalidDpopProofError)) throw error;
    const e = error as OAuthError;
    return { name: e.name, code: e.code, status: e.status, description: e.description };
  }
  throw new Error('expected the request to be refused');
}

const MALFORMED = { name: 'InvalidRequestError', code: 'invalid_request', status: 400, description: 'malformed Authorization header: expected "<scheme> <token>" with a single token68 value' };
const TWO_AUTHORIZATION = { name: 'InvalidRequestError', code: 'invalid_request', status: 400, description: 'more than one Authorization header' };
const TWO_DPOP = { name: 'InvalidDpopProofError', code: 'invalid_dpop_proof', status: 401, description: 'more than one DPoP header (RFC 9449 §4.3 step 1)' };
const IN_QUERY = { name: 'InvalidRequestError', code: 'invalid_request', status: 400, description: 'access tokens are not accepted in the query string; send them in the Authorization header (OAuth 2.1 §5.2)' };
const IN_BODY = { name: 'InvalidRequestError', code: 'invalid_request', status: 400, description: 'access tokens are not accepted in the request body; send them in the Authorization header' };

describe('readCredentials — RFC 6750 §2.1 / RFC 9449 §7.1 Authorization header', () => {
  it('RFC 6750 §2.1: Bearer <token>', () => {
    expect(read({ authorization: `Bearer ${TOKEN}` })).toStrictEqual({ kind: 'token', scheme: 'Bearer', token: TOKEN, proof: undefined });
  });

  it('RFC 9449 §7.1: DPoP <token> with its proof from the DPoP header (OWS trimmed)', () => {
    expect(read({ authorization: `DPoP ${TOKEN}`, dpop: ` ${PROOF} ` })).toStrictEqual({ kind: 'token', scheme: 'DPoP', token: TOKEN, proof: PROOF });
  });

  it('RFC 9110 §11.1: the scheme is case-insensitive; the reported scheme is canonical', () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) expect(read({ authorization: `${scheme} ${TOKEN}` })).toMatchObject({ scheme: 'Bearer', token: TOKEN });
    for (const scheme of ['dpop', 'DPOP', 'dPoP']) expect(read({ authorization: `${scheme} ${TOKEN}` })).toMatchObject({ scheme: 'DPoP', token: TOKEN });
  });

  it('RFC 9110 §11.4 token68: every allowed character, trailing "=" padding, and one or more spaces after the scheme', () => {
    const token = 'AZaz09-._~+/abc==';
    expect(read({ authorization: `Bearer ${token}` })).toMatchObject({ token });
    expect(read({ authorization: `Bearer    ${TOKEN}` })).toMatchObject({ token: TOKEN });
  });

  it('RFC 9449 §7.1 (RFC 9449 Figure 13): the example opaque token with "~" is read as is', () => {
    expect(read({ authorization: 'DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU' })).toMatchObject({ token: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU' });
  });

  it('RFC 6750 §3.1: a Bearer or DPoP header that is not "<scheme> <token68>" → 400 invalid_request', () => {
    for (const authorization of ['Bearer', 'Bearer ', 'DPoP', `Bearer ${TOKEN} extra`, `Bearer ${TOKEN},${TOKEN}`, `Bearer ${TOKEN}, DPoP ${TOKEN}`, 'Bearer a"b', 'Bearer =abc', 'Bearer a=b', `Bearer\t${TOKEN}`, ` Bearer ${TOKEN}`, `Bearer ${TOKEN} `, 'Bearer tökén']) {
      expect(refusal({ authorization })).toStrictEqual(MALFORMED);
    }
  });

  it('RFC 6750 §3.1: an unsupported scheme is no credentials (a challenge without error), well-formed or not', () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Negotiate YII=', 'Token abc', 'Basic a b c', 'Bearerx abc', 'MAC id="x"', '', '   ']) {
      expect(read({ authorization })).toStrictEqual({ kind: 'none' });
    }
  });

  it('no Authorization header is no credentials', () => {
    expect(read({})).toStrictEqual({ kind: 'none' });
    expect(read({ authorization: [] })).toStrictEqual({ kind: 'none' });
    expect(read({ authorization: undefined })).toStrictEqual({ kind: 'none' });
  });

  it('RFC 9449 figure 19: exactly one Authorization header — two values are refused', () => {
    expect(refusal({ authorization: [`Bearer ${TOKEN}`, `DPoP ${TOKEN}`] })).toStrictEqual(TWO_AUTHORIZATION);
    expect(refusal({ authorization: [`Basic dXNlcjpwYXNz`, `Bearer ${TOKEN}`] })).toStrictEqual(TWO_AUTHORIZATION);
  });

  it('Web Headers join two Authorization headers with ", ": refused as malformed', () => {
    const headers = new Headers();
    headers.append('Authorization', `Bearer ${TOKEN}`);
    headers.append('Authorization', `DPoP ${TOKEN}`);
    expect(refusal(headers)).toStrictEqual(MALFORMED);
  });

  it('a header longer than maxAuthorizationBytes is refused; exactly that long is read', () => {
    const limits = { maxAuthorizationBytes: 7 + TOKEN.length, maxProofBytes: 8192 };
    expect(read({ authorization: `Bearer ${TOKEN}` }, {}, limits)).toMatchObject({ token: TOKEN });
    expect(refusal({ authorization: `Bearer ${TOKEN}x` }, {}, limits)).toStrictEqual({ ...MALFORMED, description: `Authorization header exceeds ${limits.maxAuthorizationBytes} bytes` });
  });
});

describe('readCredentials — RFC 9449 §4.3 step 1: at most one DPoP header', () => {
  it('two DPoP values → 401 invalid_dpop_proof', () => {
    expect(refusal({ authorization: `DPoP ${TOKEN}`, dpop: [PROOF, PROOF] })).toStrictEqual(TWO_DPOP);
  });

  it('two DPoP headers joined with "," (node and Web Headers both join them) → 401 invalid_dpop_proof', () => {
    expect(refusal({ authorization: `DPoP ${TOKEN}`, dpop: `${PROOF}, ${PROOF}` })).toStrictEqual(TWO_DPOP);
    const headers = new Headers({ authorization: `DPoP ${TOKEN}` });
    headers.append('DPoP', PROOF);
    headers.append('DPoP', PROOF);
    expect(refusal(headers)).toStrictEqual(TWO_DPOP);
  });

  it('a DPoP header longer than maxProofBytes is refused; exactly that long is read', () => {
    const limits = { maxAuthorizationBytes: 8192, maxProofBytes: PROOF.length };
    expect(read({ authorization: `DPoP ${TOKEN}`, dpop: PROOF }, {}, limits)).toMatchObject({ proof: PROOF });
    expect(refusal({ authorization: `DPoP ${TOKEN}`, dpop: `${PROOF}x` }, {}, limits)).toStrictEqual({ ...TWO_DPOP, description: `DPoP header exceeds ${PROOF.length} bytes` });
  });

  it('a DPoP header next to a Bearer token is reported (the gauntlet decides what it means)', () => {
    expect(read({ authorization: `Bearer ${TOKEN}`, dpop: PROOF })).toStrictEqual({ kind: 'token', scheme: 'Bearer', token: TOKEN, proof: PROOF });
  });

  it('without credentials the DPoP header is not looked at', () => {
    expect(read({ dpop: [PROOF, PROOF] })).toStrictEqual({ kind: 'none' });
  });
});

describe('readCredentials — OAuth 2.1 §5.2: access tokens only in the Authorization header', () => {
  it('RFC 6750 §2.3: access_token in the query string → 400 invalid_request, even next to a valid header', () => {
    for (const url of [`/mcp?access_token=${TOKEN}`, '/mcp?a=1&access_token=', '/mcp?access%5Ftoken=x', `https://mcp.example.com/mcp?access_token=${TOKEN}#f`]) {
      expect(refusal({}, { url })).toStrictEqual(IN_QUERY);
      expect(refusal({ authorization: `Bearer ${TOKEN}` }, { url })).toStrictEqual(IN_QUERY);
    }
  });

  it('other query parameters, or access_token in the fragment, are not a token in the query', () => {
    for (const url of ['/mcp?session=1', '/mcp?my_access_token=1', '/mcp#access_token=x', '/mcp?x=access_token']) {
      expect(read({ authorization: `Bearer ${TOKEN}` }, { url })).toMatchObject({ kind: 'token' });
    }
  });

  it('RFC 6750 §2.2: access_token in a form-encoded body (string, bytes or parsed) → 400 invalid_request', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(refusal(form, { body: `access_token=${TOKEN}` })).toStrictEqual(IN_BODY);
    expect(refusal({ 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' }, { body: Buffer.from(`a=1&access_token=${TOKEN}`) })).toStrictEqual(IN_BODY);
    expect(refusal(form, { body: new TextEncoder().encode('access_token=') })).toStrictEqual(IN_BODY);
    expect(refusal({ ...form, authorization: `Bearer ${TOKEN}` }, { body: { access_token: TOKEN } })).toStrictEqual(IN_BODY);
  });

  it('a member named access_token in a JSON body is not form-encoded credentials', () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { access_token: 'y' } }, access_token: 'z' });
    expect(read({ 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, { body })).toMatchObject({ kind: 'token' });
    expect(read({ authorization: `Bearer ${TOKEN}` }, { body: `access_token=${TOKEN}` })).toMatchObject({ kind: 'token' });
  });

  it('a form body without access_token is fine', () => {
    expect(read({ 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TOKEN}` }, { body: 'a=1&b=2' })).toMatchObject({ kind: 'token' });
  });
});

describe('headerValues — every shape headers come in', () => {
  it('node headers: a lower-case string, or headersDistinct arrays (copied)', () => {
    expect(headerValues({ authorization: 'Bearer a' }, 'authorization')).toEqual(['Bearer a']);
    const distinct = ['a', 'b'] as const;
    const values = headerValues({ dpop: distinct }, 'dpop');
    expect(values).toEqual(['a', 'b']);
    expect(values).not.toBe(distinct);
  });

  it('plain records from callers: the name is matched case-insensitively', () => {
    expect(headerValues({ Authorization: 'Bearer a' }, 'authorization')).toEqual(['Bearer a']);
    expect(headerValues({ DPOP: ['p'] }, 'dpop')).toEqual(['p']);
    expect(read({ Authorization: `DPoP ${TOKEN}`, DPoP: PROOF })).toStrictEqual({ kind: 'token', scheme: 'DPoP', token: TOKEN, proof: PROOF });
  });

  it('Web Headers: one combined value (RFC 9110 §5.3)', () => {
    const headers = new Headers({ Authorization: 'Bearer a' });
    headers.append('X-Multi', '1');
    headers.append('X-Multi', '2');
    expect(headerValues(headers, 'authorization')).toEqual(['Bearer a']);
    expect(headerValues(headers, 'x-multi')).toEqual(['1, 2']);
  });

  it('absent is an empty list', () => {
    expect(headerValues({}, 'authorization')).toEqual([]);
    expect(headerValues({ authorization: undefined }, 'authorization')).toEqual([]);
    expect(headerValues(new Headers(), 'authorization')).toEqual([]);
  });

  // BUG (reported): a plain record holding the same field under two spellings ("Authorization"
  // and "authorization") is two Authorization fields (RFC 9110 §5.1: names are case-insensitive),
  // but headerValues returns only the lower-case one, so "exactly one Authorization" passes and
  // the gauntlet authorizes one token while an application reading the other key sees another.
  // Fix: collect the values of every key that lower-cases to the name, not just the first match.
  it('a plain record with one field under two spellings yields both values, so two Authorization headers are refused', () => {
    expect(headerValues({ Authorization: 'Bearer a', authorization: 'Bearer b' }, 'authorization')).toEqual(['Bearer a', 'Bearer b']);
    expect(refusal({ Authorization: `Bearer ${TOKEN}`, authorization: 'Bearer other' })).toStrictEqual(TWO_AUTHORIZATION);
  });
});
