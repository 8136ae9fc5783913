/**
 * Posture scoring (issue 4). Shared by the jobs (after each scan), the CLI and the app.
 * See docs/scoring.md for the formula and docs/rules.md for the rule catalogue.
 */
export { scorePendingIdentities, scoreIdentities, flagExpiredAcceptances, type ScoreOptions } from './pass.js'
export { assessIdentity, findingKey, type Assessment, type AssessmentContext } from './assess.js'
export { classifyAgent, AGENT_THRESHOLD, isLookAlikeName } from './classification.js'
export { computeScore, type ScoreBreakdown, type ScoredFinding } from './score.js'
export { rules, getRule, rulesById } from './rules/index.js'
export { THRESHOLDS, THRESHOLD_NAMES, DEFAULT_THRESHOLDS, parseThresholdValue, type ThresholdName } from './thresholds.js'
export { DEPARTED_OWNERS_SETTING } from './load.js'
export type { Rule, RuleInput, RuleOutcome, FindingDraft, IdentityInput, Classification } from './types.js'
export { setAgentOverride, acceptFinding, revokeAcceptance, MAX_ACCEPTANCE_DAYS } from './decisions.js'
export { takePostureSnapshot, pruneSnapshots, SNAPSHOT_RETENTION_DAYS, type SnapshotAggregates } from './snapshots.js'
