/**
 * The operator console at `/admin`: server-rendered pages behind the stack's own sign-in (an
 * authorization-code flow with PKCE to the stack's authorization server, for the console's own
 * resource and scope), open only to the configured admin subjects and to users holding the admin
 * role (`warden users add --admin`), checked on every request. Same rules as the sign-in
 * pages: the shared security headers (CSP with `frame-ancestors 'none'`), a CSRF token in every
 * form, POSTs only from the same origin. Every action is an audit event naming the operator.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthorizationServer } from '../authorization-server/create-authorization-server.js';
import { revokeAuthorization } from '../authorization-server/endpoints/interaction/index.js';
import { renderErrorPage } from '../authorization-server/html-page.js';
import { escapeHtml as e, sendHtml } from '../authorization-server/http.js';
import { isAdminUser } from '../authorization-server/users.js';
import { verifyOwnAccessToken } from '../authorization-server/verify-own-access-token.js';
import type { SecurityEventInput } from '../observability/audit-events.js';
import { AUDIT_EVENT_TYPES } from '../observability/audit-event.js';
import { readStream } from '../oauth/read-stream.js';
import { renderConsentsPage, revokeConsentAction } from './consents-page.js';
import { actionForm, auditRows, consolePage, table } from './pages.js';
import type { RecentRecords } from './recent-records.js';
import { renderServersPage, serverAction, SERVER_FORM_BYTES, type ConsoleFleet, type ConsoleServer, type RefusedForm } from './servers-page.js';
import { openCookie, readCookie, sealCookie } from './signed-cookie.js';

/** Options of {@link createAdminConsole}. */
export interface AdminConsoleOptions {
  /** Public URL of the stack (origin and path prefix). */
  publicUrl: string;
  server: AuthorizationServer;
  /** The console's client id and resource at the stack's authorization server. */
  clientId: string;
  resource: string;
  scope: string;
  /** Subjects allowed in (`admin.subjects`); users with the admin role are let in as well. */
  subjects: ReadonlySet<string>;
  recent: RecentRecords;
  /** Records an operator's action (audit trail). */
  emit(event: SecurityEventInput): void;
  /**
   * The protected MCP servers running now — declared in the configuration and added at run time
   * (admin API, `warden servers`, this console) — with their scope policies, policy rules and rate limits.
   */
  servers(): Promise<readonly ConsoleServer[]>;
  /** The fleet registry's changes (add, edit, remove run-time servers); without it the servers page is view only. */
  fleet?: ConsoleFleet;
  /** Overview figures (from the metrics). */
  overview(): ConsoleOverview;
}

/** The overview page's figures: per measure, its count over the last hour and since the instance started. */
export interface ConsoleOverview {
  /** Start of the "last hour" window (ms since the epoch; later than an hour ago on a young instance). */
  since?: number;
  rows: ReadonlyArray<readonly [label: string, lastHour: number, sinceStart: number]>;
  /** Shown instead of an empty table. */
  note?: string;
}

export type { ConsoleFleet, ConsoleServer } from './servers-page.js';

/** The console's request handler: answers (and resolves true) for paths under `/admin`. */
export interface AdminConsole {
  readonly path: string;
  readonly redirectUri: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

const SESSION = 'warden_admin';
const LOGIN = 'warden_admin_login';
const SESSION_SECONDS = 8 * 3600;
const PAGE_SIZE = 50;

interface Session {
  sub: string;
  csrf: string;
  exp: number;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The sign-in pages' rule: `Origin` must be ours; `Origin: null` (what Chromium sends under
 * `Referrer-Policy: no-referrer`, but also a sandboxed frame) only with `Sec-Fetch-Site:
 * same-origin`; a client sending neither is no browser, and still needs the session and its token.
 */
function isSameOriginPost(req: IncomingMessage, origin: string): boolean {
  const given = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (given === 'null') return site === 'same-origin';
  if (given !== undefined && given !== origin) return false;
  return site === undefined || site === 'same-origin';
}

/** Creates the console. */
export function createAdminConsole(options: AdminConsoleOptions): AdminConsole {
  const url = new URL(options.publicUrl);
  const base = `${url.pathname.replace(/\/+$/, '')}/admin`;
  const origin = url.origin;
  const redirectUri = `${origin}${base}/callback`;
  const ctx = options.server.context;
  const brand = ctx.loginTitle;
  const secure = url.protocol === 'https:' ? '; Secure' : '';
  const now = () => Math.floor(Date.now() / 1000);
  const cookie = (name: string, value: string, maxAge: number, sameSite: 'Lax' | 'Strict') => `${name}=${value}; Path=${base}; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAge}${secure}`;
  // Asked again on every request, so taking the role away (or the user) ends a session at once.
  const isAdmin = async (subject: string) => options.subjects.has(subject) || isAdminUser(await ctx.stores.users.get(subject));
  const fail = (res: ServerResponse, status: number, title: string, message: string) => sendHtml(res, status, renderErrorPage(brand, title, message), { 'Cache-Control': 'no-store' });

  const startSignIn = (res: ServerResponse) => {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const authorize = new URL(ctx.endpoints.authorization);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: options.clientId,
      redirect_uri: redirectUri,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: options.resource,
      scope: options.scope,
      state,
    })) authorize.searchParams.set(k, v);
    res.writeHead(303, { Location: authorize.href, 'Set-Cookie': cookie(LOGIN, sealCookie(ctx.hmac, LOGIN, { state, verifier, exp: now() + 600 }), 600, 'Lax'), 'Cache-Control': 'no-store' });
    res.end();
  };

  const callback = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    const login = openCookie<{ state: string; verifier: string; exp: number }>(ctx.hmac, LOGIN, readCookie(req.headers.cookie, LOGIN), now());
    const code = query.get('code');
    if (login === undefined || !equal(query.get('state') ?? '', login.state) || query.get('iss') !== ctx.issuer || code === null) {
      return fail(res, 400, 'Sign-in failed', 'The sign-in could not be completed (expired, or not started here). Open the console again.');
    }
    const answer = await fetch(ctx.endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: login.verifier, redirect_uri: redirectUri, client_id: options.clientId }).toString(),
    });
    const body = (await answer.json().catch(() => ({}))) as { access_token?: string };
    if (answer.status !== 200 || typeof body.access_token !== 'string') return fail(res, 400, 'Sign-in failed', 'The authorization server did not issue a token for the console.');
    const claims = await verifyOwnAccessToken(ctx, body.access_token);
    const subject = claims.sub;
    if (subject === undefined || !(await isAdmin(subject))) {
      options.emit({ type: 'login.failed', ...(subject === undefined ? {} : { subject }), clientId: options.clientId, detail: 'operator console: not an administrator' });
      return fail(res, 403, 'Not an administrator', 'You signed in, but this account is not allowed to use the operator console.');
    }
    const session: Session = { sub: subject, csrf: randomBytes(24).toString('base64url'), exp: now() + SESSION_SECONDS };
    res.writeHead(303, { Location: `${base}/`, 'Set-Cookie': [cookie(SESSION, sealCookie(ctx.hmac, SESSION, session), SESSION_SECONDS, 'Strict'), cookie(LOGIN, '', 0, 'Lax')], 'Cache-Control': 'no-store' });
    res.end();
  };

  const render = async (section: string, session: Session, query: URLSearchParams, refused?: RefusedForm): Promise<string | undefined> => {
    const notice = query.get('done') ?? undefined;
    const page = (body: string) => consolePage(brand, base, section, session.sub, body, notice);
    switch (section) {
      case '':
      {
        const { since, rows, note } = options.overview();
        const from = since === undefined ? '' : `${new Date(since).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
        const caption = `From the metrics of this instance: the last hour (since ${from}) and since it started`;
        return page(note !== undefined ? `<p class="muted">${e(note)}</p>` : table(caption, ['Measure', 'Last hour', 'Since start'], rows.map(([label, hour, total]) => [e(label), e(String(hour)), e(String(total))])));
      }
      case 'clients': {
        const id = query.get('client_id') ?? '';
        const client = id === '' ? undefined : await ctx.stores.clients.get(id);
        const lookup = `<form method="get" action="${e(`${base}/clients`)}"><label for="client_id">Client ID</label><input type="text" id="client_id" name="client_id" value="${e(id)}"><button type="submit">Inspect</button></form>`;
        const shown =
          client === undefined
            ? id === ''
              ? ''
              : `<p role="alert">No client ${e(id)}.</p>`
            : `<dl><dt>Client ID</dt><dd>${e(client.clientId)}</dd><dt>Name</dt><dd>${e(client.clientName ?? '')}</dd><dt>Source</dt><dd>${e(client.source ?? '')}</dd><dt>Status</dt><dd>${client.disabledAt === undefined ? 'enabled' : `disabled since ${e(new Date(client.disabledAt * 1000).toISOString())}`}</dd><dt>Grant types</dt><dd>${e(client.grantTypes.join(' '))}</dd><dt>Redirect URIs</dt><dd>${e(client.redirectUris.join(' '))}</dd></dl>${
                client.disabledAt === undefined
                  ? actionForm(`${base}/clients/disable`, session.csrf, { client_id: client.clientId }, 'Disable client', `Disable client ${client.clientId}`)
                  : actionForm(`${base}/clients/enable`, session.csrf, { client_id: client.clientId }, 'Enable client', `Enable client ${client.clientId}`)
              } ${actionForm(`${base}/clients/delete`, session.csrf, { client_id: client.clientId }, 'Delete client', `Delete client ${client.clientId}`)}`;
        return page(lookup + shown);
      }
      case 'grants':
        return page(`<p>Withdraw everything a user allowed a client: remembered consents, refresh tokens and access tokens (RFC 7009).</p>
<form method="post" action="${e(`${base}/grants/revoke`)}"><input type="hidden" name="csrf" value="${e(session.csrf)}"><label for="user">User</label><input type="text" id="user" name="user" required><label for="client">Client ID</label><input type="text" id="client" name="client" required><button type="submit">Revoke grants</button></form>`);
      case 'consents':
        return page(await renderConsentsPage(ctx, base, session.csrf, query.get('user') ?? ''));
      case 'keys': {
        const keys = await ctx.stores.keys.list();
        const rows = keys.map((k) => [e(k.kid), e(k.state), e(k.alg), e(new Date(k.createdAt * 1000).toISOString()), e(k.retireAfter === undefined ? '' : new Date(k.retireAfter * 1000).toISOString())]);
        return page(table('Signing keys', ['Key ID', 'State', 'Algorithm', 'Created', 'Published until'], rows) + actionForm(`${base}/keys/rotate`, session.csrf, {}, 'Rotate keys', 'Rotate signing keys'));
      }
      case 'servers':
        return page(renderServersPage(base, session.csrf, await options.servers(), options.fleet !== undefined, refused));
      case 'audit': {
        const filter = { user: query.get('user') ?? '', client: query.get('client') ?? '', tool: query.get('tool') ?? '', decision: query.get('decision') ?? '', type: query.get('type') ?? '', since: query.get('since') ?? '' };
        const pageNo = Math.max(0, Math.min(1000, Number.parseInt(query.get('page') ?? '0', 10) || 0));
        const { records, total } = options.recent.query(filter, pageNo, PAGE_SIZE);
        const input = (name: keyof typeof filter, label: string) => `<div><label for="f-${name}">${e(label)}</label><input type="text" id="f-${name}" name="${name}" value="${e(filter[name])}"></div>`;
        const select = (name: 'decision' | 'type', label: string, values: readonly string[]) =>
          `<div><label for="f-${name}">${e(label)}</label><select id="f-${name}" name="${name}"><option value="">any</option>${values.map((v) => `<option${v === filter[name] ? ' selected' : ''}>${e(v)}</option>`).join('')}</select></div>`;
        const form = `<form class="filters" method="get" action="${e(`${base}/audit`)}">${input('user', 'User')}${input('client', 'Client')}${input('tool', 'Tool')}${select('decision', 'Decision', ['allow', 'deny', 'success', 'failure'])}${select('type', 'Event', AUDIT_EVENT_TYPES)}${input('since', 'Since (UTC)')}<div><button type="submit">Filter</button></div></form>`;
        const params = (p: number) => new URLSearchParams({ ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== '')), page: String(p) }).toString();
        const paging = `<p class="muted">${total} record(s); page ${pageNo + 1} of ${Math.max(1, Math.ceil(total / PAGE_SIZE))}. ${pageNo > 0 ? `<a href="${e(`${base}/audit?${params(pageNo - 1)}`)}">Newer</a>` : ''} ${(pageNo + 1) * PAGE_SIZE < total ? `<a href="${e(`${base}/audit?${params(pageNo + 1)}`)}">Older</a>` : ''}</p>`;
        return page(form + paging + table('Audit records, newest first', ['Time', 'Event', 'Outcome', 'Reason', 'User', 'Client', 'Tools', 'Detail'], auditRows(records)));
      }
      default:
        return undefined;
    }
  };

  /** An action answers where to go next (303), or a page to show as it is (a refused server change). */
  const act = async (action: string, session: Session, form: URLSearchParams): Promise<string | { status: number; html: string } | undefined> => {
    const admin = session.sub;
    if (action.startsWith('servers/') && options.fleet !== undefined) {
      const answer = await serverAction(action, options.fleet, form, { admin, clientId: options.clientId }, options.emit);
      if (answer === undefined || 'next' in answer) return answer?.next;
      return { status: answer.status, html: (await render('servers', session, new URLSearchParams(), answer.refused))! };
    }
    switch (action) {
      case 'keys/rotate':
        // The authorization server records the rotation, naming the operator.
        await options.server.rotateKeys({ admin });
        return 'keys?done=Signing keys rotated.';
      case 'clients/delete': {
        const clientId = form.get('client_id') ?? '';
        if ((await ctx.stores.clients.get(clientId)) === undefined) return `clients?done=${encodeURIComponent(`No client ${clientId}.`)}`;
        await ctx.stores.clients.delete(clientId);
        options.emit({ type: 'client.deleted', clientId, admin });
        return `clients?done=${encodeURIComponent(`Client ${clientId} deleted.`)}`;
      }
      case 'clients/disable':
      case 'clients/enable': {
        const clientId = form.get('client_id') ?? '';
        const disable = action === 'clients/disable';
        const back = (notice: string) => `clients?${new URLSearchParams({ client_id: clientId, done: notice }).toString()}`;
        // The console's own client signs operators in: disabling it would lock every operator out.
        if (disable && clientId === options.clientId) return back('The console\'s own client cannot be disabled.');
        const client = await ctx.stores.clients.get(clientId);
        if (client === undefined) return `clients?done=${encodeURIComponent(`No client ${clientId}.`)}`;
        if (disable === (client.disabledAt !== undefined)) return back(`Client ${clientId} is already ${disable ? 'disabled' : 'enabled'}.`);
        const { disabledAt: _was, ...enabled } = client;
        // From now on every endpoint treats it as unknown: no token (invalid_client, RFC 6749 §5.2), no refresh, no authorization.
        await ctx.stores.clients.put(disable ? { ...client, disabledAt: ctx.now() } : enabled);
        options.emit({ type: disable ? 'client.disabled' : 'client.enabled', clientId, admin });
        return back(`Client ${clientId} ${disable ? 'disabled' : 'enabled'}.`);
      }
      case 'consents/revoke':
        return revokeConsentAction(ctx, admin, form, options.emit);
      case 'grants/revoke': {
        const user = form.get('user') ?? '';
        const client = form.get('client') ?? '';
        const revoked = await revokeAuthorization({ stores: ctx.stores, now: ctx.now }, user, client);
        options.emit({ type: 'grant.revoked', subject: user, clientId: client, admin, detail: `operator console: ${revoked.consents} consent(s), ${revoked.grants} grant(s)` });
        return `grants?done=${encodeURIComponent(`Revoked ${revoked.grants} grant(s) and ${revoked.consents} consent(s) of ${user} for ${client}.`)}`;
      }
      default:
        return undefined;
    }
  };

  return {
    path: base,
    redirectUri,
    async handle(req, res) {
      const target = new URL(req.url ?? '/', origin);
      const path = target.pathname;
      if (path !== base && !path.startsWith(`${base}/`)) return false;
      // The fleet admin API (`/admin/api`, a protected resource of its own) is not the console's.
      if (path === `${base}/api` || path.startsWith(`${base}/api/`)) return false;
      const sub = path.slice(base.length + 1);
      if (req.method === 'GET' && sub === 'callback') {
        await callback(req, res, target.searchParams);
        return true;
      }
      const sealed = openCookie<Session>(ctx.hmac, SESSION, readCookie(req.headers.cookie, SESSION), now());
      const session = sealed !== undefined && (await isAdmin(sealed.sub)) ? sealed : undefined;
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (session === undefined) {
          startSignIn(res);
          return true;
        }
        const html = await render(sub, session, target.searchParams);
        if (html === undefined) fail(res, 404, 'Not found', 'There is no such console page.');
        else sendHtml(res, 200, html, { 'Cache-Control': 'no-store' });
        return true;
      }
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'GET, HEAD, POST' }).end();
        return true;
      }
      // Same-origin POSTs only, with the session's CSRF token.
      if (!isSameOriginPost(req, origin) || session === undefined) {
        fail(res, 403, 'Request refused', 'This form can only be sent from the console itself, signed in.');
        return true;
      }
      let form: URLSearchParams;
      try {
        form = new URLSearchParams((await readStream(req, sub.startsWith('servers/') ? SERVER_FORM_BYTES : 8192)).toString('utf8'));
      } catch {
        fail(res, 413, 'Request refused', 'The form is too large.');
        return true;
      }
      if (!equal(form.get('csrf') ?? '', session.csrf)) {
        fail(res, 403, 'Request refused', 'The form expired. Reload the page and try again.');
        return true;
      }
      const next = await act(sub, session, form);
      if (next === undefined) fail(res, 404, 'Not found', 'There is no such console action.');
      else if (typeof next !== 'string') sendHtml(res, next.status, next.html, { 'Cache-Control': 'no-store' });
      else {
        res.writeHead(303, { Location: `${base}/${next}`, 'Cache-Control': 'no-store' });
        res.end();
      }
      return true;
    },
  };
}
