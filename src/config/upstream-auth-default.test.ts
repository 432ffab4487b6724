/**
 * Which identity a gateway resource presents upstream when `upstreamAuth` is not given: a token
 * from this stack's own token exchange (RFC 8693) when the stack runs the authorization server
 * that issues the resource's tokens — no passthrough, nothing an upstream must take on trust — and
 * trusted `X-Warden-*` headers (undefined) otherwise. The file and the fleet registry decide alike.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './load.js';
import { checkServer } from './server-spec.js';

const noEnv = { env: {} };
const upstream = 'http://127.0.0.1:9000/mcp';
const foreignTrust = { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' };

describe('upstreamAuth default (issue #10 §2: token when the stack runs the AS)', () => {
  it('RFC 8693: a gateway resource of a stack that runs its own AS gets kind token, aud = the upstream URL, 60 s', () => {
    const [resource] = resolveConfig({ resources: [{ name: 'files', path: '/files', upstream }] }, noEnv).resources;
    expect(resource!.upstreamAuth).toEqual({ kind: 'token', audience: upstream, tokenLifetimeSeconds: 60 });
  });

  it('a resource that trusts the stack issuer by name is its own too: token', () => {
    const config = resolveConfig(
      { publicUrl: 'https://mcp.example.com', resources: [{ name: 'files', path: '/files', upstream, trust: { issuer: 'https://mcp.example.com', jwksUri: 'https://mcp.example.com/jwks' } }] },
      noEnv,
    );
    expect(config.resources[0]!.upstreamAuth?.kind).toBe('token');
  });

  it('a standalone gateway in front of another AS keeps trusted headers (undefined)', () => {
    const config = resolveConfig({ resources: [{ name: 'files', path: '/files', upstream, trust: foreignTrust }] }, noEnv);
    expect(config.authorizationServer.enabled).toBe(false);
    expect(config.resources[0]!.upstreamAuth).toBeUndefined();
  });

  it('a resource trusting another issuer beside the stack AS keeps headers; one of its own gets token', () => {
    const config = resolveConfig(
      { resources: [{ name: 'files', path: '/files', upstream, trust: foreignTrust }, { name: 'own', path: '/own', upstream }] },
      noEnv,
    );
    expect(config.authorizationServer.enabled).toBe(true);
    expect(config.resources.map((r) => r.upstreamAuth?.kind)).toEqual([undefined, 'token']);
  });

  it('the AS disabled explicitly: no token to mint, so headers (undefined)', () => {
    const config = resolveConfig({ authorizationServer: { enabled: false }, resources: [{ name: 'files', path: '/files', upstream, trust: foreignTrust }] }, noEnv);
    expect(config.resources[0]!.upstreamAuth).toBeUndefined();
  });

  it('builtin:demo is no gateway: nothing defaulted', () => {
    expect(resolveConfig({ resources: [{ name: 'demo', path: '/mcp', upstream: 'builtin:demo' }] }, noEnv).resources[0]!.upstreamAuth).toBeUndefined();
  });

  it('an explicit kind is kept: headers and none stay available', () => {
    const config = resolveConfig(
      {
        resources: [
          { name: 'legacy', path: '/legacy', upstream, upstreamAuth: { kind: 'headers' } },
          { name: 'quiet', path: '/quiet', upstream, upstreamAuth: { kind: 'none' } },
        ],
      },
      noEnv,
    );
    expect(config.resources.map((r) => r.upstreamAuth?.kind)).toEqual(['headers', 'none']);
  });

  it('a server added to the fleet registry at run time gets the same default', () => {
    const withAs = resolveConfig({ resources: [] }, noEnv);
    const added = checkServer({ name: 'files', path: '/files', upstream }, [], { config: withAs, reservedPaths: [] });
    expect(added.ok && added.server.upstreamAuth).toEqual({ kind: 'token', audience: upstream, tokenLifetimeSeconds: 60 });

    const gatewayOnly = resolveConfig({ resources: [{ name: 'a', path: '/a', upstream, trust: foreignTrust }] }, noEnv);
    const foreign = checkServer({ name: 'files', path: '/files', upstream, trust: foreignTrust }, [], { config: gatewayOnly, reservedPaths: [] });
    expect(foreign.ok && foreign.server.upstreamAuth).toBeUndefined();
  });
});
