import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccessDeniedError, isOAuthError } from '../../../oauth/errors.js';
import type { UserRecord } from '../../../stores/authorization-server-contracts.js';
import type { AsContext } from '../../context.js';
import type { Endpoint } from '../../endpoint.js';
import { readForm, unavailableRetryAfter, type ResponseHeaders } from '../../http.js';
import { verifySecret } from '../../password.js';
import { isValidUsername } from '../../users.js';
import { sendErrorRedirect } from '../authorize/authorization-response.js';
import { parsePendingAuthorization } from '../authorize/pending-authorization.js';
import { hasRememberedConsent } from './consent.js';
import { load, take } from './interaction-state.js';
import { issueCode } from './issue-code.js';
import { finishDevice } from './device-outcome.js';
import { identityProviders, localUsersEnabled } from '../../federation/providers.js';
import { startFederatedSignIn } from '../../federation/start-sign-in.js';
import { requestSource } from '../../client-address.js';
import { deviceCookie, readDevice } from './device-cookie.js';
import { PASSWORD_CHECK_RETRY_AFTER_SECONDS } from '../../password-check-limiter.js';
import { claimLoginAttempt, MAX_LOGIN_ATTEMPTS, throttleSignIn } from './login-attempts.js';
import { EXPIRED_MESSAGE, type Interaction, sendConsentPage, sendError, sendLoginPage } from './send-page.js';
import { type BrowserSession, checkCsrf, clearSessionCookie, readSession, sessionCookie } from './session.js';

export { revokeAuthorization, revokeConsent, hasRememberedConsent, type RevokedAuthorization } from './consent.js';
export { MAX_LOGIN_ATTEMPTS } from './login-attempts.js';
export { SESSION_SECONDS, sessionCookieName } from './session.js';
export { EXPIRED_MESSAGE } from './send-page.js';

/** Shown for a wrong password and for an unknown user alike, so the page does not reveal which usernames exist. */
export const BAD_CREDENTIALS_MESSAGE = 'Incorrect username or password.';
/** Shown when sign-in attempts are being slowed down (the same for unknown names); the page and `Retry-After` say how long. */
export const ACCOUNT_LIMITED_MESSAGE = 'Too many sign-in attempts for this account.';
/** Shown when the server has as many password checks in flight as it allows. */
export const BUSY_MESSAGE = 'The sign-in service is busy. Please try again in a moment.';

/** The throttled message with the wait in words. */
function slowDownMessage(seconds: number): string {
  const wait = seconds < 120 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${Math.ceil(seconds / 60)} minutes`;
  return `${ACCOUNT_LIMITED_MESSAGE} Wait ${wait}, then try again.`;
}

/** base64url of the 32 random bytes `/authorize` uses as an interaction id. */
const INTERACTION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * The login and consent pages of one pending authorization (`/interaction/{id}`). GET shows the
 * login form — or, for a browser with a valid session, the consent page, or the code straight
 * away when consent is remembered. POST takes `action` = `login`, `allow`, `deny` or `switch`,
 * always with the interaction's CSRF token. The code is issued from a `take()`n interaction, so
 * each authorization request yields at most one code.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.7
 */
export const interactionEndpoint: Endpoint = async (ctx, req, res) => {
  const id = interactionIdOf(ctx, req.url ?? '/');
  if (id === undefined) return sendError(ctx, res, 400, 'Sign-in expired', EXPIRED_MESSAGE);
  try {
    if (req.method === 'POST') await handlePost(ctx, req, res, id);
    else await handleGet(ctx, req, res, id);
  } catch (error) {
    if (res.headersSent) throw error;
    const retryAfter = unavailableRetryAfter(error);
    if (retryAfter !== undefined) {
      return sendError(ctx, res, 503, 'Temporarily unavailable', 'The sign-in service is temporarily unavailable. Please try again in a moment.', { 'Retry-After': retryAfter });
    }
    // readForm's refusals (wrong content type, duplicated field, oversized body).
    if (isOAuthError(error)) return sendError(ctx, res, 400, 'The form could not be read', 'The form submission was malformed. Go back and try again.');
    throw error;
  }
};

async function handleGet(ctx: AsContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  const interaction = await load(ctx, res, id, parsePendingAuthorization(await ctx.stores.interactions.get(id, ctx.now())));
  if (interaction === undefined) return;
  const session = await currentSession(ctx, req);
  // Consent is only ever asked of (or skipped for) the browser that is signed in: whoever else
  // holds this URL sees the login form, never someone else's consent page.
  if (session === undefined) return sendLoginPage(ctx, res, 200, interaction);
  if (interaction.pending.subject === session.subject) return continueAs(ctx, res, interaction, session.subject);
  const taken = await take(ctx, res, id);
  if (taken === undefined) return;
  const bound = { ...taken, subject: session.subject, authTime: session.authTime };
  return continueAs(ctx, res, { ...interaction, pending: bound }, session.subject, { taken: true });
}

/** The browser's verified session, if its user still exists (a removed user is signed out everywhere). */
async function currentSession(ctx: AsContext, req: IncomingMessage): Promise<BrowserSession | undefined> {
  const session = readSession(ctx, req);
  if (session === undefined || (await ctx.stores.users.get(session.subject)) === undefined) return undefined;
  return session;
}

/**
 * Cross-site POSTs are refused before anything else: with the CSRF token, this stops login CSRF
 * (an attacker submitting their own interaction's form, with their own credentials, from the
 * victim's browser). Browsers send `Origin` on every POST and `Sec-Fetch-Site` where supported;
 * a client sending neither is not a browser and has no ambient cookies to abuse.
 *
 * `Origin: null` (privacy settings, but also a sandboxed iframe or a data: URL on an attacker's
 * page) says nothing about where the form came from, so it is accepted only when the browser
 * vouches with `Sec-Fetch-Site: same-origin`; without that header (older browsers) it is refused.
 */
export function isSameOriginPost(ctx: AsContext, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (origin === 'null') return site === 'same-origin';
  if (origin !== undefined && origin !== new URL(ctx.issuer).origin) return false;
  return site === undefined || site === 'same-origin';
}

async function handlePost(ctx: AsContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  if (!isSameOriginPost(ctx, req)) {
    return sendError(ctx, res, 403, 'Request refused', 'This form was not submitted from this sign-in page. Go back to the application and start again.');
  }
  const form = await readForm(req);
  if (!checkCsrf(ctx, id, form.csrf)) {
    return sendError(ctx, res, 403, 'Request refused', 'This form was not submitted from this sign-in page. Go back to the application and start again.');
  }
  switch (form.action) {
    case 'login':
      return login(ctx, req, res, id, form.username ?? '', form.password ?? '');
    case 'allow':
      return allow(ctx, req, res, id, form);
    case 'deny':
      return deny(ctx, res, id);
    case 'switch':
      return switchUser(ctx, res, id);
    default:
      if (form.action?.startsWith('idp:') === true) return federate(ctx, res, id, form.action.slice(4));
      return sendError(ctx, res, 400, 'Request refused', 'The form submission was malformed. Go back and try again.');
  }
}

/** The account named (if it exists) and whether the password is its password. */
interface PasswordCheck {
  user: UserRecord | undefined;
  ok: boolean;
}

/** Looks the user up and runs scrypt whether or not it exists (equal timing: verifySecret). */
async function checkPassword(ctx: AsContext, username: string, password: string): Promise<PasswordCheck> {
  const user = isValidUsername(username) ? await ctx.stores.users.get(username) : undefined;
  return { user, ok: await verifySecret(password, user?.passwordHash) };
}

/**
 * action=login, in order, each check before any password is hashed:
 * 1. the throttles (login-attempts.ts): for a browser with a device cookie for the account, per
 *    that cookie only; else per source, per account and source, and per account — slowing
 *    repeated attempts down: 429 with `Retry-After` and the form again, never a lock-out;
 * 2. a password-check slot (at most `login.maxConcurrentPasswordChecks` in flight on this
 *    instance) — else 503 with `Retry-After: 1`, and the attempt is not counted;
 * 3. at most {@link MAX_LOGIN_ATTEMPTS} tries per interaction — else it is burned (429).
 * An unknown user and a wrong password get the same page, and both run scrypt (verifySecret), so
 * neither the answer nor its timing tells which usernames exist. A successful sign-in sets the
 * session cookie and a fresh device cookie for the account (device-cookie.ts).
 */
async function login(ctx: AsContext, req: IncomingMessage, res: ServerResponse, id: string, username: string, password: string): Promise<void> {
  const interaction = await load(ctx, res, id, parsePendingAuthorization(await ctx.stores.interactions.get(id, ctx.now())));
  if (interaction === undefined) return;
  if (!localUsersEnabled(ctx)) return sendLoginPage(ctx, res, 400, interaction, { error: 'Sign in with your organisation\'s identity provider.' });
  const clientId = interaction.client.clientId;
  const source = requestSource(ctx, req);
  const throttle = await throttleSignIn(ctx, username, source, readDevice(ctx, req, username));
  if (!throttle.allowed) {
    ctx.audit({ type: 'login.failed', clientId, detail: `throttled${throttle.byDevice ? ' (device cookie)' : ''}: retry after ${throttle.retryAfterSeconds} s` });
    const retryAfter = String(throttle.retryAfterSeconds);
    return sendLoginPage(ctx, res, 429, interaction, { error: slowDownMessage(throttle.retryAfterSeconds), username }, { 'Retry-After': retryAfter });
  }
  const releaseSlot = ctx.login.passwordChecks.tryAcquire();
  if (releaseSlot === undefined) {
    await throttle.release();
    ctx.audit({ type: 'login.failed', clientId, detail: 'password checks at capacity' });
    return sendError(ctx, res, 503, 'Temporarily unavailable', BUSY_MESSAGE, { 'Retry-After': String(PASSWORD_CHECK_RETRY_AFTER_SECONDS) });
  }
  let attempt: number | undefined;
  let checked: PasswordCheck | undefined;
  try {
    attempt = await claimLoginAttempt(ctx, id);
    if (attempt !== undefined) checked = await checkPassword(ctx, username, password);
  } finally {
    releaseSlot();
  }
  if (attempt === undefined || checked === undefined) {
    await throttle.release();
    return burn(ctx, res, id, clientId);
  }
  const { user, ok } = checked;
  if (!ok || user === undefined) {
    await throttle.failed();
    // The subject is recorded only for a real account: a mistyped password in the username field must not reach the audit log.
    ctx.audit({ type: 'login.failed', clientId, ...(user === undefined ? { detail: 'unknown user' } : { subject: user.username, detail: 'wrong password' }) });
    if (attempt >= MAX_LOGIN_ATTEMPTS) return burn(ctx, res, id, clientId);
    return sendLoginPage(ctx, res, 400, interaction, { error: BAD_CREDENTIALS_MESSAGE, username });
  }
  await throttle.succeeded();
  const now = ctx.now();
  ctx.audit({ type: 'login.succeeded', clientId, subject: user.username });
  const cookie = { 'Set-Cookie': [sessionCookie(ctx, user.username, now), deviceCookie(ctx, req, username, now)] };
  const taken = await take(ctx, res, id, cookie);
  if (taken === undefined) return;
  const bound = { ...taken, subject: user.username, authTime: now };
  return continueAs(ctx, res, { ...interaction, pending: bound }, user.username, { taken: true, headers: cookie });
}

/**
 * The scopes the user ticked (RFC 6749 §3.3), in the order requested; values that were not
 * requested are ignored. A form without the choice (`scopes=chosen`) allows everything requested.
 * `undefined`: everything was unticked.
 */
export function chosenScopes(form: Record<string, string>, requested: readonly string[]): string[] | undefined {
  if (form.scopes !== 'chosen') return [...requested];
  const ticked = new Set<string>();
  for (const [name, value] of Object.entries(form)) if (/^scope\.\d{1,3}$/.test(name)) ticked.add(value);
  const granted = requested.filter((scope) => ticked.has(scope));
  return granted.length === 0 && requested.length > 0 ? undefined : granted;
}

/**
 * action=allow: remember the consent and issue the code, for the scopes the user left ticked.
 * Only the signed-in browser the consent page was shown to can allow (session cookie for the same
 * user); a replayed POST finds the interaction gone.
 */
async function allow(ctx: AsContext, req: IncomingMessage, res: ServerResponse, id: string, form: Record<string, string>): Promise<void> {
  const session = await currentSession(ctx, req);
  const interaction = await load(ctx, res, id, await take(ctx, res, id), { taken: true });
  if (interaction === undefined) return;
  const { pending } = interaction;
  if (session === undefined) {
    const { subject: _s, authTime: _a, ...anonymous } = pending;
    await ctx.stores.interactions.put(id, anonymous, pending.expiresAt);
    return sendLoginPage(ctx, res, 400, { ...interaction, pending: anonymous }, { error: 'Sign in to continue. This page needs cookies enabled for this site.' });
  }
  if (pending.subject !== session.subject) {
    // Signed in as someone else since this page was shown (another tab): ask again, as them.
    return continueAs(ctx, res, { ...interaction, pending: { ...pending, subject: session.subject, authTime: session.authTime } }, session.subject, { taken: true });
  }
  const scopes = chosenScopes(form, pending.scopes);
  if (scopes === undefined) {
    if (pending.device !== undefined) return finishDevice(ctx, res, interaction, { approved: false });
    return sendErrorRedirect(ctx, res, pending.redirectUri, pending.state, new AccessDeniedError('the user allowed none of the requested permissions'));
  }
  await ctx.stores.consents.put({ subject: session.subject, clientId: pending.clientId, resource: pending.resource, scopes: [...scopes], grantedAt: ctx.now() });
  ctx.audit({ type: 'consent.given', clientId: pending.clientId, subject: session.subject, resource: pending.resource, scopes: [...scopes] });
  if (pending.device !== undefined) {
    return finishDevice(ctx, res, interaction, { approved: true, subject: session.subject, scopes, authTime: pending.authTime ?? session.authTime });
  }
  await issueCode(ctx, res, interaction.client, { ...pending, scopes, subject: session.subject });
}

/** action=deny (or Cancel on the login form): `access_denied` back to the client (RFC 6749 §4.1.2.1). */
async function deny(ctx: AsContext, res: ServerResponse, id: string): Promise<void> {
  const interaction = await load(ctx, res, id, await take(ctx, res, id), { taken: true });
  if (interaction === undefined) return;
  if (interaction.pending.device !== undefined) return finishDevice(ctx, res, interaction, { approved: false });
  sendErrorRedirect(ctx, res, interaction.pending.redirectUri, interaction.pending.state, new AccessDeniedError('the user denied the request'));
}

/** action=switch: sign the browser out and show the login form for the same request. */
async function switchUser(ctx: AsContext, res: ServerResponse, id: string): Promise<void> {
  const clear = { 'Set-Cookie': clearSessionCookie(ctx) };
  const interaction = await load(ctx, res, id, await take(ctx, res, id, clear), { taken: true });
  if (interaction === undefined) return;
  const { subject: _s, authTime: _a, ...anonymous } = interaction.pending;
  await ctx.stores.interactions.put(id, anonymous, anonymous.expiresAt);
  sendLoginPage(ctx, res, 200, { ...interaction, pending: anonymous }, {}, clear);
}

/**
 * The user is known: issue the code when a remembered consent covers the request, else show the
 * consent page. `taken` says the caller already removed the entry (it is written back, bound to
 * the user, before the consent page is shown).
 */
async function continueAs(
  ctx: AsContext,
  res: ServerResponse,
  interaction: Interaction,
  subject: string,
  options: { taken?: boolean; headers?: ResponseHeaders } = {},
): Promise<void> {
  const { id, pending } = interaction;
  const headers = options.headers ?? {};
  // A device request always asks (RFC 8628 §5.4): a user code someone else sent must not be
  // approved by a remembered consent without the user seeing what it is for.
  if (pending.device === undefined && (await hasRememberedConsent(ctx, subject, pending.clientId, pending.resource, pending.scopes))) {
    // Issue from what take() returned, never from an earlier read: that is what makes the code single-use.
    const issuable = options.taken === true ? pending : await take(ctx, res, id, headers);
    if (issuable === undefined) return;
    return issueCode(ctx, res, interaction.client, { ...issuable, subject, authTime: issuable.authTime ?? pending.authTime ?? ctx.now() }, headers);
  }
  if (options.taken === true) await ctx.stores.interactions.put(id, pending, pending.expiresAt);
  sendConsentPage(ctx, res, interaction, subject, headers);
}

/** action=idp:{id}: off to the upstream identity provider (federation/start-sign-in.ts); its callback continues this interaction. */
async function federate(ctx: AsContext, res: ServerResponse, id: string, providerId: string): Promise<void> {
  const interaction = await load(ctx, res, id, parsePendingAuthorization(await ctx.stores.interactions.get(id, ctx.now())));
  if (interaction === undefined) return;
  const provider = identityProviders(ctx).get(providerId);
  if (provider === undefined) return sendError(ctx, res, 400, 'Request refused', 'The form submission was malformed. Go back and try again.');
  try {
    await startFederatedSignIn(ctx, res, id, interaction.pending.expiresAt, provider);
  } catch (error) {
    if (res.headersSent || unavailableRetryAfter(error) !== undefined) throw error;
    sendError(ctx, res, 502, 'Sign-in failed', `${provider.name} could not be reached. Try again in a moment.`);
  }
}

/**
 * The browser signed in elsewhere (an upstream identity provider) as `subject`: continues
 * interaction `id` as that user — consent, or the code when consent is remembered — with
 * `headers` (the session cookie) on the answer.
 */
export async function continueSignedIn(ctx: AsContext, res: ServerResponse, id: string, subject: string, authTime: number, headers: ResponseHeaders): Promise<void> {
  const interaction = await load(ctx, res, id, parsePendingAuthorization(await ctx.stores.interactions.get(id, ctx.now())));
  if (interaction === undefined) return;
  const taken = await take(ctx, res, id, headers);
  if (taken === undefined) return;
  return continueAs(ctx, res, { ...interaction, pending: { ...taken, subject, authTime } }, subject, { taken: true, headers });
}

/** Too many wrong passwords: the interaction is deleted, so the guesser has to start a new authorization. */
async function burn(ctx: AsContext, res: ServerResponse, id: string, clientId: string): Promise<void> {
  await ctx.stores.interactions.take(id, ctx.now());
  ctx.audit({ type: 'login.failed', clientId, detail: 'too many attempts; interaction ended' });
  sendError(ctx, res, 429, 'Too many attempts', 'Too many failed sign-in attempts. Go back to the application and start again.');
}

/** The id from `{basePath}/interaction/{id}`, if it has the shape `/authorize` gives ids. */
function interactionIdOf(ctx: AsContext, url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const prefix = `${ctx.basePath}/interaction/`;
  if (!path.startsWith(prefix)) return undefined;
  const id = path.slice(prefix.length);
  return INTERACTION_ID.test(id) ? id : undefined;
}
