import type { RuntimeConfig } from '../config.js';
import type { Regions } from '../ports/regions.js';
import { type AwsClients, createClients, type SdkRequestHandler } from './clients.js';
import { DynamoLedgerStore } from './dynamo-ledger-store.js';
import { KinesisCommandQueue } from './kinesis-command-queue.js';

export interface RegionWiringOptions {
  /** The SDK request handler for calls to a region (the local simulation models reachability). */
  readonly requestHandlerFor?: (targetRegion: string) => SdkRequestHandler | undefined;
  /**
   * Called with each region's clients once created (the bench attaches its request recorder here,
   * so that what it measures is what this wiring sends).
   */
  readonly onClients?: (targetRegion: string, clients: AwsClients) => void;
}

export interface WiredRegions {
  readonly regions: Regions;
  /** This region's store and queue. */
  readonly store: DynamoLedgerStore;
  readonly queue: KinesisCommandQueue;
  /** Closes every client's sockets. */
  destroy(): void;
}

/**
 * The data plane of every region of the deployment, as seen from this one: one DynamoDB client
 * (its table replica) and one Kinesis client (its stream) per region. The local replica answers
 * where each account is homed. Every item written is stamped with the region of the replica it lands in.
 */
export function wireRegions(config: RuntimeConfig, options: RegionWiringOptions = {}): WiredRegions {
  const clients: AwsClients[] = [];
  const endpoints = new Map<string, { store: DynamoLedgerStore; queue: KinesisCommandQueue }>();
  for (const [region, names] of config.regions) {
    const handler = options.requestHandlerFor?.(region);
    const c = createClients(config, {
      region: region === config.ledgerRegion ? config.awsRegion : region,
      ...(handler === undefined ? {} : { requestHandler: handler }),
    });
    clients.push(c);
    options.onClients?.(region, c);
    endpoints.set(region, {
      // A write is stamped with the replica it lands in (as a global table orders writes per replica).
      store: new DynamoLedgerStore(c.dynamodb, names.tableName, undefined, { region }),
      queue: new KinesisCommandQueue(c.kinesis, names.streamName),
    });
  }
  const local = endpoints.get(config.ledgerRegion);
  if (local === undefined) throw new Error(`no resources for the local region ${config.ledgerRegion}`);
  const regions: Regions = {
    local: config.ledgerRegion,
    names: [...config.regions.keys()],
    endpoint: (region) => {
      const e = endpoints.get(region);
      if (e === undefined) throw new RangeError(`region ${region} is not part of this deployment`);
      return { region, reader: e.store, recorder: e.store, queue: e.queue };
    },
    homesOf: async (accountIds) => {
      // One region: every account is homed here, no read needed.
      if (accountIds.length === 0 || config.regions.size === 1) return new Map();
      const state = await local.store.readState({ accounts: accountIds, transfers: [] });
      return new Map([...state.accounts.values()].map((a) => [a.id, a.homeRegion]));
    },
  };
  return {
    regions,
    store: local.store,
    queue: local.queue,
    destroy: () => {
      for (const c of clients) {
        c.dynamodb.destroy();
        c.kinesis.destroy();
      }
    },
  };
}
