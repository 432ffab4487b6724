/**
 * CEL policy in the resource-server gauntlet: compiled at set-up (a broken rule names its line and
 * column), judged after scopes on every request message, refusals 403 naming the rule (never its
 * text), and the `tools/list` visibility predicate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createResourceServer, type ResourceServer, type ResourceServerOptions } from '../index.js';
import { createTestIssuer, type TestIssuer } from '../../../test/helpers/test-issuer.js';
import { compilePolicy, PolicyCompileError } from './compile-policy.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const servers: ResourceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const POLICY: ResourceServerOptions['policy'] = {
  groupsClaim: 'realm_access.roles',
  rules: [
    { name: 'no-ci-clients', deny: 'client_id.startsWith("ci-")' },
    { name: 'admins-delete', tools: ['delete_file'], allow: '"admins" in groups' },
    { name: 'no-etc', tools: ['read_file', 'delete_file'], deny: 'has(arguments.path) && arguments.path.startsWith("/etc/")' },
    { name: 'before-2100', tools: ['read_file'], allow: 'now < timestamp("2100-01-01T00:00:00Z")' },
  ],
};

async function setup(overrides: Partial<ResourceServerOptions> = {}) {
  const issuer = await createTestIssuer({ audience: RESOURCE });
  const rs = createResourceServer({
    resource: RESOURCE,
    trust: { issuer: issuer.issuer, jwks: issuer.jwks },
    dpop: 'disabled',
    scopes: { default: ['mcp:tools'], tools: { admin_reset: ['mcp:admin'] } },
    policy: POLICY,
    ...overrides,
  });
  servers.push(rs);
  return { issuer, rs };
}

const call = (name: string, args: Record<string, unknown> = {}, id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

async function verify(rs: ResourceServer, issuer: TestIssuer, body: unknown, claims: Record<string, unknown> = {}, method = 'POST') {
  const token = await issuer.mint(claims);
  return rs.verify({ method, url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
}

function expectRefusedBy(result: Awaited<ReturnType<ResourceServer['verify']>>, rule: string) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.status).toBe(403);
  expect(result.error).toBe('access_denied');
  // No challenge: another token would not help (RFC 6750 §3.1 is about tokens, not policy).
  expect(result.headers['WWW-Authenticate']).toBeUndefined();
  const body = JSON.parse(result.body) as { id: unknown; error: { code: number; message: string } };
  expect(body.error).toEqual({ code: -32003, message: `refused by policy rule "${rule}"` });
  return body;
}

describe('CEL policy: rules compile once, at set-up', () => {
  it('a syntax error fails createResourceServer with the rule name, line and column', async () => {
    const { jwks } = await createTestIssuer({ audience: RESOURCE });
    expect(() => compilePolicy({ rules: [{ name: 'broken', allow: '"admins" in groups &&\n  tool ==' }] })).toThrow(
      /policy rule "broken" allow \(line 2, column 10\): /,
    );
    expect(() => createResourceServer({ resource: RESOURCE, trust: { issuer: 'https://i.test', jwks }, policy: { rules: [{ name: 'broken', allow: 'tool ==' }] } })).toThrow(
      /createResourceServer: policy is invalid: policy rule "broken" allow \(line 1, column 8\)/,
    );
  });

  it('an unknown variable and a type mismatch fail at load, pointing at the expression', () => {
    const unknown = (() => {
      try {
        compilePolicy({ rules: [{ name: 'typo', deny: 'tool == "x" || grups.size() > 0' }] });
      } catch (e) {
        return e as PolicyCompileError;
      }
      throw new Error('compiled');
    })();
    expect(unknown).toBeInstanceOf(PolicyCompileError);
    expect(unknown.message).toMatch(/Unknown variable: grups/);
    expect([unknown.line, unknown.column]).toEqual([1, 16]);
    expect(() => compilePolicy({ rules: [{ name: 'mistyped', allow: 'tool == 1' }] })).toThrow(/policy rule "mistyped" allow \(line 1, column 1\): no such overload/);
    expect(() => compilePolicy({ rules: [{ name: 'not-bool', allow: 'sub' }] })).toThrow(/must evaluate to a bool, not string/);
  });

  it('names are unique slugs; exactly one of allow or deny; tools a non-empty list', () => {
    expect(() => compilePolicy({ rules: [{ name: 'a', allow: 'true' }, { name: 'a', deny: 'false' }] })).toThrow(/"a" name: is used by another rule/);
    expect(() => compilePolicy({ rules: [{ name: 'Bad Name', allow: 'true' }] })).toThrow(/name: must be a slug/);
    expect(() => compilePolicy({ rules: [{ name: 'both', allow: 'true', deny: 'false' }] })).toThrow(/set exactly one of allow or deny/);
    expect(() => compilePolicy({ rules: [{ name: 'neither' }] })).toThrow(/set exactly one of allow or deny/);
    expect(() => compilePolicy({ rules: [{ name: 't', tools: [], allow: 'true' }] })).toThrow(/tools: must be a non-empty list/);
    expect(() => compilePolicy({ rules: [], groupsClaim: 'a..b' })).toThrow(/groupsClaim/);
  });
});

describe('CEL policy in the gauntlet (after scopes; 403 access_denied naming the rule)', () => {
  it('an allow rule about one tool: the admin may call it, another user is refused by that rule', async () => {
    const { issuer, rs } = await setup();
    const admin = await verify(rs, issuer, call('delete_file', { path: '/tmp/x' }), { realm_access: { roles: ['admins'] } });
    expect(admin.ok).toBe(true);
    const body = expectRefusedBy(await verify(rs, issuer, call('delete_file', { path: '/tmp/x' }), { realm_access: { roles: ['users'] } }), 'admins-delete');
    expect(body.id).toBe(1);
    // The refusal names the rule, never its expression.
    expect(JSON.stringify(body)).not.toContain('admins"');
    // Other tools are not about this rule.
    expect((await verify(rs, issuer, call('echo'), {})).ok).toBe(true);
  });

  it('a deny rule over the arguments refuses only the matching call', async () => {
    const { issuer, rs } = await setup();
    expect((await verify(rs, issuer, call('read_file', { path: '/home/a' }))).ok).toBe(true);
    expectRefusedBy(await verify(rs, issuer, call('read_file', { path: '/etc/shadow' })), 'no-etc');
  });

  it('a rule without tools applies to every message, initialize and GET streams included', async () => {
    const { issuer, rs } = await setup();
    const ci = { client_id: 'ci-runner' };
    expectRefusedBy(await verify(rs, issuer, { jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }, ci), 'no-ci-clients');
    expectRefusedBy(await verify(rs, issuer, undefined, ci, 'GET'), 'no-ci-clients');
    expect((await verify(rs, issuer, undefined, {}, 'GET')).ok).toBe(true);
  });

  it('a batch is refused whole when one of its calls is refused', async () => {
    const { issuer, rs } = await setup();
    expectRefusedBy(await verify(rs, issuer, [call('echo', {}, 1), call('read_file', { path: '/etc/passwd' }, 2)]), 'no-etc');
  });

  it('scopes are checked first: a call lacking a scope is 403 insufficient_scope, not a policy refusal', async () => {
    const { issuer, rs } = await setup({ policy: { rules: [{ name: 'nobody', deny: 'true' }] } });
    const result = await verify(rs, issuer, call('admin_reset'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toBe('insufficient_scope');
  });

  it('a rule that cannot be evaluated refuses (fail closed), naming the rule', async () => {
    const { issuer, rs } = await setup({ policy: { rules: [{ name: 'needs-path', tools: ['read_file'], deny: 'arguments.path.startsWith("/etc/")' }] } });
    expectRefusedBy(await verify(rs, issuer, call('read_file', {})), 'needs-path');
  });

  it('a lookalike of a rule\'s tool name (DELETE_FILE) is refused, 400 in strict mode (MCP tool names are exact)', async () => {
    const { issuer, rs } = await setup();
    const result = await verify(rs, issuer, call('DELETE_FILE', { path: '/tmp/x' }), { realm_access: { roles: ['users'] } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status).toBe(400);
    const lenient = await setup({ strictMessages: false });
    expectRefusedBy(await verify(lenient.rs, lenient.issuer, call('Delete_File', {}), { realm_access: { roles: ['users'] } }), 'admins-delete');
  });

  it('claims, scope, sub, iss and now are bound; a string groups claim counts as one group', async () => {
    const { issuer, rs } = await setup({
      policy: {
        rules: [
          { name: 'everything', allow: 'sub == "user-1" && iss == "https://issuer.test" && "mcp:tools" in scope && claims.tenant == "acme" && groups == ["ops"] && now > timestamp("2020-01-01T00:00:00Z") && method == "tools/call" && tool == "echo"' },
        ],
      },
    });
    expect((await verify(rs, issuer, call('echo'), { tenant: 'acme', groups: 'ops' })).ok).toBe(true);
    expectRefusedBy(await verify(rs, issuer, call('echo'), { tenant: 'other', groups: 'ops' }), 'everything');
  });
});

describe('tools/list visibility (what an agent is shown)', () => {
  const list = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };

  it('hides tools lacking scopes or refused whatever the arguments; keeps those that depend on arguments', async () => {
    const { issuer, rs } = await setup();
    const result = await verify(rs, issuer, list, { realm_access: { roles: ['users'] } });
    if (!result.ok) throw new Error(result.body);
    const visible = result.toolVisible;
    expect(visible).toBeDefined();
    expect(visible!('echo')).toBe(true);
    expect(visible!('admin_reset')).toBe(false); // needs mcp:admin
    expect(visible!('delete_file')).toBe(false); // admins-delete refuses this caller
    expect(visible!('read_file')).toBe(true); // no-etc depends on the arguments
    expect(visible!('Delete_File')).toBe(false); // a lookalike of a rule's tool
    const admin = await verify(rs, issuer, list, { realm_access: { roles: ['admins'] }, scope: 'mcp:tools mcp:admin' });
    if (!admin.ok) throw new Error(admin.body);
    expect(['echo', 'admin_reset', 'delete_file', 'read_file'].filter(admin.toolVisible!)).toEqual(['echo', 'admin_reset', 'delete_file', 'read_file']);
  });

  it('is absent when nothing restricts tools, and for requests that do not list tools', async () => {
    const { issuer, rs } = await setup({ scopes: { default: ['mcp:tools'] }, policy: undefined });
    const result = await verify(rs, issuer, list);
    expect(result.ok && result.toolVisible).toBe(undefined);
    const withPolicy = await setup();
    const call1 = await verify(withPolicy.rs, withPolicy.issuer, call('echo'));
    expect(call1.ok && call1.toolVisible).toBe(undefined);
  });
});
