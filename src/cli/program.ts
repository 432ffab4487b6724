/**
 * The `warden` command line: argument parsing only; the work happens in config/, server/ and
 * authorization-server/.
 */
import { Command, Option } from 'commander';
import { builtinConfig } from '../config/builtin.js';
import { CONFIG_DEFAULTS } from '../config/defaults.js';
import { loadConfigFile, resolveConfig } from '../config/load.js';
import { startBanner } from './banner.js';
import { consentsRevokeCommand, keysRotateCommand, usersAddCommand, usersListCommand, usersRemoveCommand, type StoreLocationOptions } from './admin.js';
import { parseMilliseconds, parsePort } from './options.js';
import { runStack } from './run-stack.js';
import { tokenCommand, type TokenCommandOptions } from './token.js';
import { demoClientCommand, type DemoClientOptions } from '../stack/index.js';
import { healthCommand, type HealthOptions } from './health.js';
import { auditLogVerifyCommand } from './audit-log.js';
import { auditCommand, type AuditCommandOptions } from './audit.js';
import { policyTestCommand, type PolicyTestOptions } from './policy-test.js';
import { DEFAULT_BUDGET, DEFAULT_RATE } from '../audit/index.js';
import { serversAddCommand, serversListCommand, serversRemoveCommand, serversShowCommand, type ServersAddOptions, type ServersOptions } from './servers.js';

/** Default state directory of every command. */
export const DEFAULT_STATE_DIR = CONFIG_DEFAULTS.stateDir;

const stateDirOption = () =>
  new Option('--state-dir <dir>', 'state directory: stack.json (URLs of the running stack), server secret, demo credentials').default(DEFAULT_STATE_DIR);
const portOption = () => new Option('--port <n>', 'port to listen on (0 picks a free one); overrides listen.port and WARDEN_PORT').argParser(parsePort);

/** Builds the `warden` program. */
export function createProgram(): Command {
  const program = new Command('warden')
    .description('Warden: production authorization for MCP servers (OAuth 2.1, DPoP, RFC 9728).')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) })
    // Usage errors throw (main.ts exits 2) instead of commander's own exit 1; subcommands inherit it.
    .exitOverride();

  program
    .command('serve')
    .description('run what a configuration file declares: protected MCP resources (built-in or proxied upstreams)')
    .requiredOption('--config <file>', 'configuration file (YAML or JSON)')
    .addOption(portOption())
    .addOption(stateDirOption())
    .action(async (options: { config: string; port?: number; stateDir: string }) => {
      const config = await loadConfigFile(options.config, options.port === undefined ? {} : { port: options.port });
      await runStack(config, options.stateDir, { path: options.config, ...(options.port === undefined ? {} : { port: options.port }) });
    });

  program
    .command('start')
    .description('run the whole development stack on one port: the authorization server (demo user and clients) and a demo MCP server protected at /mcp, state under --state-dir')
    .addOption(portOption())
    .addOption(stateDirOption())
    .action(async (options: { port?: number; stateDir: string }) => {
      const config = resolveConfig(builtinConfig(options.stateDir), {
        source: 'built-in configuration',
        ...(options.port === undefined ? {} : { port: options.port }),
      });
      const stack = await runStack(config, options.stateDir);
      process.stdout.write(startBanner(stack, options.stateDir));
    });

  program
    .command('token')
    .description(
      'print an access token from the running stack: the client_credentials grant at its token endpoint, with the first client in ' +
        '<state-dir>/stack.json that has a secret (the demo-service client of "warden start"). Only the token is printed, so it can be piped.',
    )
    .addOption(stateDirOption())
    .option('--resource <url>', 'the MCP resource the token is for (RFC 8707); default: the first resource in stack.json')
    .option('--scope <scopes>', 'space-separated scopes; default: the client\'s default scopes')
    .option('--client-id <id>', 'which client of stack.json to use')
    .action(async (options: TokenCommandOptions) => {
      process.stdout.write(`${await tokenCommand(options)}\n`);
    });

  program
    .command('demo-client')
    .description(
      'walk through the whole MCP authorization flow against the running stack, saying what happens at each step: discovery from the 401, ' +
        'metadata, registration, sign-in and consent, a DPoP-bound token, tool calls, step-up, refresh, and a replayed request refused',
    )
    .addOption(stateDirOption())
    .option('--url <url>', 'the MCP server; default: the first resource in stack.json')
    .addOption(
      new Option('--login <how>', 'auto: sign in as the demo user by submitting the pages; browser: open your browser; manual: print the URL; device: the device grant (RFC 8628), enter the printed code in any browser').choices(['auto', 'browser', 'manual', 'device']),
    )
    .action(async (options: DemoClientOptions) => {
      await demoClientCommand(options, (line) => void process.stdout.write(`${line}\n`));
    });

  program
    .command('health')
    .description(
      'check a running stack: /healthz (alive), or with --ready /readyz (every store it needs answers). Exit 0 healthy, 1 unhealthy or unreachable, 2 usage. ' +
        'Where: --url, else the listen address of --config, else WARDEN_PUBLIC_URL, else http://127.0.0.1:$WARDEN_PORT',
    )
    .option('--url <url>', 'base URL of the stack (only its origin is used), e.g. http://127.0.0.1:4000')
    .option('--config <file>', 'configuration file: check the address it listens on (listen.host, listen.port, WARDEN_PORT)')
    .option('--ready', 'check readiness (/readyz) instead of liveness (/healthz)')
    .addOption(new Option('--timeout <ms>', 'how long to wait for the answer').default(3000).argParser(parseMilliseconds))
    // Usage errors of this command exit 2 (see main.ts), as a container health check expects.
    .exitOverride()
    .action(async (options: HealthOptions) => {
      const result = await healthCommand(options);
      process.stdout.write(`${result.message}\n`);
      process.exitCode = result.healthy ? 0 : 1;
    });

  program
    .command('audit-log')
    .description('the audit trail (warden.audit/1 JSON lines)')
    .command('verify <files...>')
    .description('check the hash chains of audit log files, oldest first (e.g. audit.log.2 audit.log.1 audit.log): intact, or where a record was cut, edited or moved. Exit 0 intact, 1 not')
    .option('--json', 'print the full report as JSON')
    .action(async (files: string[], options: { json?: boolean }) => {
      const result = await auditLogVerifyCommand(files, options);
      process.stdout.write(`${result.lines.join('\n')}\n`);
      process.exitCode = result.intact ? 0 : 1;
    });

  program
    .command('policy')
    .description('the CEL policy of configured resources')
    .command('test')
    .description('explain offline the decision on one tools/call: the scopes it needs and every rule\'s outcome. Exit 0 allow, 1 deny, 2 usage or configuration')
    .requiredOption('--config <file>', 'configuration file (YAML or JSON)')
    .requiredOption('--server <name>', 'the resource (resources[].name)')
    .requiredOption('--tool <name>', 'the tool called')
    .requiredOption('--claims <file>', 'JSON file: the access-token payload (sub, client_id, scope, groups, …)')
    .option('--arguments <file>', 'JSON file: the call\'s arguments')
    .option('--at <time>', 'the time of the call (RFC 3339); default now')
    .exitOverride()
    .action(async (options: PolicyTestOptions) => {
      const result = await policyTestCommand(options);
      process.stdout.write(`${result.lines.join('\n')}\n`);
      process.exitCode = result.allowed ? 0 : 1;
    });

  program
    .command('audit [url]')
    .description(
      'attack-test the authorization of an MCP server (any, not only Warden) and grade it: discovery, tokens, DPoP, scopes, sessions, ' +
        'its authorization server. Never destructive: only --probe-tool is ever called, requests are bounded and rate-limited, and only ' +
        'the target\'s and its authorization server\'s origins are contacted. Credentials may be given as @file; they never appear in output.',
    )
    .option('--list', 'print every check with its id, severity and what it needs, and exit')
    .option('--token <token>', 'an access token for the target (or @file; env WARDEN_AUDIT_TOKEN)')
    .option('--dpop-key <file>', 'the private JWK (JSON file) --token is DPoP-bound to')
    .option('--second-token <token>', 'a valid token of another principal, for the session-binding check (or @file)')
    .option('--client-id <id>', 'a client of the authorization server: client_credentials tokens, or the client of --sign-in')
    .option('--client-secret <secret>', 'its secret (or @file; env WARDEN_AUDIT_CLIENT_SECRET)')
    .option('--redirect-uri <uri>', 'a redirect URI registered for --client-id, for the authorization-endpoint probes')
    .option('--other-resource <url>', 'another resource of the same authorization server, for the audience check')
    .option('--id-token <jwt>', 'a JWT of the same issuer that is not an access token (an ID token), for the typ check (or @file)')
    .option('--probe-tool <name>', 'the only tool the audit may call: a harmless tool the token is NOT scoped for (the scope check expects 403)')
    .option('--sign-in', 'sign in interactively (prints a URL, waits at a loopback redirect): a user token, code reuse and refresh checks')
    .option('--allow-refresh', 'run the refresh-token reuse check (detecting reuse may revoke the signed-in grant)')
    .option('--no-register', 'do not register clients at the authorization server (skips the registration probes)')
    .option('--rate <n>', `requests per second (default ${DEFAULT_RATE})`)
    .option('--max-requests <n>', `request budget (default ${DEFAULT_BUDGET})`)
    .option('--timeout <ms>', 'per-request timeout (default 10000)')
    .option('--allow-origin <origin...>', 'further origins the audit may contact (e.g. a token endpoint on another host)')
    .option('--checks <ids>', 'only these checks: comma-separated ids or area prefixes ("dpop.,tokens.alg-none")')
    .option('--json [file]', 'write the JSON report to file, or to stdout instead of the terminal report')
    .option('--sarif <file>', 'write a SARIF 2.1.0 log (GitHub code scanning)')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--fail-on <severity>', 'exit 1 when a finding is this severe or worse: critical, high, medium, low, info, none (default none)')
    .option('--no-color', 'no colour in the terminal report')
    .option('--verbose', 'every line of evidence in the terminal report')
    .action(async (url: string | undefined, options: AuditCommandOptions) => {
      process.exitCode = await auditCommand(url, options, {
        stdout: (text) => void process.stdout.write(text),
        stderr: (text) => void process.stderr.write(text),
        stdoutTty: process.stdout.isTTY === true,
        stderrTty: process.stderr.isTTY === true,
        env: process.env,
      });
    });

  // Administration: straight on the store (SQLite) of a configuration or of `warden start`'s state directory.
  const storeOptions = (command: Command): Command =>
    command
      .addOption(new Option('--config <file>', 'configuration file whose storage to use (YAML or JSON)').conflicts('stateDir'))
      .addOption(
        new Option('--state-dir <dir>', 'state directory of "warden start" (its database is <dir>/warden.db); used without --config').default(DEFAULT_STATE_DIR),
      );
  const print = (text: string) => void process.stdout.write(text);

  const users = program.command('users').description('local users of the sign-in page (passwords stored as scrypt hashes)');
  storeOptions(
    users
      .command('add <username>')
      .description('add a user; without --password-stdin a random password is generated and printed once')
      .option('--password-stdin', 'read the password from standard input')
      .option('--admin', 'with the admin role: let into the operator console at /admin'),
  ).action(async (username: string, options: StoreLocationOptions & { passwordStdin?: boolean; admin?: boolean }) => print(await usersAddCommand(username, options)));
  storeOptions(users.command('list').description('list usernames')).action(async (options: StoreLocationOptions) => print(await usersListCommand(options)));
  storeOptions(users.command('remove <username>').description('remove a user (their sign-in sessions end at once)')).action(
    async (username: string, options: StoreLocationOptions) => print(await usersRemoveCommand(username, options)),
  );

  const keys = program.command('keys').description('the authorization server\'s signing keys');
  storeOptions(
    keys
      .command('rotate')
      .description('start signing with the already-published next key, publish a new next key, keep the old key published until its tokens expire'),
  ).action(async (options: StoreLocationOptions) => print(await keysRotateCommand(options)));

  const consents = program.command('consents').description('remembered consents (user + client + scopes + resource)');
  storeOptions(
    consents
      .command('revoke')
      .description('withdraw what a user allowed a client: forget the consent (the next authorization asks again) and revoke the grants and tokens issued under it')
      .requiredOption('--user <username>', 'the user')
      .requiredOption('--client <client_id>', 'the client'),
  ).action(async (options: StoreLocationOptions & { user: string; client: string }) => print(await consentsRevokeCommand(options)));

  // The fleet registry: through a running stack's admin API, or on a configuration's store.
  const serversOptions = (command: Command): Command =>
    command
      .option('--url <url>', 'a running stack (its publicUrl): use its admin API')
      .option('--token <token>', 'an access token for the admin API with scope warden:admin (or @file; env WARDEN_ADMIN_TOKEN)')
      .option('--client-id <id>', 'an admin client (admin.clients): obtain the token with client_credentials')
      .option('--client-secret <secret>', 'its secret (or @file; env WARDEN_ADMIN_CLIENT_SECRET)')
      .option('--config <file>', 'a configuration file: change its registry store directly (running instances follow within a second)');
  const servers = program.command('servers').description('the fleet registry: MCP servers added at run time, beside those the configuration declares');
  serversOptions(servers.command('list').description('list every server: name, source (config or registry), URL, upstream').option('--json', 'print JSON')).action(
    async (options: ServersOptions) => print(await serversListCommand(options)),
  );
  serversOptions(servers.command('show <name>').description('show one server (JSON), with its stored entry')).action(async (name: string, options: ServersOptions) =>
    print(await serversShowCommand(name, options)),
  );
  serversOptions(
    servers
      .command('add <name>')
      .description('add or replace a server; checked whole like the configuration file (a refusal lists each key path, exit 2)')
      .option('--entry <json>', 'the whole entry, as in resources[] of the configuration (JSON, or @file)')
      .option('--path <path>', 'where it is served, under publicUrl (e.g. /files)')
      .option('--upstream <url>', 'the MCP server to forward to')
      .option('--dpop <mode>', 'disabled, allowed or required')
      .option('--scope <scope...>', 'the scopes every call needs'),
  ).action(async (name: string, options: ServersAddOptions) => print(await serversAddCommand(name, options)));
  serversOptions(servers.command('remove <name>').description('remove a server added at run time')).action(async (name: string, options: ServersOptions) =>
    print(await serversRemoveCommand(name, options)),
  );

  return program;
}
