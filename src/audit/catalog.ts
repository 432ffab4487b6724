/**
 * Every check of `warden audit`, in the order they run and are listed: discovery first (most
 * checks build on it), then transport, tokens, DPoP, scopes, sessions, the authorization server.
 */
import type { Check } from './check.js';
import { authorizeChecks } from './checks/authorize.js';
import { dpopChecks } from './checks/dpop.js';
import { forgedTokenChecks } from './checks/forged-tokens.js';
import { grantChecks } from './checks/grants.js';
import { metadataChecks } from './checks/metadata.js';
import { registrationChecks } from './checks/registration.js';
import { scopeChecks } from './checks/scopes.js';
import { sessionChecks } from './checks/sessions.js';
import { tokenPlacementChecks } from './checks/token-placement.js';
import { transportChecks } from './checks/transport.js';
import { unauthenticatedChecks } from './checks/unauthenticated.js';
import { AREAS, type CheckDefinition } from './types.js';

const ALL: readonly Check[] = [
  ...unauthenticatedChecks,
  ...metadataChecks,
  ...transportChecks,
  ...tokenPlacementChecks,
  ...forgedTokenChecks,
  ...dpopChecks,
  ...scopeChecks,
  ...sessionChecks,
  ...authorizeChecks,
  ...registrationChecks,
  ...grantChecks,
];

/** The checks, grouped by area in report order (stable within an area). */
export const CHECKS: readonly Check[] = Object.freeze(AREAS.flatMap((area) => ALL.filter((c) => c.area === area)));

/** The definitions alone (no code), for `--list`, SARIF rules and documentation. */
export function checkDefinitions(): CheckDefinition[] {
  return CHECKS.map(({ id, area, severity, title, summary, standards, fix, needs, impliedBy }) => ({ id, area, severity, title, summary, standards, fix, needs, ...(impliedBy && { impliedBy }) }));
}
