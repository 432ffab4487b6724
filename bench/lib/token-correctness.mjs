// The token-endpoint correctness gate: before a server is timed, a valid client_credentials
// request must return a verifiable ES256 JWT access token for the resource (bound to the proof
// key in the DPoP variant), and bad requests must fail — so the table never compares an endpoint
// that skips work.
import { createPublicKey, verify } from 'node:crypto';
import http from 'node:http';
import { createProofSigner, jtiPrefix } from './jwt.mjs';

/** The form body of the timed token requests. */
export function tokenRequestBody({ resource, scope }) {
  return new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString();
}

/** RFC 6749 §2.3.1 client_secret_basic: id and secret form-urlencoded, then base64. */
export function basicAuthorization(clientId, clientSecret) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

/** Fresh proofs sent between a proof and its late replay: above what an LRU of 1,000 (QuickLRU keeps up to 2 × maxSize) remembers. */
export const LATE_REPLAY_GAP = 2_500;
const LATE_REPLAY_BUDGET_MS = 10_000;

function request(port, { method = 'POST', path, headers = {}, body, agent = false }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Problems with an issued access token (empty when it is what the benchmark asks for). */
function checkAccessToken(token, { jwks, resource, scope, clientId, jkt }) {
  const problems = [];
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return ['access_token is not a compact JWS'];
  let header;
  let payload;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return ['access_token header or payload is not JSON'];
  }
  if (header.alg !== 'ES256') problems.push(`alg ${header.alg} (expected ES256)`);
  if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) problems.push(`typ ${header.typ} (expected at+jwt)`);
  const jwk = jwks?.keys?.find((k) => k.kid === header.kid);
  if (!jwk) problems.push(`kid ${header.kid} not in the server's JWKS`);
  else {
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
    if (!ok) problems.push('signature does not verify with the published key');
  }
  const aud = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
  if (aud !== resource) problems.push(`aud ${JSON.stringify(payload.aud)} (expected ${resource})`);
  if (payload.client_id !== clientId) problems.push(`client_id ${payload.client_id}`);
  if (payload.scope !== scope) problems.push(`scope ${JSON.stringify(payload.scope)} (expected ${scope})`);
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= now) problems.push('exp missing or past');
  if (typeof payload.jti !== 'string') problems.push('no jti');
  if (jkt !== undefined && payload.cnf?.jkt !== jkt) problems.push(`cnf.jkt ${payload.cnf?.jkt} (expected the proof key's ${jkt})`);
  if (jkt === undefined && payload.cnf !== undefined) problems.push('cnf in a token issued without a proof');
  return problems;
}

/**
 * Runs the cases against token variant `v` ({ port, tokenPath, htu, resource, scope, clientId,
 * clientSecret, dpop }). Resolves `{ ok, failures, summary, replayDetected }`; `lateReplay: false` skips
 * the informational late-replay probe (2,500 requests); a variant that
 * accepts a replayed proof is not failed (it is noted in the table), everything else must pass.
 */
export async function checkTokenVariant(v, { clientKey, jkt, lateReplay = true }) {
  const sign = createProofSigner(clientKey.privateKey, clientKey.publicJwk);
  const prefix = jtiPrefix();
  let n = 0;
  const proof = (htu = v.htu) => sign('POST', htu, undefined, `${prefix}.check.${n++}`);
  const body = tokenRequestBody(v);
  const headers = (extra = {}) => ({
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basicAuthorization(v.clientId, v.clientSecret),
    ...extra,
  });
  const post = (h, b = body) => request(v.port, { path: v.tokenPath, headers: h, body: b }).catch((err) => ({ status: err.message }));

  const failures = [];
  const jwksResponse = await request(v.port, { method: 'GET', path: v.jwksPath }).catch((err) => ({ status: err.message }));
  if (jwksResponse.status !== 200 || !Array.isArray(jwksResponse.json?.keys)) {
    return { ok: false, failures: [`GET ${v.jwksPath} → ${jwksResponse.status}`], summary: '' };
  }
  const jwks = jwksResponse.json;

  const first = v.dpop ? proof() : undefined;
  const valid = await post(headers(first ? { dpop: first } : {}));
  if (valid.status !== 200) failures.push(`valid request → ${valid.status} ${valid.text?.slice(0, 200)} (expected 200)`);
  else {
    const tokenType = String(valid.json?.token_type ?? '');
    const expectedType = v.dpop ? 'dpop' : 'bearer';
    if (tokenType.toLowerCase() !== expectedType) failures.push(`token_type ${tokenType} (expected ${expectedType})`);
    const problems = checkAccessToken(valid.json?.access_token, { jwks, resource: v.resource, scope: v.scope, clientId: v.clientId, jkt: v.dpop ? jkt : undefined });
    if (problems.length) failures.push(`valid request: access token: ${problems.join(', ')}`);
  }

  let replayDetected;
  const cases = [
    ['wrong client secret', headers({ authorization: basicAuthorization(v.clientId, `${v.clientSecret}x`), ...(v.dpop && { dpop: proof() }) }), body, 401],
    ['unregistered resource', headers(v.dpop ? { dpop: proof() } : {}), tokenRequestBody({ ...v, resource: `${v.resource}-other` }), 400],
  ];
  if (v.dpop) {
    cases.push(['proof for another htu', headers({ dpop: proof('http://127.0.0.1:1/token') }), body, 400]);
    const replay = await post(headers({ dpop: first }));
    replayDetected = replay.status === 400;
    if (replay.status !== 400 && replay.status !== 200) failures.push(`replayed proof → ${replay.status} (expected 400, or 200 without a replay check)`);
  }
  for (const [name, h, b, expected] of cases) {
    const got = await post(h, b);
    if (got.status !== expected) failures.push(`${name} → ${got.status} (expected ${expected})`);
  }

  // Informational, not a gate: is a proof still refused after LATE_REPLAY_GAP other token
  // requests (seconds later, well inside every iat window)? A bounded LRU replay cache forgets it.
  let lateReplayDetected;
  if (lateReplay && v.dpop && replayDetected && failures.length === 0) {
    const target = proof();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const send = (p) => request(v.port, { path: v.tokenPath, headers: headers({ dpop: p }), body, agent }).catch((err) => ({ status: err.message }));
    if ((await send(target)).status === 200) {
      let next = 0;
      let bad = 0;
      const deadline = Date.now() + LATE_REPLAY_BUDGET_MS; // a very slow server is not probed for minutes
      const worker = async () => {
        while (next < LATE_REPLAY_GAP && Date.now() < deadline) {
          next++;
          if ((await send(proof())).status !== 200) bad++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      if (bad > 0) failures.push(`${bad} of ${next} fresh requests failed`);
      else if (next >= LATE_REPLAY_GAP) lateReplayDetected = (await send(target)).status === 400;
    }
    agent.destroy();
  }

  const total = cases.length + 1 + (v.dpop ? 1 : 0);
  let summary = `${total} cases`;
  if (v.dpop) {
    summary += replayDetected ? '; replayed proof → 400' : '; replayed proof ACCEPTED (no replay check)';
    if (lateReplayDetected !== undefined) summary += `; replayed after ${LATE_REPLAY_GAP} other requests → ${lateReplayDetected ? '400' : '200 (forgotten)'}`;
  }
  return { ok: failures.length === 0, failures, summary, replayDetected, lateReplayDetected };
}

/** The form body redeeming `code` with its PKCE `verifier` (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export function codeRequestBody({ redirectUri, resource }, code, verifier) {
  return new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, resource }).toString();
}

/** The start of a refresh request body: the (url-encoded) refresh token is appended. */
export function refreshRequestPrefix({ resource }) {
  return `${new URLSearchParams({ grant_type: 'refresh_token', resource }).toString()}&refresh_token=`;
}

/**
 * The gate of the `authorization_code` and `refresh_token` variants, on three codes from
 * `mint(count)` (resolving `[[code, verifier], ...]`): a redemption → 200 with a verifiable
 * Bearer access token for the resource and a refresh token; the same code again → 400
 * `invalid_grant`; a code with another verifier → 400; the refresh token rotates (200, a new
 * refresh token) and its successor too; the first token presented again after that → 400
 * (reuse), and then the family is revoked: the live successor → 400 as well (RFC 9700 §4.14.2);
 * a wrong client secret → 401.
 */
export async function checkGrantVariant(v, mint) {
  const headers = (secret = v.clientSecret) => ({
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basicAuthorization(v.clientId, secret),
  });
  const post = (body, h = headers()) => request(v.port, { path: v.tokenPath, headers: h, body }).catch((err) => ({ status: err.message }));
  const failures = [];
  const jwksResponse = await request(v.port, { method: 'GET', path: v.jwksPath }).catch((err) => ({ status: err.message }));
  if (jwksResponse.status !== 200 || !Array.isArray(jwksResponse.json?.keys)) {
    return { ok: false, failures: [`GET ${v.jwksPath} → ${jwksResponse.status}`], summary: '' };
  }
  const jwks = jwksResponse.json;
  const expectToken = (name, r) => {
    if (r.status !== 200) {
      failures.push(`${name} → ${r.status} ${r.text?.slice(0, 200)} (expected 200)`);
      return undefined;
    }
    if (String(r.json?.token_type).toLowerCase() !== 'bearer') failures.push(`${name}: token_type ${r.json?.token_type}`);
    const problems = checkAccessToken(r.json?.access_token, { jwks, resource: v.resource, scope: v.scope, clientId: v.clientId });
    if (problems.length) failures.push(`${name}: access token: ${problems.join(', ')}`);
    if (typeof r.json?.refresh_token !== 'string') failures.push(`${name}: no refresh_token`);
    return r.json?.refresh_token;
  };
  const expectStatus = (name, r, status) => {
    if (r.status !== status) failures.push(`${name} → ${r.status} (expected ${status})`);
  };

  const [[code, verifier], [code2], [code3, verifier3]] = await mint(3);
  const rt0 = expectToken('code redemption', await post(codeRequestBody(v, code, verifier)));
  expectStatus('a code with another verifier', await post(codeRequestBody(v, code2, verifier)), 400);
  expectStatus('wrong client secret', await post(codeRequestBody(v, code3, verifier3), headers(`${v.clientSecret}x`)), 401);
  if (rt0 !== undefined) {
    const prefix = refreshRequestPrefix(v);
    const rt1 = expectToken('refresh', await post(prefix + encodeURIComponent(rt0)));
    if (rt1 === rt0) failures.push('refresh: the refresh token was not rotated');
    const rt2 = rt1 && expectToken('refresh of the successor', await post(prefix + encodeURIComponent(rt1)));
    if (rt2 !== undefined) {
      expectStatus('the first refresh token again (reuse)', await post(prefix + encodeURIComponent(rt0)), 400);
      expectStatus('the live refresh token after reuse (family revoked)', await post(prefix + encodeURIComponent(rt2)), 400);
    }
  }
  // Last: a second redemption revokes what the first one issued (RFC 6749 §4.1.2).
  expectStatus('the same code again', await post(codeRequestBody(v, code, verifier)), 400);
  return { ok: failures.length === 0, failures, summary: '9 cases; reuse revokes the family' };
}
