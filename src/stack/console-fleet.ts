/**
 * The operator console's fleet changes, on the running registry: each goes through the admin
 * API's reading of an entry ({@link parseServerEntry}) and the registry's checks and
 * compare-and-swap write ({@link ServerRegistry.propose}), so a change refused there is refused
 * here with the same key paths, and the running registry stays.
 */
import type { ConsoleFleet, ServerChange } from '../admin/servers-page.js';
import { StoreUnavailableError } from '../oauth/errors.js';
import { parseServerEntry, refusalOf, restoreSecret, type ChangeRefusal } from './fleet/server-entry.js';
import type { ServerRegistry } from './fleet/server-registry.js';

const refused = (r: ChangeRefusal): ServerChange => ({ ok: false, status: r.status, detail: r.detail, problems: r.errors ?? [] });

/** A store outage refuses the change (503, try again) instead of failing the page. */
async function guarded(run: () => Promise<ServerChange>): Promise<ServerChange> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StoreUnavailableError) return { ok: false, status: 503, detail: 'the registry store cannot answer; try again', problems: [] };
    throw error;
  }
}

/** The console's changes to `registry`. */
export function consoleFleet(registry: ServerRegistry): ConsoleFleet {
  /** Whether `name` runs now, read after the store (another instance may have changed it). */
  const runs = async (name: string) => {
    await registry.refresh();
    return registry.current().servers.some((s) => s.name === name);
  };
  return {
    put: (name, text, mode) =>
      guarded(async () => {
        if (name === '') return { ok: false, status: 400, detail: 'name the server', problems: [{ path: 'name', message: 'required' }] };
        const running = await runs(name);
        // An add never replaces a running server by accident (the admin API's PUT does either: it is told by the URL).
        if (mode === 'add' && running && !registry.current().declaredInConfig.has(name)) {
          return { ok: false, status: 409, detail: `server ${JSON.stringify(name)} runs already`, problems: [{ path: 'name', message: `a server named ${JSON.stringify(name)} runs already: edit it instead` }] };
        }
        if (mode === 'edit' && !running) return { ok: false, status: 404, detail: `no server named ${JSON.stringify(name)} (removed meanwhile?)`, problems: [] };
        const parsed = restoreSecret(parseServerEntry(name, Buffer.from(text, 'utf8')), registry.record(name)?.spec);
        if (!parsed.ok) return { ok: false, status: 400, detail: parsed.detail, problems: parsed.errors };
        const result = await registry.propose({ put: { name, spec: parsed.spec } });
        if (!result.ok) return refused(refusalOf(result));
        const done = result.created ? 'added' : 'replaced';
        return { ok: true, notice: `Server ${name} ${done}.`, detail: `server ${JSON.stringify(name)} ${done} (revision ${result.revision})` };
      }),
    remove: (name) =>
      guarded(async () => {
        if (!(await runs(name))) return { ok: false, status: 404, detail: `no server named ${JSON.stringify(name)}`, problems: [] };
        const result = await registry.propose({ remove: name });
        if (!result.ok) return refused(refusalOf(result));
        return { ok: true, notice: `Server ${name} removed.`, detail: `server ${JSON.stringify(name)} removed (revision ${result.revision})` };
      }),
  };
}
