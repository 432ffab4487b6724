/** What `warden start` prints: where things are and how to call a tool. */
import { basename, relative } from 'node:path';
import type { RunningStack } from '../server/stack.js';
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
  const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
  return [
    'Warden is running (development stack).',
    '',
    `  MCP server   ${resource.url}`,
    `  Metadata     ${resource.metadataUrl}`,
    `  Issuer       ${stack.info.issuer}`,
    `  State        ${stateDir} (stack.json, development issuer key)`,
    '',
    'Get a development access token:',
    `  TOKEN=$(${warden} token --state-dir ${dir} --scope mcp:tools)`,
    '',
    'Call a tool:',
    `  curl -s ${resource.url} \\`,
    `    -H "Authorization: Bearer $TOKEN" \\`,
    `    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\`,
    `    -d '${call}'`,
    '',
    `Connect an MCP client to ${resource.url} with that token (admin_reset also needs --scope "mcp:tools mcp:admin").`,
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}
