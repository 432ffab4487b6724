#!/usr/bin/env node
// Soak: three Warden instances behind HAProxy, sharing PostgreSQL and Redis, under mixed traffic
// with a key rotation, an instance SIGKILL, a Redis restart and a PostgreSQL restart. Writes
// bench/results/soak-<time>/{report.md,report.json,soak.svg,*.log}; exits 1 when a criterion
// fails (replays accepted, grants lost, families revoked by a legitimate race, 5xx other than
// 503 during an outage, failures from the key rotation), 2 when a component is missing.
//
//   npm run build && node bench/soak.mjs            # 5 minutes
//   SOAK_SECONDS=60 SOAK_USERS=4 node bench/soak.mjs
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingComponents, runSoak } from './soak/run.mjs';

const seconds = Number(process.env.SOAK_SECONDS ?? 300);
const users = Number(process.env.SOAK_USERS ?? 6);
if (!(seconds >= 20) || !(users >= 1)) {
  process.stderr.write('SOAK_SECONDS must be at least 20 and SOAK_USERS at least 1\n');
  process.exit(2);
}
const missing = missingComponents();
if (missing.length > 0) {
  process.stderr.write(`soak: missing ${missing.join(', ')}\n`);
  process.exit(2);
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = process.env.SOAK_OUT ?? join(fileURLToPath(new URL('.', import.meta.url)), 'results', `soak-${stamp}`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`soak: ${signal}, stopping every component\n`);
    // The exit handlers of the run kill every child by pid.
    process.exit(130);
  });
}
const result = await runSoak({ durationSeconds: seconds, users, outDir, log: (line) => process.stderr.write(`soak: ${line}\n`) });
for (const c of [...result.criteria, ...result.coverage]) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.value}\n`);
process.stdout.write(`report: ${join(outDir, 'report.md')}\n`);
process.exit(result.passed ? 0 : 1);
