/**
 * Loads the ioredis driver — an optional peer dependency: only deployments that configure Redis
 * (`replay: { kind: redis | redis-cluster }`) need it installed, and they are told what to install.
 */
import type { Cluster, Redis } from 'ioredis';

/** The driver's client classes. */
export interface IoredisDriver {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
}

/** @throws TypeError naming the package to install when it is missing. */
export async function importIoredis(): Promise<IoredisDriver> {
  try {
    const driver = await import('ioredis');
    return { Redis: driver.Redis, Cluster: driver.Cluster };
  } catch (error) {
    throw new TypeError('the Redis stores need the "ioredis" package: npm install ioredis', { cause: error });
  }
}
