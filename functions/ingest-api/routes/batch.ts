import { ATOMIC_LEGS_MAX } from '../../../shared/domain/commands.js';
import { type Transfer, type TransferRequest, TransferStatus } from '../../../shared/domain/ledger.js';
import type { IngestService, SubmitOutcome } from '../../../shared/services/ingest-service.js';
import {
  errorObject,
  idempotencyConflict,
  issueDetails,
  renderPath,
  serviceUnavailable,
  validationFailed,
} from '../errors.js';
import type { LiteralViolation } from '../json-guard.js';
import { BATCH_BODY_BYTES_MAX, jsonBody } from '../middleware.js';
import {
  BatchBody,
  BatchEnvelope,
  BatchResponse,
  type BatchResultView,
  type ErrorDetail,
  Identifier,
  TransferBody,
} from '../schemas.js';
import { transferRequestOf, transferView } from '../views.js';
import { defineRoute, type RouteRegistrar } from './registrar.js';
import { errorResponse, errorResponses, jsonRequest, jsonResponse } from './responses.js';
import { AUTHENTICATED } from './security.js';
import { submitAnswer } from './transfers.js';

export const BATCH_PATH = '/v1/transfers/batch';

const submitBatch = defineRoute({
  method: 'post',
  path: BATCH_PATH,
  tags: ['transfers'],
  operationId: 'submitTransferBatch',
  summary: 'Submit up to 500 transfers at once, or up to 25 as one atomic unit',
  security: AUTHENTICATED,
  description:
    'Always 202 once the envelope is valid: `results` has one entry per item, in input order, each with ' +
    'the status and httpStatus that POST /v1/transfers would have answered for it. ' +
    `With \`"atomic": true\` (1-${ATOMIC_LEGS_MAX} transfers, no holds) every item must be valid or the ` +
    'request is 422 with each failing field; the transfers are then applied in order as one unit, all ' +
    'POSTED or all REJECTED (the failing one with its own reason, the others linked_transfer_failed), ' +
    'and the answer carries their `groupId`. A transfer may spend what an earlier one credited.',
  request: { body: jsonRequest(BatchBody) },
  responses: {
    202: jsonResponse('One result per item, in input order', BatchResponse),
    ...errorResponses(400, 413, 415, 422, 503),
    ...errorResponse(
      409,
      'Atomic only: a transfer id exists with a different request (`idempotency_conflict`)',
    ),
  },
});

/**
 * POST /v1/transfers/batch. The body is documented with the real item schema, but validated in
 * two steps so that one bad item does not sink the others: the envelope as a whole (422 for the
 * request), then each item (a 422-style error in its own result). The valid items go to the
 * service in one call, hence one PutRecords. An atomic batch is all or nothing from the start: any
 * invalid item fails the whole request, and the legs travel as one command.
 */
export function registerBatchRoute(routes: RouteRegistrar, service: IngestService): void {
  routes.raw(submitBatch, jsonBody({ maxBytes: BATCH_BODY_BYTES_MAX, literals: 'keep' }), async (c) => {
    const parsed = c.get('parsedBody');
    if (parsed === undefined) throw new Error('jsonBody middleware did not run');
    const envelope = BatchEnvelope.safeParse(parsed.value);
    if (!envelope.success) throw validationFailed(issueDetails(envelope.error.issues));
    const literals = literalsByItem(parsed.violations);
    if (literals.outside.length > 0) throw validationFailed(literals.outside);
    const items = envelope.data.transfers;
    c.set('transferCount', items.length);
    if (envelope.data.atomic === true) {
      return c.json(await submitAtomic(service, items, literals.byItem), 202);
    }
    const checked = items.map((item, index) => checkItem(item, index, literals.byItem.get(index) ?? []));
    const valid = checked.filter((r): r is ValidItem => r.ok);
    const outcomes = valid.length === 0 ? [] : await service.submitTransfers(valid.map((v) => v.request));
    const body: BatchResponse = { results: mergeResults(checked, outcomes) };
    return c.json(body, 202);
  });
}

/** Every leg valid (else 422 naming each failing field), then one atomic submission. */
async function submitAtomic(
  service: IngestService,
  items: readonly unknown[],
  literals: ReadonlyMap<number, ErrorDetail[]>,
): Promise<BatchResponse> {
  if (items.length > ATOMIC_LEGS_MAX) {
    throw validationFailed([
      { path: 'transfers', message: `an atomic batch has at most ${ATOMIC_LEGS_MAX} transfers` },
    ]);
  }
  const checked = items.map((item, index) => checkItem(item, index, literals.get(index) ?? [], 'atomic'));
  const invalid = checked.flatMap((r) => (r.ok ? [] : (r.result.error?.details ?? [])));
  if (invalid.length > 0)
    throw validationFailed(invalid, 'the atomic batch is not valid: nothing was recorded');
  const outcome = await service.submitAtomic(checked.flatMap((r) => (r.ok ? [r.request] : [])));
  switch (outcome.kind) {
    case 'accepted':
      return atomicResponse(outcome.transfers);
    case 'invalid':
      throw validationFailed([{ path: 'transfers', message: outcome.message }]);
    case 'conflict':
      throw idempotencyConflict('transfer', outcome.id);
    case 'unavailable':
      throw serviceUnavailable('the atomic batch is recorded but not yet queued: retry the same request');
  }
}

function atomicResponse(transfers: readonly Transfer[]): BatchResponse {
  const groupId = transfers[0]?.groupId;
  if (groupId === undefined) throw new Error('an accepted atomic batch has no group id');
  const results = transfers.map((t, index) => ({
    index,
    id: t.id,
    status: t.status,
    httpStatus: t.status === TransferStatus.ACCEPTED ? 202 : 200,
    transfer: transferView(t),
  }));
  return { results, groupId };
}

interface ValidItem {
  readonly ok: true;
  readonly index: number;
  readonly request: TransferRequest;
}
type CheckedItem = ValidItem | { readonly ok: false; readonly result: BatchResultView };

/**
 * One item: refused literals first (its parsed value is already rounded), then the schema; a leg
 * of an atomic batch is a plain transfer (no hold).
 */
function checkItem(
  item: unknown,
  index: number,
  literals: readonly ErrorDetail[],
  mode: 'independent' | 'atomic' = 'independent',
): CheckedItem {
  const id = idOf(item);
  const invalid = (details: readonly ErrorDetail[]): CheckedItem => ({
    ok: false,
    result: {
      index,
      ...(id === undefined ? {} : { id }),
      status: 'ERROR',
      httpStatus: 422,
      error: errorObject(validationFailed(details, `transfers.${index} is not valid`)),
    },
  });
  if (literals.length > 0) return invalid(literals);
  const parsed = TransferBody.safeParse(item);
  if (!parsed.success) return invalid(issueDetails(parsed.error.issues, ['transfers', index]));
  if (mode === 'atomic' && parsed.data.hold === true) {
    return invalid([
      { path: `transfers.${index}.hold`, message: 'an atomic batch holds plain transfers only' },
    ]);
  }
  return { ok: true, index, request: transferRequestOf(parsed.data) };
}

/** The item's id when it is a valid one (echoed to help the client match results). */
function idOf(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || !Object.hasOwn(item, 'id')) return undefined;
  const id = Identifier.safeParse((item as { id: unknown }).id);
  return id.success ? id.data : undefined;
}

/** Refused literals grouped by the item they are in; any outside an item fails the whole request. */
function literalsByItem(violations: readonly LiteralViolation[]): {
  byItem: Map<number, ErrorDetail[]>;
  outside: ErrorDetail[];
} {
  const byItem = new Map<number, ErrorDetail[]>();
  const outside: ErrorDetail[] = [];
  for (const v of violations) {
    const detail = { path: renderPath(v.path), message: v.message };
    const index = v.path[0] === 'transfers' ? v.path[1] : undefined;
    if (typeof index !== 'number') {
      outside.push(detail);
      continue;
    }
    const list = byItem.get(index) ?? [];
    list.push(detail);
    byItem.set(index, list);
  }
  return { byItem, outside };
}

/** Results in input order: the invalid items as checked, the valid ones from the service's outcomes. */
function mergeResults(
  checked: readonly CheckedItem[],
  outcomes: readonly SubmitOutcome[],
): BatchResultView[] {
  let next = 0;
  return checked.map((item) => {
    if (!item.ok) return item.result;
    const outcome = outcomes[next++];
    if (outcome === undefined) throw new Error(`no outcome for batch item ${item.index}`);
    return resultOf(item.index, item.request.id, outcome);
  });
}

function resultOf(index: number, id: string, outcome: SubmitOutcome): BatchResultView {
  const answer = submitAnswer(outcome);
  if (!answer.ok) {
    return { index, id, status: 'ERROR', httpStatus: answer.error.status, error: errorObject(answer.error) };
  }
  return {
    index,
    id,
    status: answer.transfer.status,
    httpStatus: answer.httpStatus,
    transfer: transferView(answer.transfer),
  };
}
