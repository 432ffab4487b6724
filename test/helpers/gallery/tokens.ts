/**
 * Access tokens and DPoP proofs of the gallery: minted with `jose`, verified correctly — unless the
 * server was started with the one flaw that skips a given step.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { GalleryState } from './state.js';

/** Why a token or proof was refused (becomes the `error` of the challenge). */
export class Refusal extends Error {
  constructor(readonly code: 'invalid_token' | 'invalid_dpop_proof' | 'invalid_request', message: string) {
    super(message);
  }
}

export async function mintAccessToken(state: GalleryState, claims: { sub: string; clientId: string; resource: string; scope: string; jkt?: string | undefined }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { iss: state.origin, sub: claims.sub, aud: claims.resource, client_id: claims.clientId, scope: claims.scope, jti: randomUUID(), iat: now, exp: now + 600 };
  if (claims.jkt !== undefined) payload.cnf = { jkt: claims.jkt };
  const token = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: state.publicJwk.kid }).sign(state.privateKey);
  state.issued.add(token);
  return token;
}

/** An OpenID-style ID token whose aud also names the resource (as some IdPs do for first-party APIs). */
export async function mintIdToken(state: GalleryState, sub: string, clientId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ iss: state.origin, sub, aud: [clientId, state.resource], iat: now, exp: now + 600, scope: 'mcp:tools' })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: state.publicJwk.kid })
    .sign(state.privateKey);
  state.issued.add(token);
  return token;
}

/** Verifies an access token for `resource`; the flaws skip exactly one step each. */
export async function verifyAccessToken(state: GalleryState, token: string, resource: string): Promise<JWTPayload> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw new Refusal('invalid_token', 'malformed token');
  }
  const alg = String(header.alg);
  if (state.flaw === 'alg-none' && alg.toLowerCase() === 'none') return checkClaims(state, payload, resource, 'at+jwt');
  if (state.flaw === 'alg-confusion' && alg === 'HS256') {
    const [h, p, s] = token.split('.') as [string, string, string];
    const pem = state.publicKeyObject.export({ type: 'spki', format: 'pem' }) as string;
    const expected = createHmac('sha256', pem).update(`${h}.${p}`).digest();
    const given = Buffer.from(s, 'base64url');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return checkClaims(state, payload, resource, header.typ);
    throw new Refusal('invalid_token', 'bad signature');
  }
  if (state.flaw === 'embedded-jwk' && header.jwk !== undefined) {
    try {
      await jwtVerify(token, await importJWK(header.jwk as JWK, alg));
    } catch {
      throw new Refusal('invalid_token', 'bad signature');
    }
    return checkClaims(state, payload, resource, header.typ);
  }
  if (state.flaw === 'signature-not-verified') return checkClaims(state, payload, resource, header.typ);
  try {
    await jwtVerify(token, await importJWK(state.publicJwk, 'ES256'), { algorithms: ['ES256'] });
  } catch {
    throw new Refusal('invalid_token', 'bad signature');
  }
  if (header.kid !== state.publicJwk.kid) throw new Refusal('invalid_token', 'unknown kid');
  return checkClaims(state, payload, resource, header.typ);
}

function checkClaims(state: GalleryState, payload: JWTPayload, resource: string, typ: unknown): JWTPayload {
  if (typ !== 'at+jwt' && state.flaw !== 'typ-not-checked') throw new Refusal('invalid_token', 'not an access token');
  if (payload.iss !== state.origin) throw new Refusal('invalid_token', 'wrong issuer');
  if (typeof payload.exp !== 'number' || payload.exp < Date.now() / 1000) throw new Refusal('invalid_token', 'expired');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(resource) && state.flaw !== 'no-audience-check') throw new Refusal('invalid_token', 'wrong audience');
  if (state.flaw === 'no-audience-check' && !audiences.some((a) => a === state.resource || a === state.otherResource)) throw new Refusal('invalid_token', 'wrong audience');
  return payload;
}

/** What a verified proof says. */
export interface VerifiedProof {
  jkt: string;
}

/**
 * Verifies a DPoP proof (RFC 9449 §4.3) for `method` and `htu`; with `accessToken`, also `ath`.
 * The flaws skip one step each.
 */
export async function verifyProof(state: GalleryState, proof: string | undefined, method: string, htu: string, accessToken?: string): Promise<VerifiedProof> {
  if (proof === undefined) throw new Refusal('invalid_dpop_proof', 'missing proof');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new Refusal('invalid_dpop_proof', 'malformed proof');
  }
  if (header.typ !== 'dpop+jwt' || header.jwk === undefined || header.alg !== 'ES256') throw new Refusal('invalid_dpop_proof', 'bad proof header');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(proof, await importJWK(header.jwk as JWK, 'ES256'), { typ: 'dpop+jwt' }));
  } catch {
    throw new Refusal('invalid_dpop_proof', 'bad proof signature');
  }
  if (payload.htm !== method && state.flaw !== 'htm-not-checked') throw new Refusal('invalid_dpop_proof', 'htm mismatch');
  if (payload.htu !== htu && state.flaw !== 'htu-not-checked') throw new Refusal('invalid_dpop_proof', 'htu mismatch');
  const iat = typeof payload.iat === 'number' ? payload.iat : 0;
  if (Math.abs(Date.now() / 1000 - iat) > 60 && state.flaw !== 'iat-not-checked') throw new Refusal('invalid_dpop_proof', 'iat outside the window');
  if (accessToken !== undefined && state.flaw !== 'ath-not-checked') {
    if (payload.ath !== createHash('sha256').update(accessToken).digest('base64url')) throw new Refusal('invalid_dpop_proof', 'ath mismatch');
  }
  const jkt = await calculateJwkThumbprint(header.jwk as JWK);
  const replayKey = `${jkt}:${String(payload.jti)}`;
  if (state.seenProofs.has(replayKey) && state.flaw !== 'replay-accepted') throw new Refusal('invalid_dpop_proof', 'replayed proof');
  state.seenProofs.add(replayKey);
  return { jkt };
}
