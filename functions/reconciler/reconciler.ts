import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { KinesisCommandQueue } from '../../shared/adapters/kinesis-command-queue.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { type ReconcileResult, ReconcileService } from '../../shared/services/reconcile-service.js';

/** Wires the reconciler over the real adapters (the scheduled Lambda and the local stack). */
export function buildReconciler(
  config: RuntimeConfig,
  options: { graceMs?: number } = {},
): () => Promise<ReconcileResult> {
  const { dynamodb, kinesis } = createClients(config);
  const service = new ReconcileService(
    new DynamoLedgerStore(dynamodb, config.tableName),
    new KinesisCommandQueue(kinesis, config.streamName),
    options.graceMs,
  );
  return () => service.runOnce();
}
