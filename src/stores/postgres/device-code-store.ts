/** The PostgreSQL device-code store (RFC 8628): one row per device code, the record as JSON text. */
import type { DeviceCodeRecord, DeviceCodeStore } from '../authorization-server-contracts.js';
import { decideApproval, decidePoll, parseDeviceCode, serializeDeviceCode } from '../device-code-rules.js';
import type { PostgresDatabase, Queryable } from './authorization-server-database.js';

/** Each decision locks the row (`SELECT … FOR UPDATE`) until it is written: exactly one concurrent poll on any instance redeems. */
export function createPostgresDeviceCodeStore(db: PostgresDatabase, s: string): DeviceCodeStore {
  const read = async (q: Queryable, column: 'device_code_hash' | 'user_code_hash', key: string, lock: boolean): Promise<DeviceCodeRecord | undefined> =>
    parseDeviceCode((await q.query<{ data: string }>(`SELECT data FROM ${s}.device_codes WHERE ${column} = $1${lock ? ' FOR UPDATE' : ''}`, [key])).rows[0]?.data);
  const write = (q: Queryable, record: DeviceCodeRecord) => q.query(`UPDATE ${s}.device_codes SET data = $1 WHERE device_code_hash = $2`, [serializeDeviceCode(record), record.deviceCodeHash]);
  return {
    save: async (record) =>
      void (await db.query(`INSERT INTO ${s}.device_codes (device_code_hash, user_code_hash, data, expires_at) VALUES ($1, $2, $3, $4)`, [
        record.deviceCodeHash,
        record.userCodeHash,
        serializeDeviceCode(record),
        record.expiresAt,
      ])),
    findByUserCode: async (userCodeHash, now) => {
      const record = await read(db, 'user_code_hash', userCodeHash, false);
      return record !== undefined && record.expiresAt > now ? record : undefined;
    },
    decide: (userCodeHash, decision, now) =>
      db.transaction(async (tx) => {
        const next = decideApproval(await read(tx, 'user_code_hash', userCodeHash, true), decision, now);
        if (next === undefined) return false;
        await write(tx, next);
        return true;
      }),
    poll: (deviceCodeHash, now) =>
      db.transaction(async (tx) => {
        const { result, write: next } = decidePoll(await read(tx, 'device_code_hash', deviceCodeHash, true), now);
        if (next !== undefined) await write(tx, next);
        return result;
      }),
  };
}
