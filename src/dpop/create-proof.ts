import { randomUUID, sign, type KeyObject } from 'node:crypto';
import { algorithmSpec } from '../jose/algorithms.js';
import { accessTokenHash } from '../jose/thumbprint.js';

/** Options of {@link createProof}. */
export interface CreateProofOptions {
  /** Private signing key (never leaves the holder; only its public JWK is embedded). */
  privateKey: KeyObject;
  /** Public JWK embedded in the proof header (public members only). */
  publicJwk: Readonly<Record<string, unknown>>;
  alg: string;
  /** HTTP method. */
  htm: string;
  /** Target URI; query and fragment are stripped (RFC 9449 §4.2). */
  htu: string;
  /** Access token, when the proof accompanies one (`ath`). */
  accessToken?: string;
  nonce?: string;
  /** Seconds since epoch. Default now. */
  iat?: number;
  /** Default a random UUID. */
  jti?: string;
}

/**
 * Signs a DPoP proof JWT.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export function createProof(options: CreateProofOptions): string {
  const spec = algorithmSpec(options.alg);
  if (spec === undefined) throw new TypeError(`unsupported DPoP alg ${options.alg}`);
  const url = new URL(options.htu);
  const header = { typ: 'dpop+jwt', alg: options.alg, jwk: options.publicJwk };
  const payload: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.htm,
    htu: `${url.origin}${url.pathname}`,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.accessToken !== undefined) payload.ath = accessTokenHash(options.accessToken);
  if (options.nonce !== undefined) payload.nonce = options.nonce;
  const input = `${b64(header)}.${b64(payload)}`;
  const key = spec.keyType === 'ec' ? { key: options.privateKey, dsaEncoding: 'ieee-p1363' as const } : spec.pss ? { key: options.privateKey, padding: 6, saltLength: -1 } : options.privateKey;
  const signature = sign(spec.hash, Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
