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
