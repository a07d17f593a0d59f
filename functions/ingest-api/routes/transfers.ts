import { type Transfer, TransferStatus } from '../../../shared/domain/ledger.js';
import type { IngestService, SubmitOutcome } from '../../../shared/services/ingest-service.js';
import {
  type ApiError,
  idempotencyConflict,
  notFound,
  serviceUnavailable,
  validationFailed,
} from '../errors.js';
import { BODY_BYTES_MAX, jsonBody } from '../middleware.js';
import { preferredWaitSeconds } from '../prefer.js';
import { IdParams, TransferBody, TransferHeaders, TransferView } from '../schemas.js';
import { transferRequestOf, transferView } from '../views.js';
import { defineRoute, type RouteRegistrar } from './registrar.js';
import { errorResponses, jsonRequest, jsonResponse, waitableResponse } from './responses.js';
import { AUTHENTICATED } from './security.js';
import { answerAfterWait } from './wait.js';

const submitTransfer = defineRoute({
  method: 'post',
  path: '/v1/transfers',
  tags: ['transfers'],
  operationId: 'submitTransfer',
  summary: 'Submit a transfer (idempotent on id)',
  security: AUTHENTICATED,
  description:
    'Recorded and queued: 202 with status ACCEPTED. The ledger posts or rejects it later (GET shows which); ' +
    'with `"hold": true` it reserves the amount instead (HELD) until captured, voided or expired. ' +
    'Repeating the same request answers its current state; the same id with a different body is a 409. ' +
    'With `Prefer: wait=N` the answer waits up to N seconds for the ledger and is 200 if it was applied.',
  middleware: [jsonBody({ maxBytes: BODY_BYTES_MAX, literals: 'reject' })],
  request: { headers: TransferHeaders, body: jsonRequest(TransferBody) },
  responses: {
    202: waitableResponse(
      'Accepted (or accepted before and not yet applied)',
      TransferView,
      'Where to follow it: /v1/transfers/{id}',
    ),
    200: waitableResponse(
      'Already applied (HELD, POSTED, REJECTED, ...): submitted before, or applied within the wait',
      TransferView,
      'The transfer: /v1/transfers/{id}',
    ),
    ...errorResponses(400, 409, 413, 415, 422, 503),
  },
});

const getTransfer = defineRoute({
  method: 'get',
  path: '/v1/transfers/{id}',
  tags: ['transfers'],
  operationId: 'getTransfer',
  summary: 'Read a transfer and its status',
  description: 'ACCEPTED until the ledger posts or rejects it; POSTED and REJECTED are final.',
  security: AUTHENTICATED,
  request: { params: IdParams },
  responses: { 200: jsonResponse('The transfer', TransferView), ...errorResponses(404, 503) },
});

export type SubmitAnswer =
  | { readonly ok: true; readonly httpStatus: 200 | 202; readonly transfer: Transfer }
  | { readonly ok: false; readonly error: ApiError };

/** How a submit outcome answers, for POST /v1/transfers and for each batch item alike. */
export function submitAnswer(outcome: SubmitOutcome): SubmitAnswer {
  switch (outcome.kind) {
    case 'accepted':
      return { ok: true, httpStatus: 202, transfer: outcome.transfer };
    case 'existing':
      return {
        ok: true,
        httpStatus: outcome.transfer.status === TransferStatus.ACCEPTED ? 202 : 200,
        transfer: outcome.transfer,
      };
    case 'conflict':
      return { ok: false, error: idempotencyConflict('transfer', outcome.existing.id) };
    case 'unavailable':
      return {
        ok: false,
        error: serviceUnavailable(
          `transfer ${outcome.transfer.id} is recorded but not yet queued: retry the same request`,
        ),
      };
    case 'unrecorded':
      return {
        ok: false,
        error: serviceUnavailable(`transfer ${outcome.id} could not be recorded: retry the same request`),
      };
  }
}

/** An Idempotency-Key header, when sent, must name the transfer the body creates. */
export function checkIdempotencyKey(key: string | undefined, id: string): void {
  if (key !== undefined && key !== id) {
    throw validationFailed([{ path: 'headers.Idempotency-Key', message: 'must equal the body id' }]);
  }
}

export function registerTransferRoutes(routes: RouteRegistrar, service: IngestService): void {
  routes.openapi(submitTransfer, async (c) => {
    const body = c.req.valid('json');
    const headers = c.req.valid('header');
    checkIdempotencyKey(headers['Idempotency-Key'], body.id);
    c.set('transferId', body.id);
    const answer = submitAnswer(await service.submitTransfer(transferRequestOf(body)));
    if (!answer.ok) throw answer.error;
    const waited = await answerAfterWait(service, answer, preferredWaitSeconds(headers.Prefer), [
      TransferStatus.ACCEPTED,
    ]);
    return c.json(transferView(waited.transfer), waited.httpStatus, {
      Location: `/v1/transfers/${body.id}`,
      ...waited.headers,
    });
  });

  routes.openapi(getTransfer, async (c) => {
    const { id } = c.req.valid('param');
    c.set('transferId', id);
    const transfer = await service.getTransfer(id);
    if (transfer === undefined) throw notFound(`transfer ${id} not found`);
    return c.json(transferView(transfer), 200);
  });
}
