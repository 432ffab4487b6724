/** `warden token`: mints a development access token for a running stack (reads its stack.json). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mintAccessToken } from '../dev-issuer/index.js';
import { STACK_FILE, type StackInfo } from '../server/stack-file.js';

/** Options of {@link tokenCommand}, as commander parses them. */
export interface TokenCommandOptions {
  stateDir: string;
  resource?: string;
  issuer?: string;
  scope: string;
  sub: string;
  clientId: string;
  jkt?: string;
  lifetime: number;
}

/** A command failed for a reason the user can fix; the message says how. */
export class UsageError extends Error {
  override name = 'UsageError';
}

async function readStackInfo(stateDir: string): Promise<StackInfo | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, STACK_FILE), 'utf8')) as StackInfo;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${join(stateDir, STACK_FILE)}: ${(error as Error).message}`);
  }
}

/** Returns the token (the caller prints it alone, for piping). */
export async function tokenCommand(options: TokenCommandOptions): Promise<string> {
  const info = await readStackInfo(options.stateDir);
  const issuer = options.issuer ?? info?.issuer;
  const resource = options.resource ?? info?.resources[0]?.url;
  if (issuer === undefined || resource === undefined) {
    throw new UsageError(
      `no running stack found in ${options.stateDir} (no ${STACK_FILE}): start one with "warden start --state-dir ${options.stateDir}", or pass --issuer and --resource`,
    );
  }
  try {
    return await mintAccessToken({
      stateDir: options.stateDir,
      issuer,
      audience: resource,
      scope: options.scope,
      subject: options.sub,
      clientId: options.clientId,
      ...(options.jkt === undefined ? {} : { jkt: options.jkt }),
      lifetimeSeconds: options.lifetime,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
