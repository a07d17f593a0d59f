import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type ConsumedCapacity,
  type DynamoDBClient,
  type KeysAndAttributes,
  type ServiceInputTypes,
} from '@aws-sdk/client-dynamodb';
import type { Item, TableKeys, WriteKind } from './item-size.js';

/**
 * An SDK middleware that records every DynamoDB request a client makes: each item a write touches
 * (with the images before and after it, when a probe client is given), each read and what it
 * returned, and what the endpoint reported as ConsumedCapacity (it asks for INDEXES detail). It is
 * attached to clients the bench creates and hands to the real services (IngestService, LedgerService
 * over DynamoLedgerStore), so what it sees is exactly what the product sends.
 */

const WRITE_COMMANDS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
]);
const READ_COMMANDS = new Set(['GetItem', 'BatchGetItem', 'Query']);
/** Keys per BatchGetItem (DynamoDB's own limit). */
const PROBE_KEYS_MAX = 100;
/** Rounds of re-reading unprocessed keys before a probe gives up. */
const PROBE_ROUNDS_MAX = 10;

export interface RecordedWrite {
  readonly phase: string;
  /** The API call: PutItem, UpdateItem, DeleteItem, TransactWriteItems, BatchWriteItem. */
  readonly command: string;
  readonly kind: WriteKind;
  readonly transactional: boolean;
  readonly table: string;
  /** `pk|sk` of the item. */
  readonly key: string;
  /** Whether the request succeeded (a failed condition or a cancelled transaction changes nothing). */
  readonly succeeded: boolean;
  /** Item images, when the recorder has a probe client; undefined otherwise or when absent. */
  readonly before: Item | undefined;
  readonly after: Item | undefined;
}

export interface RecordedRead {
  readonly phase: string;
  readonly command: string;
  readonly consistent: boolean;
  /** GetItem/BatchGetItem: one entry per requested key (undefined when not found). Query: the items. */
  readonly items: readonly (Item | undefined)[];
}

export interface ReportedCapacity {
  readonly phase: string;
  readonly command: string;
  /** CapacityUnits summed over the tables in the response. */
  readonly units: number;
}

interface Target {
  readonly kind: WriteKind;
  readonly transactional: boolean;
  readonly table: string;
  readonly key: Item;
  readonly put: Item | undefined;
}

export interface RecorderOptions {
  readonly keys: TableKeys;
  /**
   * An uninstrumented client on the same endpoint: reads each written item before (when not already
   * known) and after the write, so that sizes are those of the real images. Without it only keys and
   * outcomes are recorded.
   */
  readonly probe?: DynamoDBClient;
}

export class DynamoRecorder {
  /** Label stored with every record, e.g. `setup`, `ingest`, `consume`. */
  phase = 'setup';
  readonly writes: RecordedWrite[] = [];
  readonly reads: RecordedRead[] = [];
  readonly reported: ReportedCapacity[] = [];
  /** Last known image of every item seen (undefined: known absent). */
  private readonly images = new Map<string, Item | undefined>();

  constructor(private readonly options: RecorderOptions) {}

  /** Adds the recording middleware to `client` (initialize step: it sees the command's input). */
  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? '').replace(/Command$/, '');
        const isWrite = WRITE_COMMANDS.has(command);
        if (!isWrite && !READ_COMMANDS.has(command)) return next(args);
        const phase = this.phase;
        const input = args.input as unknown as Record<string, unknown>;
        const targets = isWrite ? writeTargets(command, input, this.options.keys) : [];
        const before = await this.imagesBefore(targets);
        const withCapacity = { ...input, ReturnConsumedCapacity: 'INDEXES' };
        let result: Awaited<ReturnType<typeof next>> | undefined;
        let failure: unknown;
        try {
          result = await next({ ...args, input: withCapacity as unknown as ServiceInputTypes });
        } catch (error) {
          failure = error;
        }
        const output = result?.output as Record<string, unknown> | undefined;
        if (output !== undefined) this.recordCapacity(phase, command, output.ConsumedCapacity);
        if (isWrite) await this.recordWrites(phase, command, targets, before, failure === undefined);
        else if (output !== undefined) this.recordRead(phase, command, input, output);
        if (failure !== undefined) throw failure;
        return result as Awaited<ReturnType<typeof next>>;
      },
      { step: 'initialize', name: 'benchDynamoRecorder' },
    );
  }

  /** `pk|sk` of a key or item. */
  keyOf(item: Item): string {
    const { partition, sort } = this.options.keys;
    return `${item[partition]?.S ?? '?'}|${sort === undefined ? '' : (item[sort]?.S ?? '?')}`;
  }

  clear(): void {
    this.writes.length = 0;
    this.reads.length = 0;
    this.reported.length = 0;
  }

  private async imagesBefore(targets: readonly Target[]): Promise<(Item | undefined)[]> {
    const probe = this.options.probe;
    if (probe === undefined) return targets.map(() => undefined);
    const unknown = targets.filter((t) => !this.images.has(this.keyOf(t.key)));
    if (unknown.length > 0) {
      const found = await probeItems(probe, unknown, (i) => this.keyOf(i));
      for (const t of unknown) this.images.set(this.keyOf(t.key), found.get(this.keyOf(t.key)));
    }
    return targets.map((t) => this.images.get(this.keyOf(t.key)));
  }

  private async recordWrites(
    phase: string,
    command: string,
    targets: readonly Target[],
    before: readonly (Item | undefined)[],
    succeeded: boolean,
  ): Promise<void> {
    const probe = this.options.probe;
    const toRead = succeeded && probe !== undefined ? targets.filter((t) => t.kind === 'Update') : [];
    const read =
      probe === undefined || toRead.length === 0
        ? new Map<string, Item>()
        : await probeItems(probe, toRead, (i) => this.keyOf(i));
    targets.forEach((t, i) => {
      const key = this.keyOf(t.key);
      const was = before[i];
      let after: Item | undefined = was;
      if (succeeded && probe !== undefined) {
        if (t.kind === 'Put') after = t.put;
        else if (t.kind === 'Delete') after = undefined;
        else if (t.kind === 'Update') after = read.get(key);
        if (t.kind !== 'ConditionCheck') this.images.set(key, after);
      }
      this.writes.push({
        phase,
        command,
        kind: t.kind,
        transactional: t.transactional,
        table: t.table,
        key,
        succeeded,
        before: was,
        after: t.kind === 'ConditionCheck' ? undefined : after,
      });
    });
  }

  private recordRead(
    phase: string,
    command: string,
    input: Record<string, unknown>,
    output: Record<string, unknown>,
  ): void {
    if (command === 'GetItem') {
      this.reads.push({
        phase,
        command,
        consistent: input.ConsistentRead === true,
        items: [output.Item as Item | undefined],
      });
      return;
    }
    if (command === 'Query') {
      this.reads.push({
        phase,
        command,
        consistent: input.ConsistentRead === true,
        items: (output.Items as Item[] | undefined) ?? [],
      });
      return;
    }
    const requests = (input.RequestItems ?? {}) as Record<
      string,
      { Keys?: Item[]; ConsistentRead?: boolean }
    >;
    const responses = (output.Responses ?? {}) as Record<string, Item[]>;
    for (const [table, request] of Object.entries(requests)) {
      const found = new Map((responses[table] ?? []).map((item) => [this.keyOf(item), item]));
      const items = (request.Keys ?? []).map((key) => found.get(this.keyOf(key)));
      this.reads.push({ phase, command, consistent: request.ConsistentRead === true, items });
    }
  }

  private recordCapacity(phase: string, command: string, consumed: unknown): void {
    if (consumed === undefined) return;
    const list = (Array.isArray(consumed) ? consumed : [consumed]) as ConsumedCapacity[];
    const units = list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
    this.reported.push({ phase, command, units });
  }
}

/** The items a write request touches, in request order. */
export function writeTargets(command: string, input: Record<string, unknown>, keys: TableKeys): Target[] {
  const keyOfItem = (item: Item): Item => {
    const key: Item = {};
    for (const name of [keys.partition, ...(keys.sort === undefined ? [] : [keys.sort])]) {
      const value = item[name];
      if (value !== undefined) key[name] = value;
    }
    return key;
  };
  const table = String(input.TableName ?? '');
  switch (command) {
    case 'PutItem': {
      const item = input.Item as Item;
      return [{ kind: 'Put', transactional: false, table, key: keyOfItem(item), put: item }];
    }
    case 'UpdateItem':
      return [{ kind: 'Update', transactional: false, table, key: input.Key as Item, put: undefined }];
    case 'DeleteItem':
      return [{ kind: 'Delete', transactional: false, table, key: input.Key as Item, put: undefined }];
    case 'TransactWriteItems':
      return ((input.TransactItems ?? []) as Record<string, Record<string, unknown>>[]).map((action) => {
        const [kind, body] = Object.entries(action).find(([, v]) => v !== undefined) ?? [
          'ConditionCheck',
          {},
        ];
        const put = kind === 'Put' ? (body.Item as Item) : undefined;
        const key = put === undefined ? (body.Key as Item) : keyOfItem(put);
        return {
          kind: kind as WriteKind,
          transactional: true,
          table: String(body.TableName ?? ''),
          key,
          put,
        };
      });
    case 'BatchWriteItem': {
      const requests = (input.RequestItems ?? {}) as Record<
        string,
        { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]
      >;
      return Object.entries(requests).flatMap(([name, list]) =>
        list.map((r): Target => {
          if (r.PutRequest !== undefined) {
            return {
              kind: 'Put',
              transactional: false,
              table: name,
              key: keyOfItem(r.PutRequest.Item),
              put: r.PutRequest.Item,
            };
          }
          return {
            kind: 'Delete',
            transactional: false,
            table: name,
            key: r.DeleteRequest?.Key ?? {},
            put: undefined,
          };
        }),
      );
    }
    default:
      return [];
  }
}

/** Strongly consistent reads of the targets' current images, by `pk|sk`. */
async function probeItems(
  probe: DynamoDBClient,
  targets: readonly Target[],
  keyOf: (item: Item) => string,
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const byTable = new Map<string, Map<string, Item>>();
  for (const t of targets) {
    const keys = byTable.get(t.table) ?? new Map<string, Item>();
    keys.set(keyOf(t.key), t.key);
    byTable.set(t.table, keys);
  }
  for (const [table, keys] of byTable) {
    const all = [...keys.values()];
    for (let start = 0; start < all.length; start += PROBE_KEYS_MAX) {
      let pending:
        | Record<string, { Keys: Record<string, AttributeValue>[]; ConsistentRead: boolean }>
        | undefined = {
        [table]: { Keys: all.slice(start, start + PROBE_KEYS_MAX), ConsistentRead: true },
      };
      for (let round = 0; pending !== undefined && round < PROBE_ROUNDS_MAX; round++) {
        const out: BatchGetItemCommandOutput = await probe.send(
          new BatchGetItemCommand({ RequestItems: pending }),
        );
        for (const item of out.Responses?.[table] ?? []) found.set(keyOf(item), item);
        const unprocessed: KeysAndAttributes | undefined = out.UnprocessedKeys?.[table];
        pending =
          unprocessed?.Keys !== undefined && unprocessed.Keys.length > 0
            ? { [table]: { Keys: unprocessed.Keys, ConsistentRead: true } }
            : undefined;
      }
      if (pending !== undefined) throw new Error(`probe of ${table} left unprocessed keys`);
    }
  }
  return found;
}
