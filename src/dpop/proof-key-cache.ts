import { createPublicKey, type KeyObject } from 'node:crypto';
import { thumbprintInput, thumbprintOfInput } from '../jose/thumbprint.js';
import { WardenError } from '../oauth/errors.js';

/** Private or symmetric JWK members that must never appear in a proof's `jwk` (RFC 9449 §4.3 step 7). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'x', 'y'],
  RSA: ['n', 'e'],
  OKP: ['crv', 'x'],
};

/** A proof key: its thumbprint and the imported public key. */
export interface ProofKey {
  jkt: string;
  key: KeyObject;
}

/** A proof's protected header seen before: decoded, with the key its `jwk` resolved to. */
export interface KnownProofHeader {
  header: Readonly<Record<string, unknown>>;
  key: ProofKey;
}

/** Why a proof `jwk` was refused. */
export class ProofKeyError extends WardenError {
  constructor(message: string) {
    super('invalid_jwk', message);
  }
}

/**
 * Imports DPoP proof keys, cached by their RFC 7638 thumbprint input (the canonical JSON of the
 * members that define the public key), so a cache hit is the same key and costs neither the import
 * (about as much as an ES256 verify) nor the thumbprint's SHA-256; a client reuses its key for
 * every request.
 * Bounded: the oldest entry goes when full (a miss only costs a re-import).
 *
 * It also remembers proof headers by their exact base64url text: a client's proofs all carry the
 * same header (`typ`, `alg`, `jwk`), so a hit skips decoding it and resolving its `jwk` — work whose
 * result those bytes fix. The caller still checks `typ`, `alg` and the signature on every proof.
 */
export class ProofKeyCache {
  readonly #max: number;
  readonly #entries = new Map<string, ProofKey>();
  readonly #headers = new Map<string, KnownProofHeader>();

  constructor(maxEntries = 10_000) {
    this.#max = maxEntries;
  }

  /** Validates `jwk` as a public asymmetric key and returns it with its thumbprint. */
  resolve(jwk: unknown): ProofKey {
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new ProofKeyError('"jwk" header must be a JSON object');
    const record = jwk as Record<string, unknown>;
    for (const member of PRIVATE_MEMBERS) {
      if (Object.hasOwn(record, member)) throw new ProofKeyError('"jwk" must be a public key (it contains private key material)');
    }
    const kty = record.kty;
    const members = typeof kty === 'string' && Object.hasOwn(PUBLIC_MEMBERS, kty) ? PUBLIC_MEMBERS[kty] : undefined;
    if (members === undefined) throw new ProofKeyError('"jwk" must be an EC, RSA or OKP public key');
    let input: string;
    try {
      input = thumbprintInput(record);
    } catch (error) {
      throw new ProofKeyError(`"jwk" is malformed: ${(error as Error).message}`);
    }
    const cached = this.#entries.get(input);
    if (cached !== undefined) return cached;
    const jkt = thumbprintOfInput(input);

    // Import only the public members into a fresh object: no extra members, no prototype tricks.
    const clean: Record<string, string> = { kty: kty as string };
    for (const m of members) {
      const v = record[m];
      if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v)) throw new ProofKeyError(`"jwk" member "${m}" must be base64url`);
      clean[m] = v;
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: clean, format: 'jwk' });
    } catch {
      throw new ProofKeyError('"jwk" is not a valid public key');
    }
    if (key.asymmetricKeyType === 'rsa') {
      // Anyone can send a proof: bound the cost of verifying it. A 3072-bit modulus with a huge
      // exponent costs ~70× an ES256 verify; real keys use e = 65537 and 2048–4096 bits.
      const { modulusLength = 0, publicExponent = 0n } = key.asymmetricKeyDetails ?? {};
      if (modulusLength < 2048 || modulusLength > 4096) throw new ProofKeyError('"jwk" RSA modulus must be 2048 to 4096 bits');
      if (publicExponent % 2n === 0n || publicExponent < 3n || publicExponent > 2n ** 32n + 1n) throw new ProofKeyError('"jwk" RSA public exponent must be odd and at most 2^32+1');
    }
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    const resolved: ProofKey = Object.freeze({ jkt, key });
    this.#entries.set(input, resolved);
    return resolved;
  }

  /** The header whose base64url text is `encoded`, when {@link rememberHeader} saw it. */
  knownHeader(encoded: string): KnownProofHeader | undefined {
    return this.#headers.get(encoded);
  }

  /**
   * Remembers a header that decoded to `header` and whose `jwk` {@link resolve}d to `key`; the
   * header object is frozen, as callers share it. Bounded like the keys.
   */
  rememberHeader(encoded: string, header: Record<string, unknown>, key: ProofKey): void {
    if (this.#headers.size >= this.#max) {
      const oldest = this.#headers.keys().next().value;
      if (oldest !== undefined) this.#headers.delete(oldest);
    }
    this.#headers.set(encoded, Object.freeze({ header: Object.freeze(header), key }));
  }
}
