/**
 * A test issuer and DPoP client built on `jose` — an implementation independent of Warden's
 * node:crypto fast path, so tests also check interoperability.
 */
import { randomUUID } from 'node:crypto';
import type { PublicJwk } from '../../src/resource-server/types.js';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestIssuer {
  issuer: string;
  kid: string;
  publicJwk: JWK;
  jwks: { keys: PublicJwk[] };
  /** Signs an access token; `claims` override the defaults, `header` overrides the protected header. */
  mint(claims?: JWTPayload & Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

export async function createTestIssuer(options: { issuer?: string; audience: string; alg?: string; kid?: string }): Promise<TestIssuer> {
  const alg = options.alg ?? 'ES256';
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = options.kid ?? `k-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const issuer = options.issuer ?? 'https://issuer.test';
  return {
    issuer,
    kid,
    publicJwk,
    jwks: { keys: [publicJwk as PublicJwk] },
    async mint(claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: issuer,
        sub: 'user-1',
        aud: options.audience,
        client_id: 'client-1',
        scope: 'mcp:tools',
        jti: randomUUID(),
        iat: now,
        exp: now + 600,
        ...claims,
      };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      return new SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt', kid, ...header } as never).sign(privateKey);
    },
  };
}

export interface TestDpopKey {
  alg: string;
  jkt: string;
  publicJwk: JWK;
  privateKey: CryptoKey;
  /** Signs a proof; `claims`/`header` override defaults (set a claim to undefined to drop it). */
  proof(input: { htm: string; htu: string; accessToken?: string; nonce?: string; claims?: Record<string, unknown>; header?: Record<string, unknown> }): Promise<string>;
}

export async function createDpopKey(alg = 'ES256'): Promise<TestDpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(publicJwk);
  return {
    alg,
    jkt,
    publicJwk,
    privateKey,
    async proof({ htm, htu, accessToken, nonce, claims = {}, header = {} }) {
      const payload: Record<string, unknown> = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
      if (accessToken !== undefined) {
        const { createHash } = await import('node:crypto');
        payload.ath = createHash('sha256').update(accessToken).digest('base64url');
      }
      if (nonce !== undefined) payload.nonce = nonce;
      Object.assign(payload, claims);
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      const protectedHeader: Record<string, unknown> = { typ: 'dpop+jwt', alg, jwk: publicJwk, ...header };
      for (const [k, v] of Object.entries(protectedHeader)) if (v === undefined) delete protectedHeader[k];
      return new SignJWT(payload).setProtectedHeader(protectedHeader as never).sign(privateKey);
    },
  };
}

/** Parses a WWW-Authenticate header into challenges (enough for assertions). */
export function parseChallenges(header: string | null | undefined): Array<{ scheme: string; params: Record<string, string> }> {
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  if (!header) return out;
  const re = /\s*,?\s*(?:(Bearer|DPoP)(?=\s|,|$))|\s*,?\s*([a-z_]+)="([^"]*)"\s*,?/gy;
  let m: RegExpExecArray | null;
  let cur: { scheme: string; params: Record<string, string> } | undefined;
  while ((m = re.exec(header)) !== null) {
    if (m[1] !== undefined) {
      cur = { scheme: m[1], params: {} };
      out.push(cur);
    } else if (cur !== undefined && m[2] !== undefined) {
      cur.params[m[2]] = m[3] ?? '';
    }
    if (re.lastIndex >= header.length) break;
  }
  return out;
}
