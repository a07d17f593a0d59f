import { MONEY_JSON_NUMBER_MAX } from '../../shared/domain/money.js';

/**
 * A guard over the raw text of a JSON body, run after JSON.parse has accepted it and before any
 * schema sees the parsed value. JSON.parse turns `1e3` into 1000, `1.0` into 1 and
 * `9007199254740993` into 9007199254740992, so a schema can no longer tell that the client wrote
 * something other than an exact integer. This scan looks at the literals themselves.
 *
 * It also refuses `__proto__` as an object key anywhere: zod's record parser drops that key
 * silently instead of rejecting it, and the edge should never pass it on.
 *
 * One pass over the text (linear), a stack as deep as the document, at most `violationsMax`
 * findings, and paths cut to {@link PATH_SEGMENTS_MAX} segments.
 */

export type PathSegment = string | number;

export interface LiteralViolation {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

export interface JsonInspection {
  readonly violations: readonly LiteralViolation[];
  /** True when the scan stopped at `violationsMax`: there may be more. */
  readonly truncated: boolean;
}

/** Segments kept in a reported path (deeper nesting is never valid input anyway). */
export const PATH_SEGMENTS_MAX = 32;
/** Characters of a key or literal repeated back to the client. */
const ECHO_CHARS_MAX = 64;
const RESERVED_KEY = '__proto__';
const SAFE_INTEGER_DIGITS = MONEY_JSON_NUMBER_MAX.toString();

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

type Frame = { kind: 'array'; index: number } | { kind: 'object'; key: string; expectingKey: boolean };

/**
 * Finds number literals with a fraction or exponent part or beyond 2^53-1 in magnitude, and
 * `__proto__` keys. `text` must be a document JSON.parse accepted.
 *
 * @example
 * inspectJsonText('{"amount": 1e3}', 10).violations[0]?.path // ['amount']
 */
export function inspectJsonText(text: string, violationsMax: number): JsonInspection {
  const stack: Frame[] = [];
  const violations: LiteralViolation[] = [];
  const report = (message: string): boolean => {
    violations.push({ path: pathOf(stack), message });
    return violations.length >= violationsMax;
  };
  let i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectingKey) {
        top.key = decodeKey(text, i, end);
        top.expectingKey = false;
        if (top.key === RESERVED_KEY && report('is a reserved name')) return { violations, truncated: true };
      }
      i = end;
    } else if (ch === MINUS || isDigit(ch)) {
      const end = numberEnd(text, i);
      const problem = numberProblem(text.slice(i, end));
      if (problem !== undefined && report(problem)) return { violations, truncated: true };
      i = end;
    } else {
      step(stack, text.charAt(i));
      i++;
    }
  }
  return { violations, truncated: false };
}

/** Structure outside strings and numbers: containers, separators (whitespace and literals fall through). */
function step(stack: Frame[], ch: string): void {
  switch (ch) {
    case '{':
      stack.push({ kind: 'object', key: '', expectingKey: true });
      return;
    case '[':
      stack.push({ kind: 'array', index: 0 });
      return;
    case '}':
    case ']':
      stack.pop();
      return;
    case ',': {
      const top = stack.at(-1);
      if (top?.kind === 'array') top.index++;
      else if (top?.kind === 'object') top.expectingKey = true;
      return;
    }
    default:
      return;
  }
}

/** Index just past the closing quote of the string starting at `start`. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j += 2;
    else if (c === QUOTE) return j + 1;
    else j++;
  }
  return text.length;
}

function decodeKey(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : inner;
}

/** Index just past the number literal starting at `start` (JSON grammar, already validated). */
function numberEnd(text: string, start: number): number {
  let j = start;
  if (text.charCodeAt(j) === MINUS) j++;
  j = digitsEnd(text, j);
  if (text.charCodeAt(j) === DOT) j = digitsEnd(text, j + 1);
  const c = text.charCodeAt(j);
  if (c === LOWER_E || c === UPPER_E) {
    j++;
    const sign = text.charCodeAt(j);
    if (sign === PLUS || sign === MINUS) j++;
    j = digitsEnd(text, j);
  }
  return j;
}

function digitsEnd(text: string, start: number): number {
  let j = start;
  while (j < text.length && isDigit(text.charCodeAt(j))) j++;
  return j;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function numberProblem(literal: string): string | undefined {
  const shown = echo(literal);
  if (/[.eE]/.test(literal)) {
    return `number ${shown} has a fraction or exponent part: amounts are integers in minor units, written as a string of digits or a plain JSON integer`;
  }
  const digits = literal.startsWith('-') ? literal.slice(1) : literal;
  const unsafe =
    digits.length > SAFE_INTEGER_DIGITS.length ||
    (digits.length === SAFE_INTEGER_DIGITS.length && digits > SAFE_INTEGER_DIGITS);
  if (unsafe) {
    return `number ${shown} is beyond ${SAFE_INTEGER_DIGITS} and cannot be read exactly: send it as a string of digits`;
  }
  return undefined;
}

function pathOf(stack: readonly Frame[]): PathSegment[] {
  return stack.slice(0, PATH_SEGMENTS_MAX).map((f) => (f.kind === 'array' ? f.index : echo(f.key)));
}

function echo(s: string): string {
  return s.length > ECHO_CHARS_MAX ? `${s.slice(0, ECHO_CHARS_MAX)}…` : s;
}
