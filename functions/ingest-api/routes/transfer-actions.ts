import type * as z from 'zod/mini';
import { type Transfer, TransferStatus } from '../../../shared/domain/ledger.js';
import { toMinorUnits } from '../../../shared/domain/money.js';
import type { HoldActionOutcome, IngestService } from '../../../shared/services/ingest-service.js';
import type { ParsedBody } from '../env.js';
import {
  conflict,
  ErrorCode,
  issueDetails,
  notFound,
  serviceUnavailable,
  validationFailed,
} from '../errors.js';
import { BODY_BYTES_MAX, jsonBody } from '../middleware.js';
import { preferredWaitSeconds } from '../prefer.js';
import {
  CaptureBody,
  IdParams,
  PreferHeaders,
  ReverseBody,
  TransferHeaders,
  TransferView,
  VoidBody,
} from '../schemas.js';
import { transferView } from '../views.js';
import { defineRoute, type RouteRegistrar } from './registrar.js';
import {
  errorResponse,
  errorResponses,
  jsonRequest,
  optionalJsonRequest,
  waitableResponse,
} from './responses.js';
import { AUTHENTICATED } from './security.js';
import { checkIdempotencyKey } from './transfers.js';
import { answerAfterWait, type WaitedAnswer } from './wait.js';

export const CAPTURE_PATH = '/v1/transfers/{id}/capture';
export const VOID_PATH = '/v1/transfers/{id}/void';

/** A capture or void waits while the hold is queued or active. */
const HOLD_PENDING: readonly TransferStatus[] = [TransferStatus.ACCEPTED, TransferStatus.HELD];
/** A reversal waits while it is queued. */
const TRANSFER_PENDING: readonly TransferStatus[] = [TransferStatus.ACCEPTED];
/** Capture and void: the body may be left out. */
const optionalJsonBody = jsonBody({ maxBytes: BODY_BYTES_MAX, literals: 'reject', optional: true });

const HOLD_CONFLICTS =
  'The hold is no longer active (`hold_not_active`: captured, voided, expired or rejected) or the ' +
  'transfer is not a hold (`not_a_hold`)';
const REVERSE_CONFLICTS =
  'The transfer is not POSTED (`transfer_not_posted`), is itself a reversal (`transfer_not_reversible`), ' +
  'was reversed by another transfer (`already_reversed`), or the reversal id exists with a different ' +
  'request (`idempotency_conflict`)';
const OPTIONAL_BODY =
  'May be left out: no body or an empty one needs no content type. A body that is sent must be application/json.';

const reverseTransfer = defineRoute({
  method: 'post',
  path: '/v1/transfers/{id}/reverse',
  security: AUTHENTICATED,
  tags: ['transfers'],
  summary: 'Reverse a POSTED transfer (idempotent on the reversal id)',
  description:
    'Submits a new transfer, `id` from the body, moving the posted amount back (credit account to debit ' +
    'account), applied like any transfer: REJECTED with insufficient_funds if the credited account has ' +
    'spent it. Once it is POSTED the original shows `reversedBy`. 202 with the reversal; 200 once final.',
  middleware: [jsonBody({ maxBytes: BODY_BYTES_MAX, literals: 'reject' })],
  request: { params: IdParams, headers: TransferHeaders, body: jsonRequest(ReverseBody) },
  responses: {
    202: waitableResponse(
      'The reversal, accepted (or accepted before and not yet applied)',
      TransferView,
      'The reversal: /v1/transfers/{reversal id}',
    ),
    200: waitableResponse(
      'The reversal, already final (submitted before, or applied within the wait)',
      TransferView,
      'The reversal: /v1/transfers/{reversal id}',
    ),
    ...errorResponses(400, 404, 413, 415, 422, 503),
    ...errorResponse(409, REVERSE_CONFLICTS),
  },
});

const captureHold = defineRoute({
  security: AUTHENTICATED,
  method: 'post',
  path: CAPTURE_PATH,
  tags: ['transfers'],
  summary: 'Capture all or part of a hold',
  description:
    'Moves `amount` (default: all of it) of a held transfer from its debit to its credit account and ' +
    'releases the rest of the hold; the transfer becomes POSTED with `capturedAmount`. Queued like a ' +
    'transfer: 202 with the hold as it stands; 200 once this same capture was applied.',
  request: {
    params: IdParams,
    headers: PreferHeaders,
    body: optionalJsonRequest(CaptureBody, OPTIONAL_BODY),
  },
  responses: holdActionResponses('Captured (before, or within the wait): the final state'),
});

const voidHold = defineRoute({
  security: AUTHENTICATED,
  method: 'post',
  path: VOID_PATH,
  tags: ['transfers'],
  summary: 'Void a hold',
  description:
    'Releases the whole hold without moving money; the transfer becomes VOIDED. Queued like a transfer: ' +
    '202 with the hold as it stands; 200 once the void was applied.',
  request: { params: IdParams, headers: PreferHeaders, body: optionalJsonRequest(VoidBody, OPTIONAL_BODY) },
  responses: holdActionResponses('Voided (before, or within the wait): the final state'),
});

/**
 * Capture, void and reverse. Capture and void take an optional body, which hono's validator
 * cannot express (it parses an empty JSON body as malformed), so like the batch they are raw routes,
 * validated here; reverse is an ordinary OpenAPI route.
 */
export function registerTransferActionRoutes(routes: RouteRegistrar, service: IngestService): void {
  registerCapture(routes, service);
  registerVoid(routes, service);
  registerReverse(routes, service);
}

function registerCapture(routes: RouteRegistrar, service: IngestService): void {
  routes.raw(captureHold, optionalJsonBody, async (c) => {
    const id = pathTransferId(c.req.param('id'));
    c.set('transferId', id);
    const { amount } = optionalBody(CaptureBody, c.get('parsedBody'));
    const outcome = await service.capture(id, amount === undefined ? undefined : toMinorUnits(amount));
    const wait = preferredWaitSeconds(c.req.header('prefer'));
    const answer = await actionAnswer(service, id, outcome, wait, HOLD_PENDING);
    return c.json(transferView(answer.transfer), answer.httpStatus, { ...answer.headers });
  });
}

function registerVoid(routes: RouteRegistrar, service: IngestService): void {
  routes.raw(voidHold, optionalJsonBody, async (c) => {
    const id = pathTransferId(c.req.param('id'));
    c.set('transferId', id);
    optionalBody(VoidBody, c.get('parsedBody'));
    const outcome = await service.void(id);
    const wait = preferredWaitSeconds(c.req.header('prefer'));
    const answer = await actionAnswer(service, id, outcome, wait, HOLD_PENDING);
    return c.json(transferView(answer.transfer), answer.httpStatus, { ...answer.headers });
  });
}

function registerReverse(routes: RouteRegistrar, service: IngestService): void {
  routes.openapi(reverseTransfer, async (c) => {
    const { id } = c.req.valid('param');
    const headers = c.req.valid('header');
    const body = c.req.valid('json');
    checkIdempotencyKey(headers['Idempotency-Key'], body.id);
    c.set('transferId', id);
    const outcome = await service.reverse(id, body.id);
    const wait = preferredWaitSeconds(headers.Prefer);
    const answer = await actionAnswer(service, id, outcome, wait, TRANSFER_PENDING);
    return c.json(transferView(answer.transfer), answer.httpStatus, {
      Location: `/v1/transfers/${body.id}`,
      ...answer.headers,
    });
  });
}

function holdActionResponses(done: string) {
  return {
    202: waitableResponse(
      'Queued: the hold as it stands (HELD, or ACCEPTED if not yet applied)',
      TransferView,
    ),
    200: waitableResponse(done, TransferView),
    ...errorResponses(400, 404, 413, 415, 422, 503),
    ...errorResponse(409, HOLD_CONFLICTS),
  };
}

/** How a capture, void or reverse outcome answers: 202 (or 200 after a wait), 200, or an error. */
async function actionAnswer(
  service: IngestService,
  id: string,
  outcome: HoldActionOutcome,
  waitSeconds: number | undefined,
  pending: readonly TransferStatus[],
): Promise<WaitedAnswer> {
  switch (outcome.kind) {
    case 'accepted':
      return answerAfterWait(service, { httpStatus: 202, transfer: outcome.transfer }, waitSeconds, pending);
    case 'done':
      return { httpStatus: 200, transfer: outcome.transfer, headers: {} };
    case 'not_found':
      throw notFound(`transfer ${id} not found`);
    case 'conflict':
      throw conflict(outcome.code, conflictMessage(outcome.code, outcome.transfer));
    case 'invalid':
      throw validationFailed([{ path: 'amount', message: outcome.message }]);
    case 'unavailable':
      throw serviceUnavailable(`the request on transfer ${id} could not be queued: retry the same request`);
  }
}

function conflictMessage(code: string, t: Transfer): string {
  switch (code) {
    case ErrorCode.HOLD_NOT_ACTIVE:
      return `transfer ${t.id} is ${t.status}: only an active hold can be captured or voided`;
    case ErrorCode.NOT_A_HOLD:
      return `transfer ${t.id} is not a hold`;
    case ErrorCode.TRANSFER_NOT_POSTED:
      return `transfer ${t.id} is ${t.status}: only a POSTED transfer can be reversed`;
    case ErrorCode.TRANSFER_NOT_REVERSIBLE:
      return `transfer ${t.id} is itself a reversal and cannot be reversed`;
    case ErrorCode.ALREADY_REVERSED:
      return `transfer ${t.id} is already reversed by ${t.reversedBy ?? 'another transfer'}`;
    case ErrorCode.IDEMPOTENCY_CONFLICT:
      return `transfer ${t.id} already exists with a different request: use a new id`;
    default:
      return `transfer ${t.id}: ${code}`;
  }
}

/** A path id that cannot be an identifier names nothing that can exist: 404, as on the OpenAPI routes. */
function pathTransferId(raw: string): string {
  const parsed = IdParams.safeParse({ id: raw });
  if (!parsed.success) throw notFound('no such resource');
  return parsed.data.id;
}

/** The body of a route whose body may be left out: absent is `{}`; anything sent is validated. */
function optionalBody<T extends z.ZodMiniType>(schema: T, parsed: ParsedBody | undefined): z.infer<T> {
  if (parsed === undefined) throw new Error('jsonBody middleware did not run');
  const result = schema.safeParse(parsed.value === undefined ? {} : parsed.value);
  if (!result.success) throw validationFailed(issueDetails(result.error.issues));
  return result.data;
}
