import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectJsonText, PATH_SEGMENTS_MAX } from '../../../functions/ingest-api/json-guard.js';

const paths = (text: string) => inspectJsonText(text, 100).violations.map((v) => v.path);

describe('inspectJsonText', () => {
  it.each([
    ['1.0', [[]]],
    ['1e3', [[]]],
    ['1E+3', [[]]],
    ['-2.5e-1', [[]]],
    ['9007199254740992', [[]]],
    ['-9007199254740992', [[]]],
    ['123456789012345678901', [[]]],
    ['9007199254740991', []],
    ['-9007199254740991', []],
    ['0', []],
    ['-1', []],
  ])('judges the literal %s', (text, expected) => {
    expect(paths(text)).toEqual(expected);
  });

  it('names the path of each refused literal, in document order', () => {
    const text = '{"amount": 1e3, "ok": 5, "metadata": {"a": [1, 2.5]}, "transfers": [{}, {"amount": 1.0}]}';
    expect(paths(text)).toEqual([['amount'], ['metadata', 'a', 1], ['transfers', 1, 'amount']]);
  });

  it('ignores numbers inside strings, escaped quotes included', () => {
    expect(paths('{"a": "1.5e3", "b": "he said \\"2.5\\"", "c\\"1.5": 7}')).toEqual([]);
  });

  it('decodes escaped keys before naming them', () => {
    expect(paths('{"\\u0061mount": 1.5}')).toEqual([['amount']]);
  });

  it('refuses __proto__ as a key anywhere, however it is spelled', () => {
    expect(paths('{"metadata": {"__proto__": "x"}}')).toEqual([['metadata', '__proto__']]);
    expect(paths('[{"\\u005f_proto__": {}}]')).toEqual([[0, '__proto__']]);
    expect(paths('{"k": "__proto__"}')).toEqual([]);
  });

  it('stops at violationsMax and says so', () => {
    const text = JSON.stringify(Array.from({ length: 10 }, () => 0.5));
    const result = inspectJsonText(text, 3);
    expect(result.violations).toHaveLength(3);
    expect(result.truncated).toBe(true);
    expect(inspectJsonText(text, 10).truncated).toBe(true);
    expect(inspectJsonText(text, 11).truncated).toBe(false);
  });

  it('cuts the reported path of deeply nested literals', () => {
    const depth = 5_000;
    const text = `${'['.repeat(depth)}1.5${']'.repeat(depth)}`;
    const [violation] = inspectJsonText(text, 1).violations;
    expect(violation?.path).toHaveLength(PATH_SEGMENTS_MAX);
  });

  it('agrees with a walk of the parsed value for arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = JSON.stringify(value);
        expect(paths(text)).toEqual(expectedPaths(value));
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Reference, in document order: every number JSON.stringify writes with a fraction or exponent or
 * beyond 2^53-1, and every __proto__ key (reported when the key is read, before its value).
 */
function expectedPaths(root: unknown): (string | number)[][] {
  type Item =
    | { kind: 'value'; value: unknown; path: (string | number)[] }
    | { kind: 'key'; path: (string | number)[] };
  const found: (string | number)[][] = [];
  const stack: Item[] = [{ kind: 'value', value: root, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.kind === 'key') {
      found.push(item.path);
      continue;
    }
    const { value, path } = item;
    if (typeof value === 'number') {
      if (/[.eE]/.test(JSON.stringify(value)) || !Number.isSafeInteger(value)) found.push(path);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ kind: 'value', value: value[i], path: [...path, i] });
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        stack.push({ kind: 'value', value: child, path: [...path, key] });
        if (key === '__proto__') stack.push({ kind: 'key', path: [...path, key] });
      }
    }
  }
  return found;
}
