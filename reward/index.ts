// The "rollout-studio" module that reward schedules import: the schedule API, the parsers and
// matchers, and the papers' presets to start from.
export * from "./api";
export { toolN1, toolRL, toolZero, makePreset, presetNames } from "./presets";
export type { ToolN1Options, ToolN1Prepared, ToolN1Variant } from "./presets/tool-n1";
export type { ToolRLOptions, ToolRLPrepared } from "./presets/toolrl";
export type { ToolZeroOptions, ToolZeroPrepared } from "./presets/tool-zero";
export type { RewardScore, RewardFailure, RewardFailureKind, LogEntry } from "./score";
