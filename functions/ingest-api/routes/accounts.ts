import { createRoute } from '@hono/zod-openapi';
import type { IngestService } from '../../../shared/services/ingest-service.js';
import type { IngestApp } from '../env.js';
import { idempotencyConflict, notFound, serviceUnavailable } from '../errors.js';
import { BODY_BYTES_MAX, jsonBody } from '../middleware.js';
import {
  AccountView,
  IdParams,
  OpenAccountBody,
  STATEMENT_PAGE_DEFAULT,
  StatementPageView,
  StatementQuery,
} from '../schemas.js';
import { accountSpecOf, accountView, statementEntryView } from '../views.js';
import { errorResponses, jsonRequest, jsonResponse, jsonResponseWithLocation } from './responses.js';
import { AUTHENTICATED } from './security.js';

const openAccount = createRoute({
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

const getAccount = createRoute({
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

const listStatement = createRoute({
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

export function registerAccountRoutes(app: IngestApp, service: IngestService): void {
  app.openapi(openAccount, async (c) => {
    const outcome = await service.openAccount(accountSpecOf(c.req.valid('json')));
    switch (outcome.kind) {
      case 'created':
        return c.json(accountView(outcome.account), 201, { Location: `/v1/accounts/${outcome.account.id}` });
      case 'existing':
        return c.json(accountView(outcome.account), 200);
      case 'conflict':
        throw idempotencyConflict('account', outcome.account.id);
      case 'unavailable':
        throw serviceUnavailable('the account is not open yet: retry the same request');
    }
  });

  app.openapi(getAccount, async (c) => {
    const { id } = c.req.valid('param');
    const account = await service.getAccount(id);
    if (account === undefined) throw notFound(`account ${id} not found`);
    return c.json(accountView(account), 200);
  });

  app.openapi(listStatement, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    if ((await service.getAccount(id)) === undefined) throw notFound(`account ${id} not found`);
    const page = await service.listStatement(id, {
      limit: limit === undefined ? STATEMENT_PAGE_DEFAULT : Number(limit),
      ...(cursor === undefined ? {} : { cursor }),
    });
    return c.json({ data: page.entries.map(statementEntryView), nextCursor: page.nextCursor }, 200);
  });
}
