import fc from 'fast-check';

/**
 * Hostile requests for every route of the ingest API. Each one is invalid by construction (a
 * defect the API must refuse), so none may write anything; each carries canaries (a marker in its
 * body, secrets in its headers) that must never reach a log line.
 */

export const BODY_CANARY = 'CANARY-BODY-7f3a';
export const SECRET_CANARY = 'SECRET-TOKEN-91c2';

export interface HostileRequest {
  readonly category: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

const JSON_TYPE = 'application/json';
const KIB = 1024;
/** Body limits of the API (functions/ingest-api/middleware.ts). */
const BODY_BYTES_MAX = 256 * KIB;
const BATCH_BODY_BYTES_MAX = 4 * KIB * KIB;
const POST_ROUTES = ['/v1/transfers', '/v1/transfers/batch', '/v1/accounts'] as const;

const validId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,24}$/);

function transfer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'fz-1',
    debitAccountId: 'acct-a',
    creditAccountId: 'acct-b',
    amount: '100',
    currency: 'EUR',
    reference: BODY_CANARY,
    ...overrides,
  };
}
function account(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'acct-a',
    currency: 'EUR',
    overdraftLimit: '0',
    metadata: { note: BODY_CANARY },
    ...overrides,
  };
}

/** Secrets a client (or an attacker) sends in headers: none may be logged. */
const secretHeaders = fc.record({
  authorization: fc.constantFrom(`Bearer ${SECRET_CANARY}`, `AWS4-HMAC-SHA256 Credential=${SECRET_CANARY}`),
  'x-api-key': fc.constant(SECRET_CANARY),
  cookie: fc.constant(`session=${SECRET_CANARY}`),
});

function post(category: string, path: string, body: string | Uint8Array, extra: Record<string, string> = {}) {
  return secretHeaders.map(
    (secrets): HostileRequest => ({
      category,
      method: 'POST',
      path,
      headers: { 'content-type': JSON_TYPE, ...secrets, ...extra },
      body,
    }),
  );
}

/** Wraps a hostile transfer for each POST route: itself, as the only batch item, or as an account. */
function onEveryPostRoute(
  category: string,
  bad: Record<string, unknown>,
  badAccount: Record<string, unknown>,
) {
  return fc
    .constantFrom(...POST_ROUTES)
    .chain((path) =>
      post(
        category,
        path,
        JSON.stringify(
          path === '/v1/accounts' ? badAccount : path === '/v1/transfers/batch' ? { transfers: [bad] } : bad,
        ),
      ),
    );
}

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** Not JSON at all: truncations, JavaScript-isms, random text, bytes that are not UTF-8. */
const badJson = fc
  .tuple(
    fc.constantFrom(...POST_ROUTES),
    fc.oneof(
      fc.string({ maxLength: 300, unit: 'binary' }).filter((s) => !isJson(s)),
      fc
        .nat({ max: 120 })
        .map((n) => JSON.stringify(transfer()).slice(0, n))
        .filter((s) => !isJson(s)),
      fc.constantFrom(
        "{'id':'a'}",
        '{"amount": NaN}',
        '{"amount": Infinity}',
        '{"id":"a",}',
        '[1,2,,3]',
        '\uFEFF{"id":"a"}',
        `{"reference":"${BODY_CANARY}"`,
        'undefined',
        '{"a":1}{"b":2}',
        '/* comment */ {}',
      ),
    ),
  )
  .chain(([path, text]) => post('bad JSON', path, text));

const notUtf8 = fc
  .tuple(fc.constantFrom(...POST_ROUTES), fc.uint8Array({ minLength: 1, maxLength: 64 }))
  .chain(([path, junk]) =>
    post(
      'bytes that are not UTF-8',
      path,
      new Uint8Array([
        ...new TextEncoder().encode(`{"reference":"${BODY_CANARY}`),
        0xc3,
        0x28,
        0xff,
        ...junk,
      ]),
    ),
  );

/** A value no string field accepts. */
const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
/** A value no money field accepts (negative, fraction, unsafe, exponent, text...). */
const notMoney = fc.oneof(
  fc.integer({ min: -1_000_000, max: -1 }),
  fc.double({ noInteger: true, noDefaultInfinity: true }).filter((d) => Number.isFinite(d)),
  fc.constantFrom(-0.5, 12.5, 0.1, 2 ** 53, 2 ** 60, 1e21, 1e300),
  fc.bigInt({ min: 10n ** 19n, max: 10n ** 40n }).map(String),
  fc.constantFrom('12.5', '-1', '+1', '1e3', ' 1', '0x10', '', '１２３', '1_000', 'NaN', BODY_CANARY),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 2 }),
);

const wrongTypes = fc
  .tuple(fc.constantFrom('id', 'debitAccountId', 'creditAccountId', 'currency', 'reference'), notAString)
  .chain(([field, value]) =>
    onEveryPostRoute(
      'wrong types',
      transfer({ [field]: value }),
      account(field === 'id' ? { id: value } : { currency: value }),
    ),
  );

const badMoney = notMoney.chain((value) =>
  onEveryPostRoute(
    'huge numbers, fractions, bad money',
    transfer({ amount: value }),
    account({ overdraftLimit: value }),
  ),
);

/** Number literals JSON.parse would round: the API must refuse the literal itself. */
const roundedLiterals = fc
  .constantFrom('1.0', '1e2', '1E+2', '9007199254740993', '100000000000000000000000', '2.5e-3', '-0', '1.')
  .filter((literal) => isJson(`{"a":${literal}}`))
  .chain((literal) => {
    // -0 is an exact zero: a valid overdraft limit (so only refused as an amount, which must be positive).
    const routes = literal === '-0' ? (['/v1/transfers', '/v1/transfers/batch'] as const) : POST_ROUTES;
    const text = JSON.stringify(transfer({ amount: '__LIT__' })).replace('"__LIT__"', literal);
    return fc
      .constantFrom(...routes)
      .chain((path) =>
        post(
          'number literals that would round',
          path,
          path === '/v1/transfers/batch'
            ? `{"transfers":[${text}]}`
            : path === '/v1/accounts'
              ? JSON.stringify(account({ overdraftLimit: '__LIT__' })).replace('"__LIT__"', literal)
              : text,
        ),
      );
  });

/** Non-ASCII and out-of-bounds identifiers, in bodies and in paths. */
const badId = fc.oneof(
  fc
    .string({ minLength: 1, maxLength: 20, unit: 'grapheme' })
    .filter((s) => !/^[A-Za-z0-9._:-]{1,64}$/.test(s)),
  fc.constantFrom(
    '',
    'a'.repeat(65),
    'acct\u0000x',
    'аcct-cyrillic',
    'acct\u200bzero-width',
    'acct\u202ertl',
    '😀',
    'acct#1',
    'acct/1',
    '../../etc/passwd',
    'ACCT#x',
    ' acct',
  ),
);
const unicodeIds = fc
  .tuple(fc.constantFrom('id', 'debitAccountId', 'creditAccountId'), badId)
  .chain(([field, id]) =>
    onEveryPostRoute('unicode and bad ids', transfer({ [field]: id }), account({ id })),
  );
const unicodePaths = fc
  .tuple(
    fc.constantFrom('/v1/transfers/', '/v1/accounts/', '/v1/accounts/'),
    badId,
    fc.constantFrom('', '/transfers'),
  )
  .chain(([prefix, id, suffix]) =>
    secretHeaders.map(
      (secrets): HostileRequest => ({
        category: 'unicode and bad ids in paths',
        method: 'GET',
        path: `${prefix}${encodeURIComponent(id)}${prefix === '/v1/accounts/' ? suffix : ''}`,
        headers: secrets,
      }),
    ),
  );

/** Strings, arrays and records past their bounds. */
const outOfBounds = fc
  .constantFrom(
    transfer({ reference: `${BODY_CANARY}${'r'.repeat(129)}` }),
    transfer({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, BODY_CANARY])) }),
    transfer({ metadata: { note: `${BODY_CANARY}${'v'.repeat(257)}` } }),
    transfer({ metadata: { ['k'.repeat(65)]: BODY_CANARY } }),
    transfer({ metadata: { note: { nested: BODY_CANARY } } }),
    transfer({ currency: 'EURO' }),
    transfer({ currency: 'XXZ' }),
    transfer({ currency: 'eur' }),
  )
  .chain((bad) =>
    onEveryPostRoute(
      'strings, arrays and records past their bounds',
      bad,
      account({ metadata: bad.metadata ?? { x: 1 } }),
    ),
  );

const batchEnvelopes = fc
  .oneof(
    fc.constant({ transfers: [] }),
    fc.constant({ transfers: Array.from({ length: 501 }, (_, i) => transfer({ id: `fz-${i}` })) }),
    fc.constant({ transfers: transfer() }),
    fc.constant({ transfers: null }),
    fc.constant({ transfers: [transfer()], extra: BODY_CANARY }),
    fc.constant([transfer()]),
    fc
      .array(fc.oneof(notAString, fc.constant(transfer({ amount: 0 }))), { minLength: 1, maxLength: 5 })
      .map((items) => ({
        transfers: items,
      })),
  )
  .chain((body) => post('bad batch envelopes and items', '/v1/transfers/batch', JSON.stringify(body)));

/** Past the body limits (a few of them: they are big). */
const oversized = fc
  .constantFrom(
    ['/v1/transfers', BODY_BYTES_MAX + 1],
    ['/v1/accounts', BODY_BYTES_MAX + 1],
    ['/v1/transfers', 2 * BODY_BYTES_MAX],
    ['/v1/transfers/batch', BATCH_BODY_BYTES_MAX + 1],
  )
  .chain(([path, size]) => {
    const field = path === '/v1/accounts' ? 'note' : 'reference';
    const base = JSON.stringify(
      path === '/v1/accounts' ? account({ metadata: { note: '' } }) : transfer({ reference: '' }),
    );
    const padded = base.replace(`"${field}":""`, `"${field}":"${'x'.repeat(size - base.length)}"`);
    const body = path === '/v1/transfers/batch' ? `{"transfers":[${padded}]}` : padded;
    return post('oversized bodies', path, body);
  });

/** Deep nesting wherever a value goes. */
const deepNesting = fc
  .tuple(fc.constantFrom(...POST_ROUTES), fc.integer({ min: 50, max: 20_000 }), fc.constantFrom('[', '{"a":'))
  .chain(([path, depth, open]) => {
    const close = open === '[' ? ']' : '}';
    const nested = `${open.repeat(depth)}"${BODY_CANARY}"${close.repeat(depth)}`;
    const body =
      path === '/v1/transfers/batch' ? `{"transfers":[${nested}]}` : `{"id":"fz-1","metadata":${nested}}`;
    return post('deep nesting', path, body);
  });

/** Prototype pollution attempts: the body must be refused and no prototype touched. */
const pollution = fc
  .constantFrom(
    `{"__proto__":{"polluted":"${BODY_CANARY}"},"id":"fz-1","debitAccountId":"a","creditAccountId":"b","amount":"1","currency":"EUR"}`,
    `{"constructor":{"prototype":{"polluted":"${BODY_CANARY}"}},"id":"fz-1","debitAccountId":"a","creditAccountId":"b","amount":"1","currency":"EUR"}`,
    `{"id":"fz-1","debitAccountId":"a","creditAccountId":"b","amount":"1","currency":"EUR","metadata":{"__proto__":"${BODY_CANARY}"}}`,
    `{"id":"fz-1","debitAccountId":"a","creditAccountId":"b","amount":"1","currency":"EUR","metadata":{"constructor":"${BODY_CANARY}"}}`,
    `{"id":"fz-1","debitAccountId":"a","creditAccountId":"b","amount":"1","currency":"EUR","metadata":{"prototype":"${BODY_CANARY}"}}`,
    `{"id":"fz-1","debitAccountId":"a","creditAccountId":"b","amount":"1","currency":"EUR","__proto__":null}`,
    `{"id":"fz-1","debitAccountId":"a","creditAccountId":"b","amount":"1","currency":"EUR","metadata":{"a":"1","__proto__":{"polluted":"${BODY_CANARY}"}}}`,
  )
  .chain((text) =>
    fc
      .constantFrom(...POST_ROUTES)
      .chain((path) =>
        post(
          'prototype pollution keys',
          path,
          path === '/v1/transfers/batch'
            ? `{"transfers":[${text}],"__proto__":{"polluted":"${BODY_CANARY}"}}`
            : path === '/v1/accounts'
              ? text.replace(
                  '"debitAccountId":"a","creditAccountId":"b","amount":"1",',
                  '"overdraftLimit":"0",',
                )
              : text,
        ),
      ),
  );

/** A valid body under a media type that is not JSON: 415, never parsed. */
const wrongContentType = fc
  .tuple(
    fc.constantFrom(...POST_ROUTES),
    fc
      .oneof(
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/octet-stream',
          'text/json',
          'application/jsonp',
          'application/json5',
          'json',
          '',
        ),
        fc.string({ maxLength: 40 }),
      )
      .filter((type) => !/^application\/([\w.-]+\+)?json$/i.test(type.split(';')[0]?.trim() ?? '')),
  )
  .chain(([path, type]) =>
    secretHeaders.map(
      (secrets): HostileRequest => ({
        category: 'wrong content types',
        method: 'POST',
        path,
        headers: { ...secrets, ...(type === '' ? {} : { 'content-type': type }) },
        body: JSON.stringify(
          path === '/v1/accounts'
            ? account()
            : path === '/v1/transfers/batch'
              ? { transfers: [transfer()] }
              : transfer(),
        ),
      }),
    ),
  );

/** Methods no route has, and methods of one route sent to another. */
const wrongMethods = fc
  .tuple(
    fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'POST', 'GET'),
    fc.constantFrom(
      '/health',
      '/v1/transfers',
      '/v1/transfers/batch',
      '/v1/accounts',
      '/v1/accounts/acct-a',
      '/v1/accounts/acct-a/transfers',
      '/v1/transfers/fz-1',
      '/openapi.json',
    ),
  )
  .filter(([method, path]) => {
    const allowed: Record<string, string[]> = {
      '/health': ['GET'],
      '/v1/transfers': ['POST'],
      '/v1/transfers/batch': ['POST'],
      '/v1/accounts': ['POST'],
      '/openapi.json': ['GET'],
    };
    return !(allowed[path] ?? ['GET']).includes(method);
  })
  .chain(([method, path]) =>
    secretHeaders.map(
      (secrets): HostileRequest => ({
        category: 'wrong methods',
        method,
        path,
        headers: { 'content-type': JSON_TYPE, ...secrets },
        ...(method === 'GET' || method === 'OPTIONS' ? {} : { body: JSON.stringify(transfer()) }),
      }),
    ),
  );

/** Statement queries out of bounds, unknown parameters, cursors not ours. */
const badQueries = fc
  .tuple(
    validId,
    fc.oneof(
      fc.constantFrom('0', '101', '-1', 'abc', '1e2', '1.5', '%00', '99999999999999999999', ''),
      fc.string({ maxLength: 10 }),
    ),
    fc.oneof(
      fc.constant('x'.repeat(600)),
      fc.string({ maxLength: 50 }),
      fc.constantFrom(
        Buffer.from('{"before":"-1"}').toString('base64url'),
        Buffer.from('{"before":1e30}').toString('base64url'),
        Buffer.from('{"before":"0"}').toString('base64url'),
        Buffer.from('{"__proto__":{"before":"5"}}').toString('base64url'),
        Buffer.from(BODY_CANARY).toString('base64url'),
      ),
    ),
  )
  .chain(([id, limit, cursor]) =>
    secretHeaders.map(
      (secrets): HostileRequest => ({
        category: 'statement queries out of bounds',
        method: 'GET',
        path: `/v1/accounts/${id}/transfers?limit=${encodeURIComponent(limit)}&cursor=${encodeURIComponent(cursor)}&evil=${BODY_CANARY}`,
        headers: secrets,
      }),
    ),
  );

/** A valid transfer whose Idempotency-Key header contradicts it (or is not an identifier). */
const badIdempotencyKey = fc
  .oneof(
    validId.filter((k) => k !== 'fz-1'),
    fc.constantFrom('😀', 'k'.repeat(65), 'a b'),
  )
  .chain((key) =>
    post('Idempotency-Key that contradicts the body', '/v1/transfers', JSON.stringify(transfer()), {
      'idempotency-key': encodeURIComponent(key) === key ? key : 'bad key',
    }),
  );

/** Paths that try to escape or confuse routing. */
const oddPaths = fc
  .constantFrom(
    '/v1/accounts/../transfers',
    '//v1//transfers',
    '/v1/transfers/%2e%2e',
    '/v1/transfers/a%2Fb',
    '/v1/transfers/%00',
    `/v1/${'a/'.repeat(2000)}`,
    `/v1/transfers/${'9'.repeat(4000)}`,
    '/V1/TRANSFERS',
    '/v1/transfers/batch/extra',
    '/v2/transfers',
  )
  .chain((path) =>
    fc.constantFrom('GET', 'POST').chain((method) =>
      secretHeaders.map(
        (secrets): HostileRequest => ({
          category: 'paths that confuse routing',
          method,
          path,
          headers: { 'content-type': JSON_TYPE, ...secrets },
          // '/v1/accounts/../transfers' is /v1/transfers once the URL is resolved: the body must be refused.
          ...(method === 'POST' ? { body: JSON.stringify(transfer({ amount: 0 })) } : {}),
        }),
      ),
    ),
  );

/** Every kind, weighted so that the big ones (oversized, deep) stay a small share. */
export const hostileRequest: fc.Arbitrary<HostileRequest> = fc.oneof(
  { arbitrary: badJson, weight: 10 },
  { arbitrary: notUtf8, weight: 3 },
  { arbitrary: wrongTypes, weight: 10 },
  { arbitrary: badMoney, weight: 10 },
  { arbitrary: roundedLiterals, weight: 5 },
  { arbitrary: unicodeIds, weight: 8 },
  { arbitrary: unicodePaths, weight: 6 },
  { arbitrary: outOfBounds, weight: 6 },
  { arbitrary: batchEnvelopes, weight: 5 },
  { arbitrary: oversized, weight: 1 },
  { arbitrary: deepNesting, weight: 2 },
  { arbitrary: pollution, weight: 5 },
  { arbitrary: wrongContentType, weight: 6 },
  { arbitrary: wrongMethods, weight: 6 },
  { arbitrary: badQueries, weight: 6 },
  { arbitrary: badIdempotencyKey, weight: 3 },
  { arbitrary: oddPaths, weight: 3 },
);
