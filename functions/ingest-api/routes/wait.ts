import type { Transfer, TransferStatus } from '../../../shared/domain/ledger.js';
import type { IngestService } from '../../../shared/services/ingest-service.js';

export interface WaitedAnswer {
  readonly httpStatus: 200 | 202;
  readonly transfer: Transfer;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Honours `Prefer: wait=N` after an outcome that would answer 202: waits (bounded by the service)
 * until the transfer leaves `from`, then answers 200 with its final state, or 202 with its current
 * one if the wait ended first. A 200-worthy outcome, or no preference, answers as it is.
 */
export async function answerAfterWait(
  service: IngestService,
  answer: { readonly httpStatus: 200 | 202; readonly transfer: Transfer },
  waitSeconds: number | undefined,
  from: readonly TransferStatus[],
): Promise<WaitedAnswer> {
  if (answer.httpStatus === 200 || waitSeconds === undefined) return { ...answer, headers: {} };
  const latest = (await service.waitForTransfer(answer.transfer.id, waitSeconds, from)) ?? answer.transfer;
  return {
    httpStatus: from.includes(latest.status) ? 202 : 200,
    transfer: latest,
    headers: { 'Preference-Applied': `wait=${waitSeconds}` },
  };
}
