export {
  Pushgateway,
  PushError,
  pushMetrics,
  countPush,
  groupingPath,
  selectMetrics,
  type PushgatewayOptions,
  type PushOptions,
  type PushResult,
  type PushTarget,
  type MetricSelection,
} from './push.js';
export { runJob, BATCH_JOB_METRICS, type JobContext, type RunJobOptions } from './jobs.js';
export { JOBS_SCOPE } from './meter.js';
export {
  offlineWorker,
  OfflineWorker,
  OFFLINE_WORKER_METRICS,
  OFFLINE_DURATION_BUCKETS,
  type OfflineWorkerOptions,
  type WorkerContext,
  type BatchContext,
} from './offline.js';
export { schedulePush, ScheduledPush, type ScheduledPushOptions } from './scheduled-push.js';
export {
  writeTextfile,
  scheduleTextfile,
  ScheduledTextfile,
  TEXTFILE_MODE,
  type TextfileOptions,
  type ScheduledTextfileOptions,
} from './textfile.js';
