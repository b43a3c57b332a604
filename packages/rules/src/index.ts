export {
  ALERT_GROUP,
  DEFAULT_RULE_OPTIONS,
  RECORDING_GROUP,
  alertRules,
  durationSeconds,
  recordingNames,
  recordingRules,
  resolveRuleOptions,
  type AlertRule,
  type RecordingRule,
  type ResolvedRuleOptions,
  type RuleFile,
  type RuleGroup,
  type RuleOptions,
} from './rules.js';
export { dashboard, dashboardQueries, type Dashboard, type DashboardPanel, type DashboardTarget } from './dashboard.js';
export { renderFiles, renderNativeFiles, RULES_FILE, ALERTS_FILE, DASHBOARD_FILE, NATIVE_RULES_FILE } from './render.js';
export { NATIVE_RECORDING_GROUP, nativeQuantile, nativeRecordingNames, nativeRecordingRules } from './native.js';
export { reloadPrometheus, reloadPrometheusByPid, type ReloadResult } from './reload.js';
