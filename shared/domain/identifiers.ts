// zod/mini: the same checks as zod's classic API at a fifth of the bundle (the consumer, reconciler
// and auditor load no other zod at cold start). A namespace import lets esbuild drop what is unused.
import * as z from 'zod/mini';

/**
 * Each rule is also exported as a factory of zod checks, so that another schema (the ingest's
 * documented ones) applies exactly the same rule and message.
 */

/** Account and transfer ids: 1-64 chars of [A-Za-z0-9._:-] (never '#', the key separator). */
export const ID_LENGTH_MAX = 64;
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const ID_MESSAGE = 'must be 1-64 characters of A-Z a-z 0-9 . _ : -';
export const identifierChecks = () => [z.regex(ID_PATTERN, ID_MESSAGE)] as const;
export const Identifier = z.string().check(...identifierChecks());
export type Identifier = z.infer<typeof Identifier>;

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));
/** An uppercase ISO 4217 currency code in current use (the runtime's ICU list). */
export const currencyCodeChecks = () =>
  [
    z.regex(/^[A-Z]{3}$/, 'must be an uppercase ISO 4217 code'),
    z.refine<string>((c) => ISO_4217.has(c), 'is not an ISO 4217 currency code'),
  ] as const;
export const CurrencyCode = z.string().check(...currencyCodeChecks());
export type CurrencyCode = z.infer<typeof CurrencyCode>;

export const METADATA_KEYS_MAX = 16;
export const METADATA_VALUE_LENGTH_MAX = 256;
export const REFERENCE_LENGTH_MAX = 128;

/** At most 16 string keys with string values of at most 256 characters. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const metadataKeyChecks = () =>
  [
    z.regex(/^[A-Za-z0-9._:-]{1,64}$/, ID_MESSAGE),
    z.refine<string>((k) => !FORBIDDEN_KEYS.has(k), 'is a reserved name'),
  ] as const;
export const metadataValueChecks = () => [z.maxLength(METADATA_VALUE_LENGTH_MAX)] as const;
export const metadataChecks = () =>
  [
    z.refine<Record<string, string>>(
      (m) => Object.keys(m).length <= METADATA_KEYS_MAX,
      `at most ${METADATA_KEYS_MAX} keys`,
    ),
  ] as const;
export const MetadataKey = z.string().check(...metadataKeyChecks());
export const Metadata = z
  .record(MetadataKey, z.string().check(...metadataValueChecks()))
  .check(...metadataChecks());
export type Metadata = z.infer<typeof Metadata>;

export const referenceChecks = () => [z.maxLength(REFERENCE_LENGTH_MAX)] as const;
export const Reference = z.string().check(...referenceChecks());
