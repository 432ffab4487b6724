import { DEFAULTS } from '../oauth/defaults.js';
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { KeyStore, SigningKeyRecord } from '../stores/authorization-server-contracts.js';

/** Published keys as a JWKS (RFC 7517 §5). */
export interface Jwks {
  keys: Array<Record<string, unknown>>;
}

/** Generates a signing key record (private JWK stays in the key store). */
export function generateSigningKey(alg: 'ES256' | 'EdDSA', state: SigningKeyRecord['state'], now: number): SigningKeyRecord {
  const { privateKey, publicKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const kid = `${alg.toLowerCase()}-${now}-${randomUUID().slice(0, 8)}`;
  return {
    kid,
    alg,
    privateJwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg, use: 'sig' },
    state,
    createdAt: now,
  };
}

/**
 * The issuer's signing keys: signs with the current key, publishes current, next and retired
 * (until their tokens can no longer be valid). Rotation promotes the already-published next key,
 * so every verifier already has it before the first token it signs: no failed request.
 * Reloads from the store every `reloadSeconds`, so a rotation done by `warden keys rotate` (or
 * another instance) is picked up without a restart.
 */
export class SigningKeys {
  readonly #store: KeyStore;
  readonly #alg: 'ES256' | 'EdDSA';
  readonly #now: () => number;
  readonly #reloadSeconds: number;
  #current: { kid: string; alg: string; key: KeyObject; createdAt: number } | undefined;
  #jwks: Jwks = { keys: [] };
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;

  constructor(store: KeyStore, options: { alg?: 'ES256' | 'EdDSA'; now: () => number; reloadSeconds?: number }) {
    this.#store = store;
    this.#alg = options.alg ?? 'ES256';
    this.#now = options.now;
    this.#reloadSeconds = options.reloadSeconds ?? DEFAULTS.time.signingKeyReloadSeconds;
  }

  /** Ensures a current and a next key exist (first start), then loads. */
  async init(): Promise<void> {
    const keys = await this.#store.list();
    const now = this.#now();
    if (!keys.some((k) => k.state === 'current')) await this.#store.put(generateSigningKey(this.#alg, 'current', now));
    if (!keys.some((k) => k.state === 'next')) await this.#store.put(generateSigningKey(this.#alg, 'next', now));
    await this.#load();
  }

  /** Rotates: current → retired (published until `retireAfter`), next → current, a new next. */
  async rotate(retireAfterSeconds: number): Promise<void> {
    const now = this.#now();
    await this.#store.rotate({ newNext: generateSigningKey(this.#alg, 'next', now), retireAfter: now + retireAfterSeconds });
    await this.#load();
  }

  /**
   * Re-reads the keys from the store now rather than at the next periodic reload: a rotation done
   * elsewhere (`warden keys rotate`, another instance) takes effect at once.
   */
  async reload(): Promise<void> {
    await this.#load();
  }

  /** The JWKS to publish. */
  async jwks(): Promise<Jwks> {
    await this.#fresh();
    return this.#jwks;
  }

  /** When the key signing now was created (seconds since epoch); undefined before the first load. */
  get currentCreatedAt(): number | undefined {
    return this.#current?.createdAt;
  }

  /** Signs a JWT with the current key: `typ` and `kid` in the protected header. */
  async signJwt(payload: Record<string, unknown>, typ: string): Promise<string> {
    await this.#fresh();
    const current = this.#current;
    if (current === undefined) throw new Error('no current signing key');
    const header = Buffer.from(JSON.stringify({ alg: current.alg, typ, kid: current.kid })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const input = `${header}.${body}`;
    const signature = current.alg === 'ES256' ? sign('sha256', Buffer.from(input), { key: current.key, dsaEncoding: 'ieee-p1363' }) : sign(null, Buffer.from(input), current.key);
    return `${input}.${signature.toString('base64url')}`;
  }

  /** Algorithms the issuer signs with. */
  get algorithms(): string[] {
    return [this.#alg];
  }

  async #fresh(): Promise<void> {
    if (this.#now() - this.#loadedAt < this.#reloadSeconds && this.#current !== undefined) return;
    await this.#load();
  }

  async #load(): Promise<void> {
    // Single-flight: concurrent signers share one reload.
    this.#loading ??= (async () => {
      try {
        const now = this.#now();
        const keys = await this.#store.list();
        const current = keys.find((k) => k.state === 'current');
        if (current !== undefined && current.kid !== this.#current?.kid) {
          this.#current = { kid: current.kid, alg: current.alg, key: createPrivateKey({ key: current.privateJwk as never, format: 'jwk' }), createdAt: current.createdAt };
        }
        this.#jwks = {
          keys: keys.filter((k) => k.state !== 'retired' || (k.retireAfter ?? 0) > now).map((k) => ({ ...k.publicJwk })),
        };
        this.#loadedAt = now;
      } finally {
        this.#loading = undefined;
      }
    })();
    await this.#loading;
  }
}
