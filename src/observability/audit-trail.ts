/**
 * The audit trail of one instance: stamps each event body with the instance, its run, a sequence
 * number and the time, chains it to the record before (`prev` is the SHA-256 of the previous
 * record's line), and hands record and line to the sinks. Removing, reordering or editing a line
 * breaks the chain where it happened ({@link verifyAuditLog} says where).
 */
import { hash, randomBytes } from 'node:crypto';
import { AUDIT_SCHEMA, GENESIS_HASH, type AuditEventBody, type AuditRecord } from './audit-event.js';

/** Where records go. `write` must not throw (what it throws is ignored) and should not block. */
export interface AuditSink {
  /** One record and its line (the exact bytes the chain hashes, without newline). */
  write(record: Readonly<AuditRecord>, line: string): void;
  /** Writes out what is buffered. */
  flush?(): Promise<void>;
  /** Flushes and releases the sink. */
  close?(): Promise<void>;
}

/** Options of {@link createAuditTrail}. */
export interface AuditTrailOptions {
  /** Name of this instance (e.g. the host name); several instances may write to one collector. */
  instance: string;
  sinks: readonly AuditSink[];
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

/** Records audit events, chained. */
export interface AuditTrail {
  readonly instance: string;
  /** This process's run: a new chain starts with every start. */
  readonly run: string;
  /** Stamps, chains and writes one event; returns the record written. */
  emit(body: AuditEventBody): Readonly<AuditRecord>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** SHA-256 (hex) of a record's line: what the next record carries as `prev`. */
export function lineHash(line: string): string {
  // One-shot: no Hash object per record (about a third of createHash's cost for a 600-byte line).
  return hash('sha256', line, 'hex');
}

/** The keys the trail stamps; a body that carries one takes the slow path so the stamps still win. */
const STAMPS = ['schema', 'instance', 'run', 'seq', 'time', 'prev'] as const;

function hasStamp(body: AuditEventBody): boolean {
  for (const key of STAMPS) if (Object.hasOwn(body, key)) return true;
  return false;
}

/** RFC 3339 UTC time of `ms`; consecutive records mostly share a millisecond, so the last is kept. */
function isoTimeCache(): (ms: number) => string {
  let lastMs = Number.NaN;
  let last = '';
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms;
      last = new Date(ms).toISOString();
    }
    return last;
  };
}

/** Creates the trail; each call starts a new chain (a new `run`). */
export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { instance, sinks } = options;
  if (typeof instance !== 'string' || instance.length === 0 || instance.length > 256) throw new TypeError('createAuditTrail: instance must be a non-empty string of at most 256 characters');
  const now = options.now ?? Date.now;
  const run = randomBytes(8).toString('hex');
  let seq = 0;
  let prev = GENESIS_HASH;
  let closed = false;
  const isoTime = isoTimeCache();
  // The stamps before the body, serialized once: a record's line is this prefix, seq, time, the
  // body's own JSON and prev — the same bytes JSON.stringify(record) gives, for one stringify of
  // the body only.
  const head = `{"schema":${JSON.stringify(AUDIT_SCHEMA)},"instance":${JSON.stringify(instance)},"run":${JSON.stringify(run)},"seq":`;
  return {
    instance,
    run,
    emit(body) {
      const time = isoTime(now());
      let record: AuditRecord;
      let line: string;
      if (hasStamp(body)) {
        // Stamps win over a body's own keys of the same name.
        const rest: Record<string, unknown> = { ...body };
        for (const key of STAMPS) delete rest[key];
        record = { schema: AUDIT_SCHEMA, instance, run, seq, time, ...(rest as unknown as AuditEventBody), prev };
        line = JSON.stringify(record);
      } else {
        record = { schema: AUDIT_SCHEMA, instance, run, seq, time, ...body, prev };
        const json = JSON.stringify(body);
        line = `${head}${seq},"time":"${time}"${json.length > 2 ? `,${json.slice(1, -1)}` : ''},"prev":"${prev}"}`;
      }
      seq += 1;
      prev = lineHash(line);
      if (closed) return record;
      for (const sink of sinks) {
        try {
          sink.write(record, line);
        } catch {
          // A sink must never break a request; the chain shows the gap if a write was lost.
        }
      }
      return record;
    },
    async flush() {
      await Promise.allSettled(sinks.map((sink) => sink.flush?.()));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled(sinks.map((sink) => sink.close?.()));
    },
  };
}
