/**
 * The import graph runs one way: each folder of `src/` imports only from folders below it (the
 * README's layout table), and the CLI reaches Warden only through the stack, the configuration
 * and the audit tool. A new arrow upwards — or sideways between peers — fails here, not in review.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Lower numbers are lower layers; a folder may import from strictly lower ranks (and itself). */
const RANK: Readonly<Record<string, number>> = {
  oauth: 0,
  mcp: 1,
  jose: 1,
  stores: 1,
  observability: 1,
  dpop: 2,
  'resource-server': 3,
  'authorization-server': 3,
  client: 3,
  gateway: 4,
  audit: 4,
  admin: 4,
  config: 5,
  stack: 6,
  cli: 7,
};

/** The CLI parses arguments and prints: it reaches Warden only through these. */
const CLI_MAY_IMPORT = new Set(['stack', 'config', 'audit']);

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.ts$/.test(entry.name) && !/\.(test|conformance)\.ts$/.test(entry.name) ? [path] : [];
  });
}

function edges(): Array<{ file: string; from: string; to: string }> {
  const out: Array<{ file: string; from: string; to: string }> = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file).split('/')[0] as string;
    if (!(from in RANK)) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(SRC, resolve(dirname(file), match[1] as string));
      const to = target.split('/')[0] as string;
      if (to !== from) out.push({ file: relative(SRC, file), from, to });
    }
  }
  return out;
}

describe('layers (README: Layout)', () => {
  const all = edges();

  it('every folder of src/ has a rank', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !(f in RANK))).toEqual([]);
  });

  it('no import runs up a layer or sideways between peers', () => {
    const wrong = all.filter(({ from, to }) => !(to in RANK) || (RANK[to] as number) >= (RANK[from] as number));
    expect(wrong.map(({ file, to }) => `${file} → ${to}`)).toEqual([]);
  });

  it('the CLI imports only the stack, the configuration and the audit tool', () => {
    const wrong = all.filter(({ from, to }) => from === 'cli' && !CLI_MAY_IMPORT.has(to));
    expect(wrong.map(({ file, to }) => `${file} → ${to}`)).toEqual([]);
  });
});
