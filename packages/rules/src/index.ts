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
export { renderFiles, RULES_FILE, ALERTS_FILE, DASHBOARD_FILE } from './render.js';
export { reloadPrometheus, reloadPrometheusByPid, type ReloadResult } from './reload.js';
