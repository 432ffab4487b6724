/**
 * Device cookies over HTTP: a browser that signed in to an account before is throttled only per
 * its own cookie, so an attacker sharing the user's address (NAT, CGNAT, a reverse proxy) cannot
 * hold the user out — while everyone without such a cookie keeps today's throttles. Sources are
 * simulated with `X-Forwarded-For` behind one trusted proxy hop; the clock is movable.
 *
 * @see https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
 * @see https://pages.nist.gov/800-63-3/sp800-63b.html#throttle
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../oauth/defaults.js';
import { csrfOf, get, PASSWORD, pkcePair, postForm, RESOURCE, startAuthorizationServer, type TestAs } from '../../../../test/helpers/login-flow.js';
import { ACCOUNT_LIMITED_MESSAGE } from './index.js';

let t: TestAs;
let offset = 0;
const now = (): number => 1_700_000_000 + offset;
beforeEach(async () => {
  offset = 0;
  t = await startAuthorizationServer({ now, overrides: { trustedProxyHops: 1 } });
});
afterEach(async () => {
  await t.close();
});

/** The address Alice and the attacker share (an office NAT). */
const OFFICE = '198.51.100.20';
const HOME = '192.0.2.44';

async function begin(as: TestAs = t): Promise<string> {
  const { challenge } = pkcePair();
  const params = new URLSearchParams({
    response_type: 'code', client_id: 'app', redirect_uri: 'https://app.example/cb', code_challenge: challenge,
    code_challenge_method: 'S256', resource: RESOURCE, scope: 'mcp:tools', state: 's',
  });
  const res = await get(as, `/authorize?${params}`);
  expect(res.status).toBe(303);
  return res.headers.get('location') ?? '';
}

/** One sign-in attempt from `source` in a fresh interaction, with the browser's cookies. */
async function signIn(source: string, username: string, password: string, cookie?: string, as: TestAs = t): Promise<Response> {
  const url = await begin(as);
  const csrf = csrfOf(await (await get(as, url)).text());
  return postForm(as, url, { csrf, action: 'login', username, password }, cookie, { 'X-Forwarded-For': `10.9.9.9, ${source}` });
}

/** The `name=value` of the device cookie a response sets. */
function deviceCookieOf(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => /^(__Host-)?warden_device=/.test(c));
  if (set === undefined) throw new Error('no device cookie set');
  return set.split(';')[0] as string;
}

function expectSignedIn(res: Response): void {
  expect([200, 303]).toContain(res.status);
  expect(res.headers.getSetCookie().some((c) => c.startsWith('warden_session='))).toBe(true);
}

async function expectThrottled(res: Response, maxWait?: number): Promise<number> {
  expect(res.status).toBe(429);
  const wait = Number(res.headers.get('retry-after'));
  expect(wait).toBeGreaterThanOrEqual(1);
  if (maxWait !== undefined) expect(wait).toBeLessThanOrEqual(maxWait);
  expect(await res.text()).toContain(ACCOUNT_LIMITED_MESSAGE);
  return wait;
}

/** Counts password checks (scrypt) started on the server. */
function countChecks(): { readonly count: number } {
  const limiter = t.server.context.login.passwordChecks;
  const acquire = limiter.tryAcquire.bind(limiter);
  const counter = { count: 0 };
  limiter.tryAcquire = () => {
    counter.count += 1;
    return acquire();
  };
  return counter;
}

/**
 * The reviewer's attacker: from OFFICE, guesses at `username`, retaking the (account, source)
 * slot the moment it frees, until the wait is at its cap. Ends with the throttle held: the last
 * failure just made, the next attempt due perSource.maxDelaySeconds later.
 */
async function holdThrottle(username: string): Promise<void> {
  const { free, baseDelaySeconds, maxDelaySeconds } = DEFAULTS.login.perSource;
  const needed = free + Math.ceil(Math.log2(maxDelaySeconds / baseDelaySeconds));
  let failures = 0;
  while (failures < needed) {
    const res = await signIn(OFFICE, username, 'wrong');
    if (res.status === 429) offset += Number(res.headers.get('retry-after'));
    else {
      expect(res.status).toBe(400);
      failures += 1;
    }
  }
}

describe('OWASP device cookies: the user is never held out by others sharing the address', () => {
  it('OWASP device cookies: an attacker from Alice\'s address holds the (account, source) throttle; Alice\'s browser with its device cookie signs in at once', async () => {
    const first = await signIn(OFFICE, 'alice', PASSWORD);
    expectSignedIn(first);
    const device = deviceCookieOf(first);

    await holdThrottle('alice');
    // Without the cookie, Alice from the office waits as long as the attacker does.
    await expectThrottled(await signIn(OFFICE, 'alice', PASSWORD), DEFAULTS.login.perSource.maxDelaySeconds);
    const checks = countChecks();
    const res = await signIn(OFFICE, 'alice', PASSWORD, device);
    expectSignedIn(res);
    expect(checks.count).toBe(1);
    // A fresh cookie each time; the attacker's hold on the source is untouched.
    expect(deviceCookieOf(res)).not.toBe(device);
    await expectThrottled(await signIn(OFFICE, 'alice', 'wrong'));
    // No cookie value reaches the audit log.
    const logged = JSON.stringify(t.audits);
    expect(logged).not.toContain(device.split('=')[1] as string);
    expect(logged).not.toContain(deviceCookieOf(res).split('=')[1] as string);
  });

  it('OWASP device cookies: the per-account throttle (guessing spread over many sources) does not slow a browser with a device cookie either', async () => {
    const device = deviceCookieOf(await signIn(HOME, 'alice', PASSWORD));
    const { free } = DEFAULTS.login.perAccount;
    for (let i = 0; i < free; i += 1) expect((await signIn(`203.0.113.${i + 1}`, 'alice', 'wrong')).status).toBe(400);
    await expectThrottled(await signIn('203.0.113.200', 'alice', PASSWORD));
    expectSignedIn(await signIn('203.0.113.201', 'alice', PASSWORD, device));
  });

  it('OWASP device cookies: a forged cookie, one for another account, an altered one or an expired one gives no exemption', async () => {
    const alice = deviceCookieOf(await signIn(HOME, 'alice', PASSWORD));
    const bob = deviceCookieOf(await signIn(HOME, 'bob', PASSWORD));
    await holdThrottle('alice');
    const [name, value] = alice.split('=') as [string, string];
    const [id, expiresAt, mac] = value.split('.') as [string, string, string];
    const flip = (s: string): string => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`;
    for (const cookie of [
      bob.replace(/^[^=]+/, name),
      `${name}=${id}.${expiresAt}.${flip(mac)}`,
      `${name}=${flip(id)}.${expiresAt}.${mac}`,
      `${name}=${id}.${Number(expiresAt) + 86_400}.${mac}`,
      `${name}=${'A'.repeat(22)}.${expiresAt}.${'A'.repeat(43)}`,
      `${name}=garbage`,
    ]) {
      await expectThrottled(await signIn(OFFICE, 'alice', PASSWORD, cookie));
    }
    // Bob's own cookie still works for Bob.
    expectSignedIn(await signIn(OFFICE, 'bob', PASSWORD, bob));
    // Past its lifetime Alice's genuine cookie stops vouching.
    offset += DEFAULTS.login.deviceCookieSeconds;
    await holdThrottle('alice');
    await expectThrottled(await signIn(OFFICE, 'alice', PASSWORD, alice));
  });

  it('NIST SP 800-63B §5.2.2: a new browser behind the shared address is only slowed (429, Retry-After ≤ perSource.maxDelaySeconds), then signs in', async () => {
    await holdThrottle('alice');
    const wait = await expectThrottled(await signIn(OFFICE, 'alice', PASSWORD), DEFAULTS.login.perSource.maxDelaySeconds);
    offset += wait;
    const res = await signIn(OFFICE, 'alice', PASSWORD);
    expectSignedIn(res);
    expect(deviceCookieOf(res)).toMatch(/^warden_device=/);
  });

  it('OWASP device cookies: a cookie that keeps failing is throttled per cookie, and after maxFailures it stops vouching — the ordinary throttles apply again', async () => {
    const device = deviceCookieOf(await signIn(HOME, 'alice', PASSWORD));
    await holdThrottle('alice');
    const { free } = DEFAULTS.login.perDevice;
    let failures = 0;
    // The device path lets these through despite the held source throttle, slowed per cookie.
    while (failures < DEFAULTS.login.deviceCookieMaxFailures) {
      const res = await signIn(OFFICE, 'alice', 'wrong', device);
      if (res.status === 429) {
        expect(failures).toBeGreaterThanOrEqual(free);
        offset += await expectThrottled(res, DEFAULTS.login.perDevice.maxDelaySeconds);
      } else {
        expect(res.status).toBe(400);
        failures += 1;
      }
    }
    expect(t.audits.some((e) => e.detail === 'throttled (device cookie): retry after 1 s')).toBe(true);
    // Spent: even the right password now meets the attacker's hold on the source.
    await holdThrottle('alice');
    await expectThrottled(await signIn(OFFICE, 'alice', PASSWORD, device));
  });

  it('OWASP device cookies: a success clears the cookie\'s failures', async () => {
    let device = deviceCookieOf(await signIn(HOME, 'alice', PASSWORD));
    for (let i = 0; i < DEFAULTS.login.perDevice.free - 1; i += 1) expect((await signIn(HOME, 'alice', 'typo', device)).status).toBe(400);
    const ok = await signIn(HOME, 'alice', PASSWORD, device);
    expectSignedIn(ok);
    device = deviceCookieOf(ok);
    for (let i = 0; i < DEFAULTS.login.perDevice.free; i += 1) expect((await signIn(HOME, 'alice', 'typo', device)).status).toBe(400);
    expect((await signIn(HOME, 'alice', 'typo', device)).status).toBe(429);
  });

  it('one browser keeps a device cookie entry per account (a shared computer): signing in as Bob keeps Alice\'s', async () => {
    const alice = deviceCookieOf(await signIn(HOME, 'alice', PASSWORD));
    const both = deviceCookieOf(await signIn(HOME, 'bob', PASSWORD, alice));
    expect(both.split('~')).toHaveLength(2);
    await holdThrottle('alice');
    await holdThrottle('bob');
    expectSignedIn(await signIn(OFFICE, 'alice', PASSWORD, both));
    expectSignedIn(await signIn(OFFICE, 'bob', PASSWORD, both));
  });
});

describe('device cookie attributes (RFC 6265 §4.1.2, OWASP session management)', () => {
  it('http issuer: warden_device; opaque (id, expiry, MAC — no username); HttpOnly; SameSite=Lax; Path=/; Max-Age; no Secure', async () => {
    const res = await signIn(HOME, 'alice', PASSWORD);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('warden_device=')) ?? '';
    expect(set).toMatch(new RegExp(`^warden_device=[A-Za-z0-9_-]{22}\\.${now() + DEFAULTS.login.deviceCookieSeconds}\\.[A-Za-z0-9_-]{43}; Max-Age=${DEFAULTS.login.deviceCookieSeconds}; Path=/; HttpOnly; SameSite=Lax$`));
    expect(set).not.toContain('alice');
    expect(set).not.toContain(Buffer.from('alice').toString('base64url'));
  });

  it('https issuer: __Host-warden_device with Secure, Path=/ and no Domain; the plain name is not honoured', async () => {
    const s = await startAuthorizationServer({ issuer: 'https://as.example', now, overrides: { trustedProxyHops: 1 } });
    try {
      const res = await signIn(HOME, 'alice', PASSWORD, undefined, s);
      const set = res.headers.getSetCookie().find((c) => c.startsWith('__Host-warden_device=')) ?? '';
      expect(set).toMatch(/^__Host-warden_device=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      expect(set).not.toMatch(/domain=/i);
      const device = set.split(';')[0] as string;
      // Hold Alice's source throttle on this server too.
      for (let i = 0; i < DEFAULTS.login.perSource.free; i += 1) expect((await signIn(OFFICE, 'alice', 'wrong', undefined, s)).status).toBe(400);
      expect((await signIn(OFFICE, 'alice', PASSWORD, device.replace('__Host-warden_device', 'warden_device'), s)).status).toBe(429);
      expectSignedInAs(await signIn(OFFICE, 'alice', PASSWORD, device, s));
    } finally {
      await s.close();
    }
  });

  it('the lifetime and the failure limit are configurable (login.deviceCookie)', async () => {
    await t.close();
    t = await startAuthorizationServer({ now, overrides: { trustedProxyHops: 1, login: { deviceCookie: { lifetimeSeconds: 86_400, maxFailures: 1 } } } });
    const res = await signIn(HOME, 'alice', PASSWORD);
    const device = deviceCookieOf(res);
    expect(res.headers.getSetCookie().find((c) => c.startsWith('warden_device='))).toContain('; Max-Age=86400;');
    await holdThrottle('alice');
    expect((await signIn(OFFICE, 'alice', 'wrong', device)).status).toBe(400);
    await expectThrottled(await signIn(OFFICE, 'alice', PASSWORD, device));
  });
});

function expectSignedInAs(res: Response): void {
  expect([200, 303]).toContain(res.status);
  expect(res.headers.getSetCookie().some((c) => c.startsWith('__Host-warden_session='))).toBe(true);
}
