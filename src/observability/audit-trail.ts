/**
 * The audit trail of one instance: stamps each event body with the instance, its run, a sequence
 * number and the time, chains it to the record before (`prev` is the SHA-256 of the previous
 * record's line), and hands record and line to the sinks. Removing, reordering or editing a line
 * breaks the chain where it happened ({@link verifyAuditLog} says where).
 */
import { createHash, randomBytes } from 'node:crypto';
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
  return createHash('sha256').update(line).digest('hex');
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
  return {
    instance,
    run,
    emit(body) {
      // Stamp first (so a body cannot overwrite them), then the body, then the link to the chain.
      const record = { schema: AUDIT_SCHEMA, instance, run, seq, time: new Date(now()).toISOString(), ...body, prev } as AuditRecord;
      record.schema = AUDIT_SCHEMA;
      record.seq = seq;
      const line = JSON.stringify(record);
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
