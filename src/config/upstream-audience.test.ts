/**
 * The audience of the token a gateway presents its upstream (`upstreamAuth: token`, RFC 8693),
 * as the default now gives it to every gateway under the stack's own AS: it names the upstream,
 * nothing else. Not the upstream URL's query — which often carries the upstream's own credential
 * (`?api_key=…`) and would land in every minted token's `aud` and every `token.issued` audit
 * record; the explicit `audience` refuses a query already — and never an audience the stack's
 * own clients are issued tokens for: the resource's own canonical URI (a host-routed gateway whose
 * upstream is reached under the same name, split-horizon DNS) would let any client's ordinary
 * token for the resource be presented to the upstream directly, past the gateway's policy and
 * rate limits, and let the upstream replay the exchanged token at the gateway (RFC 8707 §2).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { resolveConfig } from './load.js';
import { checkServer } from './server-spec.js';

const noEnv = { env: {} };
const publicUrl = 'https://warden.example.com';

describe('upstream token audience (RFC 8707 §2, RFC 8693 §2.1)', () => {
  it('RFC 8707 §2: the default audience is the upstream URL without its query (an api_key there stays out of aud and the audit trail)', () => {
    const upstream = 'http://127.0.0.1:9000/mcp?api_key=s3cr3t';
    const [resource] = resolveConfig({ publicUrl, resources: [{ name: 'files', path: '/files', upstream }] }, noEnv).resources;
    expect(resource!.upstreamAuth).toEqual({ kind: 'token', audience: 'http://127.0.0.1:9000/mcp', tokenLifetimeSeconds: 60 });
    expect(resource!.upstream).toBe(upstream);

    const config = resolveConfig({ publicUrl, resources: [] }, noEnv);
    const added = checkServer({ name: 'files', path: '/files', upstream }, [], { config, reservedPaths: [] });
    expect(added.ok && added.server.upstreamAuth?.audience).toBe('http://127.0.0.1:9000/mcp');
  });

  it('RFC 8707 §2: a token audience equal to the resource\'s own canonical URI is refused (config file and registry)', () => {
    // Split horizon: clients reach files.example.com at Warden, Warden reaches the real server by the same name.
    const sameName = { name: 'files', url: 'https://files.example.com/mcp', upstream: 'https://files.example.com/mcp' };
    const error = (() => {
      try {
        resolveConfig({ publicUrl, resources: [sameName] }, noEnv);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      'resources[0].upstreamAuth.audience: "https://files.example.com/mcp" is this resource\'s own URI: the upstream would accept every token clients get for it, past the gateway — set upstreamAuth.audience to the upstream\'s own identifier, or choose kind headers or none',
    ]);

    const config = resolveConfig({ publicUrl, resources: [] }, noEnv);
    const added = checkServer(sameName, [], { config, reservedPaths: [] });
    expect(added.ok).toBe(false);
    expect(!added.ok && added.problems.map((p) => p.path)).toEqual(['upstreamAuth.audience']);

    const explicit = checkServer({ name: 'a', path: '/a', upstream: 'http://127.0.0.1:9000/mcp', upstreamAuth: { kind: 'token', audience: `${publicUrl}/a` } }, [], { config, reservedPaths: [] });
    expect(!explicit.ok && explicit.problems.map((p) => p.path)).toEqual(['upstreamAuth.audience']);
  });

  it('RFC 8693 §2.1: the issuer itself is no upstream audience', () => {
    const config = resolveConfig({ publicUrl, resources: [] }, noEnv);
    const added = checkServer({ name: 'a', path: '/a', upstream: 'http://127.0.0.1:9000/mcp', upstreamAuth: { kind: 'token', audience: publicUrl } }, [], { config, reservedPaths: [] });
    expect(!added.ok && added.problems.map((p) => p.path)).toEqual(['upstreamAuth.audience']);
  });

  it('headers and none mint nothing: the same URL is not refused', () => {
    const config = resolveConfig({ publicUrl, resources: [{ name: 'files', url: 'https://files.example.com/mcp', upstream: 'https://files.example.com/mcp', upstreamAuth: { kind: 'headers' } }] }, noEnv);
    expect(config.resources[0]!.upstreamAuth?.kind).toBe('headers');
  });
});
