import type { CommandQueue } from './command-queue.js';
import type { LedgerReader, TransferRecorder } from './ledger-store.js';

/** One region's data plane as seen from here: its table replica and its stream. */
export interface RegionEndpoint {
  readonly region: string;
  readonly reader: LedgerReader;
  readonly recorder: TransferRecorder;
  readonly queue: CommandQueue;
}

/**
 * The regions of the deployment. Every account has one home region; the local region's replica
 * says where (it may lag the home by the replication delay).
 */
export interface Regions {
  /** The region this code runs in (its consumer writes the accounts homed here). */
  readonly local: string;
  /** Every region of the deployment, the local one included. */
  readonly names: readonly string[];
  /** Throws for a region that is not part of the deployment. */
  endpoint(region: string): RegionEndpoint;
  /** The home region of each account the local replica knows (unknown ids are absent). */
  homesOf(accountIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** A deployment of one region: everything is local. */
export function singleRegion(endpoint: RegionEndpoint, homes: Regions['homesOf']): Regions {
  return {
    local: endpoint.region,
    names: [endpoint.region],
    endpoint: (region) => {
      if (region !== endpoint.region) throw new RangeError(`unknown region ${region}`);
      return endpoint;
    },
    homesOf: homes,
  };
}
