/**
 * The decisions of the device-code store (RFC 8628), shared by every backend: each reads the
 * record under its own lock, asks these what to answer and what to write, and writes that.
 */
import type { DeviceCodeRecord, DevicePollResult } from './authorization-server-contracts.js';

/** RFC 8628 §3.5: every `slow_down` raises the polling interval by 5 seconds. */
export const SLOW_DOWN_STEP_SECONDS = 5;

/** What one poll answers, and the record to write back (undefined: nothing changes). */
export interface PollDecision {
  result: DevicePollResult;
  write: DeviceCodeRecord | undefined;
}

/** The poll rule of `DeviceCodeStore.poll` (see the contract). */
export function decidePoll(record: DeviceCodeRecord | undefined, now: number): PollDecision {
  if (record === undefined) return { result: { state: 'unknown' }, write: undefined };
  if (record.expiresAt <= now) return { result: { state: 'expired' }, write: undefined };
  switch (record.status) {
    case 'redeemed':
      return { result: { state: 'redeemed' }, write: undefined };
    case 'denied':
      return { result: { state: 'denied' }, write: undefined };
    case 'approved': {
      const redeemed: DeviceCodeRecord = { ...record, status: 'redeemed', lastPolledAt: now };
      return { result: { state: 'approved', record: { ...record, scopes: [...record.scopes] } }, write: redeemed };
    }
    case 'pending': {
      if (record.lastPolledAt !== undefined && now - record.lastPolledAt < record.interval) {
        const interval = record.interval + SLOW_DOWN_STEP_SECONDS;
        return { result: { state: 'slow_down', interval }, write: { ...record, interval, lastPolledAt: now } };
      }
      return { result: { state: 'pending' }, write: { ...record, lastPolledAt: now } };
    }
  }
}

/** The decide rule of `DeviceCodeStore.decide`: the record to write, or undefined when it is not a live pending one. */
export function decideApproval(
  record: DeviceCodeRecord | undefined,
  decision: { approved: true; subject: string; scopes: string[]; authTime: number } | { approved: false },
  now: number,
): DeviceCodeRecord | undefined {
  if (record === undefined || record.expiresAt <= now || record.status !== 'pending') return undefined;
  if (!decision.approved) return { ...record, status: 'denied' };
  return { ...record, status: 'approved', subject: decision.subject, scopes: [...decision.scopes], authTime: decision.authTime };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const STATUSES: ReadonlySet<string> = new Set(['pending', 'approved', 'denied', 'redeemed']);

/** Serialises a record for a JSON column. */
export function serializeDeviceCode(record: DeviceCodeRecord): string {
  return JSON.stringify(record);
}

/** Reads a record back from its JSON column; anything not exactly our shape is absent. */
export function parseDeviceCode(text: string | undefined): DeviceCodeRecord | undefined {
  if (text === undefined) return undefined;
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof d !== 'object' || d === null) return undefined;
  if (!isString(d.deviceCodeHash) || !isString(d.userCodeHash) || !isString(d.clientId) || !isString(d.resource) || !isString(d.grantId)) return undefined;
  if (!Array.isArray(d.scopes) || !d.scopes.every(isString) || !isNumber(d.interval) || !isNumber(d.expiresAt)) return undefined;
  if (!isString(d.status) || !STATUSES.has(d.status)) return undefined;
  const out: DeviceCodeRecord = {
    deviceCodeHash: d.deviceCodeHash,
    userCodeHash: d.userCodeHash,
    clientId: d.clientId,
    resource: d.resource,
    scopes: [...d.scopes],
    interval: d.interval,
    status: d.status as DeviceCodeRecord['status'],
    grantId: d.grantId,
    expiresAt: d.expiresAt,
  };
  if (isNumber(d.lastPolledAt)) out.lastPolledAt = d.lastPolledAt;
  if (isString(d.subject)) out.subject = d.subject;
  if (isNumber(d.authTime)) out.authTime = d.authTime;
  return out;
}
