import { type RegionWiringOptions, wireRegions } from '../../shared/adapters/regions.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { CommandRouter } from '../../shared/services/command-router.js';
import { type ReconcileResult, ReconcileService } from '../../shared/services/reconcile-service.js';

/** Wires the reconciler over the real adapters (the scheduled Lambda and the local stack). */
export function buildReconciler(
  config: RuntimeConfig,
  options: { graceMs?: number } & RegionWiringOptions = {},
): () => Promise<ReconcileResult> {
  const wired = wireRegions(config, options);
  const service = new ReconcileService(wired.store, wired.queue, options.graceMs, undefined, {
    region: config.ledgerRegion,
    homesOf: wired.regions.homesOf,
    sender: new CommandRouter(wired.regions),
  });
  return () => service.runOnce();
}
