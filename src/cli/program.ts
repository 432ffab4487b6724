/**
 * The `warden` command line: argument parsing only; the work happens in config/, server/ and
 * dev-issuer/.
 */
import { Command, Option } from 'commander';
import { builtinConfig } from '../config/builtin.js';
import { loadConfigFile, resolveConfig } from '../config/load.js';
import { startBanner } from './banner.js';
import { parsePort, parseSeconds } from './options.js';
import { runStack } from './run-stack.js';
import { tokenCommand, type TokenCommandOptions } from './token.js';

/** Default state directory of every command. */
export const DEFAULT_STATE_DIR = '.warden';

const stateDirOption = () =>
  new Option('--state-dir <dir>', 'state directory: development issuer key and stack.json (URLs of the running stack)').default(DEFAULT_STATE_DIR);
const portOption = () => new Option('--port <n>', 'port to listen on (0 picks a free one); overrides listen.port and WARDEN_PORT').argParser(parsePort);

/** Builds the `warden` program. */
export function createProgram(): Command {
  const program = new Command('warden')
    .description('Warden: production authorization for MCP servers (OAuth 2.1, DPoP, RFC 9728).')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });

  program
    .command('serve')
    .description('run what a configuration file declares: protected MCP resources (built-in or proxied upstreams)')
    .requiredOption('--config <file>', 'configuration file (YAML or JSON)')
    .addOption(portOption())
    .addOption(stateDirOption())
    .action(async (options: { config: string; port?: number; stateDir: string }) => {
      const config = await loadConfigFile(options.config, options.port === undefined ? {} : { port: options.port });
      await runStack(config, options.stateDir);
    });

  program
    .command('start')
    .description('run the whole development stack on one port: a demo MCP server protected at /mcp, state under --state-dir')
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
      'DEVELOPMENT TOOL: print an access token signed by the stack\'s local development issuer key (found in --state-dir). ' +
        'Only the token is printed, so it can be piped. Real clients get tokens from the authorization server.',
    )
    .addOption(stateDirOption())
    .option('--resource <url>', 'audience (canonical URI of the MCP resource); default: the first resource in stack.json')
    .option('--issuer <url>', 'iss; default: the issuer in stack.json')
    .option('--scope <scopes>', 'space-separated scopes', 'mcp:tools')
    .option('--sub <subject>', 'sub (the user)', 'demo-user')
    .option('--client-id <id>', 'client_id', 'demo-cli')
    .option('--jkt <thumbprint>', 'bind the token to a DPoP key: RFC 7638 SHA-256 thumbprint (cnf.jkt)')
    .addOption(new Option('--lifetime <seconds>', 'seconds until expiry').default(600).argParser(parseSeconds))
    .action(async (options: TokenCommandOptions) => {
      process.stdout.write(`${await tokenCommand(options)}\n`);
    });

  return program;
}
