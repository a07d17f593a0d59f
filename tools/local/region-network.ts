import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';

/** Listeners of one network at most: a leak (a replicator never stopped) fails loudly instead. */
export const NETWORK_LISTENERS_MAX = 100;
/** The gated handler's own inner handler, when none is given: fail fast on a dead endpoint. */
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** What changed; listeners are told after the change, so `isReachable` already answers the new way. */
export type NetworkChange =
  | { readonly kind: 'down' | 'up'; readonly region: string }
  | { readonly kind: 'partition' | 'heal' };

export type NetworkListener = (change: NetworkChange) => void;

/**
 * Reachability between the regions of the local multi-region simulation. A region is up or down;
 * a partition separates every region from every other. Nothing is sent anywhere: the replicator
 * and the gated request handler ask before they talk.
 *
 * A region reaches itself while it is up; two regions reach each other while both are up and the
 * network is not partitioned.
 *
 * @example
 * const network = new RegionNetwork();
 * network.partition();
 * network.isReachable('us-east-2', 'eu-west-1'); // false
 * network.isReachable('us-east-2', 'us-east-2'); // true
 * network.heal();
 */
export class RegionNetwork {
  private readonly downRegions = new Set<string>();
  private partitioned = false;
  private readonly listeners = new Set<NetworkListener>();

  /** Takes `region` down: nothing reaches it and it reaches nothing, not even itself. */
  down(region: string): void {
    assertRegion(region);
    if (this.downRegions.has(region)) return;
    this.downRegions.add(region);
    this.emit({ kind: 'down', region });
  }

  up(region: string): void {
    assertRegion(region);
    if (!this.downRegions.delete(region)) return;
    this.emit({ kind: 'up', region });
  }

  /** Cuts every region off from every other (each still reaches itself). */
  partition(): void {
    if (this.partitioned) return;
    this.partitioned = true;
    this.emit({ kind: 'partition' });
  }

  heal(): void {
    if (!this.partitioned) return;
    this.partitioned = false;
    this.emit({ kind: 'heal' });
  }

  isUp(region: string): boolean {
    return !this.downRegions.has(region);
  }

  isPartitioned(): boolean {
    return this.partitioned;
  }

  isReachable(from: string, to: string): boolean {
    if (!this.isUp(from) || !this.isUp(to)) return false;
    return from === to || !this.partitioned;
  }

  /**
   * Calls `listener` after every change (a call that changes nothing is not a change). A listener
   * must not throw. Returns the unsubscribe function.
   */
  onChange(listener: NetworkListener): () => void {
    if (this.listeners.size >= NETWORK_LISTENERS_MAX && !this.listeners.has(listener)) {
      throw new RangeError(`more than ${NETWORK_LISTENERS_MAX} listeners on one network: unsubscribe first`);
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(change: NetworkChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
}

function assertRegion(region: string): void {
  if (region.length === 0) throw new RangeError('region must not be empty');
}

type HandleRequest = Parameters<NodeHttpHandler['handle']>[0];
type HandleOptions = Parameters<NodeHttpHandler['handle']>[1];
type HandleResult = Awaited<ReturnType<NodeHttpHandler['handle']>>;

/**
 * The SDK request handler a client in region `from` uses to call a service in region `to`: it
 * delegates to `inner` while `to` is reachable from `from`, and otherwise fails the call as Node
 * fails a refused connection (an Error named `Error` with `code` `ECONNREFUSED`), which the SDK's
 * retry and `isTransientAwsError` both treat as transient. Reachability is checked when a request
 * starts; a request already sent when the network changes completes.
 */
export class GatedHttpHandler {
  readonly metadata: { readonly handlerProtocol: string };

  constructor(
    private readonly network: RegionNetwork,
    readonly from: string,
    readonly to: string,
    private readonly inner: NodeHttpHandler,
  ) {
    this.metadata = { handlerProtocol: inner.metadata.handlerProtocol };
  }

  async handle(request: HandleRequest, options?: HandleOptions): Promise<HandleResult> {
    if (!this.network.isReachable(this.from, this.to)) throw connectionRefused(this.from, this.to);
    return this.inner.handle(request, options);
  }

  updateHttpClientConfig<K extends keyof NodeHttpHandlerOptions>(
    key: K,
    value: NodeHttpHandlerOptions[K],
  ): void {
    this.inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): NodeHttpHandlerOptions {
    return this.inner.httpHandlerConfigs();
  }

  /** Closes the inner handler's sockets (the SDK client's `destroy()` calls this). */
  destroy(): void {
    this.inner.destroy();
  }
}

/**
 * A {@link GatedHttpHandler} for a client in region `from` calling region `to`. Without `inner`,
 * a NodeHttpHandler of its own (HTTP/1.1, 2 s connection and 10 s request timeouts).
 *
 * @example
 * const dynamodb = new DynamoDBClient({
 *   region: 'eu-west-1',
 *   requestHandler: gatedRequestHandler(network, 'us-east-2', 'eu-west-1'),
 * });
 */
export function gatedRequestHandler(
  network: RegionNetwork,
  from: string,
  to: string,
  inner?: NodeHttpHandler,
): GatedHttpHandler {
  assertRegion(from);
  assertRegion(to);
  const handler =
    inner ??
    new NodeHttpHandler({ connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS });
  return new GatedHttpHandler(network, from, to, handler);
}

/** Shaped like Node's own refused connection, so every classifier sees a network failure. */
function connectionRefused(from: string, to: string): Error {
  return Object.assign(new Error(`connect ECONNREFUSED: region ${to} is not reachable from ${from}`), {
    code: 'ECONNREFUSED',
    errno: -111,
    syscall: 'connect',
  });
}
