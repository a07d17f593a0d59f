import { openAccountCommand } from '../../shared/domain/commands.js';
import { accountFingerprint } from '../../shared/domain/ledger.js';
import type { LedgerService } from '../../shared/services/ledger-service.js';
import { asRecords } from '../helpers/ledger-records.js';

/** Opens accounts as the consumer does: `open_account` commands applied through LedgerService. */
export async function openAccounts(
  service: LedgerService,
  region: string,
  specs: readonly { readonly id: string; readonly overdraftLimit: bigint; readonly currency?: string }[],
): Promise<void> {
  const at = new Date().toISOString();
  const commands = specs.map((s) => {
    const spec = { id: s.id, currency: s.currency ?? 'USD', overdraftLimit: s.overdraftLimit };
    return openAccountCommand(spec, region, accountFingerprint(spec), at);
  });
  const { outcomes, failedFrom } = await service.handleBatch(asRecords(commands));
  if (failedFrom !== undefined || outcomes.some((o) => o?.status !== 'opened' && o?.status !== 'duplicate')) {
    throw new Error(`opening accounts failed: ${JSON.stringify(outcomes)}`);
  }
}
