// zod/mini, as the domain: the Lambda builds these few hundred schemas at every cold start, and
// mini's are plain instances (the classic API copies dozens of methods onto each one).

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { ATOMIC_LEGS_MAX } from '../../shared/domain/commands.js';
import {
  currencyCodeChecks,
  ID_PATTERN,
  identifierChecks,
  METADATA_KEYS_MAX,
  metadataChecks,
  metadataKeyChecks,
  metadataValueChecks,
  referenceChecks,
} from '../../shared/domain/identifiers.js';
import {
  AccountStatus,
  HOLD_TIMEOUT_SECONDS_DEFAULT,
  HOLD_TIMEOUT_SECONDS_MAX,
  LineType,
  RejectionReason,
  TransferStatus,
} from '../../shared/domain/ledger.js';
import { MONEY_DIGITS_MAX, MONEY_JSON_NUMBER_MAX } from '../../shared/domain/money.js';
import { WAIT_SECONDS_MAX } from '../../shared/services/ingest-service.js';

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
/** Length of an Idempotency-Key on PATCH /v1/accounts/{id} (the account change's request id). */
export const ACCOUNT_CHANGE_KEY_LENGTH_MAX = 128;

/** Which way money moved on a statement line, for clients of the first statement shape. */
export const EntryDirection = { DEBIT: 'DEBIT', CREDIT: 'CREDIT' } as const;
export type EntryDirection = (typeof EntryDirection)[keyof typeof EntryDirection];

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

/** English issue messages, as zod's classic API loads them by default (zod/mini loads no locale). */
z.config(en());

// ---- documentation ----
// Zod's own metadata documents each schema: the `z.meta()` check records it on the instance it
// builds, so each `.check(z.meta(...))` copy carries its own, on top of what it was copied from;
// openapi.ts reads it with z.toJSONSchema when the document is built. Every key is an OpenAPI
// keyword, except the component name, which `component()` registers on the finished schema.

/**
 * Names `schema` as the OpenAPI component `id` (a `$ref` wherever it appears in the document).
 * Registered on the instance itself rather than as a check: a schema derived from it later is
 * another one and must not claim the same name.
 */
function component<T extends z.ZodMiniType>(schema: T, meta: { readonly id: string } & z.core.GlobalMeta): T {
  z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), ...meta });
  return schema;
}

// ---- shared fields (documented copies of the domain schemas) ----
// The same rules as the domain's schemas, from the same check factories (shared/domain/identifiers.ts).

export const Identifier = z.string().check(
  ...identifierChecks(),
  z.meta({
    description: '1-64 characters of A-Z a-z 0-9 . _ : -',
    minLength: 1,
    maxLength: 64,
    example: 'acct-alice',
  }),
);
export const CurrencyCode = z.string().check(
  ...currencyCodeChecks(),
  z.meta({
    description: 'Uppercase ISO 4217 currency code',
    minLength: 3,
    maxLength: 3,
    example: 'EUR',
  }),
);
export const Metadata = z
  .record(z.string().check(...metadataKeyChecks()), z.string().check(...metadataValueChecks()))
  .check(
    ...metadataChecks(),
    z.meta({
      description: `At most ${METADATA_KEYS_MAX} keys (1-64 characters of A-Z a-z 0-9 . _ : -) with string values of at most 256 characters`,
      maxProperties: METADATA_KEYS_MAX,
      // JSON Schema 2020-12, as OpenAPI 3.1 allows.
      propertyNames: { pattern: ID_PATTERN.source },
      example: { orderId: 'o-123' },
    }),
  );
export const Reference = z.string().check(
  ...referenceChecks(),
  z.meta({
    description: 'Free text for the client, at most 128 characters',
  }),
);
const Timestamp = z.iso
  .datetime()
  .check(z.meta({ example: '2025-01-01T12:00:00.000Z', maxLength: TIMESTAMP_LENGTH_MAX }));

/** The message of a missing required field (see issueDetails in errors.ts for the other schemas). */
export const REQUIRED_MESSAGE = 'is required';
const DIGITS_MESSAGE = `must be a decimal string of 1-${MONEY_DIGITS_MAX} digits`;
const MONEY_MESSAGE = `must be a decimal string of 1-${MONEY_DIGITS_MAX} digits or a JSON integer from 0 to ${MONEY_JSON_NUMBER_MAX}`;
const POSITIVE_MESSAGE = `must be a decimal string of 1-${MONEY_DIGITS_MAX} digits or a JSON integer from 1 to ${MONEY_JSON_NUMBER_MAX}, greater than zero`;
const MoneyDigits = z
  .string()
  .check(
    z.regex(new RegExp(`^[0-9]{1,${MONEY_DIGITS_MAX}}$`), DIGITS_MESSAGE),
    z.meta({ minLength: 1, maxLength: MONEY_DIGITS_MAX }),
  );

/** Request money that may be zero (a limit): a digit string or a safe JSON integer. */
export const Money = z
  .union(
    [
      MoneyDigits,
      z
        .number({ error: MONEY_MESSAGE })
        .check(
          z.int({ error: MONEY_MESSAGE }),
          z.minimum(0, { error: MONEY_MESSAGE }),
          z.maximum(MONEY_JSON_NUMBER_MAX, { error: MONEY_MESSAGE }),
          z.meta({ format: 'int64' }),
        ),
    ],
    { error: (issue) => (issue.input === undefined ? REQUIRED_MESSAGE : MONEY_MESSAGE) },
  )
  .check(
    z.meta({
      description: `Minor units: a decimal string of 1-${MONEY_DIGITS_MAX} digits, or a JSON integer up to 2^53-1`,
      example: '0',
    }),
  );

/** Request money that must be positive (an amount). */
export const PositiveMoney = z
  .union(
    [
      MoneyDigits.check(z.refine((s) => /[1-9]/.test(s), 'must be greater than zero')),
      z
        .number({ error: POSITIVE_MESSAGE })
        .check(
          z.int({ error: POSITIVE_MESSAGE }),
          z.minimum(1, { error: 'must be greater than zero' }),
          z.maximum(MONEY_JSON_NUMBER_MAX, { error: POSITIVE_MESSAGE }),
          z.meta({ format: 'int64' }),
        ),
    ],
    { error: (issue) => (issue.input === undefined ? REQUIRED_MESSAGE : POSITIVE_MESSAGE) },
  )
  .check(
    z.meta({
      description: `Minor units, greater than zero: a decimal string of 1-${MONEY_DIGITS_MAX} digits, or a JSON integer up to 2^53-1`,
      example: '1250',
    }),
  );

/** Response money: always a decimal string (a balance may be negative within its overdraft). */
export const MoneyString = z.string().check(
  z.regex(/^-?[0-9]{1,40}$/),
  z.meta({
    description: 'Minor units as a decimal string',
    example: '1250',
    maxLength: MONEY_STRING_LENGTH_MAX,
  }),
);

// ---- requests ----

export const OpenAccountBody = component(
  z.strictObject({
    id: Identifier,
    currency: CurrencyCode,
    overdraftLimit: z.optional(Money).check(z.meta({ default: '0' })),
    metadata: z.optional(Metadata),
    homeRegion: z
      .optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region name')))
      .check(
        z.meta({
          description:
            "The region whose ledger writes this account (one of the deployment's regions). Default: the " +
            'region that received the request. Transfers debiting it are applied there.',
          example: 'ca-central-1',
          maxLength: REGION_LENGTH_MAX,
        }),
      ),
  }),
  { id: 'OpenAccountRequest' },
);
export type OpenAccountBody = z.infer<typeof OpenAccountBody>;

const HOLD_TIMEOUT_MESSAGE = `must be an integer from 1 to ${HOLD_TIMEOUT_SECONDS_MAX}`;

export const TransferBody = component(
  z
    .strictObject({
      id: Identifier.check(
        z.meta({
          description: 'Client-chosen transfer id: the idempotency key',
          example: 'tx-0001',
        }),
      ),
      debitAccountId: Identifier,
      creditAccountId: Identifier.check(z.meta({ example: 'acct-bob' })),
      amount: PositiveMoney,
      currency: CurrencyCode,
      reference: z.optional(Reference),
      metadata: z.optional(Metadata),
      hold: z.optional(z.boolean()).check(
        z.meta({
          default: false,
          description:
            'true: reserve the amount on the debit account instead of moving it. The transfer becomes HELD ' +
            'until captured, voided, or expired after `holdTimeoutSeconds`.',
        }),
      ),
      holdTimeoutSeconds: z
        .optional(
          z
            .number({ error: HOLD_TIMEOUT_MESSAGE })
            .check(
              z.int({ error: HOLD_TIMEOUT_MESSAGE }),
              z.minimum(1, { error: HOLD_TIMEOUT_MESSAGE }),
              z.maximum(HOLD_TIMEOUT_SECONDS_MAX, { error: HOLD_TIMEOUT_MESSAGE }),
            ),
        )
        .check(
          z.meta({
            format: 'int32',
            default: HOLD_TIMEOUT_SECONDS_DEFAULT,
            description:
              `Only with \`"hold": true\`. Seconds until the hold expires by itself: default ` +
              `${HOLD_TIMEOUT_SECONDS_DEFAULT} (7 days), at most ${HOLD_TIMEOUT_SECONDS_MAX} (30 days).`,
          }),
        ),
    })
    .check(
      z.superRefine((body, ctx) => {
        if (body.holdTimeoutSeconds !== undefined && body.hold !== true) {
          ctx.addIssue({
            code: 'custom',
            path: ['holdTimeoutSeconds'],
            message: 'is only allowed with "hold": true',
          });
        }
      }),
    ),
  { id: 'TransferRequest' },
);
export type TransferBody = z.infer<typeof TransferBody>;

const ATOMIC_DESCRIPTION =
  `true: all transfers (1-${ATOMIC_LEGS_MAX}, no holds) are applied in order as one unit, all POSTED or all ` +
  'REJECTED; any invalid transfer makes the whole request 422 and nothing is recorded.';

/** Documents the batch body. The route validates only {@link BatchEnvelope}, then each item. */
export const BatchBody = component(
  z.strictObject({
    transfers: z.array(TransferBody).check(z.minLength(1), z.maxLength(TRANSFERS_PER_BATCH_MAX)),
    atomic: z.optional(z.boolean()).check(z.meta({ default: false, description: ATOMIC_DESCRIPTION })),
  }),
  { id: 'TransferBatchRequest' },
);

/** What the batch route checks as a whole: items are validated one by one. */
export const BatchEnvelope = z.strictObject({
  transfers: z.array(z.unknown()).check(z.minLength(1), z.maxLength(TRANSFERS_PER_BATCH_MAX)),
  atomic: z.optional(z.boolean()),
});
export type BatchEnvelope = z.infer<typeof BatchEnvelope>;

/** POST /v1/transfers/{id}/capture: the whole hold, or `amount` of it (the rest is released). */
export const CaptureBody = component(
  z.strictObject({
    amount: z.optional(PositiveMoney).check(
      z.meta({
        description:
          'Minor units to capture, at most the held amount; default: all of it. The rest is released.',
      }),
    ),
  }),
  { id: 'CaptureRequest' },
);
export type CaptureBody = z.infer<typeof CaptureBody>;

/** POST /v1/transfers/{id}/void: nothing to say beyond the path. */
export const VoidBody = component(z.strictObject({}), { id: 'VoidRequest' });

/** POST /v1/transfers/{id}/reverse. */
export const ReverseBody = component(
  z.strictObject({
    id: Identifier.check(
      z.meta({
        description: "The reversal's own transfer id (its idempotency key)",
        example: 'tx-0001-rev',
      }),
    ),
  }),
  { id: 'ReverseRequest' },
);
export type ReverseBody = z.infer<typeof ReverseBody>;

const AccountStatusSchema = z.enum([AccountStatus.OPEN, AccountStatus.FROZEN, AccountStatus.CLOSED]).check(
  z.meta({
    description:
      'OPEN: usable. FROZEN: every transfer to or from it is REJECTED (account_frozen) until reopened. ' +
      'CLOSED: final, only at a zero balance and no holds (account_closed).',
  }),
);

/** PATCH /v1/accounts/{id}: at least one field. */
export const AccountChangeBody = component(
  z
    .strictObject({
      overdraftLimit: z.optional(Money),
      status: z.optional(AccountStatusSchema),
    })
    .check(
      z.refine((b) => b.overdraftLimit !== undefined || b.status !== undefined, {
        message: 'send overdraftLimit, status or both',
      }),
    ),
  { id: 'AccountChangeRequest', minProperties: 1 },
);
export type AccountChangeBody = z.infer<typeof AccountChangeBody>;

// Parameters are named by their keys and placed by where a route puts them (openapi.ts).
export const IdParams = z.object({ id: Identifier });

const LIMIT_PATTERN = /^(?:100|[1-9][0-9]?)$/;
export const StatementQuery = z.strictObject({
  // A query value is text on the wire; documented as the integer it must spell (a refine, not a
  // regex, so that no string pattern appears on an integer parameter).
  limit: z
    .optional(
      z
        .string()
        .check(z.refine((s) => LIMIT_PATTERN.test(s), `must be an integer from 1 to ${STATEMENT_PAGE_MAX}`)),
    )
    .check(
      z.meta({
        type: 'integer',
        format: 'int32',
        minimum: 1,
        maximum: STATEMENT_PAGE_MAX,
        default: STATEMENT_PAGE_DEFAULT,
      }),
    ),
  cursor: z
    .optional(z.string().check(z.minLength(1), z.maxLength(CURSOR_LENGTH_MAX)))
    .check(z.meta({ description: 'nextCursor of the previous page' })),
});

// Never refused: a Prefer the server does not understand is ignored (RFC 7240). Its length is
// bounded by the gateway's header limit, and only its first bytes are read (see prefer.ts).
/** Only the first bytes of Prefer are read (prefer.ts); longer values are documented as out of contract. */
const PREFER_HEADER_DOCUMENTED_MAX = 256;
const PreferHeader = z.optional(z.string()).check(
  z.meta({
    description:
      `\`wait=N\` (seconds, 0-${WAIT_SECONDS_MAX}): instead of 202, wait up to N seconds for the ledger and ` +
      `answer 200 with the final state if it arrives in time. A larger N is taken as ${WAIT_SECONDS_MAX}; a ` +
      'malformed one is ignored. When honoured, the answer carries `Preference-Applied: wait=N`.',
    example: 'wait=5',
    maxLength: PREFER_HEADER_DOCUMENTED_MAX,
  }),
);

export const TransferHeaders = z.object({
  'Idempotency-Key': z
    .optional(Identifier)
    .check(z.meta({ description: 'Optional; when sent it must equal the body `id`' })),
  Prefer: PreferHeader,
});

export const PreferHeaders = z.object({ Prefer: PreferHeader });

export const AccountChangeHeaders = z.object({
  'Idempotency-Key': z
    .optional(
      z
        .string()
        .check(
          z.regex(
            new RegExp(`^[\\x21-\\x7e]{1,${ACCOUNT_CHANGE_KEY_LENGTH_MAX}}$`),
            `must be 1-${ACCOUNT_CHANGE_KEY_LENGTH_MAX} visible ASCII characters`,
          ),
        ),
    )
    .check(
      z.meta({
        description:
          'Optional request id of this change: the same key again answers the outcome of the first request ' +
          "(without applying it twice) while it is among the account's last 16 changes.",
        maxLength: ACCOUNT_CHANGE_KEY_LENGTH_MAX,
      }),
    ),
});

// ---- responses ----

export const AccountView = component(
  z.object({
    id: Identifier,
    currency: CurrencyCode,
    balance: MoneyString,
    heldAmount: MoneyString.check(z.meta({ description: 'Sum of the active holds on this account' })),
    availableBalance: MoneyString.check(
      z.meta({
        description: 'balance - heldAmount: what a new transfer or hold may use (down to -overdraftLimit)',
      }),
    ),
    overdraftLimit: MoneyString,
    inFlightAmount: z.optional(MoneyString).check(
      z.meta({
        description:
          'Debits on their way to a credit in another region (transfers DEBITED): already out of the balance, ' +
          'they may still be returned; an account cannot be closed until they settle. Absent when 0.',
      }),
    ),
    status: AccountStatusSchema,
    homeRegion: z.string().check(z.meta({ example: 'eu-west-1', maxLength: REGION_LENGTH_MAX })),
    version: z.number().check(
      z.int(),
      z.minimum(0),
      z.meta({
        description: 'Ledger writes applied to the account so far',
        format: 'int64',
        maximum: SAFE_INTEGER_MAX,
      }),
    ),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    metadata: z.optional(Metadata),
  }),
  { id: 'Account' },
);
export type AccountView = z.infer<typeof AccountView>;

const TRANSFER_STATUSES = [
  TransferStatus.ACCEPTED,
  TransferStatus.HELD,
  TransferStatus.POSTED,
  TransferStatus.REJECTED,
  TransferStatus.VOIDED,
  TransferStatus.EXPIRED,
  TransferStatus.DEBITED,
  TransferStatus.RETURNED,
] as const;
const TransferStatusSchema = z.enum(TRANSFER_STATUSES).check(
  z.meta({
    description:
      'ACCEPTED: recorded and queued. HELD: a hold, amount reserved. POSTED: money moved (final, may be ' +
      'reversed). REJECTED: refused, see `reason` (final). VOIDED / EXPIRED: a hold released (final). ' +
      'DEBITED: accounts in two home regions; the debit is applied and the credit is on its way to ' +
      '`creditRegion` (in between). RETURNED: the credit failed there, the debit was given back (final, ' +
      'see `reason`).',
  }),
);
const RejectionReasonSchema = z.enum([
  RejectionReason.INSUFFICIENT_FUNDS,
  RejectionReason.ACCOUNT_NOT_FOUND,
  RejectionReason.CURRENCY_MISMATCH,
  RejectionReason.SAME_ACCOUNT,
  RejectionReason.ACCOUNT_FROZEN,
  RejectionReason.ACCOUNT_CLOSED,
  RejectionReason.LINKED_TRANSFER_FAILED,
  RejectionReason.TRANSFER_NOT_REVERSIBLE,
  RejectionReason.CROSS_REGION_GROUP,
]);

/** Bound of a transfer's history as documented: a hold sees a few captures and voids, not thousands. */
export const TRANSFER_HISTORY_MAX = 100;

export const TransferActionView = component(
  z.object({
    requestId: z.string().check(z.maxLength(160), z.meta({ example: 'capture:tx-0001:all' })),
    action: z.enum(['capture', 'void', 'expire']),
    at: Timestamp,
    outcome: z.enum(['applied', 'ignored']),
    reason: z.optional(z.string().check(z.maxLength(64))).check(
      z.meta({
        description: 'Why an ignored action did nothing (e.g. hold_not_active)',
        example: 'hold_not_active',
      }),
    ),
  }),
  { id: 'TransferAction' },
);
export type TransferActionView = z.infer<typeof TransferActionView>;

/** An optional field with its own description. */
const described = <T extends z.ZodMiniType>(schema: T, description: string) =>
  z.optional(schema).check(z.meta({ description }));

export const TransferView = component(
  z.object({
    id: Identifier,
    status: TransferStatusSchema,
    reason: described(
      RejectionReasonSchema,
      'Why the ledger rejected it (REJECTED) or its credit failed (RETURNED)',
    ),
    debitAccountId: Identifier,
    creditAccountId: Identifier,
    amount: MoneyString,
    currency: CurrencyCode,
    reference: z.optional(Reference),
    metadata: z.optional(Metadata),
    hold: z.boolean().check(z.meta({ description: 'Whether it was submitted as a hold' })),
    holdTimeoutSeconds: z
      .optional(z.number().check(z.int(), z.minimum(1), z.maximum(HOLD_TIMEOUT_SECONDS_MAX)))
      .check(z.meta({ format: 'int32' })),
    heldAt: z.optional(Timestamp),
    holdExpiresAt: described(Timestamp, 'When a HELD hold expires by itself'),
    capturedAmount: described(MoneyString, 'What a captured hold moved'),
    releasedAt: described(Timestamp, 'When a hold was voided or expired'),
    reversedBy: described(Identifier, 'The POSTED reversal of this transfer'),
    reversalOf: described(Identifier, 'The transfer this one reverses'),
    groupId: described(Identifier, 'The atomic batch this transfer belongs to'),
    acceptedAt: Timestamp,
    postedAt: z.optional(Timestamp),
    rejectedAt: z.optional(Timestamp),
    creditRegion: z.optional(z.string().check(z.maxLength(REGION_LENGTH_MAX))).check(
      z.meta({
        description: 'Across home regions only: where the credit is applied',
        example: 'ca-central-1',
      }),
    ),
    debitedAt: described(Timestamp, 'Across home regions: when the debit was applied'),
    returnedAt: described(Timestamp, 'When a failed credit returned the debit'),
    history: z
      .array(TransferActionView)
      .check(
        z.maxLength(TRANSFER_HISTORY_MAX),
        z.meta({ description: 'Captures, voids and expiries the ledger saw, oldest first' }),
      ),
  }),
  { id: 'Transfer' },
);
export type TransferView = z.infer<typeof TransferView>;

export const StatementEntryView = component(
  z.object({
    transferId: Identifier,
    type: z
      .enum([
        LineType.DEBIT,
        LineType.CREDIT,
        LineType.HOLD,
        LineType.CAPTURE,
        LineType.RELEASE,
        LineType.RETURN,
      ])
      .check(
        z.meta({
          description:
            'DEBIT / CREDIT: money moved. HOLD: amount reserved (heldAmount up). CAPTURE: a hold captured ' +
            '(balance down by amount, the whole hold released). RELEASE: a hold voided or expired. RETURN: a ' +
            'debit given back because its credit failed in the other region.',
        }),
      ),
    direction: described(
      z.enum([EntryDirection.DEBIT, EntryDirection.CREDIT]),
      'DEBIT for DEBIT and CAPTURE lines, CREDIT for CREDIT and RETURN; absent on HOLD and RELEASE',
    ),
    amount: MoneyString,
    currency: CurrencyCode,
    counterpartyAccountId: z.optional(Identifier),
    balanceAfter: MoneyString,
    heldAmountAfter: MoneyString,
    availableBalanceAfter: MoneyString.check(z.meta({ description: 'balanceAfter - heldAmountAfter' })),
    postedAt: Timestamp,
    version: z.number().check(
      z.int(),
      z.minimum(1),
      z.meta({
        description: 'The account version the write of this line produced',
        format: 'int64',
        maximum: SAFE_INTEGER_MAX,
      }),
    ),
    index: z
      .number()
      .check(
        z.int(),
        z.minimum(0),
        z.meta({ description: 'Position of the line within that write', format: 'int32', maximum: 10_000 }),
      ),
  }),
  { id: 'StatementEntry' },
);
export type StatementEntryView = z.infer<typeof StatementEntryView>;

export const StatementPageView = component(
  z.object({
    data: z.array(StatementEntryView).check(z.maxLength(STATEMENT_PAGE_MAX)),
    nextCursor: z
      .nullable(z.string())
      .check(
        z.meta({ description: 'Pass as `cursor` for the next (older) page', maxLength: CURSOR_LENGTH_MAX }),
      ),
  }),
  { id: 'StatementPage' },
);
export type StatementPageView = z.infer<typeof StatementPageView>;

export const ErrorDetail = component(
  z.object({
    path: z.string().check(
      z.meta({
        description: 'Dotted path of the offending field, e.g. transfers.3.amount; "" is the whole body',
        maxLength: DETAIL_PATH_LENGTH_MAX,
      }),
    ),
    message: z.string().check(z.meta({ maxLength: DETAIL_MESSAGE_LENGTH_MAX })),
  }),
  { id: 'ErrorDetail' },
);
export type ErrorDetail = z.infer<typeof ErrorDetail>;

export const ErrorObject = component(
  z.object({
    code: z.string().check(
      z.meta({
        description:
          'malformed_json, invalid_cursor, not_found, method_not_allowed, idempotency_conflict, payload_too_large, ' +
          'unsupported_media_type, validation_failed, service_unavailable, internal_error; on 409 also ' +
          'hold_not_active, not_a_hold, transfer_not_posted, transfer_not_reversible, already_reversed, ' +
          'account_not_empty, account_closed, limit_below_balance',
        example: 'validation_failed',
        maxLength: ERROR_CODE_LENGTH_MAX,
      }),
    ),
    message: z.string().check(z.meta({ maxLength: ERROR_MESSAGE_LENGTH_MAX })),
    details: z.optional(z.array(ErrorDetail)).check(z.meta({ maxItems: ERROR_DETAILS_DOCUMENTED_MAX })),
  }),
  { id: 'ErrorObject' },
);
export type ErrorObject = z.infer<typeof ErrorObject>;

/** The one error shape of every non-2xx answer. */
export const ErrorBody = component(z.object({ error: ErrorObject }), { id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const BatchResultView = component(
  z.object({
    index: z
      .number()
      .check(z.int(), z.minimum(0), z.meta({ format: 'int32', maximum: TRANSFERS_PER_BATCH_MAX - 1 })),
    id: z.optional(Identifier),
    status: z.enum([...TRANSFER_STATUSES, 'ERROR']),
    httpStatus: z.number().check(
      z.int(),
      z.meta({
        description: 'The status this item would have had on POST /v1/transfers',
        format: 'int32',
        minimum: HTTP_STATUS_MIN,
        maximum: HTTP_STATUS_MAX,
      }),
    ),
    transfer: z.optional(TransferView),
    error: z.optional(ErrorObject),
  }),
  { id: 'TransferBatchResult' },
);
export type BatchResultView = z.infer<typeof BatchResultView>;

export const BatchResponse = component(
  z.object({
    results: z.array(BatchResultView).check(z.maxLength(TRANSFERS_PER_BATCH_MAX)),
    groupId: described(Identifier, 'The atomic batch (atomic requests only)'),
  }),
  { id: 'TransferBatchResponse' },
);
export type BatchResponse = z.infer<typeof BatchResponse>;

export const HealthView = component(z.object({ status: z.literal('ok') }), { id: 'Health' });
