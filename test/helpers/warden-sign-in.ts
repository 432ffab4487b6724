/**
 * A person at Warden's sign-in and consent pages, played over HTTP (no browser): follows the
 * authorization request to the interaction page, signs in, allows, and returns the redirect the
 * authorization server answers with — what `warden audit --sign-in` gets back from a real user.
 */
import { cookiePair, csrfOf } from './login-flow.js';

function form(url: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie !== undefined && { cookie }) },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Signs in as `user` and allows; returns the redirect (code, state, iss — or an error). */
export async function signInToWarden(authorizationUrl: URL, user: { username: string; password: string }): Promise<URL> {
  const start = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = start.headers.get('location');
  if (start.status !== 303 || location === null) throw new Error(`the authorization request was not accepted (HTTP ${start.status})`);
  const interaction = new URL(location, authorizationUrl).href;
  if (!interaction.includes('/interaction/')) return new URL(interaction);
  const login = await fetch(interaction);
  const afterLogin = await form(interaction, { csrf: csrfOf(await login.text()), action: 'login', username: user.username, password: user.password });
  if (afterLogin.status === 303) return new URL(afterLogin.headers.get('location') as string);
  const consent = await afterLogin.text();
  const allowed = await form(interaction, { csrf: csrfOf(consent), action: 'allow' }, cookiePair(afterLogin.headers.get('set-cookie') ?? ''));
  if (allowed.status !== 303) throw new Error(`consent was not accepted (HTTP ${allowed.status})`);
  return new URL(allowed.headers.get('location') as string);
}
