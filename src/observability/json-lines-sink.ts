/**
 * The JSON-lines audit sink: one record per line, to stdout or to a file rotated by size
 * (`audit.log` → `audit.log.1` → … → `audit.log.<keep>`, the oldest dropped). Lines are buffered
 * and written together once the current turn of the event loop ends, so a request never waits
 * for a disk; `flush`/`close` write out what is buffered.
 */
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { AuditSink } from './audit-trail.js';

/** Options of {@link createJsonLinesSink}. */
export type JsonLinesSinkOptions =
  | { kind: 'stdout'; write?: (text: string) => void }
  | {
      kind: 'file';
      path: string;
      /** Rotate before a write would take the file past this many bytes. */
      maxBytes: number;
      /** Rotated files kept (`path.1` … `path.<keep>`). */
      keep: number;
    };

/** Creates the sink; a file is opened (created, or appended to) at once, so a bad path fails at start. */
export function createJsonLinesSink(options: JsonLinesSinkOptions): AuditSink {
  const output = options.kind === 'stdout' ? stdoutOutput(options.write) : fileOutput(options.path, options.maxBytes, options.keep);
  let buffer: string[] = [];
  let scheduled = false;
  const flushNow = () => {
    scheduled = false;
    if (buffer.length === 0) return;
    const lines = buffer;
    buffer = [];
    output.write(lines);
  };
  return {
    write(_record, line) {
      buffer.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushNow);
      }
    },
    async flush() {
      flushNow();
    },
    async close() {
      flushNow();
      output.close();
    },
  };
}

interface Output {
  write(lines: readonly string[]): void;
  close(): void;
}

function stdoutOutput(write: ((text: string) => void) | undefined): Output {
  const out = write ?? ((text: string) => process.stdout.write(text));
  return { write: (lines) => out(`${lines.join('\n')}\n`), close() {} };
}

function fileOutput(path: string, maxBytes: number, keep: number): Output {
  if (!Number.isInteger(maxBytes) || maxBytes < 1024) throw new TypeError('audit file sink: maxBytes must be a whole number of at least 1024');
  if (!Number.isInteger(keep) || keep < 1) throw new TypeError('audit file sink: keep must be a whole number of at least 1');
  let fd = openSync(path, 'a', 0o600);
  let size = fstatSync(fd).size;
  const rotate = () => {
    closeSync(fd);
    rmSync(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i -= 1) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    renameSync(path, `${path}.1`);
    fd = openSync(path, 'a', 0o600);
    size = 0;
  };
  return {
    write(lines) {
      // Whole lines only: a rotation never splits a record between two files.
      let chunk = '';
      let chunkBytes = 0;
      for (const line of lines) {
        const bytes = Buffer.byteLength(line) + 1;
        if (size + chunkBytes + bytes > maxBytes && size + chunkBytes > 0) {
          if (chunk !== '') writeSync(fd, chunk);
          chunk = '';
          chunkBytes = 0;
          rotate();
        }
        chunk += `${line}\n`;
        chunkBytes += bytes;
      }
      if (chunk !== '') writeSync(fd, chunk);
      size += chunkBytes;
    },
    close() {
      closeSync(fd);
    },
  };
}
