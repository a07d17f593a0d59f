import { describe, expect, it } from 'vitest';
import {
  decodeCommand,
  encodeCommand,
  openAccountCommand,
  partitionKeyOf,
  transferCommand,
  transferRequestOf,
} from '../../../shared/domain/commands.js';

const request = {
  id: 't1',
  debitAccountId: 'a',
  creditAccountId: 'b',
  amount: 12345678901234567n,
  currency: 'USD',
};

describe('ledger commands on the stream', () => {
  it('round-trip a transfer exactly, amounts beyond 2^53 included', () => {
    const command = transferCommand(request, 'fingerprint-0123456789', '2026-01-01T00:00:00.000Z');
    const decoded = decodeCommand(encodeCommand(command));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok || decoded.command.type !== 'transfer') throw new Error('unexpected');
    expect(transferRequestOf(decoded.command.transfer)).toEqual(request);
    expect(partitionKeyOf(decoded.command)).toBe('a');
  });

  it('partition an account command by its own id', () => {
    const command = openAccountCommand(
      { id: 'acct', currency: 'EUR', overdraftLimit: 0n },
      'us-east-2',
      'fingerprint-0123456789',
      '2026-01-01T00:00:00.000Z',
    );
    expect(partitionKeyOf(command)).toBe('acct');
    expect(decodeCommand(encodeCommand(command))).toEqual({ ok: true, command });
  });

  it.each([
    ['not JSON', new TextEncoder().encode('{nope')],
    ['not UTF-8', new Uint8Array([0xff, 0xfe, 0x00])],
    ['unknown type', new TextEncoder().encode('{"v":1,"type":"drain"}')],
    [
      'a float amount',
      new TextEncoder().encode(
        JSON.stringify({
          ...transferCommand(request, 'fingerprint-0123456789', '2026-01-01T00:00:00.000Z'),
          transfer: { ...request, amount: 1.5 },
        }),
      ),
    ],
    [
      'zero amount',
      new TextEncoder().encode(
        JSON.stringify(
          transferCommand({ ...request, amount: 0n }, 'fingerprint-0123456789', '2026-01-01T00:00:00.000Z'),
        ),
      ),
    ],
    [
      'an extra field',
      new TextEncoder().encode(
        JSON.stringify({
          ...transferCommand(request, 'fingerprint-0123456789', '2026-01-01T00:00:00.000Z'),
          extra: 1,
        }),
      ),
    ],
  ])('return a reason instead of throwing for %s', (_name, bytes) => {
    const decoded = decodeCommand(bytes);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason.length).toBeGreaterThan(0);
  });
});
