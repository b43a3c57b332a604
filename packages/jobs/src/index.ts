export {
  Pushgateway,
  PushError,
  pushMetrics,
  groupingPath,
  selectMetrics,
  type PushgatewayOptions,
  type PushOptions,
  type PushResult,
  type PushTarget,
  type MetricSelection,
} from './push.js';
export { runJob, BATCH_JOB_METRICS, JOBS_SCOPE, type JobContext, type RunJobOptions } from './jobs.js';
export {
  offlineWorker,
  OfflineWorker,
  OFFLINE_WORKER_METRICS,
  OFFLINE_DURATION_BUCKETS,
  type OfflineWorkerOptions,
  type WorkerContext,
  type BatchContext,
} from './offline.js';
