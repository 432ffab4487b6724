// `node bench/audit.mjs`: wall time and request count of a full `warden audit` of `warden start`,
// at the default rate (10 requests/s), as a user runs it: the built CLI in a child process with
// every input a reviewer gives — the demo client (secret in a file), a second principal's token,
// the probe tool, --sign-in (this script plays the person: it signs in at the printed URL and lets
// the "browser" land on the CLI's loopback redirect) and --allow-refresh.
//
// Needs dist/ (npm run build). Prints one summary line per run; AUDIT_RUNS (default 1) runs.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const runs = Number(process.env.AUDIT_RUNS ?? 1);

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function startStack(dir) {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--state-dir', join(dir, 'state')], { stdio: 'ignore' });
  for (let i = 0; i < 300; i++) {
    try {
      return { child, stack: JSON.parse(await readFile(join(dir, 'state', 'stack.json'), 'utf8')) };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('warden start did not write stack.json');
}

const form = (url, fields, cookie) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie && { cookie }) }, body: new URLSearchParams(fields) });
const csrf = (html) => /name="csrf" value="([^"]+)"/.exec(html)[1];

/** The person: authorization URL → sign-in → consent → the redirect, which lands on the CLI's loopback listener. */
async function playUser(url, user) {
  const start = await fetch(url, { redirect: 'manual' });
  const interaction = new URL(start.headers.get('location'), url).href;
  const login = await fetch(interaction);
  const consent = await form(interaction, { csrf: csrf(await login.text()), action: 'login', username: user.username, password: user.password });
  let location = consent.headers.get('location');
  if (location === null) {
    const cookie = (consent.headers.get('set-cookie') ?? '').split(';')[0];
    location = (await form(interaction, { csrf: csrf(await consent.text()), action: 'allow' }, cookie)).headers.get('location');
  }
  await (await fetch(location)).text();
}

for (let run = 1; run <= runs; run++) {
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-audit-'));
  const { child, stack } = await startStack(dir);
  try {
    const service = stack.clients.find((c) => c.client_secret);
    const resource = stack.resources[0].url;
    const second = await fetch(`${stack.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource }),
    });
    await writeFile(join(dir, 'secret'), service.client_secret);
    await writeFile(join(dir, 'second'), (await second.json()).access_token);
    const report = join(dir, 'report.json');
    const started = performance.now();
    const audit = spawn(process.execPath, [CLI, 'audit', resource, '--client-id', service.client_id, '--client-secret', `@${join(dir, 'secret')}`, '--second-token', `@${join(dir, 'second')}`, '--probe-tool', 'admin_reset', '--sign-in', '--allow-refresh', '--json', report], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let signedIn;
    audit.stderr.on('data', (chunk) => {
      stderr += chunk;
      const url = /^\s+(http:\/\/\S+\/authorize\?\S+)$/m.exec(stderr)?.[1];
      if (url && !signedIn) signedIn = playUser(url, stack.users[0]);
    });
    const code = await new Promise((resolve) => audit.on('close', resolve));
    const wall = (performance.now() - started) / 1000;
    await signedIn;
    const result = JSON.parse(await readFile(report, 'utf8'));
    const verdicts = result.checks.filter((c) => c.status === 'passed' || c.status === 'failed').length;
    console.log(
      `run ${run}: exit ${code}, wall ${wall.toFixed(1)} s (audit ${(result.durationMs / 1000).toFixed(1)} s), ${result.requests.sent} requests at ${result.requests.rate}/s, ` +
        `${verdicts}/${result.checks.length} checks reached a verdict, findings: ${result.findings.map((f) => `${f.severity} ${f.id}`).join(', ') || 'none'}`,
    );
  } finally {
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}
