/**
 * The console's consents page: the remembered consents of the local and federated users, one row
 * per user and client (the resources and scopes allowed, each scope with its description), and a
 * revoke button per row that withdraws the pair's consents and the grants issued under them.
 */
import type { AsContext } from '../authorization-server/context.js';
import { revokeAuthorization } from '../authorization-server/endpoints/interaction/index.js';
import { escapeHtml as e } from '../authorization-server/http.js';
import type { SecurityEventInput } from '../observability/audit-events.js';
import type { ConsentRecord } from '../stores/authorization-server-contracts.js';
import { actionForm, table } from './pages.js';

/** Most user × client rows one page shows; a user filter narrows to one user's. */
export const MAX_CONSENT_ROWS = 200;

/** One user's consents to one client, over every resource. */
export interface ConsentRow {
  subject: string;
  clientId: string;
  resources: Array<{ resource: string; scopes: string[] }>;
  grantedAt: number;
}

/** The consents of `user` (or of every user, sorted by name), grouped by user and client; at most {@link MAX_CONSENT_ROWS}. */
export async function listConsentRows(ctx: Pick<AsContext, 'stores'>, user: string): Promise<{ rows: ConsentRow[]; more: boolean }> {
  const subjects = user === '' ? await ctx.stores.users.list() : [user];
  const rows: ConsentRow[] = [];
  for (const subject of [...subjects].sort()) {
    const byClient = new Map<string, ConsentRecord[]>();
    for (const consent of await ctx.stores.consents.list(subject)) byClient.set(consent.clientId, [...(byClient.get(consent.clientId) ?? []), consent]);
    for (const [clientId, consents] of byClient) {
      if (rows.length === MAX_CONSENT_ROWS) return { rows, more: true };
      rows.push({ subject, clientId, resources: consents.map((c) => ({ resource: c.resource, scopes: [...c.scopes] })), grantedAt: Math.max(...consents.map((c) => c.grantedAt)) });
    }
  }
  return { rows, more: false };
}

/** The page's body: a user filter, then the table with a revoke form per row. */
export async function renderConsentsPage(ctx: AsContext, base: string, csrf: string, user: string): Promise<string> {
  const { rows, more } = await listConsentRows(ctx, user);
  const descriptions = new Map(ctx.resources.list().map((r) => [r.uri, r.scopeDescriptions ?? {}]));
  const scopesOf = (resource: string, scopes: readonly string[]) =>
    scopes.map((scope) => {
      const text = descriptions.get(resource)?.[scope];
      return `<code>${e(scope)}</code>${text === undefined ? '' : ` ${e(text)}`}`;
    }).join('<br>');
  const filter = `<form method="get" action="${e(`${base}/consents`)}"><label for="consent-user">User</label><input type="text" id="consent-user" name="user" value="${e(user)}"><button type="submit">Show consents</button></form>`;
  const cells = rows.map((row) => [
    e(row.subject),
    e(row.clientId),
    row.resources.map((r) => `<code>${e(r.resource)}</code>`).join('<br>'),
    row.resources.map((r) => scopesOf(r.resource, r.scopes)).join('<br>'),
    e(new Date(row.grantedAt * 1000).toISOString()),
    actionForm(`${base}/consents/revoke`, csrf, { user: row.subject, client: row.clientId }, 'Revoke', `Revoke consent of ${row.subject} for ${row.clientId}`),
  ]);
  return `<p>What each user allowed each client. Revoking forgets the consent (the next authorization asks again) and revokes the grants issued under it: refresh tokens stop working, access tokens are denied (RFC 7009).</p>
${filter}${table('Remembered consents', ['User', 'Client', 'Resources', 'Scopes', 'Last given', 'Action'], cells)}${more ? `<p class="muted">Only the first ${MAX_CONSENT_ROWS} shown: filter by user.</p>` : ''}`;
}

/** Revokes one user's consent to one client (and its grants); every resulting event names the operator. */
export async function revokeConsentAction(ctx: AsContext, admin: string, form: URLSearchParams, emit: (event: SecurityEventInput) => void): Promise<string> {
  const user = form.get('user') ?? '';
  const client = form.get('client') ?? '';
  const revoked = await revokeAuthorization({ stores: ctx.stores, now: ctx.now, audit: (event) => emit({ ...event, admin }) }, user, client);
  const notice = revoked.consents === 0 && revoked.grants === 0 ? `No consent of ${user} for ${client}.` : `Revoked the consent of ${user} for ${client} (${revoked.grants} grant(s)).`;
  return `consents?done=${encodeURIComponent(notice)}`;
}
