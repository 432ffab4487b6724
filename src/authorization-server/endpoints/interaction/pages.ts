/**
 * Server-rendered login, consent and error pages. Plain HTML and inline CSS (the CSP allows
 * nothing else), no JavaScript, every value from a client or user escaped.
 *
 * Accessibility: `lang`, one `<main>` and `<h1>`, a `<label>` for every input, errors announced
 * with `role="alert"`, visible focus, colours at WCAG AA contrast, and the primary submit button
 * first in the form so Enter picks it.
 */
import { escapeHtml as e } from '../../http.js';

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

const STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;background:#eef1f5}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:24px 16px}
main{width:100%;max-width:440px;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:32px;box-shadow:0 1px 3px rgba(31,35,40,.08)}
.brand{margin:0 0 20px;font-size:.875rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#4d5966}
h1{margin:0 0 8px;font-size:1.5rem;line-height:1.25}
p{margin:0 0 16px}
.lead{color:#3b434c}
dl{margin:0 0 20px;padding:16px;background:#f6f8fa;border:1px solid #d8dee4;border-radius:8px;display:grid;grid-template-columns:max-content 1fr;gap:6px 16px}
dt{font-weight:600;color:#3b434c}
dd{margin:0;overflow-wrap:anywhere}
ul.scopes{margin:0;padding-left:20px}
fieldset.scopes{margin:0 0 16px;padding:8px 16px 12px;border:1px solid #d8dee4;border-radius:8px}
legend{font-weight:600;padding:0 4px}
.scope{display:flex;align-items:center;gap:8px;margin:4px 0}
.scope label{display:inline;font-weight:400;margin:0}
input[type=checkbox]{width:18px;height:18px;margin:0;accent-color:#0b57d0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem;background:#eef1f5;border-radius:4px;padding:1px 4px}
label{display:block;font-weight:600;margin:0 0 4px}
input[type=text],input[type=password]{display:block;width:100%;padding:10px 12px;margin:0 0 16px;font:inherit;color:#1f2328;background:#fff;border:1px solid #6e7781;border-radius:6px}
.actions{display:flex;gap:12px;flex-wrap:wrap;margin-top:8px}
button{font:inherit;font-weight:600;padding:10px 18px;border-radius:6px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
button:hover{background:#0842a0;border-color:#0842a0}
button.secondary{background:#fff;color:#1f2328;border-color:#6e7781}
button.secondary:hover{background:#f3f4f6}
button.link{background:none;border:none;padding:0;color:#0b57d0;text-decoration:underline;font-weight:400}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
input:focus-visible{outline-offset:0}
.alert{padding:12px 14px;margin:0 0 16px;border-radius:6px;border:1px solid #cf222e;background:#ffebe9;color:#82071e}
.muted{font-size:.875rem;color:#4d5966}
.switch{margin:16px 0 0}
.host{overflow-wrap:anywhere}
@media (prefers-color-scheme:dark){
html{color:#e6edf3;background:#0d1117}
main{background:#161b22;border-color:#30363d}
.brand,.muted,dt,.lead{color:#b1bac4}
dl{background:#0d1117;border-color:#30363d}
fieldset.scopes{border-color:#30363d}
input[type=checkbox]{accent-color:#4493f8}
code{background:#21262d}
input[type=text],input[type=password]{color:#e6edf3;background:#0d1117;border-color:#8b949e}
button{background:#4493f8;border-color:#4493f8;color:#0d1117}
button:hover{background:#79b8ff;border-color:#79b8ff}
button.secondary{background:#21262d;color:#e6edf3;border-color:#8b949e}
button.link{color:#79b8ff}
:focus-visible{outline-color:#79b8ff}
.alert{background:#490202;border-color:#f85149;color:#ffdcd7}
}`;

/**
 * Wraps page content in the shared document. The empty `data:` icon (allowed by the CSP's
 * `img-src`) keeps browsers from fetching `/favicon.ico`, a 404 that shows as a console error.
 */
function layout(brand: string, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${e(title)} · ${e(brand)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">${e(brand)}</p>
${body}
</main>
</body>
</html>
`;
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
      : `<dd><ul class="scopes">${request.scopes.map((s) => `<li><code>${e(s)}</code></li>`).join('')}</ul></dd>`;
  return `<dl>
<dt>Application</dt><dd>${applicationDetails(request)}</dd>
<dt>Returns to</dt><dd>${e(request.redirectHost)}</dd>
<dt>Resource</dt><dd>${e(request.resourceName)}<br><span class="muted">${e(request.resourceUri)}</span></dd>
${options.permissions ? `<dt>Permissions</dt>${scopes}\n` : ''}</dl>`;
}

/**
 * The requested scopes as ticked checkboxes, so the user can allow less than was asked for
 * (RFC 6749 §3.3: the grant follows "the resource owner's instructions"). Distinct field names:
 * the form parser refuses repeated ones. `scopes=chosen` says the form carried the choice.
 */
function scopeChoices(scopes: readonly string[]): string {
  if (scopes.length === 0) return '';
  const boxes = scopes
    .map((scope, i) => `<div class="scope"><input type="checkbox" id="scope-${i}" name="scope.${i}" value="${e(scope)}" checked><label for="scope-${i}"><code>${e(scope)}</code></label></div>`)
    .join('\n');
  return `<input type="hidden" name="scopes" value="chosen">
<fieldset class="scopes"><legend>Permissions</legend>
${boxes}
</fieldset>
`;
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
${error}<form method="post" action="${e(view.action)}">
<input type="hidden" name="csrf" value="${e(view.csrf)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${e(view.username ?? '')}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions">
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="deny" class="secondary" formnovalidate>Cancel</button>
</div>
</form>`,
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
${scopeChoices(view.request.scopes)}<p class="muted">Only allow applications you trust. Untick a permission to withhold it. Your choice is remembered for this application; you can revoke it later.</p>
<div class="actions">
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny" class="secondary">Deny</button>
</div>
<p class="switch muted">Not ${e(view.subject)}? <button type="submit" name="action" value="switch" class="link">Use a different account</button></p>
</form>`,
  );
}

/** A page for a request that cannot continue (and cannot safely be redirected), optionally naming its OAuth error code. */
export function renderErrorPage(brand: string, title: string, message: string, code?: string): string {
  const codeLine = code === undefined ? '' : `\n<p class="muted">Error code: <code>${e(code)}</code></p>`;
  return layout(
    brand,
    title,
    `<h1>${e(title)}</h1>
<p role="alert">${e(message)}</p>${codeLine}
<p class="muted">You can close this window and start again from the application.</p>`,
  );
}
