import { DEFAULTS } from '../oauth/defaults.js';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Validity of a presented nonce. */
export type NonceState = 'current' | 'previous' | 'invalid';

/** Options of {@link createNonceManager}. */
export interface NonceManagerOptions {
  /** Shared secret, at least 32 bytes, identical on every instance. */
  secret: string | Uint8Array;
  /** Slot length in seconds; nonces of the current and previous slot are valid. Default 60. */
  slotSeconds?: number;
  /**
   * Binds nonces to one context (e.g. the resource URI or the token endpoint) so a nonce
   * issued for one server is not accepted by another sharing the secret.
   */
  context: string;
  /** Clock in seconds. */
  now?: () => number;
}

/** Issues and checks stateless server nonces. */
export interface NonceManager {
  /** The nonce of the current slot. */
  current(): string;
  /** Whether `nonce` was issued by a holder of the secret for this context, in this or the previous slot. */
  check(nonce: string): NonceState;
}

const SLOT_BYTES = 6;
const MAC_BYTES = 16;

/**
 * Stateless DPoP nonces: `base64url(slot || HMAC-SHA256(secret, context || slot)[0..16])`.
 * Every instance with the same secret issues and accepts the same nonces, so no store is needed,
 * and a nonce lives at most two slots.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export function createNonceManager(options: NonceManagerOptions): NonceManager {
  const secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : Buffer.from(options.secret);
  if (secret.length < 32) throw new TypeError('nonce.secret must be at least 32 bytes; generate one with `openssl rand -base64 48`');
  const slotSeconds = options.slotSeconds ?? DEFAULTS.time.nonceSlotSeconds;
  if (!Number.isInteger(slotSeconds) || slotSeconds < 1) throw new TypeError('nonce.slotSeconds must be a positive integer');
  const now = options.now ?? (() => Date.now() / 1000);
  const context = Buffer.from(options.context, 'utf8');
  let cachedSlot = -1;
  let cachedNonce = '';

  const mac = (slotBuf: Buffer): Buffer =>
    createHmac('sha256', secret).update(context).update(slotBuf).digest().subarray(0, MAC_BYTES);
  const slotBuffer = (slot: number): Buffer => {
    const b = Buffer.alloc(SLOT_BYTES);
    b.writeUIntBE(slot, 0, SLOT_BYTES);
    return b;
  };
  const currentSlot = (): number => Math.floor(now() / slotSeconds);

  return {
    current() {
      const slot = currentSlot();
      if (slot !== cachedSlot) {
        const s = slotBuffer(slot);
        cachedNonce = Buffer.concat([s, mac(s)]).toString('base64url');
        cachedSlot = slot;
      }
      return cachedNonce;
    },
    check(nonce) {
      if (typeof nonce !== 'string' || nonce.length !== 30 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return 'invalid';
      const raw = Buffer.from(nonce, 'base64url');
      if (raw.length !== SLOT_BYTES + MAC_BYTES) return 'invalid';
      const slotBuf = raw.subarray(0, SLOT_BYTES);
      const slot = slotBuf.readUIntBE(0, SLOT_BYTES);
      const cur = currentSlot();
      if (slot !== cur && slot !== cur - 1) return 'invalid';
      if (!timingSafeEqual(raw.subarray(SLOT_BYTES), mac(slotBuf))) return 'invalid';
      return slot === cur ? 'current' : 'previous';
    },
  };
}
