import { loadConfig } from '../../shared/config.js';
import { buildConsumerHandler } from './consumer.js';

/** Lambda entry: Kinesis event source with ReportBatchItemFailures. Config is parsed at cold start. */
export const handler = buildConsumerHandler(loadConfig());
