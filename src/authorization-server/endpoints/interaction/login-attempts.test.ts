/**
 * Sign-in cost controls over HTTP: throttles per (account, source) and per account that slow
 * guessing down without ever locking the real user out, and the cap on password checks in flight.
 * Sources are simulated with `X-Forwarded-For` behind one trusted proxy hop; the clock is movable.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.10
 * @see https://pages.nist.gov/800-63-3/sp800-63b.html#throttle
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryAuthorizationServerStores } from '../../../stores/memory/authorization-server-stores.js';
import { createAuthorizationServer } from '../../create-authorization-server.js';
import { csrfOf, get, PASSWORD, pkcePair, postForm, RESOURCE, startAuthorizationServer, type TestAs } from '../../../../test/helpers/login-flow.js';
import { addUser } from '../../users.js';
import { ACCOUNT_LIMITED_MESSAGE, BAD_CREDENTIALS_MESSAGE, BUSY_MESSAGE } from './index.js';
import { DEFAULTS } from '../../../oauth/defaults.js';

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

const ATTACKER = '203.0.113.66';
const HOME = '198.51.100.7';

/** A fresh authorization request's login page URL (each interaction allows 5 tries of its own). */
async function begin(): Promise<string> {
  const { challenge } = pkcePair();
  const params = new URLSearchParams({
    response_type: 'code', client_id: 'app', redirect_uri: 'https://app.example/cb', code_challenge: challenge,
    code_challenge_method: 'S256', resource: RESOURCE, scope: 'mcp:tools', state: 's',
  });
  const res = await get(t, `/authorize?${params}`);
  expect(res.status).toBe(303);
  return res.headers.get('location') ?? '';
}

/** One sign-in attempt from `source` in a fresh interaction. */
async function signIn(source: string, username: string, password: string): Promise<Response> {
  const url = await begin();
  const csrf = csrfOf(await (await get(t, url)).text());
  return postForm(t, url, { csrf, action: 'login', username, password }, undefined, { 'X-Forwarded-For': `10.9.9.9, ${source}` });
}

async function expectThrottled(res: Response, retryAfter: number): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toBe(String(retryAfter));
  const html = await res.text();
  expect(html).toContain(ACCOUNT_LIMITED_MESSAGE);
  expect(html).toContain('name="csrf"');
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

describe('sign-in throttles: slowed down, never locked out (RFC 6749 §10.10, NIST SP 800-63B §5.2.2)', () => {
  it('RFC 6749 §10.10: one source guessing is slowed exponentially (429 + Retry-After, no scrypt); the real user from another source signs in at once', async () => {
    const { free } = DEFAULTS.login.perSource;
    for (let i = 0; i < free; i += 1) expect((await signIn(ATTACKER, 'alice', `wrong-${i}`)).status).toBe(400);
    const checks = countChecks();
    await expectThrottled(await signIn(ATTACKER, 'alice', 'wrong'), 1);
    // Even the right password waits: the throttle decides before any password is looked at.
    await expectThrottled(await signIn(ATTACKER, 'alice', PASSWORD), 1);
    expect(checks.count).toBe(0);
    expect(t.audits.filter((e) => e.type === 'login.failed' && e.detail === 'throttled: retry after 1 s')).toHaveLength(2);

    const home = await signIn(HOME, 'alice', PASSWORD);
    expect([200, 303]).toContain(home.status);
    expect(home.headers.get('set-cookie')).toMatch(/warden_session=/);

    // Doubling: 1 s, then 2 s, then 4 s ...
    offset += 1;
    expect((await signIn(ATTACKER, 'alice', 'wrong')).status).toBe(400);
    await expectThrottled(await signIn(ATTACKER, 'alice', 'wrong'), 2);
    offset += 2;
    expect((await signIn(ATTACKER, 'alice', 'wrong')).status).toBe(400);
    await expectThrottled(await signIn(ATTACKER, 'alice', 'wrong'), 4);
  });

  it('NIST SP 800-63B §5.2.2: the wait is capped at perSource.maxDelaySeconds — a slow-down, never a lock-out', async () => {
    // 5 free, then 1, 2, 4, ... 512 s: after 15 failures the wait has reached the cap (900 s).
    let failures = 0;
    while (failures < 15) {
      const res = await signIn(ATTACKER, 'alice', 'wrong');
      if (res.status === 429) offset += Number(res.headers.get('retry-after'));
      else failures += 1;
      expect(Number(res.headers.get('retry-after') ?? 0)).toBeLessThanOrEqual(DEFAULTS.login.perSource.maxDelaySeconds);
    }
    await expectThrottled(await signIn(ATTACKER, 'alice', 'wrong'), DEFAULTS.login.perSource.maxDelaySeconds);
    offset += DEFAULTS.login.perSource.maxDelaySeconds;
    const owner = await signIn(ATTACKER, 'alice', PASSWORD);
    expect([200, 303]).toContain(owner.status);
  });

  it('RFC 6749 §10.10: guessing spread over many sources is slowed per account (wait ≤ 60 s), but not from a source the user signed in from before', async () => {
    await addUser(t.server.context, 'dave', PASSWORD);
    const known = await signIn(HOME, 'dave', PASSWORD);
    expect([200, 303]).toContain(known.status);
    const { free, maxDelaySeconds } = DEFAULTS.login.perAccount;
    for (let i = 0; i < free; i += 1) expect((await signIn(`192.0.2.${i + 1}`, 'dave', 'wrong')).status).toBe(400);
    await expectThrottled(await signIn('192.0.2.200', 'dave', 'wrong'), 1);
    // From the known source: no account-wide wait.
    const home = await signIn(HOME, 'dave', PASSWORD);
    expect([200, 303]).toContain(home.status);
    // Many more distributed failures: the account-wide wait grows, but never beyond its cap.
    for (let i = 0; i < 12; i += 1) {
      const res = await signIn(`192.0.2.${100 + i}`, 'dave', 'wrong');
      expect(Number(res.headers.get('retry-after') ?? 0)).toBeLessThanOrEqual(maxDelaySeconds);
      if (res.status === 429) offset += Number(res.headers.get('retry-after'));
    }
    // The real user from a new source waits at most the cap, then signs in.
    const fresh = await signIn('192.0.2.250', 'dave', PASSWORD);
    if (fresh.status === 429) {
      const wait = Number(fresh.headers.get('retry-after'));
      expect(wait).toBeLessThanOrEqual(maxDelaySeconds);
      offset += wait;
      expect([200, 303]).toContain((await signIn('192.0.2.250', 'dave', PASSWORD)).status);
    } else expect([200, 303]).toContain(fresh.status);
  });

  it('a successful sign-in clears its source\'s failures', async () => {
    for (let i = 0; i < DEFAULTS.login.perSource.free - 1; i += 1) expect((await signIn(ATTACKER, 'alice', 'typo')).status).toBe(400);
    expect([200, 303]).toContain((await signIn(ATTACKER, 'alice', PASSWORD)).status);
    for (let i = 0; i < DEFAULTS.login.perSource.free; i += 1) expect((await signIn(ATTACKER, 'alice', 'typo')).status).toBe(400);
    expect((await signIn(ATTACKER, 'alice', 'typo')).status).toBe(429);
  });

  it('unknown usernames are throttled exactly like real ones (the answer reveals nothing); other names are unaffected', async () => {
    for (let i = 0; i < DEFAULTS.login.perSource.free; i += 1) {
      const [real, unknown] = [await signIn(ATTACKER, 'alice', 'x'), await signIn(ATTACKER, 'nobody-here', 'x')];
      expect(real.status).toBe(400);
      expect(unknown.status).toBe(400);
      expect(await unknown.text()).toContain(BAD_CREDENTIALS_MESSAGE);
    }
    await expectThrottled(await signIn(ATTACKER, 'alice', 'x'), 1);
    await expectThrottled(await signIn(ATTACKER, 'nobody-here', 'x'), 1);
    await expectThrottled(await signIn(ATTACKER, 'ALICE', 'x'), 1);
    expect((await signIn(ATTACKER, 'bob', 'x')).status).toBe(400);
  });

  it('the throttle settings are configurable (login.throttle.perSource)', async () => {
    await t.close();
    t = await startAuthorizationServer({ now, overrides: { trustedProxyHops: 1, login: { throttle: { perSource: { free: 1, baseDelaySeconds: 30, maxDelaySeconds: 30 } } } } });
    expect((await signIn(ATTACKER, 'alice', 'x')).status).toBe(400);
    await expectThrottled(await signIn(ATTACKER, 'alice', 'x'), 30);
  });

  it('without trusted proxies, X-Forwarded-For is ignored: a client cannot pick a fresh source per request', async () => {
    await t.close();
    t = await startAuthorizationServer({ now });
    for (let i = 0; i < DEFAULTS.login.perSource.free; i += 1) expect((await signIn(`192.0.2.${i}`, 'alice', 'x')).status).toBe(400);
    await expectThrottled(await signIn('192.0.2.99', 'alice', 'x'), 1);
  });
});

describe('one source cannot keep the password checks busy (per source, whatever the username; OWASP credential stuffing)', () => {
  it('OWASP Credential Stuffing Prevention: a source rotating usernames is slowed per source before a password-check slot is taken (429 + Retry-After, no scrypt); other sources are unaffected', async () => {
    const { free, maxDelaySeconds } = DEFAULTS.login.perSourceAllAccounts;
    for (let i = 0; i < free; i += 1) expect((await signIn(ATTACKER, `user-${i}`, 'x')).status).toBe(400);
    const checks = countChecks();
    await expectThrottled(await signIn(ATTACKER, 'another-name', 'x'), 1);
    await expectThrottled(await signIn(ATTACKER, 'alice', PASSWORD), 1);
    expect(checks.count).toBe(0);
    expect([200, 303]).toContain((await signIn(HOME, 'alice', PASSWORD)).status);
    // Doubling to the cap: at most one password check per maxDelaySeconds from that source.
    for (let i = 0; i < 10; i += 1) {
      const res = await signIn(ATTACKER, `late-${i}`, 'x');
      if (res.status === 429) {
        const wait = Number(res.headers.get('retry-after'));
        expect(wait).toBeLessThanOrEqual(maxDelaySeconds);
        offset += wait;
      } else expect(res.status).toBe(400);
    }
    await expectThrottled(await signIn(ATTACKER, 'once-more', 'x'), maxDelaySeconds);
  });

  it('OWASP device cookies: a browser with a device cookie for the account is exempt from the per-source throttle', async () => {
    const first = await signIn(ATTACKER, 'alice', PASSWORD);
    const device = (first.headers.getSetCookie().find((c) => c.startsWith('warden_device=')) ?? '').split(';')[0] as string;
    for (let i = 0; i < DEFAULTS.login.perSourceAllAccounts.free; i += 1) expect((await signIn(ATTACKER, `user-${i}`, 'x')).status).toBe(400);
    await expectThrottled(await signIn(ATTACKER, 'alice', PASSWORD), 1);
    const url = await begin();
    const csrf = csrfOf(await (await get(t, url)).text());
    const res = await postForm(t, url, { csrf, action: 'login', username: 'alice', password: PASSWORD }, device, { 'X-Forwarded-For': `10.9.9.9, ${ATTACKER}` });
    expect([200, 303]).toContain(res.status);
  });

  it('successful sign-ins do not count against their source (an office behind one NAT)', async () => {
    const { free } = DEFAULTS.login.perSourceAllAccounts;
    for (let i = 0; i < free - 1; i += 1) expect((await signIn(ATTACKER, `user-${i}`, 'x')).status).toBe(400);
    for (let i = 0; i < 3; i += 1) expect([200, 303]).toContain((await signIn(ATTACKER, i % 2 === 0 ? 'alice' : 'bob', PASSWORD)).status);
    expect((await signIn(ATTACKER, 'user-last', 'x')).status).toBe(400);
    await expectThrottled(await signIn(ATTACKER, 'user-next', 'x'), 1);
  });

  it('the setting is configurable (login.throttle.perSourceAllAccounts)', async () => {
    await t.close();
    t = await startAuthorizationServer({ now, overrides: { trustedProxyHops: 1, login: { throttle: { perSourceAllAccounts: { free: 2, baseDelaySeconds: 20, maxDelaySeconds: 20 } } } } });
    expect((await signIn(ATTACKER, 'a1', 'x')).status).toBe(400);
    expect((await signIn(ATTACKER, 'a2', 'x')).status).toBe(400);
    await expectThrottled(await signIn(ATTACKER, 'a3', 'x'), 20);
  });
});

describe('X-Forwarded-For without trusted proxies (a reverse proxy nobody declared)', () => {
  it('RFC 7239 §8.1: is logged as a warning once, naming the setting and no header value', async () => {
    await t.close();
    const warnings: Array<{ message: string; code: string }> = [];
    t = await startAuthorizationServer({ now, overrides: { warn: (message, { code }) => warnings.push({ message, code }) } });
    await signIn('192.0.2.1', 'alice', 'x');
    await signIn('192.0.2.2', 'alice', 'x');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.code).toBe('WARDEN_UNTRUSTED_X_FORWARDED_FOR');
    expect(warnings[0]?.message).toContain('trustedProxyHops');
    expect(warnings[0]?.message).not.toContain('192.0.2');
  });

  it('is not a warning when trustedProxyHops is set, nor without the header', async () => {
    await t.close();
    const warnings: string[] = [];
    t = await startAuthorizationServer({ now, overrides: { trustedProxyHops: 1, warn: (message) => warnings.push(message) } });
    await signIn('192.0.2.1', 'alice', 'x');
    await t.close();
    t = await startAuthorizationServer({ now, overrides: { warn: (message) => warnings.push(message) } });
    const url = await begin();
    const csrf = csrfOf(await (await get(t, url)).text());
    await postForm(t, url, { csrf, action: 'login', username: 'alice', password: 'x' });
    expect(warnings).toEqual([]);
  });
});

describe('password checks in flight are capped per instance', () => {
  it('beyond login.maxConcurrentPasswordChecks the sign-in answers 503 with Retry-After: 1, and the attempt does not count', async () => {
    await t.close();
    t = await startAuthorizationServer({ now, overrides: { trustedProxyHops: 1, login: { maxConcurrentPasswordChecks: 1 } } });
    const held = t.server.context.login.passwordChecks.tryAcquire();
    expect(held).toBeDefined();
    for (let i = 0; i < DEFAULTS.login.perSource.free + 2; i += 1) {
      const busy = await signIn(ATTACKER, 'alice', PASSWORD);
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(busy.headers.get('set-cookie')).toBeNull();
      expect(await busy.text()).toContain(BUSY_MESSAGE);
    }
    held?.();
    const ok = await signIn(ATTACKER, 'alice', PASSWORD);
    expect([200, 303]).toContain(ok.status);
    expect(t.server.context.login.passwordChecks.inFlight).toBe(0);
  });

  it('concurrent sign-ins never run more password checks at once than the cap', async () => {
    await t.close();
    t = await startAuthorizationServer({ now, overrides: { trustedProxyHops: 1, login: { maxConcurrentPasswordChecks: 2 } } });
    const limiter = t.server.context.login.passwordChecks;
    let peak = 0;
    const acquire = limiter.tryAcquire.bind(limiter);
    limiter.tryAcquire = () => {
      const release = acquire();
      peak = Math.max(peak, limiter.inFlight);
      return release;
    };
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => signIn(`192.0.2.${i}`, 'alice', 'wrong')));
    expect(peak).toBeLessThanOrEqual(2);
    expect(results.every((r) => r.status === 400 || r.status === 503)).toBe(true);
    for (const r of results.filter((x) => x.status === 503)) expect(r.headers.get('retry-after')).toBe('1');
  });
});

describe('configuration is checked at start', () => {
  const base = { issuer: 'https://as.example.com', secret: 'a-test-secret-of-at-least-32-bytes-0123456789ab', resources: [{ uri: RESOURCE, name: 'd', scopes: ['mcp:tools'] }] };
  it.each([
    [{ login: { maxConcurrentPasswordChecks: 0 } }, 'login.maxConcurrentPasswordChecks must be a whole number from 1 to 1024'],
    [{ login: { throttle: { perSource: { baseDelaySeconds: 0 } } } }, 'login.throttle.perSource.baseDelaySeconds must be a whole number from 1 to'],
    [{ login: { throttle: { perAccount: { maxDelaySeconds: 7200 } } } }, 'login.throttle.perAccount.forgetAfterSeconds must be at least maxDelaySeconds (7200)'],
    [{ login: { throttle: { perAccount: { free: 1.5 } } } }, 'login.throttle.perAccount.free must be a whole number'],
    [{ trustedProxyHops: -1 }, 'trustedProxyHops must be a whole number from 0 to 10'],
    [{ login: { throttle: { perSourceAllAccounts: { free: -1 } } } }, 'login.throttle.perSourceAllAccounts.free must be a whole number from 0 to'],
    [{ login: { throttle: { perDevice: { maxDelaySeconds: 7200 } } } }, 'login.throttle.perDevice.forgetAfterSeconds must be at least maxDelaySeconds (7200)'],
    [{ login: { deviceCookie: { lifetimeSeconds: 60 } } }, 'login.deviceCookie.lifetimeSeconds must be a whole number from 3600 to 34560000'],
    [{ login: { deviceCookie: { maxFailures: 0 } } }, 'login.deviceCookie.maxFailures must be a whole number from 1 to 1000'],
  ])('%j is refused with a message naming the key', async (options, message) => {
    await expect(createAuthorizationServer({ ...base, stores: createMemoryAuthorizationServerStores(), ...options } as never)).rejects.toThrow(message);
  });
});
