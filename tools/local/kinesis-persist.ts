import { readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The file kinesis-mock rewrites with every stream and record (PERSIST_FILE_NAME). */
export const KINESIS_PERSIST_FILE_NAME = 'kinesis-data.json';
const FLUSH_POLL_MS = 25;
/** A rewrite is complete once the file has not changed for this long. */
const FLUSH_SETTLE_MS = 150;
/** Rewrites to observe: the second one certainly began after we started waiting. */
const FLUSH_REWRITES = 2;

/**
 * kinesis-mock rewrites its persist file in place, so a SIGKILL can leave half a file, and it then
 * refuses to start (ParsingFailure). Moves such a file aside, with a log line saying what was lost.
 * Returns the new path of the moved file, if any.
 */
export function quarantineUnreadablePersistFile(
  dir: string,
  log: (line: string) => void,
): string | undefined {
  const path = join(dir, KINESIS_PERSIST_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // no file yet: a fresh data dir
  }
  if (isPersistedState(text)) return undefined;
  const aside = `${path}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, aside);
  log(
    `[kinesis] ${path} was unreadable (half-written when a previous run was killed?): moved it to ${aside}; ` +
      'the streams start empty (the ledger table is intact; the reconciler re-drives accepted transfers)',
  );
  return aside;
}

function isPersistedState(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return (
      typeof value === 'object' && value !== null && 'streams' in value && typeof value.streams === 'object'
    );
  } catch {
    return false;
  }
}

/** mtime and size together: a rewrite in progress changes one or the other. */
function fileState(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
}

/**
 * Resolves once kinesis-mock has rewritten `path` twice (so one whole write began after the call)
 * and the file has then stayed unchanged for a moment (that write is complete), or after about two
 * and a half intervals. True when such a flush was observed. Right after it, the next periodic
 * write is most of an interval away, so stopping the process then cannot cut a write in half.
 */
export async function waitForPersistFlush(path: string, intervalMs: number): Promise<boolean> {
  const deadline = Date.now() + intervalMs * (FLUSH_REWRITES + 0.5) + FLUSH_SETTLE_MS;
  let last = fileState(path);
  let changedAt: number | undefined;
  let rewrites = 0;
  while (Date.now() < deadline) {
    await sleep(FLUSH_POLL_MS);
    const now = fileState(path);
    if (now !== last) {
      // One rewrite shows several states (truncated, then partly written): count it once settled.
      last = now;
      changedAt = Date.now();
    } else if (changedAt !== undefined && Date.now() - changedAt >= FLUSH_SETTLE_MS) {
      rewrites += 1;
      changedAt = undefined;
      if (rewrites >= FLUSH_REWRITES) return true;
    }
  }
  return false;
}
