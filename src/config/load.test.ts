import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinConfig } from './builtin.js';
import { CONFIG_DEFAULTS, withListenPort } from './defaults.js';
import { ConfigError } from './errors.js';
import { loadConfigFile, parseConfigText, resolveConfig } from './load.js';

const demo = { name: 'demo', path: '/mcp', upstream: 'builtin:demo' };
const noEnv = { env: {} };

/** The issues of the ConfigError `fn` throws. */
function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

const YAML_CONFIG = `
publicUrl: https://mcp.example.com
listen: { host: 0.0.0.0, port: 8080 }
issuer: https://auth.example.com
storage: { kind: postgres, url: "postgres://warden:pw@db/warden" }
replay:  { kind: redis, url: "redis://cache:6379" }
nonce: { secret: "0123456789abcdef0123456789abcdef", required: false }
authorizationServer: { enabled: false }
resources:
  - name: demo
    path: /mcp
    upstream: builtin:demo
    dpop: required
    scopes: { default: [mcp:tools], tools: { admin_reset: [mcp:admin] } }
    tokenLifetimeSeconds: 300
  - name: files
    path: /files/mcp
    upstream: http://127.0.0.1:9000/mcp
    trust:
      issuer: https://idp.example.com
      jwksUri: https://idp.example.com/jwks
`;

describe('config files', () => {
  it('reads YAML', () => {
    const config = parseConfigText(YAML_CONFIG, { ...noEnv, source: 'warden.yaml' });
    expect(config.publicUrl).toBe('https://mcp.example.com');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.issuer).toBe('https://auth.example.com');
    expect(config.storage).toEqual({ kind: 'postgres', url: 'postgres://warden:pw@db/warden' });
    expect(config.replay).toEqual({ kind: 'redis', url: 'redis://cache:6379' });
    expect(config.nonce).toEqual({ secret: '0123456789abcdef0123456789abcdef', required: false });
    expect(config.authorizationServer).toMatchObject({ enabled: false, demo: false, clients: [] });
    expect(config.resources[0]).toMatchObject({
      name: 'demo',
      canonicalUri: 'https://mcp.example.com/mcp',
      routePath: '/mcp',
      dpop: 'required',
      scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } },
      tokenLifetimeSeconds: 300,
    });
    expect(config.resources[1]).toMatchObject({
      name: 'files',
      canonicalUri: 'https://mcp.example.com/files/mcp',
      upstream: 'http://127.0.0.1:9000/mcp',
      trust: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' },
    });
  });

  it('reads JSON, by extension and by content', async () => {
    const json = JSON.stringify({ publicUrl: 'https://mcp.example.com', resources: [demo] });
    expect(parseConfigText(json, { ...noEnv, source: 'warden.json' }).resources[0]!.canonicalUri).toBe('https://mcp.example.com/mcp');
    expect(parseConfigText(json, { ...noEnv, source: 'warden.conf' }).publicUrl).toBe('https://mcp.example.com');
    const dir = await mkdtemp(join(tmpdir(), 'warden-config-'));
    await writeFile(join(dir, 'warden.json'), json);
    expect((await loadConfigFile(join(dir, 'warden.json'), noEnv)).resources).toHaveLength(1);
  });

  it('reports syntax errors with their location', () => {
    expect(issuesOf(() => parseConfigText('{"resources": [}', { ...noEnv, source: 'w.json' }))[0]).toMatch(/^not valid JSON/);
    expect(issuesOf(() => parseConfigText('resources: [', { ...noEnv, source: 'w.yaml' }))[0]).toMatch(/^not valid YAML: .*line 1/);
    expect(issuesOf(() => parseConfigText('a: 1\na: 2\n', { ...noEnv, source: 'w.yaml' }))[0]).toMatch(/^not valid YAML: .*unique/i);
  });

  it('reports a missing file as something to fix, not a crash', async () => {
    await expect(loadConfigFile('/nonexistent/warden.yaml', noEnv)).rejects.toThrow(/file not found: check the --config path/);
  });

  it('rejects a top level that is not a mapping', () => {
    expect(issuesOf(() => parseConfigText('- a\n- b\n', noEnv))).toEqual(['(top level): expected a mapping of keys, got a list']);
  });
});

describe('defaults', () => {
  it('fills every default of an empty configuration', () => {
    const config = resolveConfig({}, noEnv);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(config.publicUrl).toBe('http://localhost:4000');
    expect(config.publicOrigin).toBe('http://localhost:4000');
    expect(config.issuer).toBe('http://localhost:4000');
    expect(config.storage).toEqual({ kind: 'sqlite', path: '.warden/warden.db' });
    expect(config.replay).toEqual({ kind: 'memory' });
    expect(config.nonce).toBeUndefined();
    expect(config.authorizationServer).toEqual({
      enabled: true,
      lifetimes: { accessTokenSeconds: 600, refreshTokenSeconds: 604_800, codeSeconds: 60, interactionSeconds: 600 },
      refreshGraceSeconds: 10,
      dpop: { requireNonce: false },
      registration: { enabled: true, throttle: { free: 20, baseDelaySeconds: 10, maxDelaySeconds: 3600, forgetAfterSeconds: 86_400 }, expireUnusedAfterSeconds: 86_400, clientCredentials: false },
      deviceGrant: { enabled: true, codeSeconds: 600, intervalSeconds: 5, userCodeThrottle: { free: 5, baseDelaySeconds: 2, maxDelaySeconds: 900, forgetAfterSeconds: 3600 } },
      clientMetadataDocuments: { enabled: true, allowPrivateNetworks: false, failureCacheSeconds: 30, maxConcurrentFetches: 16, fetchesPerHostPerMinute: 20, maxStaleSeconds: 86_400 },
      clients: [],
      identityProviders: [],
      login: {
        title: 'Warden',
        localUsers: true,
        maxConcurrentPasswordChecks: 8,
        throttle: {
          perSource: { free: 5, baseDelaySeconds: 1, maxDelaySeconds: 900, forgetAfterSeconds: 3600 },
          perAccount: { free: 20, baseDelaySeconds: 1, maxDelaySeconds: 60, forgetAfterSeconds: 3600 },
          perSourceAllAccounts: { free: 30, baseDelaySeconds: 1, maxDelaySeconds: 10, forgetAfterSeconds: 3600 },
          perDevice: { free: 5, baseDelaySeconds: 1, maxDelaySeconds: 60, forgetAfterSeconds: 3600 },
        },
        deviceCookie: { lifetimeSeconds: 7_776_000, maxFailures: 10 },
      },
      trustedProxyHops: 0,
      demo: false,
    });
    expect(config.authorizationServer.secret).toBeUndefined();
    expect(config.resources).toEqual([]);
    expect(config.metrics).toEqual({ enabled: true, path: '/metrics' });
    expect(config.clockSkewSeconds).toBe(30);
    expect(config.defaulted).toEqual({ publicUrl: true, issuer: true });
  });

  it('takes a clock skew from 0 to 300 seconds', () => {
    expect(resolveConfig({ clockSkewSeconds: 0 }, noEnv).clockSkewSeconds).toBe(0);
    expect(issuesOf(() => resolveConfig({ clockSkewSeconds: 301 }, noEnv))[0]).toMatch(/^clockSkewSeconds: /);
    expect(issuesOf(() => resolveConfig({ clockSkewSeconds: 1.5 }, noEnv))[0]).toMatch(/^clockSkewSeconds: /);
  });

  it('derives publicUrl from listen.port, and issuer from publicUrl', () => {
    const config = resolveConfig({ listen: { port: 5000 } }, noEnv);
    expect(config.publicUrl).toBe('http://localhost:5000');
    expect(config.issuer).toBe('http://localhost:5000');
    expect(resolveConfig({ publicUrl: 'https://x.example/' }, noEnv).issuer).toBe('https://x.example');
  });

  it('defaults a resource: dpop allowed, lifetime 600 s, scopes and trust left to the upstream and our issuer', () => {
    const [resource] = resolveConfig({ resources: [demo] }, noEnv).resources;
    expect(resource).toEqual({
      name: 'demo',
      path: '/mcp',
      routePath: '/mcp',
      canonicalUri: 'http://localhost:4000/mcp',
      upstream: 'builtin:demo',
      dpop: CONFIG_DEFAULTS.dpop,
      tokenLifetimeSeconds: 600,
      introspectionClients: [],
      forwardHeaders: [],
    });
    expect(resource!.dpop).toBe('allowed');
  });

  it('enables the authorization server by default only when a resource relies on this stack as its issuer', () => {
    const foreign = { name: 'files', path: '/mcp', upstream: 'http://127.0.0.1:9000/mcp', trust: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' } };
    expect(resolveConfig({ resources: [foreign] }, noEnv).authorizationServer.enabled).toBe(false);
    expect(resolveConfig({ resources: [foreign, { name: 'own', path: '/own', upstream: 'builtin:demo' }] }, noEnv).authorizationServer.enabled).toBe(true);
    expect(resolveConfig({ resources: [foreign], authorizationServer: { enabled: true } }, noEnv).authorizationServer.enabled).toBe(true);
    expect(resolveConfig({}, noEnv).authorizationServer.enabled).toBe(true);
  });

  it('completes a partial scope policy', () => {
    const [resource] = resolveConfig({ resources: [{ ...demo, scopes: { tools: { x: ['a'] } } }] }, noEnv).resources;
    expect(resource!.scopes).toEqual({ default: [], tools: { x: ['a'] } });
  });

  it('defaults the sqlite path, and nonce.required to true', () => {
    const config = resolveConfig({ storage: { kind: 'sqlite' }, nonce: { secret: 'x'.repeat(32) } }, noEnv);
    expect(config.storage).toEqual({ kind: 'sqlite', path: '.warden/warden.db' });
    expect(config.nonce).toEqual({ secret: 'x'.repeat(32), required: true });
  });

  it('keeps memory storage and a replay capacity as given', () => {
    const config = resolveConfig({ storage: { kind: 'memory' }, replay: { kind: 'memory', capacity: 10 } }, noEnv);
    expect(config.storage).toEqual({ kind: 'memory' });
    expect(config.replay).toEqual({ kind: 'memory', capacity: 10 });
  });

  it('joins a publicUrl path prefix and the resource path (MCP canonical URI)', () => {
    const config = resolveConfig({ publicUrl: 'HTTPS://MCP.Example.com:443/warden/', resources: [demo] }, noEnv);
    expect(config.publicUrl).toBe('https://mcp.example.com/warden');
    expect(config.publicOrigin).toBe('https://mcp.example.com');
    expect(config.resources[0]!.canonicalUri).toBe('https://mcp.example.com/warden/mcp');
    expect(config.resources[0]!.routePath).toBe('/warden/mcp');
  });

  it('makes derived URLs follow the real port, and keeps given ones', () => {
    const derived = withListenPort(resolveConfig({ listen: { port: 0 }, resources: [demo] }, noEnv), 43210);
    expect(derived.publicUrl).toBe('http://localhost:43210');
    expect(derived.issuer).toBe('http://localhost:43210');
    expect(derived.resources[0]!.canonicalUri).toBe('http://localhost:43210/mcp');
    const given = withListenPort(resolveConfig({ publicUrl: 'https://a.example', resources: [demo] }, noEnv), 43210);
    expect(given.publicUrl).toBe('https://a.example');
    expect(given.listen.port).toBe(43210);
    expect(Object.isFrozen(derived.resources[0])).toBe(true);
  });

  it('turns trust variants into resource-server trust options', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };
    const trust = (t: object) => resolveConfig({ resources: [{ ...demo, trust: t }] }, noEnv).resources[0]!.trust;
    expect(trust({ issuer: 'https://i.example', jwks: { keys: [jwk] } })).toEqual({ issuer: 'https://i.example', jwks: { keys: [jwk] } });
    const introspection = { endpoint: 'https://i.example/introspect', clientId: 'rs', clientSecret: 's' };
    expect(trust({ issuer: 'https://i.example', introspection })).toEqual({ issuer: 'https://i.example', introspection });
    expect(trust({ issuer: 'https://i.example', jwksUri: 'http://127.0.0.1:9/jwks', algorithms: ['ES256'] })).toEqual({
      issuer: 'https://i.example',
      jwksUri: 'http://127.0.0.1:9/jwks',
      algorithms: ['ES256'],
    });
  });

  it('deep-freezes the result', () => {
    const config = resolveConfig({ resources: [{ ...demo, scopes: { default: ['a'] } }] }, noEnv);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.listen)).toBe(true);
    expect(Object.isFrozen(config.resources)).toBe(true);
    expect(Object.isFrozen(config.resources[0]!.scopes!.default)).toBe(true);
    expect(() => {
      (config.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('resolves the built-in configuration of `warden start`', () => {
    const config = resolveConfig(builtinConfig('/tmp/state'), noEnv);
    expect(config.storage).toEqual({ kind: 'sqlite', path: '/tmp/state/warden.db' });
    expect(config.resources.map((r) => [r.name, r.path, r.upstream, r.dpop])).toEqual([['demo', '/mcp', 'builtin:demo', 'allowed']]);
    expect(config.authorizationServer).toMatchObject({ enabled: true, demo: true });
  });
});

describe('validation messages name the key and what to change', () => {
  it('rejects unknown keys, suggesting the closest', () => {
    expect(issuesOf(() => resolveConfig({ publicURL: 'http://x' }, noEnv))[0]).toMatch(/^publicURL: unknown key \(did you mean "publicUrl"\? allowed keys: publicUrl, allowedOrigins, listen, /);
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, dpopp: 'required' }] }, noEnv))).toEqual([
      'resources[0].dpopp: unknown key (did you mean "dpop"? allowed keys: name, path, upstream, dpop, scopes, policy, rateLimit, trust, tokenLifetimeSeconds, introspectionClients, forwardHeaders, upstreamAuth, url)',
    ]);
    expect(issuesOf(() => resolveConfig({ replay: { kind: 'memory', size: 1 } }, noEnv))[0]).toMatch(/^replay\.size: unknown key/);
  });

  it('scopes.descriptions: only scopes the resource knows, 1..200 characters, no control characters', () => {
    const scopes = { default: ['files:read'], tools: { write: ['files:write'] } };
    const [resource] = resolveConfig({ resources: [{ ...demo, scopes: { ...scopes, descriptions: { 'files:read': 'Read your files', 'files:write': 'Change your files' } } }] }, noEnv).resources;
    expect(resource!.scopes!.descriptions).toEqual({ 'files:read': 'Read your files', 'files:write': 'Change your files' });
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, scopes: { ...scopes, descriptions: { 'files:delete': 'Delete' } } }] }, noEnv))).toEqual([
      'resources[0].scopes.descriptions.files:delete: describes a scope this resource does not know (known: files:read, files:write); list it in scopes.default or scopes.tools',
    ]);
    const bad = issuesOf(() => resolveConfig({ resources: [{ ...demo, scopes: { ...scopes, descriptions: { 'files:read': '', 'files:write': 'two\nlines' } } }] }, noEnv));
    expect(bad).toHaveLength(2);
    expect(bad[0]).toMatch(/^resources\[0\]\.scopes\.descriptions\.files:read: .*empty/);
    expect(bad[1]).toMatch(/^resources\[0\]\.scopes\.descriptions\.files:write: .*control characters/);
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, scopes: { ...scopes, descriptions: { 'files:read': 'x'.repeat(201) } } }] }, noEnv))[0]).toMatch(/files:read: .*at most 200/);
  });

  it('rejects a bad enum value, quoting it', () => {
    expect(issuesOf(() => parseConfigText('resources:\n  - { name: demo, path: /mcp, upstream: "builtin:demo", dpop: yes }\n', noEnv))).toEqual([
      'resources[0].dpop: expected one of disabled|allowed|required, got "yes"',
    ]);
    expect(issuesOf(() => resolveConfig({ storage: { kind: 'mysql' } }, noEnv))).toEqual(['storage.kind: expected one of sqlite|postgres|memory, got "mysql"']);
    expect(issuesOf(() => resolveConfig({ replay: {} }, noEnv))).toEqual(['replay.kind: required, one of memory|redis|redis-cluster']);
  });

  it('rejects duplicate resource names and paths, and nested paths', () => {
    expect(issuesOf(() => resolveConfig({ resources: [demo, { ...demo, path: '/other' }] }, noEnv))).toEqual([
      'resources[1].name: duplicate name "demo" (also resources[0].name)',
    ]);
    expect(issuesOf(() => resolveConfig({ resources: [demo, { ...demo, name: 'other' }] }, noEnv))).toEqual([
      'resources[1].path: duplicate path "/mcp" (also resources[0].path)',
    ]);
    expect(issuesOf(() => resolveConfig({ resources: [demo, { ...demo, name: 'sub', path: '/mcp/sub' }] }, noEnv))[0]).toMatch(
      /^resources\[1\]\.path: "\/mcp\/sub" overlaps resources\[0\]\.path "\/mcp"/,
    );
  });

  it('rejects bad URLs', () => {
    expect(issuesOf(() => resolveConfig({ publicUrl: 'localhost:4000' }, noEnv))[0]).toMatch(/^publicUrl: expected a URL with scheme http or https/);
    expect(issuesOf(() => resolveConfig({ publicUrl: 'not a url' }, noEnv))).toEqual(['publicUrl: expected an absolute URL, got "not a url"']);
    expect(issuesOf(() => resolveConfig({ publicUrl: 'https://x.example/?a=1' }, noEnv))[0]).toMatch(/^publicUrl: remove the query/);
    expect(issuesOf(() => resolveConfig({ issuer: 'https://x.example/#f' }, noEnv))[0]).toMatch(/^issuer: remove the fragment/);
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, upstream: 'ftp://x' }] }, noEnv))[0]).toMatch(
      /^resources\[0\]\.upstream: expected builtin:demo or an http\(s\) URL/,
    );
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, upstream: 'builtin:nope' }] }, noEnv))[0]).toMatch(/unknown built-in upstream "builtin:nope"/);
    const trust = { issuer: 'https://idp.example', jwksUri: 'http://idp.example/jwks' };
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, trust }] }, noEnv))[0]).toMatch(/^resources\[0\]\.trust\.jwksUri: use https/);
  });

  it('never quotes a database URL, which may hold a password', () => {
    const [issue] = issuesOf(() => resolveConfig({ replay: { kind: 'redis', url: 'http://user:hunter2@cache' } }, noEnv));
    expect(issue).toBe('replay.url: expected a URL with scheme redis or rediss');
    const [pg] = issuesOf(() => resolveConfig({ storage: { kind: 'postgres', url: 42 } }, noEnv));
    expect(pg).toBe('storage.url: expected string, got number');
  });

  it('storage.schema names the PostgreSQL schema, validated as an identifier', () => {
    const config = resolveConfig({ storage: { kind: 'postgres', url: 'postgres://db/warden', schema: 'tenant_a' } }, noEnv);
    expect(config.storage).toEqual({ kind: 'postgres', url: 'postgres://db/warden', schema: 'tenant_a' });
    const [issue] = issuesOf(() => resolveConfig({ storage: { kind: 'postgres', url: 'postgres://db/warden', schema: 'Bad-Name' } }, noEnv));
    expect(issue).toMatch(/^storage\.schema: must be 1-63 lower-case letters/);
  });

  it('rejects bad resource paths and names', () => {
    const path = (p: string) => issuesOf(() => resolveConfig({ resources: [{ ...demo, path: p }] }, noEnv))[0];
    expect(path('mcp')).toMatch(/^resources\[0\]\.path: must start with "\/"/);
    expect(path('/mcp?x=1')).toMatch(/without "\?" or "#"/);
    expect(path('/mcp/')).toMatch(/remove the trailing "\/" \(use "\/mcp"\)/);
    expect(path('/a/../b')).toMatch(/"\.\."/);
    expect(path('/.well-known/x')).toMatch(/reserved/);
    expect(path('/')).toMatch(/its own path/);
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, name: 'My Demo' }] }, noEnv))[0]).toMatch(/^resources\[0\]\.name: expected a slug/);
  });

  it('rejects trust without exactly one key source, and private keys', () => {
    const trust = (t: object) => issuesOf(() => resolveConfig({ resources: [{ ...demo, trust: t }] }, noEnv))[0];
    expect(trust({ issuer: 'https://i.example' })).toMatch(/set one of jwksUri, jwks or introspection/);
    expect(trust({ issuer: 'https://i.example', jwksUri: 'https://i.example/j', jwks: { keys: [{ kty: 'EC' }] } })).toMatch(/set only one of/);
    expect(trust({ issuer: 'https://i.example', jwks: { keys: [{ kty: 'EC', d: 'secret' }] } })).toBe(
      'resources[0].trust.jwks.keys[0].d: private key material: give only the public key here',
    );
  });

  it('rejects a short nonce secret without echoing it', () => {
    const [issue] = issuesOf(() => resolveConfig({ nonce: { secret: 'tooshort' } }, noEnv));
    expect(issue).toMatch(/^nonce\.secret: must be at least 32 characters/);
    expect(issue).not.toContain('tooshort');
  });

  it('rejects a bad port and wrong types', () => {
    expect(issuesOf(() => resolveConfig({ listen: { port: 70000 } }, noEnv))).toEqual(['listen.port: must be at most 65535']);
    expect(issuesOf(() => resolveConfig({ listen: { port: '4000' } }, noEnv))).toEqual(['listen.port: expected number, got "4000"']);
    expect(issuesOf(() => resolveConfig({ resources: [{ name: 'demo' }] }, noEnv))).toEqual([
      'resources[0].path: required',
      'resources[0].upstream: required',
    ]);
  });

  it('lists every problem at once', () => {
    const issues = issuesOf(() => resolveConfig({ listen: { port: -1 }, storage: { kind: 'x' }, resources: [{ ...demo, dpop: 'on' }] }, noEnv));
    expect(issues).toHaveLength(3);
  });
});

describe('environment overrides', () => {
  it('WARDEN_PUBLIC_URL, WARDEN_ISSUER, WARDEN_PORT, WARDEN_HOST win over the file', () => {
    const config = resolveConfig(
      { publicUrl: 'http://file.example', issuer: 'http://file.example', listen: { host: '127.0.0.1', port: 1 }, resources: [demo] },
      { env: { WARDEN_PUBLIC_URL: 'https://env.example', WARDEN_ISSUER: 'https://auth.env.example', WARDEN_PORT: '8443', WARDEN_HOST: '0.0.0.0' } },
    );
    expect(config.publicUrl).toBe('https://env.example');
    expect(config.issuer).toBe('https://auth.env.example');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(config.resources[0]!.canonicalUri).toBe('https://env.example/mcp');
  });

  it('--port wins over WARDEN_PORT, and derived URLs follow', () => {
    const config = resolveConfig({}, { env: { WARDEN_PORT: '8443' }, port: 9000 });
    expect(config.listen.port).toBe(9000);
    expect(config.publicUrl).toBe('http://localhost:9000');
  });

  it('WARDEN_REPLAY_REDIS_URL switches replay to Redis', () => {
    const config = resolveConfig({ replay: { kind: 'memory', capacity: 5 } }, { env: { WARDEN_REPLAY_REDIS_URL: 'redis://cache:6379/0' } });
    expect(config.replay).toEqual({ kind: 'redis', url: 'redis://cache:6379/0' });
  });

  it('replay kind redis-cluster lists nodes; WARDEN_REPLAY_REDIS_NODES (comma-separated) switches to it', () => {
    const nodes = ['redis://10.0.0.5:6379', 'rediss://user:pw@10.0.0.6:6380'];
    expect(resolveConfig({ replay: { kind: 'redis-cluster', nodes } }, noEnv).replay).toEqual({ kind: 'redis-cluster', nodes });
    expect(resolveConfig({ replay: { kind: 'redis-cluster', nodes, replicaAcks: 0 } }, noEnv).replay).toEqual({ kind: 'redis-cluster', nodes, replicaAcks: 0 });
    const env = { WARDEN_REPLAY_REDIS_NODES: ' redis://a:7000, redis://b:7001 ,' };
    expect(resolveConfig({ replay: { kind: 'memory' } }, { env }).replay).toEqual({ kind: 'redis-cluster', nodes: ['redis://a:7000', 'redis://b:7001'] });
    expect(issuesOf(() => resolveConfig({}, { env: { ...env, WARDEN_REPLAY_REDIS_URL: 'redis://c:6379' } }))[0]).toMatch(/both set/);
  });

  it('replay.nodes: at least one, each a redis URL, never quoted', () => {
    expect(issuesOf(() => resolveConfig({ replay: { kind: 'redis-cluster', nodes: [] } }, noEnv))[0]).toMatch(/^replay\.nodes: list at least one node/);
    expect(issuesOf(() => resolveConfig({ replay: { kind: 'redis-cluster' } }, noEnv))).toEqual(['replay.nodes: required']);
    const [issue] = issuesOf(() => resolveConfig({ replay: { kind: 'redis-cluster', nodes: ['http://u:hunter2@x:1'] } }, noEnv));
    expect(issue).toBe('replay.nodes[0]: expected a URL with scheme redis or rediss');
    expect(issuesOf(() => resolveConfig({ replay: { kind: 'redis-cluster', nodes: ['redis://x:1'], url: 'redis://x:1' } }, noEnv))[0]).toMatch(/^replay\.url: unknown key/);
    expect(issuesOf(() => resolveConfig({}, { env: { WARDEN_REPLAY_REDIS_NODES: 'cache:7000' } }))[0]).toMatch(/^replay\.nodes\[0\]: .*\(set by WARDEN_REPLAY_REDIS_NODES\)$/);
  });

  it('WARDEN_POSTGRES_URL switches storage to PostgreSQL, keeping storage.schema; never quoted in messages', () => {
    const env = { WARDEN_POSTGRES_URL: 'postgres://warden:pw@db:5432/warden' };
    expect(resolveConfig({}, { env }).storage).toEqual({ kind: 'postgres', url: 'postgres://warden:pw@db:5432/warden' });
    expect(resolveConfig({ storage: { kind: 'postgres', url: 'postgres://old/x', schema: 'tenant_a' } }, { env }).storage).toEqual({
      kind: 'postgres',
      url: 'postgres://warden:pw@db:5432/warden',
      schema: 'tenant_a',
    });
    expect(resolveConfig({ storage: { kind: 'sqlite', path: 'x.db' } }, { env }).storage).toEqual({ kind: 'postgres', url: 'postgres://warden:pw@db:5432/warden' });
    const [issue] = issuesOf(() => resolveConfig({}, { env: { WARDEN_POSTGRES_URL: 'mysql://u:hunter2@db' } }));
    expect(issue).toBe('storage.url: expected a URL with scheme postgres or postgresql (set by WARDEN_POSTGRES_URL)');
  });

  it('WARDEN_NONCE_SECRET sets the nonce secret, keeping nonce.required', () => {
    const secret = 's'.repeat(40);
    expect(resolveConfig({}, { env: { WARDEN_NONCE_SECRET: secret } }).nonce).toEqual({ secret, required: true });
    expect(resolveConfig({ nonce: { secret: 'f'.repeat(32), required: false } }, { env: { WARDEN_NONCE_SECRET: secret } }).nonce).toEqual({
      secret,
      required: false,
    });
  });

  it('ignores empty variables', () => {
    expect(resolveConfig({}, { env: { WARDEN_PUBLIC_URL: '', WARDEN_PORT: '' } }).publicUrl).toBe('http://localhost:4000');
  });

  it('names the variable when its value is wrong', () => {
    expect(issuesOf(() => resolveConfig({}, { env: { WARDEN_PORT: 'eighty' } }))).toEqual(['WARDEN_PORT: expected a port number 0-65535, got "eighty"']);
    expect(issuesOf(() => resolveConfig({}, { env: { WARDEN_PUBLIC_URL: 'ftp://x' } }))).toEqual([
      'publicUrl: expected a URL with scheme http or https, got "ftp://x" (set by WARDEN_PUBLIC_URL)',
    ]);
    const [nonce] = issuesOf(() => resolveConfig({}, { env: { WARDEN_NONCE_SECRET: 'short' } }));
    expect(nonce).toMatch(/^nonce\.secret: must be at least 32 characters.*\(set by WARDEN_NONCE_SECRET\)$/);
  });

  it('reads process.env by default', () => {
    const before = process.env['WARDEN_HOST'];
    process.env['WARDEN_HOST'] = '::1';
    try {
      expect(resolveConfig({}).listen.host).toBe('::1');
    } finally {
      if (before === undefined) delete process.env['WARDEN_HOST'];
      else process.env['WARDEN_HOST'] = before;
    }
  });
});

const AS_YAML = `
authorizationServer:
  enabled: true
  secret: "0123456789abcdef0123456789abcdef-secret"
  lifetimes: { accessTokenSeconds: 300, refreshTokenSeconds: 86400, codeSeconds: 30, interactionSeconds: 900 }
  refreshGraceSeconds: 5
  dpop: { requireNonce: true }
  registration: { enabled: false, throttle: { free: 5 }, expireUnusedAfterSeconds: 3600, clientCredentials: true }
  clientMetadataDocuments: { enabled: true, allowPrivateNetworks: true, failureCacheSeconds: 60, maxConcurrentFetches: 4, fetchesPerHostPerMinute: 10, maxStaleSeconds: 3600 }
  login:
    title: Example Corp
    maxConcurrentPasswordChecks: 4
    throttle: { perSource: { free: 3, maxDelaySeconds: 600 }, perAccount: { baseDelaySeconds: 2 }, perSourceAllAccounts: { free: 50 }, perDevice: { maxDelaySeconds: 30 } }
    deviceCookie: { lifetimeSeconds: 2592000, maxFailures: 5 }
  trustedProxyHops: 1
  demo: true
  clients:
    - clientId: billing
      clientSecret: "billing-secret-billing-secret-billing-secret"
      grantTypes: [client_credentials]
      scope: "mcp:tools mcp:admin"
    - clientId: desktop
      clientName: Desktop App
      redirectUris: ["http://127.0.0.1/callback", "https://app.example/cb", "com.example.app:/oauth"]
resources:
  - { name: demo, path: /mcp, upstream: "builtin:demo" }
  - { name: files, path: /files, upstream: "http://127.0.0.1:9000/mcp", tokenLifetimeSeconds: 120 }
`;

describe('authorizationServer', () => {
  it('reads every key, keeping client fields as given', () => {
    const config = parseConfigText(AS_YAML, { ...noEnv, source: 'warden.yaml' });
    expect(config.authorizationServer).toEqual({
      enabled: true,
      secret: '0123456789abcdef0123456789abcdef-secret',
      lifetimes: { accessTokenSeconds: 300, refreshTokenSeconds: 86_400, codeSeconds: 30, interactionSeconds: 900 },
      refreshGraceSeconds: 5,
      dpop: { requireNonce: true },
      registration: { enabled: false, throttle: { free: 5, baseDelaySeconds: 10, maxDelaySeconds: 3600, forgetAfterSeconds: 86_400 }, expireUnusedAfterSeconds: 3600, clientCredentials: true },
      deviceGrant: { enabled: true, codeSeconds: 600, intervalSeconds: 5, userCodeThrottle: { free: 5, baseDelaySeconds: 2, maxDelaySeconds: 900, forgetAfterSeconds: 3600 } },
      clientMetadataDocuments: { enabled: true, allowPrivateNetworks: true, failureCacheSeconds: 60, maxConcurrentFetches: 4, fetchesPerHostPerMinute: 10, maxStaleSeconds: 3600 },
      identityProviders: [],
      login: {
        title: 'Example Corp',
        localUsers: true,
        maxConcurrentPasswordChecks: 4,
        throttle: {
          perSource: { free: 3, baseDelaySeconds: 1, maxDelaySeconds: 600, forgetAfterSeconds: 3600 },
          perAccount: { free: 20, baseDelaySeconds: 2, maxDelaySeconds: 60, forgetAfterSeconds: 3600 },
          perSourceAllAccounts: { free: 50, baseDelaySeconds: 1, maxDelaySeconds: 10, forgetAfterSeconds: 3600 },
          perDevice: { free: 5, baseDelaySeconds: 1, maxDelaySeconds: 30, forgetAfterSeconds: 3600 },
        },
        deviceCookie: { lifetimeSeconds: 2_592_000, maxFailures: 5 },
      },
      trustedProxyHops: 1,
      demo: true,
      clients: [
        { clientId: 'billing', clientSecret: 'billing-secret-billing-secret-billing-secret', grantTypes: ['client_credentials'], scope: 'mcp:tools mcp:admin' },
        { clientId: 'desktop', clientName: 'Desktop App', redirectUris: ['http://127.0.0.1/callback', 'https://app.example/cb', 'com.example.app:/oauth'] },
      ],
    });
  });

  it('makes lifetimes.accessTokenSeconds the default token lifetime of every resource', () => {
    const config = parseConfigText(AS_YAML, noEnv);
    expect(config.resources.map((r) => r.tokenLifetimeSeconds)).toEqual([300, 120]);
  });

  it('WARDEN_SECRET sets authorizationServer.secret; a short one is refused without being echoed', () => {
    const secret = 'e'.repeat(48);
    expect(resolveConfig({}, { env: { WARDEN_SECRET: secret } }).authorizationServer.secret).toBe(secret);
    expect(resolveConfig({ authorizationServer: { secret: 'f'.repeat(32) } }, { env: { WARDEN_SECRET: secret } }).authorizationServer.secret).toBe(secret);
    const [issue] = issuesOf(() => resolveConfig({}, { env: { WARDEN_SECRET: 'tooshort-secret' } }));
    expect(issue).toMatch(/^authorizationServer\.secret: must be at least 32 characters.*\(set by WARDEN_SECRET\)$/);
    expect(issue).not.toContain('tooshort');
    const [inFile] = issuesOf(() => resolveConfig({ authorizationServer: { secret: 12345 } }, noEnv));
    expect(inFile).toBe('authorizationServer.secret: expected string, got number');
  });

  it('rejects unknown keys and out-of-range lifetimes', () => {
    expect(issuesOf(() => resolveConfig({ authorizationServer: { enable: true } }, noEnv))[0]).toMatch(
      /^authorizationServer\.enable: unknown key \(did you mean "enabled"\? allowed keys: enabled, secret, lifetimes,/,
    );
    expect(issuesOf(() => resolveConfig({ authorizationServer: { lifetimes: { codeSeconds: 3600 } } }, noEnv))).toEqual([
      'authorizationServer.lifetimes.codeSeconds: must be at most 600',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { lifetimes: { accessTokenSeconds: 0 } } }, noEnv))).toEqual([
      'authorizationServer.lifetimes.accessTokenSeconds: must be at least 1',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { refreshGraceSeconds: 1.5 } }, noEnv))).toEqual([
      'authorizationServer.refreshGraceSeconds: expected an integer, got 1.5',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { lifetimes: { accessTokenSeconds: 3600, refreshTokenSeconds: 600 } } }, noEnv))[0]).toMatch(
      /^authorizationServer\.lifetimes\.refreshTokenSeconds: must be at least accessTokenSeconds/,
    );
    expect(issuesOf(() => resolveConfig({ authorizationServer: { dpop: { requireNonce: 'yes' } } }, noEnv))).toEqual([
      'authorizationServer.dpop.requireNonce: expected boolean, got "yes"',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { title: '' } } }, noEnv))).toEqual(['authorizationServer.login.title: must not be empty']);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { demo: 'true' } }, noEnv))).toEqual(['authorizationServer.demo: expected boolean, got "true"']);
  });

  it('rejects sign-in throttles that would lock out or forget too soon, and bad proxy hops, naming the key', () => {
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { throttle: { perSource: { maxDelaySeconds: 7200 } } } } }, noEnv))).toEqual([
      'authorizationServer.login.throttle.perSource.forgetAfterSeconds: must be at least maxDelaySeconds (7200), or waiting out the delay would forget the failures',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { throttle: { perAccount: { baseDelaySeconds: 120 } } } } }, noEnv))).toEqual([
      'authorizationServer.login.throttle.perAccount.maxDelaySeconds: must be at least baseDelaySeconds (120)',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { throttle: { perAccount: { maxDelaySeconds: 100_000 } } } } }, noEnv))[0]).toBe(
      'authorizationServer.login.throttle.perAccount.maxDelaySeconds: must be at most 86400',
    );
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { maxConcurrentPasswordChecks: 0 } } }, noEnv))).toEqual([
      'authorizationServer.login.maxConcurrentPasswordChecks: must be at least 1',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { trustedProxyHops: 11 } }, noEnv))).toEqual(['authorizationServer.trustedProxyHops: must be at most 10']);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { throttle: { perSourceAllAccounts: { baseDelaySeconds: 30 } } } } }, noEnv))).toEqual([
      'authorizationServer.login.throttle.perSourceAllAccounts.maxDelaySeconds: must be at least baseDelaySeconds (30)',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { throttle: { perDevice: { free: -1 } } } } }, noEnv))).toEqual([
      'authorizationServer.login.throttle.perDevice.free: must be at least 0',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { deviceCookie: { lifetimeSeconds: 500 * 86_400 } } } }, noEnv))).toEqual([
      'authorizationServer.login.deviceCookie.lifetimeSeconds: must be at most 34560000',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { login: { deviceCookie: { maxFailures: 0 } } } }, noEnv))).toEqual([
      'authorizationServer.login.deviceCookie.maxFailures: must be at least 1',
    ]);
  });

  it('rejects registration and metadata-document limits out of range, naming the key', () => {
    expect(issuesOf(() => resolveConfig({ authorizationServer: { registration: { expireUnusedAfterSeconds: 10 } } }, noEnv))).toEqual([
      'authorizationServer.registration.expireUnusedAfterSeconds: must be at least 60',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { registration: { throttle: { maxDelaySeconds: 5 } } } }, noEnv))).toEqual([
      'authorizationServer.registration.throttle.maxDelaySeconds: must be at least baseDelaySeconds (10)',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { clientMetadataDocuments: { maxConcurrentFetches: 0 } } }, noEnv))).toEqual([
      'authorizationServer.clientMetadataDocuments.maxConcurrentFetches: must be at least 1',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { clientMetadataDocuments: { failureCacheSeconds: 7200 } } }, noEnv))).toEqual([
      'authorizationServer.clientMetadataDocuments.failureCacheSeconds: must be at most 3600',
    ]);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { clientMetadataDocuments: { maxStaleSeconds: -1 } } }, noEnv))).toEqual([
      'authorizationServer.clientMetadataDocuments.maxStaleSeconds: must be at least 0',
    ]);
  });

  const client = (c: object) => issuesOf(() => resolveConfig({ authorizationServer: { clients: [c] } }, noEnv));
  const secret = 's'.repeat(32);

  it('rejects clients whose authentication and grants do not fit together', () => {
    expect(client({ clientId: 'a', clientSecret: secret, tokenEndpointAuthMethod: 'none', redirectUris: ['https://a.example/cb'] })[0]).toMatch(
      /^authorizationServer\.clients\[0\]\.clientSecret: a public client \(tokenEndpointAuthMethod: none\) has no secret/,
    );
    expect(client({ clientId: 'a', tokenEndpointAuthMethod: 'client_secret_post', grantTypes: ['client_credentials'] })).toEqual([
      'authorizationServer.clients[0].clientSecret: required for tokenEndpointAuthMethod client_secret_post',
    ]);
    expect(client({ clientId: 'a', grantTypes: ['client_credentials'] })[0]).toMatch(
      /^authorizationServer\.clients\[0\]\.grantTypes: a public client may use only authorization_code, refresh_token, the device grant and jwt-bearer/,
    );
    expect(client({ clientId: 'a' })).toEqual(['authorizationServer.clients[0].redirectUris: list at least one redirect URI for the authorization_code grant']);
    expect(client({ clientId: 'a', clientSecret: secret, grantTypes: ['refresh_token'] })[0]).toMatch(/grantTypes: refresh_token needs authorization_code/);
    expect(client({ clientId: 'a', clientSecret: secret, grantTypes: ['implicit'] })[0]).toMatch(
      /^authorizationServer\.clients\[0\]\.grantTypes\[0\]: expected one of authorization_code\|refresh_token\|client_credentials\|/,
    );
  });

  it('rejects bad client ids, short secrets (unquoted), bad redirect URIs and scopes', () => {
    expect(client({ clientId: 'https://app.example/client.json', clientSecret: secret })[0]).toMatch(/clientId: must not be a URL/);
    expect(client({ clientId: 'has space', clientSecret: secret })[0]).toMatch(/clientId: expected 1-255 visible ASCII characters/);
    const [short] = client({ clientId: 'a', clientSecret: 'hunter2-hunter2' });
    expect(short).toMatch(/^authorizationServer\.clients\[0\]\.clientSecret: must be at least 32 characters/);
    expect(short).not.toContain('hunter2');
    expect(client({ clientId: 'a', redirectUris: ['http://app.example/cb'] })[0]).toMatch(
      /^authorizationServer\.clients\[0\]\.redirectUris\[0\]: redirect URI must use https \(http is allowed only for 127\.0\.0\.1/,
    );
    expect(client({ clientId: 'a', redirectUris: ['https://app.example/cb#x'] })[0]).toMatch(/redirectUris\[0\]: redirect URI must not contain a fragment/);
    expect(client({ clientId: 'a', redirectUris: ['javascript:alert(1)'] })[0]).toMatch(/must not use the javascript: scheme/);
    expect(client({ clientId: 'a', clientSecret: secret, scope: 'mcp:tools,mcp:admin x"y' })[0]).toMatch(/scope: expected scope tokens separated by single spaces/);
    // OAuth's snake_case spelling is the likely slip.
    expect(client({ clientId: 'a', client_secret: secret })[0]).toMatch(/^authorizationServer\.clients\[0\]\.client_secret: unknown key \(did you mean "clientSecret"\?/);
  });

  it('RFC 7523 §2.2: a private_key_jwt client gives jwks or jwksUri (one of them), no secret, and defaults to client_credentials', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
    const config = resolveConfig({ authorizationServer: { clients: [{ clientId: 'ci', jwks: { keys: [jwk] } }, { clientId: 'ci2', jwksUri: 'https://ci.example/jwks' }] }, resources: [demo] }, noEnv);
    expect(config.authorizationServer.clients[0]).toMatchObject({ clientId: 'ci', jwks: { keys: [jwk] } });
    expect(config.authorizationServer.clients[1]).toMatchObject({ clientId: 'ci2', jwksUri: 'https://ci.example/jwks' });
    const issues = (c: Record<string, unknown>) => issuesOf(() => resolveConfig({ authorizationServer: { clients: [c] }, resources: [demo] }, noEnv));
    expect(issues({ clientId: 'a', tokenEndpointAuthMethod: 'private_key_jwt' })).toEqual(["authorizationServer.clients[0].jwks: private_key_jwt needs the client's public keys: set jwks or jwksUri"]);
    expect(issues({ clientId: 'a', jwks: { keys: [jwk] }, jwksUri: 'https://a.example/jwks' })).toEqual(['authorizationServer.clients[0].jwksUri: set only one of jwks and jwksUri']);
    expect(issues({ clientId: 'a', jwks: { keys: [jwk] }, clientSecret: secret })).toEqual(['authorizationServer.clients[0].clientSecret: a private_key_jwt client has no secret: remove clientSecret']);
    expect(issues({ clientId: 'a', jwks: { keys: [{ ...jwk, d: 'x' }] } })[0]).toMatch(/private key material/);
    expect(issues({ clientId: 'a', clientSecret: secret, tokenEndpointAuthMethod: 'client_secret_basic', jwksUri: 'https://a.example/jwks' })).toEqual(['authorizationServer.clients[0].jwksUri: keys are for tokenEndpointAuthMethod private_key_jwt, not client_secret_basic']);
  });

  it('RFC 7523 §2.1: authorizationServer.jwtBearer trusts enterprise IdPs (SEP-990) and workload domains (SEP-1933) whose rules name jwt-bearer clients', () => {
    const grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
    const jwtBearer = {
      enterpriseIdps: [{ id: 'acme', issuer: 'https://idp.acme.example', jwksUri: 'https://idp.acme.example/jwks' }],
      workloads: [{ id: 'k8s', issuer: 'https://kubernetes.default.svc', jwksUri: 'https://k8s.example/openid/v1/jwks', rules: [{ subject: 'system:serviceaccount:ci:*', clientId: 'ci' }] }],
    };
    const clients = [{ clientId: 'ci', grantTypes: [grant] }];
    const config = resolveConfig({ authorizationServer: { clients, jwtBearer }, resources: [demo] }, noEnv);
    expect(config.authorizationServer.jwtBearer).toEqual(jwtBearer);
    expect(config.authorizationServer.clients[0]!.grantTypes).toEqual([grant]);
    const issues = (as: object) => issuesOf(() => resolveConfig({ authorizationServer: as, resources: [demo] }, noEnv));
    expect(issues({ jwtBearer })).toEqual(['authorizationServer.jwtBearer.workloads[0].rules[0].clientId: "ci" must be in authorizationServer.clients with grantTypes including urn:ietf:params:oauth:grant-type:jwt-bearer']);
    expect(issues({ clients, jwtBearer: { enterpriseIdps: [{ id: 'acme', issuer: 'https://idp.acme.example' }] } })).toEqual(['authorizationServer.jwtBearer.enterpriseIdps[0].jwks: set exactly one of jwks and jwksUri']);
    expect(issues({ clients, jwtBearer: { workloads: [{ ...jwtBearer.workloads[0], rules: [{ subject: '*', clientId: 'ci' }] }] } })).toEqual(['authorizationServer.jwtBearer.workloads[0].rules[0].subject: must be narrower than "*"']);
  });

  it('RFC 9126: authorizationServer.par (required, requestUriSeconds) and clients[].requirePushedAuthorizationRequests', () => {
    const client = { clientId: 'app', redirectUris: ['https://a.example/cb'], requirePushedAuthorizationRequests: true };
    const config = resolveConfig({ authorizationServer: { clients: [client], par: { required: false, requestUriSeconds: 30 } }, resources: [demo] }, noEnv);
    expect(config.authorizationServer.par).toEqual({ required: false, requestUriSeconds: 30 });
    expect(config.authorizationServer.clients[0]!.requirePushedAuthorizationRequests).toBe(true);
    expect(issuesOf(() => resolveConfig({ authorizationServer: { par: { requestUriSeconds: 3600 } }, resources: [demo] }, noEnv))[0]).toMatch(/^authorizationServer\.par\.requestUriSeconds: /);
  });

  it('RFC 7662 §4: resources[].introspectionClients names configured confidential clients, which may have no grant types', () => {
    const rs = { clientId: 'rs-demo', clientSecret: secret, grantTypes: [] };
    const config = resolveConfig({ authorizationServer: { clients: [rs] }, resources: [{ ...demo, introspectionClients: ['rs-demo'] }] }, noEnv);
    expect(config.resources[0]!.introspectionClients).toEqual(['rs-demo']);
    expect(config.authorizationServer.clients[0]!.grantTypes).toEqual([]);
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, introspectionClients: ['nobody'] }] }, noEnv))).toEqual([
      'resources[0].introspectionClients[0]: "nobody" is not in authorizationServer.clients: add it there (with a clientSecret) or remove it here',
    ]);
    const publicClient = { clientId: 'app', redirectUris: ['https://a.example/cb'] };
    expect(issuesOf(() => resolveConfig({ authorizationServer: { clients: [publicClient] }, resources: [{ ...demo, introspectionClients: ['app'] }] }, noEnv))).toEqual([
      'resources[0].introspectionClients[0]: "app" is a public client: a resource server introspects with a clientSecret or private_key_jwt keys (RFC 7662 §2.1)',
    ]);
    const trusted = { ...demo, trust: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' }, introspectionClients: ['rs-demo'] };
    expect(issuesOf(() => resolveConfig({ authorizationServer: { clients: [rs] }, resources: [trusted] }, noEnv))[0]).toMatch(
      /^resources\[0\]\.introspectionClients\[0\]: only for resources whose tokens this stack issues/,
    );
  });

  it('rejects duplicate client ids, and the demo client ids while demo is on', () => {
    const c = { clientId: 'svc', clientSecret: secret };
    expect(issuesOf(() => resolveConfig({ authorizationServer: { clients: [c, c] } }, noEnv))).toEqual([
      'authorizationServer.clients[1].clientId: duplicate client id "svc" (also clients[0].clientId)',
    ]);
    const demoService = { clientId: 'demo-service', clientSecret: secret };
    expect(issuesOf(() => resolveConfig({ authorizationServer: { demo: true, clients: [demoService] } }, noEnv))).toEqual([
      'authorizationServer.clients[0].clientId: "demo-service" is reserved for the demo clients while demo is true: choose another id',
    ]);
    expect(resolveConfig({ authorizationServer: { clients: [demoService] } }, noEnv).authorizationServer.clients).toHaveLength(1);
  });
});

describe('metrics', () => {
  it('reads enabled and path', () => {
    expect(resolveConfig({ metrics: { enabled: false } }, noEnv).metrics).toEqual({ enabled: false, path: '/metrics' });
    expect(resolveConfig({ metrics: { path: '/internal/metrics' } }, noEnv).metrics).toEqual({ enabled: true, path: '/internal/metrics' });
    expect(parseConfigText('metrics: { enabled: true, path: /prom }\n', noEnv).metrics).toEqual({ enabled: true, path: '/prom' });
  });

  it('rejects unknown keys, wrong types and bad or reserved paths', () => {
    expect(issuesOf(() => resolveConfig({ metrics: { port: 9100 } }, noEnv))).toEqual(['metrics.port: unknown key (allowed keys: enabled, path)']);
    expect(issuesOf(() => resolveConfig({ metrics: { enabled: 'yes' } }, noEnv))).toEqual(['metrics.enabled: expected boolean, got "yes"']);
    const path = (p: string) => issuesOf(() => resolveConfig({ metrics: { path: p } }, noEnv))[0];
    expect(path('metrics')).toMatch(/^metrics\.path: must start with "\/"/);
    expect(path('/metrics/')).toMatch(/remove the trailing "\/" \(use "\/metrics"\)/);
    expect(path('/')).toBe('metrics.path: give the metrics its own path, such as "/metrics"');
    expect(path('/healthz')).toMatch(/reserved/);
    expect(path('/.well-known/metrics')).toMatch(/reserved/);
  });

  it('rejects a metrics path that collides with a resource path, either way round', () => {
    expect(issuesOf(() => resolveConfig({ resources: [{ ...demo, path: '/metrics' }] }, noEnv))).toEqual([
      'resources[0].path: "/metrics" collides with the metrics path "/metrics": choose another resource path, or set metrics.path (or metrics.enabled: false)',
    ]);
    expect(issuesOf(() => resolveConfig({ resources: [demo], metrics: { path: '/mcp' } }, noEnv))).toEqual([
      'metrics.path: "/mcp" collides with resources[0].path "/mcp": choose another metrics path',
    ]);
    expect(issuesOf(() => resolveConfig({ resources: [demo], metrics: { path: '/mcp/metrics' } }, noEnv))[0]).toMatch(/^metrics\.path: "\/mcp\/metrics" collides/);
    // Disabled metrics claim no path.
    expect(resolveConfig({ resources: [{ ...demo, path: '/metrics' }], metrics: { enabled: false } }, noEnv).resources[0]!.path).toBe('/metrics');
  });
});

describe('resources[].forwardHeaders', () => {
  const demo = { name: 'files', path: '/files', upstream: 'http://127.0.0.1:9000/mcp', trust: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' } };
  it('names extra request headers for the gateway; credentials and Warden\'s own headers are refused with the key path', () => {
    expect(resolveConfig({ authorizationServer: { enabled: false }, resources: [{ ...demo, forwardHeaders: ['x-tenant'] }] }, { env: {} }).resources[0]?.forwardHeaders).toEqual(['x-tenant']);
    const issues = (() => {
      try {
        resolveConfig({ authorizationServer: { enabled: false }, resources: [{ ...demo, forwardHeaders: ['authorization', 'x-warden-subject'] }] }, { env: {} });
        return [];
      } catch (error) {
        return String((error as Error).message);
      }
    })();
    expect(issues).toMatch(/resources\[0\]\.forwardHeaders\[0\]: "authorization" is the client's credential/);
    expect(issues).toMatch(/resources\[0\]\.forwardHeaders\[1\]: "x-warden-subject" is written by Warden/);
  });
});
