/**
 * Key layout of the replay store on a Redis Cluster: `<prefix>{<jkt>}:<jti>`. Redis Cluster
 * hashes only what is inside the first `{…}` of a key, so every key of one DPoP key (one client
 * key pair) maps to one slot: operations that touch several of them — claims together with
 * per-key counters — stay atomic, and keys spread over the slots by client key.
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
import { createHash } from 'node:crypto';

/**
 * The cluster key for replay key `key` (`<jkt>:<jti>`; anything before the first `:` is the tag).
 * A tag that is empty or holds a brace (never a base64url thumbprint) is replaced by its SHA-256,
 * so no caller can pick another key's slot or produce an empty tag, which Redis would ignore.
 */
export function clusterKey(prefix: string, key: string): string {
  const colon = key.indexOf(':');
  const tag = colon === -1 ? key : key.slice(0, colon);
  const rest = colon === -1 ? '' : key.slice(colon);
  const safe = tag !== '' && !/[{}]/.test(tag) ? tag : createHash('sha256').update(tag).digest('base64url');
  // The prefix must not open a hash tag of its own: braces in it are escaped out of the way.
  return `${prefix.replace(/[{}]/g, '_')}{${safe}}${rest}`;
}
