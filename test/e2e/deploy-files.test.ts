/**
 * `deploy/`: no container engine runs here, so this checks what can be checked without one. The
 * files parse; every `warden` command and flag they run exists in the CLI (read from
 * `createProgram()`), every `WARDEN_*` variable they set is one Warden reads (read from the
 * config loader and the sources), the configurations they mount validate with the environment
 * they get, the probes hit Warden's health paths, and the compose topology is the one
 * `bench/soak.mjs` starts natively (same HAProxy file, same stores, same command).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createProgram } from '../../src/cli/program.js';
import { ENV_OVERRIDES, resolveConfig } from '../../src/config/load.js';
import { READY_PATH } from '../../src/stack/readiness.js';
import { HEALTH_PATH } from '../../src/stack/router.js';
// @ts-expect-error -- plain JavaScript benchmark module.
import { SOAK_TOPOLOGY } from '../../bench/soak/run.mjs';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');
const soak = SOAK_TOPOLOGY as { loadBalancer: string; haproxyDir: string; instances: number; command: string[]; storage: string; replay: string };

type Yaml = Record<string, unknown>;
const asRecord = (value: unknown): Yaml => (value !== null && typeof value === 'object' ? (value as Yaml) : {});
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Every `WARDEN_*` name the code reads: the config overrides plus any other use in src/ (not tests). */
function wardenVariablesInCode(): Set<string> {
  const names = new Set<string>(Object.keys(ENV_OVERRIDES));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/process\.env(?:\.|\[')(WARDEN_[A-Z0-9_]+)/g)) names.add(m[1]!);
    }
  };
  walk(join(ROOT, 'src'));
  return names;
}

/**
 * Checks one `warden` invocation against the CLI: each leading word names a (sub)command, each
 * `--flag` is an option of the last one. Returns the command path.
 */
function checkInvocation(args: readonly string[], where: string): string[] {
  let command: Command = createProgram();
  const path: string[] = [];
  let i = 0;
  while (i < args.length && !args[i]!.startsWith('-')) {
    const next = command.commands.find((c) => c.name() === args[i]);
    if (next === undefined) break;
    command = next;
    path.push(args[i]!);
    i += 1;
  }
  expect(path.length, `${where}: "${args.join(' ')}" names no warden command`).toBeGreaterThan(0);
  const longs = new Set(command.options.map((o) => o.long));
  for (const arg of args.slice(i)) {
    if (!arg.startsWith('--')) continue;
    expect(longs.has(arg.split('=')[0]), `${where}: warden ${path.join(' ')} has no option ${arg} (it has ${[...longs].join(', ')})`).toBe(true);
  }
  return path;
}

/** Arguments after `…/dist/cli/main.js` in an exec-form command, or undefined when it is not warden. */
function wardenArgs(exec: readonly unknown[]): string[] | undefined {
  const at = exec.findIndex((part) => typeof part === 'string' && part.endsWith('dist/cli/main.js'));
  return at === -1 ? undefined : (exec.slice(at + 1) as string[]);
}

/** The value of `--flag` in an argument list. */
const flag = (args: readonly string[], name: string): string | undefined => args[args.indexOf(name) + 1];

const known = wardenVariablesInCode();
const checkVariables = (names: Iterable<string>, where: string): void => {
  for (const name of names) if (name.startsWith('WARDEN_')) expect(known.has(name), `${where} sets ${name}, which Warden never reads`).toBe(true);
};

describe('deploy/Dockerfile', () => {
  const text = read('Dockerfile');
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const instructions = lines.map((l) => {
    const [name = '', ...rest] = l.trim().split(/\s+/);
    return { name: name.toUpperCase(), rest: rest.join(' ') };
  });
  const execForm = (name: string): unknown[] => {
    const found = instructions.filter((i) => i.name === name).at(-1);
    const json = found?.rest.replace(/^.*?CMD\s+(?=\[)/, '') ?? '[]';
    return JSON.parse(json) as unknown[];
  };

  it('parses: known instructions only, several stages, exec-form ENTRYPOINT/CMD/HEALTHCHECK', () => {
    const allowed = new Set(['FROM', 'RUN', 'COPY', 'WORKDIR', 'ENV', 'USER', 'EXPOSE', 'VOLUME', 'ENTRYPOINT', 'CMD', 'HEALTHCHECK', 'ARG', 'LABEL']);
    for (const i of instructions) expect(allowed.has(i.name), `unknown instruction ${i.name}`).toBe(true);
    expect(instructions.filter((i) => i.name === 'FROM').length).toBeGreaterThanOrEqual(2);
    for (const name of ['ENTRYPOINT', 'CMD', 'HEALTHCHECK']) expect(() => execForm(name)).not.toThrow();
  });

  it('runs as a non-root user and writes only to its state volume', () => {
    const lastStage = text.slice(text.lastIndexOf('\nFROM '));
    const user = /\nUSER\s+(\S+)/.exec(lastStage)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(lastStage).toMatch(/VOLUME \["\/var\/lib\/warden"\]/);
  });

  it('its commands are warden commands: ENTRYPOINT warden, CMD serve, HEALTHCHECK warden health', () => {
    const entry = execForm('ENTRYPOINT');
    expect(wardenArgs(entry)).toEqual([]);
    expect(checkInvocation(execForm('CMD') as string[], 'Dockerfile CMD')).toEqual(['serve']);
    const health = wardenArgs(execForm('HEALTHCHECK'))!;
    expect(checkInvocation(health, 'Dockerfile HEALTHCHECK')).toEqual(['health']);
    // The health check reads the configuration the server runs.
    expect(flag(health, '--config')).toBe(flag(execForm('CMD') as string[], '--config'));
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as Yaml;
  const services = asRecord(compose['services']);
  const wardens = Object.entries(services).filter(([, s]) => asArray(asRecord(s)['command'])[0] === 'serve');
  const haproxy = Object.entries(services).find(([, s]) => String(asRecord(s)['image']).startsWith('haproxy'));
  const envOf = (service: unknown): Record<string, string> => asRecord(asRecord(service)['environment']) as Record<string, string>;
  /** Compose interpolation with example values (`${NAME:-default}`, `${NAME:?message}`). */
  const interpolate = (value: string): string => value.replace(/\$\{([A-Z_]+)(?::[-?]([^}]*))?\}/g, (_, name: string, fallback?: string) => (name === 'WARDEN_SECRET' ? 'x'.repeat(48) : (fallback ?? 'example')));

  it('parses, with two or more Warden instances, PostgreSQL, Redis and HAProxy', () => {
    expect(wardens.length).toBeGreaterThanOrEqual(2);
    expect(haproxy).toBeDefined();
    expect(Object.values(services).some((s) => String(asRecord(s)['image']).startsWith('postgres'))).toBe(true);
    expect(Object.values(services).some((s) => String(asRecord(s)['image']).startsWith('redis'))).toBe(true);
  });

  it('every warden command and flag exists; every WARDEN_* variable is one Warden reads', () => {
    for (const [name, service] of wardens) {
      checkInvocation(asArray(asRecord(service)['command']) as string[], `compose ${name}.command`);
      checkInvocation(wardenArgs(asArray(asRecord(asRecord(service)['healthcheck'])['test']))!, `compose ${name}.healthcheck`);
      checkVariables(Object.keys(envOf(service)), `compose ${name}`);
    }
  });

  it('the configuration each instance mounts validates with the environment it gets', () => {
    for (const [name, service] of wardens) {
      const args = asArray(asRecord(service)['command']) as string[];
      const mount = asArray(asRecord(service)['volumes']).map(String).find((v) => v.split(':')[1] === flag(args, '--config'));
      expect(mount, `${name} mounts its --config file`).toBeDefined();
      const file = resolve(DEPLOY, mount!.split(':')[0]!);
      const env = Object.fromEntries(Object.entries(envOf(service)).map(([k, v]) => [k, interpolate(String(v))]));
      const config = resolveConfig(parse(readFileSync(file, 'utf8')), { env, source: file });
      expect(config.storage.kind).toBe('postgres');
      expect(config.authorizationServer.secret).toBeDefined();
    }
  });

  it('is the topology bench/soak.mjs starts: the same HAProxy file in front of every instance on its listen port, the same stores and command', () => {
    expect(soak.loadBalancer).toBe('haproxy');
    const [, lb] = haproxy!;
    const mounted = asArray(asRecord(lb)['volumes']).map(String).map((v) => resolve(DEPLOY, v.split(':')[0]!));
    expect(mounted).toContain(join(ROOT, soak.haproxyDir));
    const lbEnv = envOf(lb);
    const servers = Object.entries(lbEnv).filter(([k]) => /^HAPROXY_SERVER_\d+$/.test(k)).map(([, v]) => v);
    for (const [name, service] of wardens) {
      const args = asArray(asRecord(service)['command']) as string[];
      expect(args.slice(0, soak.command.length)).toEqual(soak.command);
      const mount = asArray(asRecord(service)['volumes']).map(String).find((v) => v.split(':')[1] === flag(args, '--config'))!;
      const config = resolveConfig(parse(readFileSync(resolve(DEPLOY, mount.split(':')[0]!), 'utf8')), { env: { WARDEN_SECRET: 'x'.repeat(48) } });
      expect(servers).toContain(`${name}:${config.listen.port}`);
      expect(config.storage.kind).toBe(soak.storage);
      expect(config.replay.kind).toBe(soak.replay);
    }
    expect(servers).toHaveLength(wardens.length);
    // Every variable the HAProxy file needs (outside `.if defined(...)` blocks) is set here; the
    // soak sets the same names (bench/soak/services.mjs: startHaproxy).
    const cfg = readFileSync(join(ROOT, soak.haproxyDir, 'haproxy.cfg'), 'utf8');
    const required = [...cfg.replace(/^\.if[\s\S]*?^\.endif$/gm, '').matchAll(/"\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!);
    for (const name of required) expect(Object.keys(lbEnv), `compose haproxy sets ${name}`).toContain(name);
    const soakServices = readFileSync(join(ROOT, 'bench/soak/services.mjs'), 'utf8');
    for (const name of new Set(required.map((n) => n.replace(/_\d+$/, '_')))) expect(soakServices).toContain(name);
  });

  it.skipIf(!existsSync('/usr/sbin/haproxy'))('the HAProxy file is valid for HAProxy itself (haproxy -c) with the compose environment', () => {
    const [, lb] = haproxy!;
    const env = { ...process.env, ...envOf(lb), HAPROXY_CONFIG_DIR: join(ROOT, soak.haproxyDir) };
    const check = spawnSync('/usr/sbin/haproxy', ['-c', '-f', join(ROOT, soak.haproxyDir, 'haproxy.cfg')], { env, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });
});

describe('deploy/kubernetes', () => {
  const documents = readdirSync(join(DEPLOY, 'kubernetes'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(read(join('kubernetes', f))).map((doc) => {
        expect(doc.errors, f).toEqual([]);
        return doc.toJS() as Yaml;
      }),
    );
  const byKind = (kind: string): Yaml[] => documents.filter((d) => d['kind'] === kind);
  const deployment = byKind('Deployment')[0]!;
  const pod = asRecord(asRecord(asRecord(deployment['spec'])['template'])['spec']);
  const container = asRecord(asArray(pod['containers'])[0]);

  it('parses: a Deployment, a Service, a PodDisruptionBudget, a ConfigMap and a Secret, selecting the same pods', () => {
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'ConfigMap', 'Secret']) expect(byKind(kind), kind).toHaveLength(1);
    const labels = asRecord(asRecord(asRecord(deployment['spec'])['template'])['metadata'])['labels'];
    expect(asRecord(byKind('Service')[0]!['spec'])['selector']).toEqual(labels);
    expect(asRecord(asRecord(byKind('PodDisruptionBudget')[0]!['spec'])['selector'])['matchLabels']).toEqual(labels);
  });

  it('the container runs warden serve, not as root, with a read-only root filesystem', () => {
    checkInvocation(asArray(container['args']) as string[], 'Deployment args');
    expect(asRecord(pod['securityContext'])['runAsNonRoot']).toBe(true);
    expect(asRecord(container['securityContext'])['readOnlyRootFilesystem']).toBe(true);
  });

  it('probes: liveness on /healthz, readiness and start-up on /readyz, at the container port', () => {
    expect(asRecord(asRecord(container['livenessProbe'])['httpGet'])['path']).toBe(HEALTH_PATH);
    expect(asRecord(asRecord(container['readinessProbe'])['httpGet'])['path']).toBe(READY_PATH);
    expect(asRecord(asRecord(container['startupProbe'])['httpGet'])['path']).toBe(READY_PATH);
  });

  it('secrets come from the environment: every WARDEN_* name exists, and the ConfigMap validates with them', () => {
    const secret = asRecord(byKind('Secret')[0]!['stringData']) as Record<string, string>;
    const env = Object.fromEntries(asArray(container['env']).map((e) => [String(asRecord(e)['name']), String(asRecord(e)['value'])]));
    checkVariables([...Object.keys(secret), ...Object.keys(env)], 'kubernetes');
    const refs = asArray(container['envFrom']).map((e) => asRecord(asRecord(e)['secretRef'])['name']);
    expect(refs).toContain(asRecord(byKind('Secret')[0]!['metadata'])['name']);
    const configMap = asRecord(byKind('ConfigMap')[0]!['data']) as Record<string, string>;
    const args = asArray(container['args']) as string[];
    const file = flag(args, '--config')!;
    const mounts = asArray(container['volumeMounts']).map(asRecord);
    const configMount = mounts.find((m) => file.startsWith(`${String(m['mountPath'])}/`));
    expect(configMount, 'the --config file is in a mounted volume').toBeDefined();
    const config = resolveConfig(parse(configMap[file.split('/').at(-1)!]!), { env: { ...secret, ...env, WARDEN_SECRET: 'x'.repeat(48) } });
    expect(config.storage.kind).toBe('postgres');
    expect(config.replay.kind).toBe('redis');
    expect(asArray(asRecord(container)['ports']).map((p) => asRecord(p)['containerPort'])).toContain(config.listen.port);
  });
});
