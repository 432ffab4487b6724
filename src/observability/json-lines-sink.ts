/**
 * The JSON-lines audit sink: one record per line, to stdout or to a file rotated by size
 * (`audit.log` → `audit.log.1` → … → `audit.log.<keep>`, the oldest dropped). Lines are buffered
 * and written together at most 10 ms later (or at once past 64 KiB), so a request never waits for
 * a disk and many records share one write; `flush`/`close` write out what is buffered, and so does
 * the process's `exit`.
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

/** How long a line may wait in memory before it is written: writes are batched across requests. */
const FLUSH_AFTER_MS = 10;
/** Buffered text that is written at once, without waiting for the timer. */
const FLUSH_AT_CHARS = 64 * 1024;

/** Sinks with lines buffered, written out synchronously if the process exits before their timer. */
const pending = new Set<() => void>();
let exitHookInstalled = false;
function flushPendingAtExit(): void {
  for (const flush of [...pending]) {
    try {
      flush();
    } catch {
      // Exiting anyway: a sink that cannot write must not turn a clean exit into a crash.
    }
  }
}

/** Creates the sink; a file is opened (created, or appended to) at once, so a bad path fails at start. */
export function createJsonLinesSink(options: JsonLinesSinkOptions): AuditSink {
  const output = options.kind === 'stdout' ? stdoutOutput(options.write) : fileOutput(options.path, options.maxBytes, options.keep);
  let buffer: string[] = [];
  let chars = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // One write per batch, not per record: a write(2) costs about as much as building the record.
  const flushNow = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    pending.delete(flushNow);
    if (buffer.length === 0) return;
    const lines = buffer;
    buffer = [];
    chars = 0;
    output.write(lines);
  };
  return {
    write(_record, line) {
      buffer.push(line);
      chars += line.length + 1;
      if (chars >= FLUSH_AT_CHARS) flushNow();
      else if (timer === undefined) {
        timer = setTimeout(flushNow, FLUSH_AFTER_MS);
        // The timer does not keep the process alive; an exit writes the buffer out instead.
        timer.unref();
        pending.add(flushNow);
        if (!exitHookInstalled) {
          exitHookInstalled = true;
          process.once('exit', flushPendingAtExit);
        }
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
