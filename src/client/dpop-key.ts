/**
 * A DPoP key holder whose private key can sign but never leave: it is a WebCrypto key created
 * (or imported) with `extractable: false`, so neither this module nor anyone holding the object
 * can export it. Only the public JWK and its RFC 7638 thumbprint are readable.
 */
import type { webcrypto } from 'node:crypto';
import { jwkThumbprint, accessTokenHash } from '../jose/thumbprint.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Algorithms a holder can sign with. ES256 is the default and what MCP clients use. */
export type DpopAlgorithm = 'ES256' | 'EdDSA';

/** The public members of the holder's key, as embedded in every proof's `jwk` header. */
export type PublicDpopJwk = Readonly<{ kty: 'EC'; crv: 'P-256'; x: string; y: string } | { kty: 'OKP'; crv: 'Ed25519'; x: string }>;

/** What a proof is for. */
export interface DpopProofRequest {
  /** HTTP method of the request the proof accompanies. */
  htm: string;
  /** Target URI; query and fragment are dropped (RFC 9449 §4.2). */
  htu: string | URL;
  /** The access token sent with the request: adds `ath`. */
  accessToken?: string;
  /** The server's most recent `DPoP-Nonce`. */
  nonce?: string;
}

/** A DPoP key holder. */
export interface DpopKey {
  readonly alg: DpopAlgorithm;
  readonly publicJwk: PublicDpopJwk;
  /** RFC 7638 thumbprint of {@link publicJwk}: the token's `cnf.jkt` and the `dpop_jkt` parameter. */
  readonly thumbprint: string;
  /**
   * The WebCrypto keys, so another DPoP implementation can sign with the same key: the holder
   * itself is a valid `keyPair` for the v2 MCP client's `DpopSession.create({ keyPair })`. The
   * private key is non-extractable, so handing it over never exposes it.
   */
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /**
   * Signs a fresh proof: new `jti`, current `iat`.
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
   */
  proof(request: DpopProofRequest): Promise<string>;
}

const PARAMS = {
  ES256: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
} as const;

/** Options of {@link generateDpopKey}. */
export interface GenerateDpopKeyOptions {
  /** Default `ES256`. */
  alg?: DpopAlgorithm;
}

/**
 * Creates a holder with a new key pair whose private half is non-extractable.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-2
 */
export async function generateDpopKey(options: GenerateDpopKeyOptions = {}): Promise<DpopKey> {
  const alg = options.alg ?? 'ES256';
  if (!Object.hasOwn(PARAMS, alg)) throw new TypeError(`unsupported DPoP algorithm ${String(alg)}: use ES256 or EdDSA`);
  const pair = (await crypto.subtle.generateKey(PARAMS[alg].generate, false, ['sign', 'verify'])) as CryptoKeyPair;
  return importDpopKey(pair);
}

/**
 * Wraps an existing WebCrypto pair (for example one a client keeps in its own key storage). The
 * private key must be non-extractable: a holder whose key could be exported would not be one.
 */
export async function importDpopKey(keyPair: CryptoKeyPair): Promise<DpopKey> {
  const { privateKey, publicKey } = keyPair;
  if (privateKey.type !== 'private' || publicKey.type !== 'public') throw new TypeError('keyPair must hold a private and a public key');
  if (privateKey.extractable) throw new TypeError('the DPoP private key must be non-extractable (create or import it with extractable: false)');
  if (!privateKey.usages.includes('sign')) throw new TypeError('the DPoP private key must allow "sign"');
  const alg = algorithmOf(privateKey);
  const exported = await crypto.subtle.exportKey('jwk', publicKey);
  const publicJwk: PublicDpopJwk =
    alg === 'ES256'
      ? Object.freeze({ kty: 'EC', crv: 'P-256', x: String(exported.x), y: String(exported.y) })
      : Object.freeze({ kty: 'OKP', crv: 'Ed25519', x: String(exported.x) });
  const thumbprint = jwkThumbprint(publicJwk);
  const header = b64(JSON.stringify({ typ: 'dpop+jwt', alg, jwk: publicJwk }));
  const signParams = PARAMS[alg].sign;

  return Object.freeze({
    alg,
    publicJwk,
    thumbprint,
    privateKey,
    publicKey,
    async proof(request: DpopProofRequest): Promise<string> {
      const url = new URL(request.htu);
      const payload: Record<string, unknown> = {
        jti: crypto.randomUUID(),
        htm: request.htm.toUpperCase(),
        htu: `${url.origin}${url.pathname}`,
        iat: Math.floor(Date.now() / 1000),
      };
      if (request.accessToken !== undefined) payload.ath = accessTokenHash(request.accessToken);
      if (request.nonce !== undefined) payload.nonce = request.nonce;
      const input = `${header}.${b64(JSON.stringify(payload))}`;
      const signature = await crypto.subtle.sign(signParams, privateKey, new TextEncoder().encode(input));
      return `${input}.${Buffer.from(signature).toString('base64url')}`;
    },
  });
}

function algorithmOf(key: CryptoKey): DpopAlgorithm {
  const algorithm = key.algorithm as { name: string; namedCurve?: string };
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return 'ES256';
  if (algorithm.name === 'Ed25519') return 'EdDSA';
  throw new TypeError(`unsupported DPoP key ${algorithm.name}${algorithm.namedCurve ? ` ${algorithm.namedCurve}` : ''}: use ECDSA P-256 or Ed25519`);
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64url');
}
