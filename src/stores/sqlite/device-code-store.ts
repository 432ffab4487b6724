/** The SQLite device-code store (RFC 8628): one row per device code, the record as JSON. */
import type BetterSqlite3 from 'better-sqlite3';
import type { DeviceCodeRecord, DeviceCodeStore } from '../authorization-server-contracts.js';
import { decideApproval, decidePoll, parseDeviceCode, serializeDeviceCode } from '../device-code-rules.js';
import type { Guard } from './authorization-server-database.js';

/** Each decision reads and writes under the write lock (`BEGIN IMMEDIATE`): exactly one concurrent poll redeems. */
export function createSqliteDeviceCodeStore(db: BetterSqlite3.Database, call: Guard): DeviceCodeStore {
  const insert = db.prepare<[string, string, string, number]>('INSERT INTO device_codes (device_code_hash, user_code_hash, data, expires_at) VALUES (?, ?, ?, ?)');
  const byDevice = db.prepare<[string], string>('SELECT data FROM device_codes WHERE device_code_hash = ?').pluck();
  const byUser = db.prepare<[string], string>('SELECT data FROM device_codes WHERE user_code_hash = ?').pluck();
  const update = db.prepare<[string, string]>('UPDATE device_codes SET data = ? WHERE device_code_hash = ?');
  const write = (record: DeviceCodeRecord): void => void update.run(serializeDeviceCode(record), record.deviceCodeHash);
  const poll = db.transaction((deviceCodeHash: string, now: number) => {
    const decision = decidePoll(parseDeviceCode(byDevice.get(deviceCodeHash)), now);
    if (decision.write !== undefined) write(decision.write);
    return decision.result;
  });
  const decide = db.transaction((userCodeHash: string, decision: Parameters<DeviceCodeStore['decide']>[1], now: number) => {
    const next = decideApproval(parseDeviceCode(byUser.get(userCodeHash)), decision, now);
    if (next === undefined) return false;
    write(next);
    return true;
  });
  return {
    save: (record) => call(() => void insert.run(record.deviceCodeHash, record.userCodeHash, serializeDeviceCode(record), record.expiresAt)),
    findByUserCode: (userCodeHash, now) =>
      call(() => {
        const record = parseDeviceCode(byUser.get(userCodeHash));
        return record !== undefined && record.expiresAt > now ? record : undefined;
      }),
    decide: (userCodeHash, decision, now) => call(() => decide.immediate(userCodeHash, decision, now)),
    poll: (deviceCodeHash, now) => call(() => poll.immediate(deviceCodeHash, now)),
  };
}
