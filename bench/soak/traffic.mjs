// The mixed traffic of a soak run: legitimate users (each a client with its own DPoP key and
// sign-in) and one attacker who replays, byte for byte, requests the stack already accepted.
import { OPS, Failure, Unavailable, createClient, timed } from './client.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Shared state of the traffic: what happened, when (ms since `t0`). */
export function createTrafficContext({ base, resource, tokenEndpoint, authorizationEndpoint }) {
  const t0 = performance.now();
  const ctx = {
    base,
    resource,
    tokenEndpoint,
    authorizationEndpoint,
    t0,
    running: true,
    /** Flat: start ms, latency ms, op index, status — per request. */
    events: [],
    /** Legitimate requests refused or failed for a reason other than an outage. */
    failures: [],
    replaysAccepted: [],
    stats: { flows: 0, calls: 0, refreshes: 0, races: 0, racesInterrupted: 0, raceRevocations: 0, replays: 0, replaysRefused: 0, unavailable: 0, grantsLost: 0 },
    captured: [],
    now: () => performance.now() - t0,
    record(op, started, status) {
      ctx.events.push(started - t0, performance.now() - started, OPS.indexOf(op), status);
    },
    countUnavailable() {
      ctx.stats.unavailable += 1;
    },
    fail(error) {
      ctx.failures.push({ t: ctx.now(), kind: error.kind ?? 'failure', message: error.message });
    },
    capture(request) {
      ctx.captured.push(request);
      if (ctx.captured.length > 500) ctx.captured.splice(0, 250);
    },
    sleep: (ms) => (ctx.running ? sleep(ms) : Promise.resolve()),
  };
  return ctx;
}

/**
 * One legitimate user: signs in (authorization code + PKCE + DPoP), then calls tools with fresh
 * proofs, refreshes every few calls and races its own refreshes now and then; signs in anew every
 * `flowEverySeconds` (each sign-in is one of the account's limited password attempts).
 */
export async function userLoop(ctx, clientOptions, { flowEverySeconds }) {
  const client = createClient(ctx, clientOptions);
  let lastFlow = -Infinity;
  let round = 0;
  while (ctx.running) {
    try {
      if (!client.hasGrant || ctx.now() - lastFlow > flowEverySeconds * 1000) {
        lastFlow = ctx.now();
        await client.authorize();
      }
      round += 1;
      for (let i = 0; i < 5 && ctx.running; i += 1) ctx.capture(await client.callTool());
      if (round % 2 === 0) ctx.capture(await client.refresh());
      if (round % 5 === 0) await client.refreshRace();
    } catch (error) {
      if (error instanceof Unavailable) {
        ctx.countUnavailable();
        await ctx.sleep(1000);
      } else if (error instanceof Failure) {
        ctx.fail(error);
        if (error.kind === 'grant_lost' || error.kind === 'race_revoked') {
          if (error.kind === 'grant_lost') ctx.stats.grantsLost += 1;
          client.forget();
        }
        await ctx.sleep(250);
      } else throw error;
    }
  }
  return client;
}

/** At the end: every user's grant must still refresh and call a tool (retrying outages ≤ 20 s). */
export async function finalCheck(ctx, client) {
  if (!client.hasGrant) return { ok: false, reason: 'never signed in' };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await client.refresh();
      await client.callTool();
      return { ok: true };
    } catch (error) {
      if (error instanceof Unavailable && Date.now() < deadline) {
        await sleep(1000);
        continue;
      }
      return { ok: false, reason: error.message };
    }
  }
}

/**
 * The attacker: a second client that captured requests on the wire and sends them again, byte
 * for byte (same token, same proof), through the load balancer — so mostly to another instance
 * than the one that accepted them. A 200 is a replay accepted.
 */
export async function replayLoop(ctx, { intervalMs = 50 } = {}) {
  while (ctx.running) {
    await sleep(intervalMs);
    const pool = ctx.captured;
    if (pool.length === 0) continue;
    const request = pool[Math.floor(Math.random() * pool.length)];
    const res = await timed(ctx, 'replay', request.url, request.init);
    ctx.stats.replays += 1;
    if (res.status === 200) ctx.replaysAccepted.push({ t: ctx.now(), kind: request.kind });
    else if (res.status === 400 || res.status === 401) ctx.stats.replaysRefused += 1;
  }
}
