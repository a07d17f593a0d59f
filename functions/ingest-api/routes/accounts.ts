import { AccountChangeRefusal } from '../../../shared/domain/ledger.js';
import type { IngestService } from '../../../shared/services/ingest-service.js';
import { conflict, idempotencyConflict, notFound, serviceUnavailable, validationFailed } from '../errors.js';
import { BODY_BYTES_MAX, jsonBody } from '../middleware.js';
import {
  AccountChangeBody,
  AccountChangeHeaders,
  AccountView,
  IdParams,
  OpenAccountBody,
  STATEMENT_PAGE_DEFAULT,
  StatementPageView,
  StatementQuery,
} from '../schemas.js';
import { accountChangeOf, accountSpecOf, accountView, statementEntryView } from '../views.js';
import { defineRoute, type RouteRegistrar } from './registrar.js';
import {
  errorResponse,
  errorResponses,
  jsonRequest,
  jsonResponse,
  jsonResponseWithLocation,
} from './responses.js';
import { AUTHENTICATED } from './security.js';

const openAccount = defineRoute({
  method: 'post',
  path: '/v1/accounts',
  tags: ['accounts'],
  operationId: 'openAccount',
  summary: 'Open an account (idempotent on id)',
  description:
    'The ledger consumer opens it (accounts are written in their stream partition only); the answer waits ' +
    'for that, briefly: 201 once open, 200 for the same request again, 409 for another body under the id, ' +
    '503 with Retry-After if the wait ended first (send the same request again).',
  security: AUTHENTICATED,
  middleware: [jsonBody({ maxBytes: BODY_BYTES_MAX, literals: 'reject' })],
  request: { body: jsonRequest(OpenAccountBody) },
  responses: {
    201: jsonResponseWithLocation('Opened', AccountView, 'The account: /v1/accounts/{id}'),
    200: jsonResponse('Already open with the same request', AccountView),
    ...errorResponses(400, 409, 413, 415, 422, 503),
  },
});

const getAccount = defineRoute({
  method: 'get',
  path: '/v1/accounts/{id}',
  tags: ['accounts'],
  operationId: 'getAccount',
  summary: 'Read an account',
  description: 'Balance and version as of the last posting applied (strongly consistent read).',
  security: AUTHENTICATED,
  request: { params: IdParams },
  responses: { 200: jsonResponse('The account', AccountView), ...errorResponses(404, 503) },
});

const changeAccount = defineRoute({
  method: 'patch',
  path: '/v1/accounts/{id}',
  security: AUTHENTICATED,
  tags: ['accounts'],
  summary: "Change an account's overdraft limit or status",
  description:
    "Travels through the ledger in order with the account's own transfers, and is answered once applied " +
    '(200) or refused (409 with the reason); if that takes longer than the wait (8 s), 202 with the account ' +
    'as it was: repeat with the same Idempotency-Key to learn the outcome. FROZEN and CLOSED accounts ' +
    'reject every transfer to or from them. Send application/json or application/merge-patch+json.',
  middleware: [jsonBody({ maxBytes: BODY_BYTES_MAX, literals: 'reject' })],
  request: {
    params: IdParams,
    headers: AccountChangeHeaders,
    body: {
      required: true,
      content: {
        'application/json': { schema: AccountChangeBody },
        'application/merge-patch+json': { schema: AccountChangeBody },
      },
    },
  },
  responses: {
    200: jsonResponse('Applied: the account after the change', AccountView),
    202: jsonResponse('Queued, not applied within the wait: the account before the change', AccountView),
    ...errorResponses(400, 404, 413, 415, 422, 503),
    ...errorResponse(
      409,
      'Refused by the ledger: `account_not_empty` (closing with a balance or holds), `account_closed` ' +
        '(a closed account never changes), `limit_below_balance` (the available balance is already below ' +
        'minus the new limit)',
    ),
  },
});

const listStatement = defineRoute({
  method: 'get',
  path: '/v1/accounts/{id}/transfers',
  tags: ['accounts'],
  operationId: 'listAccountTransfers',
  summary: "The account's posted transfers, newest first",
  description: 'One statement entry per posted transfer touching the account, with the balance after it.',
  security: AUTHENTICATED,
  request: { params: IdParams, query: StatementQuery },
  responses: {
    200: jsonResponse('One page of the statement', StatementPageView),
    ...errorResponses(400, 404, 422, 503),
  },
});

export function registerAccountRoutes(routes: RouteRegistrar, service: IngestService): void {
  routes.openapi(openAccount, async (c) => {
    const outcome = await service.openAccount(accountSpecOf(c.req.valid('json')));
    switch (outcome.kind) {
      case 'created':
        return c.json(accountView(outcome.account), 201, { Location: `/v1/accounts/${outcome.account.id}` });
      case 'existing':
        return c.json(accountView(outcome.account), 200);
      case 'conflict':
        throw idempotencyConflict('account', outcome.account.id);
      case 'invalid':
        throw validationFailed([{ path: 'homeRegion', message: outcome.message }]);
      case 'unavailable':
        throw serviceUnavailable('the account is not open yet: retry the same request');
    }
  });

  routes.openapi(getAccount, async (c) => {
    const { id } = c.req.valid('param');
    const account = await service.getAccount(id);
    if (account === undefined) throw notFound(`account ${id} not found`);
    return c.json(accountView(account), 200);
  });

  routes.openapi(changeAccount, async (c) => {
    const { id } = c.req.valid('param');
    const key = c.req.valid('header')['Idempotency-Key'];
    const outcome = await service.updateAccount(id, accountChangeOf(c.req.valid('json')), key);
    switch (outcome.kind) {
      case 'updated':
        return c.json(accountView(outcome.account), 200);
      case 'pending':
        return c.json(accountView(outcome.account), 202);
      case 'refused':
        throw conflict(outcome.reason, refusalMessage(id, outcome.reason));
      case 'not_found':
        throw notFound(`account ${id} not found`);
      case 'unavailable':
        throw serviceUnavailable('the change could not be queued: retry the same request');
    }
  });

  routes.openapi(listStatement, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    const account = await service.getAccount(id);
    if (account === undefined) throw notFound(`account ${id} not found`);
    const page = await service.listStatement(id, {
      account,
      limit: limit === undefined ? STATEMENT_PAGE_DEFAULT : Number(limit),
      ...(cursor === undefined ? {} : { cursor }),
    });
    return c.json({ data: page.entries.map(statementEntryView), nextCursor: page.nextCursor }, 200);
  });
}

function refusalMessage(id: string, reason: string): string {
  switch (reason) {
    case AccountChangeRefusal.ACCOUNT_NOT_EMPTY:
      return `account ${id} has a balance or active holds: it can be closed only when both are zero`;
    case AccountChangeRefusal.ACCOUNT_CLOSED:
      return `account ${id} is closed and cannot change`;
    case AccountChangeRefusal.LIMIT_BELOW_BALANCE:
      return `account ${id} already uses more overdraft than the new limit allows`;
    default:
      return `account ${id}: the change was refused (${reason})`;
  }
}
