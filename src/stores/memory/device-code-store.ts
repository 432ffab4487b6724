/** The in-memory device-code store (RFC 8628), part of the memory authorization-server stores. */
import type { DeviceCodeRecord, DeviceCodeStore } from '../authorization-server-contracts.js';
import { decideApproval, decidePoll } from '../device-code-rules.js';
import { StoreConflictError } from '../store-conflict-error.js';

/** The store, with what its owner needs to purge and clear it. */
export interface MemoryDeviceCodes {
  store: DeviceCodeStore;
  /** Deletes expired records; returns how many went. */
  purge(now: number): number;
  clear(): void;
}

/**
 * Creates the device-code table of the memory stores. `atomically` is the owner's guard: it
 * rejects once the stores are closed and runs each decision in one synchronous section.
 */
export function createMemoryDeviceCodes(atomically: <T>(operation: () => T) => Promise<T>): MemoryDeviceCodes {
  const byDevice = new Map<string, DeviceCodeRecord>();
  const byUser = new Map<string, string>();
  const store: DeviceCodeStore = {
    save: (record) =>
      atomically(() => {
        if (byDevice.has(record.deviceCodeHash) || byUser.has(record.userCodeHash)) throw new StoreConflictError('a device code with that device or user code is already stored');
        byDevice.set(record.deviceCodeHash, structuredClone(record));
        byUser.set(record.userCodeHash, record.deviceCodeHash);
      }),
    findByUserCode: (userCodeHash, now) =>
      atomically(() => {
        const record = lookup(userCodeHash);
        return record !== undefined && record.expiresAt > now ? structuredClone(record) : undefined;
      }),
    decide: (userCodeHash, decision, now) =>
      atomically(() => {
        const write = decideApproval(lookup(userCodeHash), decision, now);
        if (write === undefined) return false;
        byDevice.set(write.deviceCodeHash, write);
        return true;
      }),
    poll: (deviceCodeHash, now) =>
      atomically(() => {
        const { result, write } = decidePoll(byDevice.get(deviceCodeHash), now);
        if (write !== undefined) byDevice.set(deviceCodeHash, write);
        return result;
      }),
  };
  function lookup(userCodeHash: string): DeviceCodeRecord | undefined {
    const deviceCodeHash = byUser.get(userCodeHash);
    return deviceCodeHash === undefined ? undefined : byDevice.get(deviceCodeHash);
  }
  return {
    store,
    purge: (now) => {
      let removed = 0;
      for (const [hash, record] of byDevice) {
        if (record.expiresAt > now) continue;
        byDevice.delete(hash);
        byUser.delete(record.userCodeHash);
        removed += 1;
      }
      return removed;
    },
    clear: () => {
      byDevice.clear();
      byUser.clear();
    },
  };
}
