/**
 * Checks the hash chains of `warden.audit/1` records: per instance run, sequence numbers follow
 * each other and each record's `prev` is the SHA-256 of the line before it. A gap in the sequence
 * is a cut (records removed); a broken link between consecutive records is an edit (of that line,
 * or of the `prev` after it); a sequence going back is a reordering or a repeated line.
 *
 * What a chain cannot show: records cut from the very end, or from before the first record given
 * (rotated files: pass them too, oldest first, to check across the rotation).
 */
import { AUDIT_SCHEMA, GENESIS_HASH } from './audit-event.js';
import { lineHash } from './audit-trail.js';

/** Where a log is not intact. */
export interface ChainProblem {
  kind: 'cut' | 'edited' | 'reordered' | 'malformed';
  /** File (as given) and 1-based line of the record where the problem shows. */
  file: string;
  line: number;
  /** `instance/run` of the chain. */
  chain?: string;
  message: string;
}

/** The verdict of {@link verifyAuditLog}. */
export interface ChainReport {
  intact: boolean;
  /** Records checked. */
  records: number;
  /** Chains seen (instance runs), with the range of sequence numbers each covers. */
  chains: Array<{ chain: string; first: number; last: number; complete: boolean }>;
  problems: ChainProblem[];
  /** Lines that are not audit records (other JSON logs on the same stream), skipped. */
  skipped: number;
}

interface ChainState {
  chain: string;
  first: number;
  lastSeq: number;
  lastHash: string;
  lastAt: { file: string; line: number };
}

/** One file's text, as given. */
export interface LogText {
  file: string;
  text: string;
}

/** Verifies the chains of the records in `logs` (oldest file first). */
export function verifyAuditLog(logs: readonly LogText[]): ChainReport {
  const chains = new Map<string, ChainState>();
  const problems: ChainProblem[] = [];
  let records = 0;
  let skipped = 0;
  for (const { file, text } of logs) {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((line, index) => {
      const at = { file, line: index + 1 };
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        // A line that was a record and no longer parses shows as a cut at the next record.
        skipped += 1;
        return;
      }
      if (record === null || typeof record !== 'object' || (record as { schema?: unknown }).schema !== AUDIT_SCHEMA) {
        skipped += 1;
        return;
      }
      const { instance, run, seq, prev } = record as Record<string, unknown>;
      if (typeof instance !== 'string' || typeof run !== 'string' || !Number.isInteger(seq) || typeof prev !== 'string' || !/^[0-9a-f]{64}$/.test(prev)) {
        problems.push({ kind: 'malformed', ...at, message: 'an audit record without a valid instance, run, seq and prev' });
        return;
      }
      records += 1;
      const chain = `${instance}/${run}`;
      const hash = lineHash(line);
      const n = seq as number;
      const state = chains.get(chain);
      if (state === undefined) {
        if (n === 0 && prev !== GENESIS_HASH) problems.push({ kind: 'edited', ...at, chain, message: `the first record of ${chain} does not start the chain (prev is not the genesis hash)` });
        chains.set(chain, { chain, first: n, lastSeq: n, lastHash: hash, lastAt: at });
        return;
      }
      const where = `${state.lastAt.file}:${state.lastAt.line}`;
      if (n <= state.lastSeq) {
        problems.push({ kind: 'reordered', ...at, chain, message: `seq ${n} comes after seq ${state.lastSeq} (${where}): a record was repeated or moved` });
      } else if (n > state.lastSeq + 1) {
        problems.push({ kind: 'cut', ...at, chain, message: `${n - state.lastSeq - 1} record(s) missing between seq ${state.lastSeq} (${where}) and seq ${n}: the log was cut here` });
      } else if (prev !== state.lastHash) {
        problems.push({ kind: 'edited', ...at, chain, message: `the record before (seq ${state.lastSeq}, ${where}) is not the one this record follows: it was edited (or this record's prev was)` });
      }
      state.lastSeq = Math.max(state.lastSeq, n);
      state.lastHash = hash;
      state.lastAt = at;
    });
  }
  return {
    intact: problems.length === 0,
    records,
    chains: [...chains.values()].map((s) => ({ chain: s.chain, first: s.first, last: s.lastSeq, complete: s.first === 0 })),
    problems,
    skipped,
  };
}
