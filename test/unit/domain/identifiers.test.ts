import { describe, expect, it } from 'vitest';
import { CurrencyCode, Identifier, Metadata, Reference } from '../../../shared/domain/identifiers.js';

describe('identifiers', () => {
  it.each(['a', 'acct-1', 'A.b_c:d-e', 'x'.repeat(64)])('accepts id %s', (id) => {
    expect(Identifier.safeParse(id).success).toBe(true);
  });
  it.each(['', 'x'.repeat(65), 'a#b', 'a b', 'é', 'a/b', '💸', 'a\u0000'])('rejects id %j', (id) => {
    expect(Identifier.safeParse(id).success).toBe(false);
  });
  it.each(['USD', 'EUR', 'JPY', 'CAD'])('accepts currency %s', (c) => {
    expect(CurrencyCode.safeParse(c).success).toBe(true);
  });
  it.each(['usd', 'US', 'USDD', 'ABC', 'XXX', ''])('rejects currency %j', (c) => {
    expect(CurrencyCode.safeParse(c).success).toBe(false);
  });
  it('bounds metadata: 16 keys, 256-char values, no reserved keys', () => {
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v']));
    expect(Metadata.safeParse(sixteen).success).toBe(true);
    expect(Metadata.safeParse({ ...sixteen, k16: 'v' }).success).toBe(false);
    expect(Metadata.safeParse({ a: 'x'.repeat(256) }).success).toBe(true);
    expect(Metadata.safeParse({ a: 'x'.repeat(257) }).success).toBe(false);
    // zod drops an own "__proto__" key instead of failing; the HTTP edge rejects it with a 422.
    const parsed = Metadata.parse(JSON.parse('{"__proto__":{"polluted":"yes"},"a":"b"}'));
    expect(Object.keys(parsed)).toEqual(['a']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Metadata.safeParse({ constructor: 'x' }).success).toBe(false);
    expect(Metadata.safeParse({ a: 1 }).success).toBe(false);
  });
  it('bounds reference at 128 characters', () => {
    expect(Reference.safeParse('r'.repeat(128)).success).toBe(true);
    expect(Reference.safeParse('r'.repeat(129)).success).toBe(false);
  });
});
