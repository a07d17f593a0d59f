import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatMinorUnits,
  isMoneyDigits,
  MONEY_VALUE_MAX,
  parseStoredMinorUnits,
  toMinorUnits,
} from '../../../shared/domain/money.js';

describe('money', () => {
  it('accepts digit strings of 1 to 19 digits and safe JSON integers', () => {
    expect(toMinorUnits('0')).toBe(0n);
    expect(toMinorUnits('100')).toBe(100n);
    expect(toMinorUnits('9999999999999999999')).toBe(MONEY_VALUE_MAX);
    expect(toMinorUnits(9007199254740991)).toBe(9007199254740991n);
    expect(toMinorUnits('007')).toBe(7n);
  });

  it.each([
    ['20 digits', '10000000000000000000'],
    ['a fraction', '1.5'],
    ['an exponent', '1e3'],
    ['a sign', '-1'],
    ['a plus sign', '+1'],
    ['spaces', ' 1'],
    ['empty', ''],
    ['hex', '0x10'],
    ['unicode digits', '١٢٣'],
  ])('rejects %s as a string', (_name, raw) => {
    expect(isMoneyDigits(raw)).toBe(false);
    expect(() => toMinorUnits(raw)).toThrow(RangeError);
  });

  it.each([
    ['2^53', 9007199254740992],
    ['a fraction', 1.5],
    ['a negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('rejects %s as a number', (_name, raw) => {
    expect(() => toMinorUnits(raw)).toThrow(RangeError);
  });

  it('round-trips every value in range exactly (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MONEY_VALUE_MAX }), (value) => {
        const wire = formatMinorUnits(value);
        expect(isMoneyDigits(wire)).toBe(true);
        expect(toMinorUnits(wire)).toBe(value);
      }),
    );
  });

  it('reads stored signed values exactly, including negative balances beyond 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (value) => {
        expect(parseStoredMinorUnits(value.toString())).toBe(value);
      }),
    );
    expect(() => parseStoredMinorUnits('1.0')).toThrow(RangeError);
    expect(() => parseStoredMinorUnits('1e3')).toThrow(RangeError);
  });
});
