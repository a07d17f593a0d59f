import { randomUUID } from 'node:crypto';
import {
  encodeCommand,
  type LedgerCommand,
  partitionKeyOf,
  transferCommand,
} from '../../shared/domain/commands.js';
import { type TransferRequest, transferFingerprint } from '../../shared/domain/ledger.js';
import type { TransferRecorder } from '../../shared/ports/ledger-store.js';
import type { StreamRecord } from '../../shared/services/ledger-service.js';

/** Commands as the stream would carry them, each with a unique record id. */
export function asRecords(commands: readonly LedgerCommand[]): StreamRecord[] {
  return commands.map((c) => ({
    id: `rec-${randomUUID()}`,
    partitionKey: partitionKeyOf(c),
    data: encodeCommand(c),
  }));
}

/** Records a transfer ACCEPTED, as the ingest does, and returns its stream command. */
export async function acceptTransfer(
  recorder: TransferRecorder,
  request: TransferRequest,
  at = new Date().toISOString(),
) {
  const fingerprint = transferFingerprint(request);
  await recorder.recordAccepted(request, fingerprint, at);
  return transferCommand(request, fingerprint, at);
}
