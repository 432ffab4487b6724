/** The Warden user behind an upstream identity: a subject stable per (provider issuer, provider subject). */
import { createHash } from 'node:crypto';
import type { FederatedIdentity } from '../../stores/authorization-server-contracts.js';
import type { AsContext } from '../context.js';

/** No password verifies against this (it is not an scrypt hash): a federated user signs in only at the provider. */
export const FEDERATED_PASSWORD_HASH = 'federated';

/**
 * The Warden subject of `subject` at `issuer`: `fed-` and 26 base64url characters of
 * SHA-256(issuer NUL subject) — the same on every instance and after every restart, different
 * for the same subject at another provider, and never a local username (`fed-` names are refused
 * to local users only by convention: a clash is refused at sign-in).
 */
export function federatedSubject(issuer: string, subject: string): string {
  return `fed-${createHash('sha256').update(issuer).update('\0').update(subject).digest('base64url').slice(0, 26)}`;
}

/**
 * Creates or updates the user linked to `identity`, with the claims of this sign-in. Returns the
 * Warden subject, or undefined when a local (password) user already has that name.
 */
export async function linkFederatedUser(ctx: AsContext, identity: FederatedIdentity): Promise<string | undefined> {
  const username = federatedSubject(identity.issuer, identity.subject);
  const existing = await ctx.stores.users.get(username);
  if (existing !== undefined && existing.federation === undefined) return undefined;
  await ctx.stores.users.put({ username, passwordHash: FEDERATED_PASSWORD_HASH, createdAt: existing?.createdAt ?? identity.updatedAt, federation: identity, ...(existing?.roles ? { roles: existing.roles } : {}) });
  return username;
}

/** Claims a federated subject's access tokens carry (`groups`, for policy); none for a local user. */
export async function federatedClaims(ctx: AsContext, subject: string): Promise<Record<string, unknown> | undefined> {
  if ((ctx.options.identityProviders ?? []).length === 0 || !subject.startsWith('fed-')) return undefined;
  const groups = (await ctx.stores.users.get(subject))?.federation?.groups;
  return groups === undefined ? undefined : { groups: [...groups] };
}
