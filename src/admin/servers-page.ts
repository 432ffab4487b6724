/**
 * The console's servers page: every protected MCP server running now with its scopes, policy
 * rule names and rate limits; and, when the fleet registry is there, the forms that add, edit and
 * remove run-time servers. An edit sends the server's whole entry as JSON — the shape the admin
 * API's `PUT /admin/api/servers/{name}` takes, policy rules included — and goes through the same
 * checks; a refused one is shown with each key path and reason, and the running registry stays.
 * Servers declared in the configuration file are read-only here.
 */
import { escapeHtml as e } from '../authorization-server/http.js';
import type { SecurityEventInput } from '../observability/audit-events.js';
import { actionForm, table } from './pages.js';

/** One row of the console's servers page. */
export interface ConsoleServer {
  name: string;
  /** `config`: declared in the configuration file; `registry`: added at run time. */
  source: 'config' | 'registry';
  uri: string;
  upstream: string;
  dpop: string;
  defaultScopes: readonly string[];
  toolScopes: Readonly<Record<string, readonly string[]>>;
  scopeDescriptions?: Readonly<Record<string, string>>;
  /** Names of the CEL policy rules (the table shows names; a run-time server's edit form holds the expressions). */
  policyRules?: readonly string[];
  /** Token buckets, e.g. `per client 10/s, burst 20`. */
  rateLimit?: string;
  /** A run-time server's entry as stored: what its edit form holds. */
  entry?: unknown;
}

/** A problem with a proposed entry: its key path inside the entry, and what to change. */
export interface EntryProblem {
  readonly path: string;
  readonly message: string;
}

/** What a proposed change came to. */
export type ServerChange =
  | { readonly ok: true; readonly notice: string; /** For the audit record, e.g. `server "x" added (revision 3)`. */ readonly detail: string }
  | { readonly ok: false; readonly status: number; readonly detail: string; readonly problems: readonly EntryProblem[] };

/** The fleet registry's changes as the console makes them (the admin API's checks and registry path). */
export interface ConsoleFleet {
  /** Adds (`add`: refused when the name runs already) or replaces (`edit`) server `name` with the JSON `entry`. */
  put(name: string, entry: string, mode: 'add' | 'edit'): Promise<ServerChange>;
  remove(name: string): Promise<ServerChange>;
}

/**
 * Largest servers form: a 64 KiB entry percent-encoded (up to three bytes each) and the other
 * fields. The entry's own limit is the admin API's, checked with the entry.
 */
export const SERVER_FORM_BYTES = 200 * 1024;

/** A refused change, shown again with what was sent. */
export interface RefusedForm {
  form: 'add' | 'edit' | 'remove';
  name: string;
  entry: string;
  detail: string;
  problems: readonly EntryProblem[];
}

const STYLE = `<style>
textarea{display:block;width:100%;min-height:14em;padding:10px 12px;margin:0 0 8px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem;color:#1f2328;background:#fff;border:1px solid #6e7781;border-radius:6px;box-sizing:border-box}
textarea:focus-visible{outline-offset:0}
section.server{margin:0 0 24px}
h2{font-size:1.125rem;margin:24px 0 8px}
.alert ul{margin:8px 0 0;padding-left:20px}
@media (prefers-color-scheme:dark){textarea{color:#e6edf3;background:#0d1117;border-color:#8b949e}}
</style>`;

const EXAMPLE = '{ "path": "/tickets", "upstream": "https://tickets.internal/mcp", "scopes": { "default": ["mcp:tools"] }, "policy": { "rules": [{ "name": "admins-delete", "tools": ["delete"], "allow": "\\"admins\\" in groups" }] } }';

function refusal(refused: RefusedForm): string {
  const items = refused.problems.map((p) => `<li><code>${e(p.path)}</code>: ${e(p.message)}</li>`).join('');
  const what = refused.name === '' ? 'The change' : `The change to server ${refused.name}`;
  return `<div class="alert" role="alert"><p>${e(what)} was refused; the running registry is unchanged.${items === '' ? ` ${e(refused.detail)}` : ''}</p>${items === '' ? '' : `<ul>${items}</ul>`}</div>`;
}

/** The servers page's body; every value escaped. */
export function renderServersPage(base: string, csrf: string, servers: readonly ConsoleServer[], editable: boolean, refused?: RefusedForm): string {
  const rows = servers.map((s) => [
    e(s.name),
    e(s.source),
    `<code>${e(s.uri)}</code>`,
    e(s.upstream),
    e(s.dpop),
    e(s.defaultScopes.join(' ')),
    e(Object.entries(s.toolScopes).map(([tool, scopes]) => `${tool}: ${scopes.join(' ')}`).join('; ')),
    Object.entries(s.scopeDescriptions ?? {}).map(([scope, text]) => `<code>${e(scope)}</code> ${e(text)}`).join('<br>'),
    e((s.policyRules ?? []).join(', ')),
    e(s.rateLimit ?? ''),
  ]);
  const note = 'The servers running now: <em>config</em> ones are declared in the configuration file (edit it; a reload applies it), <em>registry</em> ones were added at run time through the admin API, <code>warden servers</code> or this page.';
  const list = `<p class="muted">${note}</p>${table('Protected MCP servers', ['Name', 'Source', 'Resource', 'Upstream', 'DPoP', 'Default scopes', 'Tool scopes', 'Scope descriptions', 'Policy rules', 'Rate limit'], rows)}`;
  if (!editable) return `${list}<p class="muted">Editing needs the fleet registry store, which this stack does not run.</p>`;

  const configured = servers.filter((s) => s.source === 'config').map((s) => s.name);
  const readOnly =
    configured.length === 0
      ? ''
      : `<p class="muted">Read-only here: ${configured.map((n) => `<strong>${e(n)}</strong>`).join(', ')}. The configuration file declares them and stays their source (the registry refuses run-time changes to them); change them in the file, a reload applies it.</p>`;
  const textarea = (id: string, text: string) => `<textarea id="${id}" name="entry" spellcheck="false" required>\n${e(text)}</textarea>`;
  const sections = servers
    .filter((s) => s.source === 'registry')
    .map((s, i) => {
      const shown = refused !== undefined && refused.form === 'edit' && refused.name === s.name;
      const text = shown ? refused.entry : JSON.stringify(s.entry ?? { name: s.name }, null, 2);
      return `<section class="server" aria-labelledby="server-${i}"><h2 id="server-${i}">Server ${e(s.name)}</h2>${shown || (refused?.form === 'remove' && refused.name === s.name) ? refusal(refused!) : ''}
<form method="post" action="${e(`${base}/servers/edit`)}"><input type="hidden" name="csrf" value="${e(csrf)}"><input type="hidden" name="name" value="${e(s.name)}"><label for="entry-${i}">Entry of ${e(s.name)} (JSON)</label>${textarea(`entry-${i}`, text)}<button type="submit" aria-label="${e(`Save server ${s.name}`)}">Save</button></form>
<p>${actionForm(`${base}/servers/remove`, csrf, { name: s.name }, 'Remove', `Remove server ${s.name}`)}</p></section>`;
    })
    .join('');
  const adding = refused?.form === 'add' ? refused : undefined;
  const orphan = refused?.form !== 'add' && refused !== undefined && !servers.some((s) => s.source === 'registry' && s.name === refused.name) ? refusal(refused) : '';
  const add = `<section class="server" aria-labelledby="add-server"><h2 id="add-server">Add a server</h2>${adding ? refusal(adding) : ''}
<p class="muted">The entry is a <code>resources</code> item of the configuration as JSON (policy rules in <code>policy.rules</code>), e.g. <code>${e(EXAMPLE)}</code>; it is checked as the configuration file and the admin API check it.</p>
<form method="post" action="${e(`${base}/servers/add`)}"><input type="hidden" name="csrf" value="${e(csrf)}"><label for="new-name">Name</label><input type="text" id="new-name" name="name" value="${e(adding?.name ?? '')}" required><label for="new-entry">Entry (JSON)</label>${textarea('new-entry', adding?.entry ?? '{\n  "path": "",\n  "upstream": ""\n}')}<button type="submit">Add server</button></form></section>`;
  return `${STYLE}${list}${readOnly}${orphan}${sections}${add}`;
}

/** What a servers action answers: where to go next, or the page again with the refusal (and its status). */
export type ServerActionAnswer = { next: string } | { status: number; refused: RefusedForm };

/**
 * Runs `servers/add`, `servers/edit` or `servers/remove`: one registry change, an audit event
 * (`registry.changed`, naming the operator) when it is made.
 */
export async function serverAction(
  action: string,
  fleet: ConsoleFleet,
  form: URLSearchParams,
  who: { admin: string; clientId: string },
  emit: (event: SecurityEventInput) => void,
): Promise<ServerActionAnswer | undefined> {
  const name = (form.get('name') ?? '').trim();
  const entry = form.get('entry') ?? '';
  let change: ServerChange;
  let kind: RefusedForm['form'];
  switch (action) {
    case 'servers/add':
    case 'servers/edit':
      kind = action === 'servers/add' ? 'add' : 'edit';
      change = await fleet.put(name, entry, kind);
      break;
    case 'servers/remove':
      kind = 'remove';
      change = await fleet.remove(name);
      break;
    default:
      return undefined;
  }
  if (!change.ok) return { status: change.status, refused: { form: kind, name, entry, detail: change.detail, problems: change.problems } };
  emit({ type: 'registry.changed', clientId: who.clientId, admin: who.admin, detail: `operator console: ${change.detail}` });
  return { next: `servers?done=${encodeURIComponent(change.notice)}` };
}
