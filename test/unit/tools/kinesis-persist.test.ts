import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  copyIfReadable,
  KINESIS_LAST_GOOD_FILE_NAME,
  KINESIS_PERSIST_FILE_NAME,
  quarantineUnreadablePersistFile,
} from '../../../tools/local/kinesis-persist.js';

const GOOD = JSON.stringify({
  streams: { 'arn:aws:kinesis:us-east-1:000000000000:stream/s': { records: 3 } },
});
const TORN = GOOD.slice(0, 30);
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kinesis-persist-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('kinesis-mock persist file: last-good copy', () => {
  it('copies the file when it parses, and not when it is half-written or unchanged', () => {
    const dir = tempDir();
    const main = join(dir, KINESIS_PERSIST_FILE_NAME);
    const lastGood = join(dir, KINESIS_LAST_GOOD_FILE_NAME);
    const state = {};
    expect(copyIfReadable(dir, state)).toBe(false); // no file yet
    writeFileSync(main, GOOD);
    expect(copyIfReadable(dir, state)).toBe(true);
    expect(readFileSync(lastGood, 'utf8')).toBe(GOOD);
    expect(copyIfReadable(dir, state)).toBe(false); // unchanged
    writeFileSync(main, TORN);
    expect(copyIfReadable(dir, state)).toBe(false);
    expect(readFileSync(lastGood, 'utf8')).toBe(GOOD);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('restores the last good copy when the file is unreadable, with a log line', () => {
    const dir = tempDir();
    const main = join(dir, KINESIS_PERSIST_FILE_NAME);
    writeFileSync(main, GOOD);
    copyIfReadable(dir);
    writeFileSync(main, TORN);
    const lines: string[] = [];
    const aside = quarantineUnreadablePersistFile(dir, (line) => lines.push(line));
    expect(aside !== undefined && readFileSync(aside, 'utf8')).toBe(TORN);
    expect(readFileSync(main, 'utf8')).toBe(GOOD);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('restored the last good copy');
  });

  it('moves an unreadable file aside and starts empty when there is no good copy', () => {
    const dir = tempDir();
    writeFileSync(join(dir, KINESIS_PERSIST_FILE_NAME), TORN);
    writeFileSync(join(dir, KINESIS_LAST_GOOD_FILE_NAME), TORN);
    const lines: string[] = [];
    expect(quarantineUnreadablePersistFile(dir, (line) => lines.push(line))).toBeDefined();
    expect(existsSync(join(dir, KINESIS_PERSIST_FILE_NAME))).toBe(false);
    expect(lines[0]).toContain('the streams start empty');
  });

  it('leaves a readable file alone', () => {
    const dir = tempDir();
    writeFileSync(join(dir, KINESIS_PERSIST_FILE_NAME), GOOD);
    const lines: string[] = [];
    expect(quarantineUnreadablePersistFile(dir, (line) => lines.push(line))).toBeUndefined();
    expect(lines).toEqual([]);
  });
});
