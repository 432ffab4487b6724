/**
 * Builds `main.go` with the local Go toolchain (standard library only: no module downloads,
 * GOPROXY=off, caches in a temporary directory) and runs it as an upstream.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startProcessUpstream } from '../process-upstream.js';
import type { DiffUpstream } from '../upstream.js';

const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));

export async function startGoUpstream(goCommand = 'go'): Promise<DiffUpstream> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-upstream-go-'));
  const binary = join(dir, 'upstream-go');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOCACHE: join(dir, 'gocache'),
    GOPATH: join(dir, 'gopath'),
    GOPROXY: 'off',
    GOFLAGS: '-mod=mod',
    GO111MODULE: 'on',
    GOWORK: 'off',
    GOTOOLCHAIN: 'local',
  };
  try {
    await promisify(execFile)(goCommand, ['build', '-o', binary, '.'], { cwd: SOURCE_DIR, env, timeout: 120_000 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const { stderr } = error as { stderr?: string };
    throw new Error(`go build of ${SOURCE_DIR} failed: ${(error as Error).message}\n${stderr ?? ''}`);
  }
  return startProcessUpstream({
    name: 'go',
    description: 'Go net/http + encoding/json (as mcp-go), routes by Mcp-Method/Mcp-Name',
    command: binary,
    args: [],
    controlFlag: '-control',
    mcpPath: '/mcp',
    tools: ['echo', 'admin_delete', 'héllo'],
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
}
