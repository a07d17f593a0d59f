import { z } from '@hono/zod-openapi';
import {
  CurrencyCode as DomainCurrencyCode,
  Identifier as DomainIdentifier,
  Metadata as DomainMetadata,
  Reference as DomainReference,
  ID_PATTERN,
  METADATA_KEYS_MAX,
} from '../../shared/domain/identifiers.js';
import { EntryDirection, RejectionReason, TransferStatus } from '../../shared/domain/ledger.js';
import { MONEY_DIGITS_MAX, MONEY_JSON_NUMBER_MAX } from '../../shared/domain/money.js';

/**
 * Wire schemas of the public API v1, one per shape. They validate and document; they never
 * transform (so the OpenAPI document is exactly what is checked). Routes convert validated money
 * to bigint after validation.
 */

/** Items per POST /v1/transfers/batch. */
export const TRANSFERS_PER_BATCH_MAX = 500;
/** Statement page size: default and bounds of `limit`. */
export const STATEMENT_PAGE_DEFAULT = 25;
export const STATEMENT_PAGE_MAX = 100;
/** Opaque statement cursors are short base64url strings; anything longer is not ours. */
export const CURSOR_LENGTH_MAX = 512;

// ---- documented bounds of what the API sends back (OpenAPI only: responses are built by us) ----
// Every string and integer in the document carries a bound (OWASP API4: unrestricted resource
// consumption): clients can size their buffers and reject a response that breaks the contract.

/** ISO 8601 timestamps as the API writes them (`2025-01-01T12:00:00.000Z`, 24 characters). */
const TIMESTAMP_LENGTH_MAX = 32;
/** Region names (`ca-central-1`); the stream command bounds them to 32. */
const REGION_LENGTH_MAX = 32;
/** Balances: a sign and up to 40 digits (DynamoDB N holds 38). */
const MONEY_STRING_LENGTH_MAX = 41;
/** Versions and counters are JSON integers a JavaScript client reads exactly. */
const SAFE_INTEGER_MAX = Number.MAX_SAFE_INTEGER;
/** Error codes are short snake_case words (errors.ts ErrorCode). */
const ERROR_CODE_LENGTH_MAX = 64;
/**
 * Error messages may repeat the request path (a 404 names it), which the HTTP server bounds:
 * Node's parser allows 16 KiB of request line and headers, API Gateway 10 KiB.
 */
const ERROR_MESSAGE_LENGTH_MAX = 16_640;
/** Detail messages are fixed sentences, with at most 64 characters of a key or literal repeated. */
const DETAIL_MESSAGE_LENGTH_MAX = 1_024;
/** Detail paths: at most 32 segments of at most 65 characters (errors.ts and json-guard.ts), dotted. */
const DETAIL_PATH_LENGTH_MAX = 2_200;
/** errors.ts ERROR_DETAILS_MAX: details listed in one error body (checked equal by a test). */
export const ERROR_DETAILS_DOCUMENTED_MAX = 50;
/** HTTP status codes, as batch results repeat them. */
const HTTP_STATUS_MIN = 100;
const HTTP_STATUS_MAX = 599;

// ---- shared fields (documented copies of the domain schemas) ----
// zod 4 copies prototype methods onto each schema when it is created, so a domain schema created
// before @hono/zod-openapi extended zod has no `.openapi`. `.clone()` makes a fresh instance (same
// checks) that has it, whatever the module load order was.

export const Identifier = DomainIdentifier.clone().openapi({
  description: '1-64 characters of A-Z a-z 0-9 . _ : -',
  minLength: 1,
  maxLength: 64,
  example: 'acct-alice',
});
export const CurrencyCode = DomainCurrencyCode.clone().openapi({
  description: 'Uppercase ISO 4217 currency code',
  minLength: 3,
  maxLength: 3,
  example: 'EUR',
});
// propertyNames is JSON Schema 2020-12 (OpenAPI 3.1); the metadata type only knows 3.0 keywords.
const metadataDoc = {
  description: `At most ${METADATA_KEYS_MAX} keys (1-64 characters of A-Z a-z 0-9 . _ : -) with string values of at most 256 characters`,
  maxProperties: METADATA_KEYS_MAX,
  propertyNames: { pattern: ID_PATTERN.source },
  example: { orderId: 'o-123' },
};
export const Metadata = DomainMetadata.clone().openapi(metadataDoc);
export const Reference = DomainReference.clone().openapi({
  description: 'Free text for the client, at most 128 characters',
});
const Timestamp = z.iso
  .datetime()
  .openapi({ example: '2025-01-01T12:00:00.000Z', maxLength: TIMESTAMP_LENGTH_MAX });

/** The message of a missing required field (see issueDetails in errors.ts for the other schemas). */
export const REQUIRED_MESSAGE = 'is required';
const DIGITS_MESSAGE = `must be a decimal string of 1-${MONEY_DIGITS_MAX} digits`;
const MONEY_MESSAGE = `must be a decimal string of 1-${MONEY_DIGITS_MAX} digits or a JSON integer from 0 to ${MONEY_JSON_NUMBER_MAX}`;
const POSITIVE_MESSAGE = `must be a decimal string of 1-${MONEY_DIGITS_MAX} digits or a JSON integer from 1 to ${MONEY_JSON_NUMBER_MAX}, greater than zero`;
const MoneyDigits = z
  .string()
  .regex(new RegExp(`^[0-9]{1,${MONEY_DIGITS_MAX}}$`), DIGITS_MESSAGE)
  .openapi({ minLength: 1, maxLength: MONEY_DIGITS_MAX });

/** Request money that may be zero (a limit): a digit string or a safe JSON integer. */
export const Money = z
  .union(
    [
      MoneyDigits,
      z
        .number({ error: MONEY_MESSAGE })
        .int({ error: MONEY_MESSAGE })
        .min(0, { error: MONEY_MESSAGE })
        .max(MONEY_JSON_NUMBER_MAX, { error: MONEY_MESSAGE })
        .openapi({ format: 'int64' }),
    ],
    { error: (issue) => (issue.input === undefined ? REQUIRED_MESSAGE : MONEY_MESSAGE) },
  )
  .openapi({
    description: `Minor units: a decimal string of 1-${MONEY_DIGITS_MAX} digits, or a JSON integer up to 2^53-1`,
    example: '0',
  });

/** Request money that must be positive (an amount). */
export const PositiveMoney = z
  .union(
    [
      MoneyDigits.refine((s) => /[1-9]/.test(s), 'must be greater than zero'),
      z
        .number({ error: POSITIVE_MESSAGE })
        .int({ error: POSITIVE_MESSAGE })
        .min(1, { error: 'must be greater than zero' })
        .max(MONEY_JSON_NUMBER_MAX, { error: POSITIVE_MESSAGE })
        .openapi({ format: 'int64' }),
    ],
    { error: (issue) => (issue.input === undefined ? REQUIRED_MESSAGE : POSITIVE_MESSAGE) },
  )
  .openapi({
    description: `Minor units, greater than zero: a decimal string of 1-${MONEY_DIGITS_MAX} digits, or a JSON integer up to 2^53-1`,
    example: '1250',
  });

/** Response money: always a decimal string (a balance may be negative within its overdraft). */
export const MoneyString = z
  .string()
  .regex(/^-?[0-9]{1,40}$/)
  .openapi({
    description: 'Minor units as a decimal string',
    example: '1250',
    maxLength: MONEY_STRING_LENGTH_MAX,
  });

// ---- requests ----

export const OpenAccountBody = z
  .object({
    id: Identifier,
    currency: CurrencyCode,
    overdraftLimit: Money.optional().openapi({ default: '0' }),
    metadata: Metadata.optional(),
  })
  .strict()
  .openapi('OpenAccountRequest');
export type OpenAccountBody = z.infer<typeof OpenAccountBody>;

export const TransferBody = z
  .object({
    id: Identifier.openapi({
      description: 'Client-chosen transfer id: the idempotency key',
      example: 'tx-0001',
    }),
    debitAccountId: Identifier,
    creditAccountId: Identifier.openapi({ example: 'acct-bob' }),
    amount: PositiveMoney,
    currency: CurrencyCode,
    reference: Reference.optional(),
    metadata: Metadata.optional(),
  })
  .strict()
  .openapi('TransferRequest');
export type TransferBody = z.infer<typeof TransferBody>;

/** Documents the batch body. The route validates only {@link BatchEnvelope}, then each item. */
export const BatchBody = z
  .object({ transfers: z.array(TransferBody).min(1).max(TRANSFERS_PER_BATCH_MAX) })
  .strict()
  .openapi('TransferBatchRequest');

/** What the batch route checks as a whole: items are validated one by one. */
export const BatchEnvelope = z
  .object({ transfers: z.array(z.unknown()).min(1).max(TRANSFERS_PER_BATCH_MAX) })
  .strict();
export type BatchEnvelope = z.infer<typeof BatchEnvelope>;

export const IdParams = z.object({
  id: Identifier.openapi({ param: { name: 'id', in: 'path' } }),
});

const LIMIT_PATTERN = /^(?:100|[1-9][0-9]?)$/;
export const StatementQuery = z
  .object({
    // A query value is text on the wire; documented as the integer it must spell (a refine, not a
    // regex, so that no string pattern appears on an integer parameter).
    limit: z
      .string()
      .refine((s) => LIMIT_PATTERN.test(s), `must be an integer from 1 to ${STATEMENT_PAGE_MAX}`)
      .optional()
      .openapi({
        type: 'integer',
        format: 'int32',
        minimum: 1,
        maximum: STATEMENT_PAGE_MAX,
        default: STATEMENT_PAGE_DEFAULT,
        param: { name: 'limit', in: 'query' },
      }),
    cursor: z
      .string()
      .min(1)
      .max(CURSOR_LENGTH_MAX)
      .optional()
      .openapi({ description: 'nextCursor of the previous page', param: { name: 'cursor', in: 'query' } }),
  })
  .strict();

export const TransferHeaders = z.object({
  'Idempotency-Key': Identifier.optional().openapi({
    description: 'Optional; when sent it must equal the body `id`',
    param: { name: 'Idempotency-Key', in: 'header' },
  }),
});

// ---- responses ----

export const AccountView = z
  .object({
    id: Identifier,
    currency: CurrencyCode,
    balance: MoneyString,
    overdraftLimit: MoneyString,
    homeRegion: z.string().openapi({ example: 'eu-west-1', maxLength: REGION_LENGTH_MAX }),
    version: z.number().int().min(0).openapi({
      description: 'Postings applied to the account so far',
      format: 'int64',
      maximum: SAFE_INTEGER_MAX,
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    metadata: Metadata.optional(),
  })
  .openapi('Account');
export type AccountView = z.infer<typeof AccountView>;

const TransferStatusSchema = z.enum([
  TransferStatus.ACCEPTED,
  TransferStatus.POSTED,
  TransferStatus.REJECTED,
]);
const RejectionReasonSchema = z.enum([
  RejectionReason.INSUFFICIENT_FUNDS,
  RejectionReason.ACCOUNT_NOT_FOUND,
  RejectionReason.CURRENCY_MISMATCH,
  RejectionReason.SAME_ACCOUNT,
]);

export const TransferView = z
  .object({
    id: Identifier,
    status: TransferStatusSchema,
    reason: RejectionReasonSchema.optional().openapi({
      description: 'Why the ledger rejected it (REJECTED only)',
    }),
    debitAccountId: Identifier,
    creditAccountId: Identifier,
    amount: MoneyString,
    currency: CurrencyCode,
    reference: Reference.optional(),
    metadata: Metadata.optional(),
    acceptedAt: Timestamp,
    postedAt: Timestamp.optional(),
    rejectedAt: Timestamp.optional(),
  })
  .openapi('Transfer');
export type TransferView = z.infer<typeof TransferView>;

export const StatementEntryView = z
  .object({
    transferId: Identifier,
    direction: z.enum([EntryDirection.DEBIT, EntryDirection.CREDIT]),
    amount: MoneyString,
    currency: CurrencyCode,
    counterpartyAccountId: Identifier,
    balanceAfter: MoneyString,
    postedAt: Timestamp,
    version: z.number().int().min(1).openapi({
      description: 'The account version this posting produced',
      format: 'int64',
      maximum: SAFE_INTEGER_MAX,
    }),
  })
  .openapi('StatementEntry');
export type StatementEntryView = z.infer<typeof StatementEntryView>;

export const StatementPageView = z
  .object({
    data: z.array(StatementEntryView).max(STATEMENT_PAGE_MAX),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next (older) page', maxLength: CURSOR_LENGTH_MAX }),
  })
  .openapi('StatementPage');
export type StatementPageView = z.infer<typeof StatementPageView>;

export const ErrorDetail = z
  .object({
    path: z.string().openapi({
      description: 'Dotted path of the offending field, e.g. transfers.3.amount; "" is the whole body',
      maxLength: DETAIL_PATH_LENGTH_MAX,
    }),
    message: z.string().openapi({ maxLength: DETAIL_MESSAGE_LENGTH_MAX }),
  })
  .openapi('ErrorDetail');
export type ErrorDetail = z.infer<typeof ErrorDetail>;

export const ErrorObject = z
  .object({
    code: z.string().openapi({
      description:
        'malformed_json, invalid_cursor, not_found, method_not_allowed, idempotency_conflict, payload_too_large, ' +
        'unsupported_media_type, validation_failed, service_unavailable, internal_error',
      example: 'validation_failed',
      maxLength: ERROR_CODE_LENGTH_MAX,
    }),
    message: z.string().openapi({ maxLength: ERROR_MESSAGE_LENGTH_MAX }),
    details: z.array(ErrorDetail).optional().openapi({ maxItems: ERROR_DETAILS_DOCUMENTED_MAX }),
  })
  .openapi('ErrorObject');
export type ErrorObject = z.infer<typeof ErrorObject>;

/** The one error shape of every non-2xx answer. */
export const ErrorBody = z.object({ error: ErrorObject }).openapi('Error');
export type ErrorBody = z.infer<typeof ErrorBody>;

export const BatchResultView = z
  .object({
    index: z
      .number()
      .int()
      .min(0)
      .openapi({ format: 'int32', maximum: TRANSFERS_PER_BATCH_MAX - 1 }),
    id: Identifier.optional(),
    status: z.enum([TransferStatus.ACCEPTED, TransferStatus.POSTED, TransferStatus.REJECTED, 'ERROR']),
    httpStatus: z.number().int().openapi({
      description: 'The status this item would have had on POST /v1/transfers',
      format: 'int32',
      minimum: HTTP_STATUS_MIN,
      maximum: HTTP_STATUS_MAX,
    }),
    transfer: TransferView.optional(),
    error: ErrorObject.optional(),
  })
  .openapi('TransferBatchResult');
export type BatchResultView = z.infer<typeof BatchResultView>;

export const BatchResponse = z
  .object({ results: z.array(BatchResultView).max(TRANSFERS_PER_BATCH_MAX) })
  .openapi('TransferBatchResponse');
export type BatchResponse = z.infer<typeof BatchResponse>;

export const HealthView = z.object({ status: z.literal('ok') }).openapi('Health');
