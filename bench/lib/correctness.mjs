// The correctness gate: before a variant is timed, a valid request must pass and hostile ones
// must fail, so the table never compares a validator that skips work.
import http from 'node:http';
import { accessTokenHash, createProofSigner, ecThumbprint, generateEs256, jtiPrefix, mintAccessToken } from './jwt.mjs';
import { ISSUER, MCP_PATH, toolsCallBody } from './shared.mjs';

function post(port, { token, proof, body }) {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (token !== undefined) headers.authorization = `DPoP ${token}`;
    if (proof !== undefined) headers.dpop = proof;
    const req = http.request({ host: '127.0.0.1', port, path: MCP_PATH, method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs the cases against variant `v` (port, resource, token, checks: 'none' | 'no-replay' | 'full').
 * Resolves `{ ok, failures, summary }`.
 */
export async function checkVariant(v, { issuerKey, clientKey, jkt }) {
  const sign = createProofSigner(clientKey.privateKey, clientKey.publicJwk);
  const prefix = jtiPrefix();
  let n = 0;
  const proofFor = (token, { htu = v.resource, key } = {}) => {
    const s = key ? createProofSigner(key.privateKey, key.publicJwk) : sign;
    return s('POST', htu, accessTokenHash(token), `${prefix}.check.${n++}`);
  };
  const other = generateEs256();
  const otherAudience = mintAccessToken({
    issuer: ISSUER, resource: `${v.resource}-other`, kid: issuerKey.publicJwk.kid, privateKey: issuerKey.privateKey, jkt,
  });
  const forgedIssuer = generateEs256('bench-issuer-1'); // same kid, wrong key
  const forged = mintAccessToken({
    issuer: ISSUER, resource: v.resource, kid: 'bench-issuer-1', privateKey: forgedIssuer.privateKey, jkt,
  });
  const otherKeyToken = mintAccessToken({
    issuer: ISSUER, resource: v.resource, kid: issuerKey.publicJwk.kid, privateKey: issuerKey.privateKey, jkt: ecThumbprint(other.publicJwk),
  });

  const first = proofFor(v.token);
  const cases = [
    ['valid request', { token: v.token, proof: first }, 200],
    ['replayed proof', { token: v.token, proof: first }, v.checks === 'full' ? 401 : 200],
    ['tool needing mcp:admin', { token: v.token, proof: proofFor(v.token), body: toolsCallBody('admin_reset') }, 403],
    ['proof for another htu', { token: v.token, proof: proofFor(v.token, { htu: 'http://127.0.0.1:1/mcp' }) }, 401],
    ['proof by a key other than cnf.jkt', { token: v.token, proof: proofFor(v.token, { key: other }) }, 401],
    ['proof for another token (ath)', { token: v.token, proof: proofFor(otherKeyToken) }, 401],
    ['no DPoP proof', { token: v.token }, 401],
    ['token for another audience', { token: otherAudience, proof: proofFor(otherAudience) }, 401],
    ['token signed by an unknown key', { token: forged, proof: proofFor(forged) }, 401],
  ];
  const failures = [];
  for (const [name, request, expected] of cases) {
    const want = v.checks === 'none' ? 200 : expected;
    let got;
    try {
      got = await post(v.port, { body: toolsCallBody(), ...request });
    } catch (err) {
      got = err.message;
    }
    if (got !== want) failures.push(`${name} → ${got} (expected ${want})`);
  }
  const summary = v.checks === 'none'
    ? 'answers 200 to everything, as expected'
    : `${cases.length} cases${v.checks === 'no-replay' ? '; replayed proof accepted (no replay store)' : ''}`;
  return { ok: failures.length === 0, failures, summary };
}
