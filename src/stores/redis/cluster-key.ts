/**
 * Key layout of the replay store on a Redis Cluster: `<prefix>{<group>}<last segment>`, where the
 * group is the key up to its last `:`. Redis Cluster hashes only what is inside the first `{…}`
 * of a key, so keys of one group share a slot, and any operation over several of them (a MULTI, a
 * script) stays on one master:
 *
 * - DPoP proofs: `<22-character hash of jkt and jti>` — no `:`, so each proof is its own group
 *   and proofs spread evenly over every master, whichever client sent them (a busy client is not
 *   pinned to one master, as tagging by `jkt` alone would do).
 * - Sign-in attempts: `warden:login:<interaction>:<n>` and
 *   `warden:login-account:<account>:<window>:<n>` — the attempts of one interaction, or of one
 *   account in one window, share a slot.
 *
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
import { createHash } from 'node:crypto';

/**
 * The cluster key for replay-store key `key`. A group that is empty or holds a brace is replaced
 * by its SHA-256, so no caller can pick another key's slot or produce an empty tag (which Redis
 * ignores, hashing the whole key).
 */
export function clusterKey(prefix: string, key: string): string {
  const colon = key.lastIndexOf(':');
  const group = colon === -1 ? key : key.slice(0, colon);
  const rest = colon === -1 ? '' : key.slice(colon);
  const tag = group !== '' && !/[{}]/.test(group) ? group : createHash('sha256').update(group).digest('base64url');
  // The prefix must not open a hash tag of its own: braces in it are replaced.
  return `${prefix.replace(/[{}]/g, '_')}{${tag}}${rest}`;
}
