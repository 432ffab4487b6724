/**
 * The console's pages, server-rendered in the sign-in pages' shell (same styles, light and dark):
 * a navigation, then the page. Every value is escaped; every form posts to the same origin with
 * the session's CSRF token.
 */
import { layout } from '../authorization-server/html-page.js';
import { escapeHtml as e } from '../authorization-server/http.js';
import type { AuditRecord } from '../observability/audit-event.js';

const WIDE = `<style>
main{max-width:1040px}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;margin:0 0 20px;padding:0}
nav a{color:#0b57d0}
nav a[aria-current=page]{font-weight:700;color:#1f2328}
table{border-collapse:collapse;width:100%;margin:0 0 16px;font-size:.875rem}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d8dee4;vertical-align:top;overflow-wrap:anywhere}
form.inline{display:inline}
form.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:0 12px;align-items:end}
.ok{padding:12px 14px;margin:0 0 16px;border-radius:6px;border:1px solid #1a7f37;background:#dafbe1;color:#0f5323}
@media (prefers-color-scheme:dark){nav a{color:#79b8ff}nav a[aria-current=page]{color:#e6edf3}th,td{border-color:#30363d}.ok{background:#04260f;border-color:#3fb950;color:#aff5b4}}
</style>`;

/** The console's sections, in navigation order. */
export const SECTIONS = [
  ['', 'Overview'],
  ['clients', 'Clients'],
  ['grants', 'Users and grants'],
  ['consents', 'Consents'],
  ['keys', 'Signing keys'],
  ['servers', 'Servers and policies'],
  ['audit', 'Audit trail'],
] as const;

/** Wraps a section's content with the navigation and the signed-in operator. */
export function consolePage(brand: string, base: string, section: string, admin: string, body: string, notice?: string): string {
  const title = SECTIONS.find(([path]) => path === section)?.[1] ?? 'Console';
  const nav = SECTIONS.map(([path, label]) => `<li><a href="${e(`${base}/${path}`)}"${path === section ? ' aria-current="page"' : ''}>${e(label)}</a></li>`).join('');
  return layout(
    `${brand} console`,
    title,
    `${WIDE}<nav aria-label="Console"><ul>${nav}</ul></nav>
<h1>${e(title)}</h1>
<p class="muted">Signed in as <strong>${e(admin)}</strong>.</p>
${notice === undefined ? '' : `<p class="ok" role="status">${e(notice)}</p>`}
${body}`,
  );
}

/** A POST form to `action` with the CSRF token and hidden fields, and one button. */
export function actionForm(action: string, csrf: string, fields: Record<string, string>, button: string, label: string): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${e(name)}" value="${e(value)}">`)
    .join('');
  return `<form class="inline" method="post" action="${e(action)}"><input type="hidden" name="csrf" value="${e(csrf)}">${hidden}<button type="submit" class="secondary" aria-label="${e(label)}">${e(button)}</button></form>`;
}

/** A table; cells are already-escaped HTML. */
export function table(caption: string, head: readonly string[], rows: readonly string[][]): string {
  if (rows.length === 0) return `<p class="muted">${e(caption)}: none.</p>`;
  return `<table><caption class="muted">${e(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** The rows of the audit page. */
export function auditRows(records: ReadonlyArray<Readonly<AuditRecord>>): string[][] {
  return records.map((r) => [
    e(r.time),
    e(r.type),
    e(r.outcome ?? ''),
    e(r.reason ?? ''),
    e(r.subject ?? r.admin ?? ''),
    e(r.clientId ?? ''),
    e([...(r.tools ?? []), ...(r.tools?.length ? [] : (r.methods ?? []))].join(', ')),
    e(r.detail ?? r.server ?? ''),
  ]);
}
