import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig } from '../../shared/config.js';
import { buildReconciler } from './reconciler.js';

const logger = new Logger({ serviceName: 'reconciler' });
const reconcile = buildReconciler(loadConfig());

/** Lambda entry, run every minute by a schedule. */
export const handler = async (): Promise<void> => {
  const result = await reconcile();
  if (result.found > 0) logger.info('re-enqueued stale ACCEPTED transfers', { ...result });
};
