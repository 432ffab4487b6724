/**
 * Server-rendered login, consent and error pages. Plain HTML and inline CSS (the CSP allows
 * nothing else), no JavaScript, every value from a client or user escaped.
 *
 * Accessibility: `lang`, one `<main>` and `<h1>`, a `<label>` for every input, errors announced
 * with `role="alert"`, visible focus, colours at WCAG AA contrast, and the primary submit button
 * first in the form so Enter picks it.
 */
import { escapeHtml as e } from '../../http.js';
import { layout } from '../../html-page.js';

export { renderErrorPage } from '../../html-page.js';

/** What every page shows about the request being authorised. */
export interface RequestSummary {
  /** The client's `client_name`, or its `client_id` when it registered no name. */
  clientName: string;
  /**
   * For a client whose id is a URL (a Client ID Metadata Document): that URL's host, shown next to
   * the name — the one part of the identity the client cannot choose freely.
   */
  clientHost?: string;
  /** The name comes from an open (RFC 7591) registration: self-declared, nobody checked it. */
  nameUnverified?: boolean;
  /** Where the user will be sent back (host of the redirect URI, or the URI for native schemes). */
  redirectHost: string;
  resourceName: string;
  resourceUri: string;
  scopes: readonly string[];
  /** Human words per scope (the resource's `scopes.descriptions`), shown next to the name. */
  scopeDescriptions?: Readonly<Record<string, string>>;
}

/** The login form. */
export interface LoginView {
  /** Product name in the page header (`login.title`). */
  brand: string;
  /** Absolute URL the form posts to (this interaction). */
  action: string;
  csrf: string;
  request: RequestSummary;
  /** Message to announce above the form (e.g. wrong credentials). */
  error?: string;
  /** Username to prefill after a failed attempt. */
  username?: string;
  /** Upstream identity providers to offer, each a button. Default none. */
  providers?: ReadonlyArray<{ id: string; name: string }>;
  /** Whether the username and password form is shown. Default true. */
  localUsers?: boolean;
}

/** The consent form. */
export interface ConsentView {
  brand: string;
  action: string;
  csrf: string;
  request: RequestSummary;
  /** Who is signed in. */
  subject: string;
}

/** The client's name as a phrase: `<strong>name</strong>`, followed by its host in parentheses when it has one. */
function clientLabel(request: RequestSummary): string {
  const host = request.clientHost === undefined ? '' : ` (<strong class="host">${e(request.clientHost)}</strong>)`;
  return `<strong>${e(request.clientName)}</strong>${host}`;
}

/** The Application row: name, host, and whether anyone vouches for the name. */
function applicationDetails(request: RequestSummary): string {
  const host = request.clientHost === undefined ? '' : `<br><span class="muted">Identified by</span> <strong class="host">${e(request.clientHost)}</strong>`;
  const note = request.nameUnverified === true ? '<br><span class="muted">This name was chosen by the application itself and has not been verified.</span>' : '';
  return `${e(request.clientName)}${host}${note}`;
}

/** The request as a description list; the consent page leaves out the permissions, which it shows as choices. */
function summary(request: RequestSummary, options: { permissions: boolean } = { permissions: true }): string {
  const scopes =
    request.scopes.length === 0
      ? '<dd>Basic access (no extra permissions)</dd>'
      : `<dd><ul class="scopes">${request.scopes.map((s) => `<li><code>${e(s)}</code>${described(request, s)}</li>`).join('')}</ul></dd>`;
  return `<dl>
<dt>Application</dt><dd>${applicationDetails(request)}</dd>
<dt>Returns to</dt><dd>${e(request.redirectHost)}</dd>
<dt>Resource</dt><dd>${e(request.resourceName)}<br><span class="muted">${e(request.resourceUri)}</span></dd>
${options.permissions ? `<dt>Permissions</dt>${scopes}\n` : ''}</dl>`;
}

/** The scope's configured description, if any. */
function descriptionOf(request: RequestSummary, scope: string): string | undefined {
  return request.scopeDescriptions !== undefined && Object.hasOwn(request.scopeDescriptions, scope) ? request.scopeDescriptions[scope] : undefined;
}

/** The scope's configured description after its name (escaped), or nothing. */
function described(request: RequestSummary, scope: string): string {
  const text = descriptionOf(request, scope);
  return text === undefined ? '' : ` <span class="scope-description">${e(text)}</span>`;
}

/**
 * The requested scopes as ticked checkboxes, so the user can allow less than was asked for
 * (RFC 6749 §3.3: the grant follows "the resource owner's instructions"). Distinct field names:
 * the form parser refuses repeated ones. `scopes=chosen` says the form carried the choice.
 */
function scopeChoices(request: RequestSummary): string {
  const { scopes } = request;
  if (scopes.length === 0) return '';
  const boxes = scopes
    .map((scope, i) => {
      // The label stays the scope name (its accessible name); the description is announced with it.
      const text = descriptionOf(request, scope);
      const describedBy = text === undefined ? '' : ` aria-describedby="scope-${i}-description"`;
      const description = text === undefined ? '' : ` <span class="scope-description" id="scope-${i}-description">${e(text)}</span>`;
      return `<div class="scope"><input type="checkbox" id="scope-${i}" name="scope.${i}" value="${e(scope)}" checked${describedBy}><label for="scope-${i}"><code>${e(scope)}</code></label>${description}</div>`;
    })
    .join('\n');
  return `<input type="hidden" name="scopes" value="chosen">
<fieldset class="scopes"><legend>Permissions</legend>
${boxes}
</fieldset>
`;
}

/** One form per identity provider ("Sign in with …"), above the password form. */
function providerButtons(view: LoginView): string {
  if (view.providers === undefined || view.providers.length === 0) return '';
  return view.providers
    .map((p) => `<form method="post" action="${e(view.action)}">
<input type="hidden" name="csrf" value="${e(view.csrf)}">
<div class="actions"><button type="submit" name="action" value="idp:${e(p.id)}">Sign in with ${e(p.name)}</button></div>
</form>
`)
    .join('');
}

/** Without local users: only a way to cancel. */
function cancelOnly(view: LoginView): string {
  return `<form method="post" action="${e(view.action)}">
<input type="hidden" name="csrf" value="${e(view.csrf)}">
<div class="actions"><button type="submit" name="action" value="deny" class="secondary">Cancel</button></div>
</form>`;
}

/** The sign-in page. */
export function renderLoginPage(view: LoginView): string {
  const error = view.error === undefined ? '' : `<p class="alert" role="alert">${e(view.error)}</p>\n`;
  return layout(
    view.brand,
    'Sign in',
    `<h1>Sign in</h1>
<p class="lead">Sign in to let ${clientLabel(view.request)} access <strong>${e(view.request.resourceName)}</strong>.</p>
${summary(view.request)}
${error}${providerButtons(view)}${view.localUsers === false ? cancelOnly(view) : `<form method="post" action="${e(view.action)}">
<input type="hidden" name="csrf" value="${e(view.csrf)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${e(view.username ?? '')}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions">
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="deny" class="secondary" formnovalidate>Cancel</button>
</div>
</form>`}`,
  );
}

/** The consent page. */
export function renderConsentPage(view: ConsentView): string {
  return layout(
    view.brand,
    'Allow access?',
    `<h1>Allow access?</h1>
<p class="lead">${clientLabel(view.request)} wants to access <strong>${e(view.request.resourceName)}</strong> as <strong>${e(view.subject)}</strong>.</p>
${summary(view.request, { permissions: view.request.scopes.length === 0 })}
<form method="post" action="${e(view.action)}">
<input type="hidden" name="csrf" value="${e(view.csrf)}">
${scopeChoices(view.request)}<p class="muted">Only allow applications you trust. Untick a permission to withhold it. Your choice is remembered for this application; you can revoke it later.</p>
<div class="actions">
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny" class="secondary">Deny</button>
</div>
<p class="switch muted">Not ${e(view.subject)}? <button type="submit" name="action" value="switch" class="link">Use a different account</button></p>
</form>`,
  );
}
