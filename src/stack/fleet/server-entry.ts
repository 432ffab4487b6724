/**
 * One server entry as an operator sends it — the admin API's `PUT /admin/api/servers/{name}` body
 * or the console's edit form — read the one way both accept it, and a refused registry change
 * told the one way both tell it. The entry's own checks are the registry's (`ServerRegistry.propose`).
 */
import type { ServerProblem } from '../../config/server-spec.js';
import { parseStrictJson } from '../../mcp/strict-json.js';
import type { ProposeResult } from './server-registry.js';

/** Largest server entry accepted, in bytes of JSON. */
export const MAX_ENTRY_BYTES = 64 * 1024;

/** An entry read for server `name`, or why not (key paths as the registry gives them). */
export type ServerEntryParse =
  | { readonly ok: true; readonly spec: Record<string, unknown> }
  | { readonly ok: false; readonly detail: string; readonly errors: readonly ServerProblem[] };

/**
 * Reads `body` as the entry of server `name`: strict JSON (no duplicate keys), one object, whose
 * `name` (when given) is `name`. The entry returned carries `name`.
 */
export function parseServerEntry(name: string, body: Buffer): ServerEntryParse {
  if (body.length > MAX_ENTRY_BYTES) return { ok: false, detail: `a server entry is at most ${MAX_ENTRY_BYTES} bytes`, errors: [{ path: '(top level)', message: `at most ${MAX_ENTRY_BYTES} bytes` }] };
  const parsed = parseStrictJson(body);
  if (!parsed.ok) return { ok: false, detail: `the body is not valid JSON: ${parsed.reason}`, errors: [{ path: '(top level)', message: parsed.reason }] };
  const spec = parsed.value;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return { ok: false, detail: 'the server entry must be a JSON object', errors: [{ path: '(top level)', message: 'expected a mapping of keys' }] };
  }
  const entry = spec as Record<string, unknown>;
  if ('name' in entry && entry['name'] !== name) {
    return { ok: false, detail: 'the entry names another server than the URL', errors: [{ path: 'name', message: `must be ${JSON.stringify(name)} (the name in the URL), or left out` }] };
  }
  return { ok: true, spec: { ...entry, name } };
}

/** A change the registry refused. */
export type RefusedChange = Exclude<ProposeResult, { ok: true }>;

/** How a refused change is told: an HTTP status, a title and detail, each problem's key path. */
export interface ChangeRefusal {
  status: number;
  title: string;
  detail: string;
  errors?: readonly ServerProblem[];
  headers?: Record<string, string>;
}

/** Tells why the registry refused a change; the running registry is unchanged in every case. */
export function refusalOf(result: RefusedChange): ChangeRefusal {
  switch (result.reason) {
    case 'invalid':
      return {
        status: 400,
        title: 'Bad Request',
        detail: `server ${JSON.stringify(result.name)} is refused; the running registry is unchanged: ${result.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        errors: result.problems,
      };
    case 'declared_in_config':
      return { status: 409, title: 'Conflict', detail: `server ${JSON.stringify(result.name)} is declared in the configuration file: change it there` };
    case 'conflict':
      return { status: 409, title: 'Conflict', detail: 'the registry kept changing under this request; try again', headers: { 'Retry-After': '1' } };
  }
}

/**
 * What a stored secret reads as wherever an entry is shown (`GET /admin/api/servers/{name}`, the
 * console's edit form, `warden servers show --url`): an operator reads an entry back without
 * learning its introspection client secret, and sends the placeholder back unchanged to keep it.
 */
export const STORED_SECRET = '(stored secret: send this text back unchanged to keep it)';

/** The one secret a server entry holds: `trust.introspection.clientSecret`. */
function introspectionOf(spec: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const trust = spec?.['trust'];
  if (trust === null || typeof trust !== 'object' || Array.isArray(trust)) return undefined;
  const introspection = (trust as Record<string, unknown>)['introspection'];
  return introspection !== null && typeof introspection === 'object' && !Array.isArray(introspection) ? (introspection as Record<string, unknown>) : undefined;
}

/** `spec` as it may be shown: its secret replaced by {@link STORED_SECRET}. */
export function redactEntry(spec: Record<string, unknown>): Record<string, unknown> {
  const introspection = introspectionOf(spec);
  if (introspection === undefined || !('clientSecret' in introspection)) return spec;
  const trust = spec['trust'] as Record<string, unknown>;
  return { ...spec, trust: { ...trust, introspection: { ...introspection, clientSecret: STORED_SECRET } } };
}

/**
 * An entry read back for a write: where it holds {@link STORED_SECRET}, the secret `stored` (the
 * entry as stored now) holds; refused when there is none to keep, so the placeholder never
 * becomes a secret.
 */
export function restoreSecret(parsed: ServerEntryParse, stored: Record<string, unknown> | undefined): ServerEntryParse {
  if (!parsed.ok) return parsed;
  const introspection = introspectionOf(parsed.spec);
  if (introspection?.['clientSecret'] !== STORED_SECRET) return parsed;
  const kept = introspectionOf(stored)?.['clientSecret'];
  if (typeof kept !== 'string') {
    const message = 'holds the placeholder of a stored secret, but this server has none stored: send the secret itself';
    return { ok: false, detail: `trust.introspection.clientSecret ${message}`, errors: [{ path: 'trust.introspection.clientSecret', message }] };
  }
  const trust = parsed.spec['trust'] as Record<string, unknown>;
  return { ok: true, spec: { ...parsed.spec, trust: { ...trust, introspection: { ...introspection, clientSecret: kept } } } };
}
