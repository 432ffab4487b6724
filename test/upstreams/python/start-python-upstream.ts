/** Runs `server.py` (Python standard library only) as an upstream. */
import { fileURLToPath } from 'node:url';
import { startProcessUpstream } from '../process-upstream.js';
import type { DiffUpstream } from '../upstream.js';

const SERVER = fileURLToPath(new URL('./server.py', import.meta.url));

export function startPythonUpstream(pythonCommand = 'python3'): Promise<DiffUpstream> {
  return startProcessUpstream({
    name: 'python',
    description: 'Python http.server + json.loads(bytes)',
    command: pythonCommand,
    args: ['-X', 'utf8', SERVER],
    controlFlag: '--control',
    mcpPath: '/mcp',
    tools: ['echo', 'admin_delete', 'héllo'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
  });
}
