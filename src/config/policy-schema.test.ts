import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseConfigText } from './load.js';

const base = (policy: string) => `
publicUrl: https://mcp.example.com
resources:
  - name: files
    path: /files
    upstream: http://127.0.0.1:9000/mcp
    scopes: { default: [mcp:tools] }
    policy:
${policy}
`;

function issuesOf(text: string): readonly string[] {
  try {
    parseConfigText(text, { env: {}, source: 'warden.yaml' });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('config: resources[].policy (CEL rules)', () => {
  it('reads rules and the groups claim into the resource', () => {
    const config = parseConfigText(
      base(`      groupsClaim: realm_access.roles
      rules:
        - { name: admins-delete, tools: [delete_file], allow: '"admins" in groups' }
        - { name: no-etc, deny: 'has(arguments.path) && arguments.path.startsWith("/etc/")' }`),
      { env: {}, source: 'warden.yaml' },
    );
    expect(config.resources[0]?.policy).toEqual({
      groupsClaim: 'realm_access.roles',
      rules: [
        { name: 'admins-delete', tools: ['delete_file'], allow: '"admins" in groups' },
        { name: 'no-etc', deny: 'has(arguments.path) && arguments.path.startsWith("/etc/")' },
      ],
    });
  });

  it('a rule that does not compile fails the load with its key path, name, line and column', () => {
    const issues = issuesOf(
      base(`      rules:
        - name: broken
          allow: |-
            "admins" in groups &&
              tool ==`),
    );
    expect(issues.join('\n')).toMatch(/resources\[0\]\.policy\.rules\[0\]\.allow.*policy rule "broken" allow \(line 2, column 10\)/);
  });

  it('unknown variables, both allow and deny, duplicate names and unknown keys are refused', () => {
    const issues = issuesOf(
      base(`      rules:
        - { name: a, allow: 'grups.size() > 0' }
        - { name: b, allow: 'true', deny: 'false' }
        - { name: a, deny: 'false' }
        - { name: c, allow: 'true', effect: allow }`),
    ).join('\n');
    expect(issues).toMatch(/rules\[0\]\.allow.*Unknown variable: grups/);
    expect(issues).toMatch(/rules\[1\].*set exactly one of allow or deny/);
    expect(issues).toMatch(/rules\[2\]\.name.*duplicate name "a"/);
    expect(issues).toMatch(/rules\[3\].*effect/);
  });
});
