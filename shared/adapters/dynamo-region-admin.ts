import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { transferBodyOf, transferRequestOf } from '../domain/commands.js';
import { type Account, type JournalPage, type Transfer, TransferStatus } from '../domain/ledger.js';
import type { RegionAdmin, RegionStanding } from '../ports/region-admin.js';
import {
  accountFromItem,
  accountItem,
  accountKey,
  N,
  pageFromItem,
  regionControlFromItem,
  regionControlItem,
  regionKey,
  S,
  transferFromItem,
  transferItem,
  transferKey,
  writtenStamp,
  writtenValue,
} from './dynamo-codec.js';

/** Scan pages read per listing at most (1 MB each): an operator command, bounded. */
const SCAN_PAGES_MAX = 1_000;
const PROBE_TTL_SECONDS = 3600;

/** The failover command's access to one region's replica of the ledger table. */
export class DynamoRegionAdmin implements RegionAdmin {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    readonly region: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  listAccountsHomedIn(home: string, limit: number): Promise<readonly Account[]> {
    return this.pagedRead(
      (page) =>
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'kind = :account AND homeRegion = :home',
          ExpressionAttributeValues: { ':account': S('account'), ':home': S(home) },
          ConsistentRead: true,
          ...page,
        }),
      (item) => accountFromItem(item),
      limit,
    );
  }

  /**
   * Reads page after page (bounded), mapping each item; `keep` drops what the caller does not want.
   * A Scan or Query as the operator's listings need it.
   */
  private async pagedRead<T>(
    command: (page: { ExclusiveStartKey?: Record<string, AttributeValue> }) => ScanCommand | QueryCommand,
    map: (item: Record<string, AttributeValue>) => T,
    limit: number,
    keep: (value: T) => boolean = () => true,
  ): Promise<T[]> {
    const found: T[] = [];
    let start: Record<string, AttributeValue> | undefined;
    for (let page = 0; page < SCAN_PAGES_MAX && found.length < limit; page++) {
      const request = command(start === undefined ? {} : { ExclusiveStartKey: start });
      const out =
        request instanceof QueryCommand ? await this.client.send(request) : await this.client.send(request);
      for (const item of out.Items ?? []) {
        const value = map(item);
        if (found.length < limit && keep(value)) found.push(value);
      }
      start = out.LastEvaluatedKey;
      if (start === undefined) break;
    }
    return found;
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: accountKey(id), ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : accountFromItem(out.Item);
  }

  async replaceAccount(before: Account, after: Account): Promise<'written' | 'conflict'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...accountItem(after), ...writtenStamp(this.now(), this.region) },
          ConditionExpression: 'version = :v AND homeRegion = :home',
          ExpressionAttributeValues: { ':v': N(before.version), ':home': S(before.homeRegion) },
        }),
      );
      return 'written';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'conflict';
      throw error;
    }
  }

  listOpenTransfers(accountIds: ReadonlySet<string>, limit: number): Promise<readonly Transfer[]> {
    return this.pagedRead(
      (page) =>
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'kind = :transfer AND #status IN (:a, :d, :h)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':transfer': S('transfer'),
            ':a': S(TransferStatus.ACCEPTED),
            ':d': S(TransferStatus.DEBITED),
            ':h': S(TransferStatus.HELD),
          },
          ConsistentRead: true,
          ...page,
        }),
      transferFromItem,
      limit,
      (t) => accountIds.has(t.debitAccountId),
    );
  }

  listAppliedTransfers(accountIds: ReadonlySet<string>, limit: number): Promise<readonly Transfer[]> {
    return this.pagedRead(
      (page) =>
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'kind = :transfer AND attribute_exists(appliedEpoch)',
          ExpressionAttributeValues: { ':transfer': S('transfer') },
          ConsistentRead: true,
          ...page,
        }),
      transferFromItem,
      limit,
      (t) => accountIds.has(t.debitAccountId),
    );
  }

  listPages(accountId: string, limit: number): Promise<readonly JournalPage[]> {
    return this.pagedRead(
      (page) =>
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
          ExpressionAttributeValues: { ':pk': S(`ACCT#${accountId}`), ':e': S('E#') },
          ConsistentRead: true,
          ...page,
        }),
      pageFromItem,
      limit,
    );
  }

  async resetToAccepted(t: Transfer): Promise<boolean> {
    // The request as the client sent it (commands.ts round trip), ACCEPTED again at the next revision.
    const accepted: Transfer = {
      ...transferRequestOf(transferBodyOf(t)),
      fingerprint: t.fingerprint,
      acceptedAt: t.acceptedAt,
      status: TransferStatus.ACCEPTED,
      revision: t.revision + 1n,
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...transferItem(accepted), ...writtenStamp(this.now(), this.region) },
          ConditionExpression: 'revision = :r',
          ExpressionAttributeValues: { ':r': N(t.revision) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async restampTransfer(id: string, status: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: transferKey(id),
          UpdateExpression: 'SET written = :w',
          ConditionExpression: '#status = :s',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':w': writtenValue(this.now(), this.region),
            ':s': S(status),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async getStanding(region: string): Promise<RegionStanding | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: regionKey(region), ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : regionControlFromItem(out.Item);
  }

  async putStanding(standing: RegionStanding): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...regionControlItem(standing), ...writtenStamp(this.now(), this.region) },
      }),
    );
  }

  async writeProbe(id: string): Promise<void> {
    const at = this.now();
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: S(`REGION#PROBE#${id}`),
          sk: S('PROBE'),
          kind: S('probe'),
          expiresAt: N(Math.floor(at.getTime() / 1000) + PROBE_TTL_SECONDS),
          ...writtenStamp(at, this.region),
        },
      }),
    );
  }

  async seesProbe(id: string): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: S(`REGION#PROBE#${id}`), sk: S('PROBE') },
        ConsistentRead: true,
      }),
    );
    return out.Item !== undefined;
  }
}
