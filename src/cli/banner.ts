/**
 * What `warden start` prints: where things are, the demo credentials (development stack only —
 * they are also in `stack.json`), the next command to try, a client configuration to paste, and
 * commands to get a token and call a tool by hand.
 */
import { basename, relative } from 'node:path';
import { DEMO_CLI_CLIENT_ID, DEMO_SERVICE_CLIENT_ID } from '../stack/index.js';
import type { RunningStack } from '../stack/index.js';
import { metadataUrl } from './token.js';
import { shellQuote } from './options.js';

/** How the user invoked us, so printed commands can be pasted as they are. */
function invocation(): string {
  const script = process.argv[1] ?? '';
  if (basename(script) === 'warden' || script === '') return 'warden';
  const rel = relative(process.cwd(), script);
  return `node ${shellQuote(rel.startsWith('..') ? script : rel)}`;
}

/** The start-up banner of `warden start`. */
export function startBanner(stack: RunningStack, stateDir: string): string {
  const resource = stack.info.resources[0];
  if (!resource) return `Warden is running at ${stack.url}\n`;
  const warden = invocation();
  const dir = shellQuote(stateDir);
  const as = stack.authorizationServer;
  const service = stack.info.clients.find((c) => c.client_id === DEMO_SERVICE_CLIENT_ID && c.client_secret !== undefined);
  const user = stack.info.users[0];
  const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });

  const clientConfig = JSON.stringify({ mcpServers: { 'warden-demo': { type: 'http', url: resource.url } } }, null, 2)
    .split('\n')
    .map((line) => `  ${line}`);

  const lines = [
    'Warden is running (development stack).',
    '',
    `  MCP server     ${resource.url}   (protected: every request needs a token)`,
    `  Metadata       ${resource.metadataUrl}`,
    `  Issuer         ${stack.info.issuer}`,
  ];
  if (as) lines.push(`  AS metadata    ${metadataUrl(stack.info.issuer)}`);
  lines.push(`  State          ${stateDir} (stack.json, database, server secret, demo credentials)`, '');
  if (user) lines.push(`Demo user:     ${user.username} / ${user.password}   (the sign-in page)`);
  if (service) lines.push(`Demo service:  client_id ${service.client_id}, client_secret ${service.client_secret}   (client_credentials, scope mcp:tools)`);
  if (user || service) lines.push('');

  lines.push(
    'Next: watch a real MCP client go through the whole flow, step by step (in another terminal):',
    `  ${warden} demo-client --state-dir ${dir}`,
    '',
    'Connect your MCP client: add this server to its configuration (the "mcpServers" shape most clients read):',
    ...clientConfig,
    `It finds the authorization server through the 401 and the metadata, registers itself (dynamic registration)`,
    `or uses the public client ${DEMO_CLI_CLIENT_ID} (redirect http://127.0.0.1:<any port>/callback), and sends you to the sign-in page${user ? ` (${user.username})` : ''}.`,
    `admin_reset needs mcp:admin: ${service ? `${service.client_id} cannot get it, ` : ''}the signed-in user can (step-up).`,
    '',
  );

  if (as && service?.client_secret !== undefined) {
    lines.push(
      'Or by hand — get an access token (client_credentials):',
      `  TOKEN=$(curl -s -u ${shellQuote(`${service.client_id}:${service.client_secret}`)} \\`,
      `    -d grant_type=client_credentials --data-urlencode resource=${shellQuote(resource.url)} -d scope=mcp:tools \\`,
      `    ${shellQuote(as.context.endpoints.token)} | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
      `  (or: TOKEN=$(${warden} token --state-dir ${dir}))`,
      '',
    );
  }
  lines.push(
    'Call a tool:',
    `  curl -s ${resource.url} \\`,
    `    -H "Authorization: Bearer $TOKEN" \\`,
    `    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\`,
    `    -d '${call}'`,
    '',
    'Press Ctrl+C to stop.',
    '',
  );
  return lines.join('\n');
}
