import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { EncryptionKey } from '../constructs/encryption-key.js';
import { tableKeyAlias } from '../constructs/ledger-table.js';

export interface ReplicaKeyStackProps extends StackProps {
  readonly tableName: string;
}

/**
 * The ledger table's key in a replica region, in a stack of its own because of deploy order: DynamoDB
 * needs the replica's key to exist when the primary stack creates the global table, and the secondary
 * regional stack needs the replica to exist. So: this stack, then the primary stack, then the secondary.
 * The primary stack names the key by its alias ARN; the secondary stack imports it (same region).
 */
export class ReplicaKeyStack extends Stack {
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: ReplicaKeyStackProps) {
    super(scope, id, props);
    this.key = new EncryptionKey(this, 'TableKey', {
      alias: tableKeyAlias(props.tableName),
      description: `Encrypts the ${props.tableName} ledger table replica in this region`,
    }).key;
  }
}
