// A namespace import lets esbuild drop the parts of zod the bundle does not use (its locales among them).
import * as z from 'zod';

/** Account and transfer ids: 1-64 chars of [A-Za-z0-9._:-] (never '#', the key separator). */
export const ID_LENGTH_MAX = 64;
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const Identifier = z.string().regex(ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');
export type Identifier = z.infer<typeof Identifier>;

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));
/** An uppercase ISO 4217 currency code in current use (the runtime's ICU list). */
export const CurrencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an uppercase ISO 4217 code')
  .refine((c) => ISO_4217.has(c), 'is not an ISO 4217 currency code');
export type CurrencyCode = z.infer<typeof CurrencyCode>;

export const METADATA_KEYS_MAX = 16;
export const METADATA_VALUE_LENGTH_MAX = 256;
export const REFERENCE_LENGTH_MAX = 128;

/** At most 16 string keys with string values of at most 256 characters. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const MetadataKey = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -')
  .refine((k) => !FORBIDDEN_KEYS.has(k), 'is a reserved name');
export const Metadata = z
  .record(MetadataKey, z.string().max(METADATA_VALUE_LENGTH_MAX))
  .refine((m) => Object.keys(m).length <= METADATA_KEYS_MAX, `at most ${METADATA_KEYS_MAX} keys`);
export type Metadata = z.infer<typeof Metadata>;

export const Reference = z.string().max(REFERENCE_LENGTH_MAX);
