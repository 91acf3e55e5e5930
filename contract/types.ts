// Generated from the JSON Schemas in contract/ by `npm run contract` (scripts/contract.ts): do not edit.
// Change the schema, run `npm run contract`, and commit both; a unit test fails when they differ.

/** The run-directory schema version this code writes and reads (contract/VERSION). */
export const SCHEMA_VERSION = 1;

/**
 * running; paused (by the control socket, or with summary.error when the reward host failed twice on a step); finished; stopped (resumable); failed (with summary.error: the run ended on an error).
 */
export type RunStatus = "running" | "paused" | "finished" | "stopped" | "failed";
/**
 * empty: nothing after the chat template; no_tag: no <tool_call> block; unclosed_tag; bad_json, bad_python: the payload does not read; not_a_list: not a call or a list of calls; not_a_call: an item is not an object; missing_name; missing_arguments; bad_arguments: `arguments` is not an object.
 */
export type ParseFailureReason =
  | "empty"
  | "no_tag"
  | "unclosed_tag"
  | "bad_json"
  | "bad_python"
  | "not_a_list"
  | "not_a_call"
  | "missing_name"
  | "missing_arguments"
  | "bad_arguments";
export type EngineEvent =
  | PretrainStartedEvent
  | PretrainEvent
  | StartedEvent
  | StepEvent
  | EvalEvent
  | CheckpointEvent
  | PausedEvent
  | ResumedEvent
  | StoppedEvent
  | RewardReloadedEvent
  | RewardReloadRejectedEvent
  | RewardLogEvent
  | WarningEvent
  | ErrorEvent
  | FinishedEvent;
/**
 * A command. Commands act at the end of the current step.
 */
export type ControlCommand = RunCommand | SampleCommand | RewardScheduleCommand | RewardPresetCommand;
/**
 * The answer to one command.
 */
export type ControlAnswer = CommandDone | SampleAnswer | RewardAnswer | Refusal;
/**
 * One line on the host's stdin.
 */
export type HostRequest =
  ScoreRequest | VersionRequest | ReloadRequest | LoadRequest | WeightsRequest | ShutdownRequest;
/**
 * Chosen by the client; the reply carries it back. The engine counts 1, 2, 3, …
 */
export type RequestId = number | string;
/**
 * A method without parameters: `params` is left out or `{}`.
 */
export type NoParams = Record<string, never>;
/**
 * One line on the host's stdout: a reply or an event. Nothing else is ever written there.
 */
export type HostMessage = HostReply | HostEvent;
/**
 * The answer to one request, in request order.
 */
export type HostReply = ScoreReply | VersionReply | ReloadReply | LoadReply | WeightsReply | ShutdownReply | ErrorReply;
/**
 * What the host scores with: a schedule file or a preset with options.
 */
export type ScheduleSource = FileSource | PresetSource;
/**
 * Why a new version was refused: it did not compile or load (LoadProblem), or it failed its check on recent samples (CheckRejection).
 */
export type ReloadError = LoadProblem | CheckRejection;
/**
 * A message of the host's own, with `event` and no `id`.
 */
export type HostEvent = ReadyEvent | LoadFailedEvent | ReloadedEvent | ReloadRejectedEvent | LogEvent;

/**
 * run.json: the run's configuration, status and reward versions. Replaced atomically at start, after each step and at the end.
 */
export interface RunInfo {
  /**
   * The contract version the run was written with (contract/VERSION). Runs written before it was recorded lack it: they are version 1. A reader refuses a run of a newer version than its own.
   */
  schema_version?: number;
  /**
   * The run's id (its folder's name, by default).
   */
  id: string;
  status: RunStatus;
  /**
   * When the run started, in seconds since the epoch.
   */
  started_at: number;
  /**
   * Each resume: the checkpoint's step and when.
   */
  resumed_at?: Resume[];
  /**
   * When the run ended (finished, stopped, paused on an error, failed), in seconds since the epoch.
   */
  finished_at?: number;
  config: RunConfig;
  /**
   * The base model the policy started from (a folder, or a transformers model).
   */
  base: string | null;
  /**
   * The reward versions that scored samples, in order of first use (each has rewards/<version>.json).
   */
  reward_versions: string[];
  /**
   * {version: the step it first scored at}.
   */
  reward_version_steps?: {
    [k: string]: number;
  };
  /**
   * The last completed step.
   */
  step: number;
  /**
   * The checkpoints written, in order.
   */
  checkpoints: Checkpoint[];
  summary?: RunSummary;
  source?: RunSource;
}
export interface Resume {
  /**
   * The checkpoint's step the run went on from.
   */
  step: number;
  /**
   * When, in seconds since the epoch.
   */
  time: number;
}
/**
 * The run configuration as the engine read it, every setting filled in (docs/run-config.md). The engine writes every field; readers allow missing ones.
 */
export interface RunConfig {
  data?: DataConfig;
  policy?: PolicyConfig;
  reward?: RewardConfig;
  grpo?: GRPOConfig;
  run?: RunSettings;
  verl?: VerlConfig;
}
export interface DataConfig {
  /**
   * The training dataset (docs/dataset-format.md).
   */
  train?: string;
  /**
   * Evaluation datasets: one file, several, or none.
   */
  eval?: string | string[] | null;
  /**
   * At most this many samples per split (0: all).
   */
  eval_samples?: number;
  /**
   * The prompt template.
   */
  template?: "tool-n1" | "toolrl" | "tool-zero" | "documentation";
  on_bad_line?: "abort" | "skip";
}
export interface PolicyConfig {
  backend?: "tiny" | "hf";
  model?: string | null;
  init?: "pretrained" | "random";
  max_new_tokens?: number;
  threads?: number;
  micro_batch_size?: number;
  precision?: "auto" | "fp32" | "bf16-mixed" | "bf16";
  gradient_checkpointing?: boolean;
  lora_rank?: number;
  lora_alpha?: number;
  rollout?: "auto" | "shared-prefill" | "generate";
  logprob_chunk?: number;
}
export interface RewardConfig {
  /**
   * The preset scored with, or null for a schedule file.
   */
  preset?: string | null;
  /**
   * The schedule file scored with, or null for a preset.
   */
  schedule?: string | null;
  /**
   * The preset's options.
   */
  options?: {
    [k: string]: unknown;
  };
}
export interface GRPOConfig {
  num_generations?: number;
  prompts_per_step?: number;
  temperature?: number;
  top_p?: number;
  beta?: number;
  epsilon?: number;
  num_iterations?: number;
  loss_type?: "grpo" | "bnpo" | "dr_grpo";
  scale_rewards?: boolean;
  entropy_coef?: number;
  learning_rate?: number;
  lr_scheduler_type?: "constant" | "cosine";
  max_grad_norm?: number;
  max_steps?: number;
}
export interface RunSettings {
  dir?: string | null;
  seed?: number;
  device?: string;
  checkpoint_every?: number;
  /**
   * Also export each checkpoint of the tiny policy to ONNX (<run>/exports/step-N) for the playground.
   */
  export_checkpoints?: boolean;
  eval_every?: number;
  time_limit_s?: number;
  /**
   * What trains the run: Rollout Studio's engine, TRL's GRPOTrainer (docs/trl.md) or verl (docs/verl.md).
   */
  engine?: "rollout-studio" | "trl" | "verl";
}
/**
 * How a run with engine = "verl" starts verl.
 */
export interface VerlConfig {
  /**
   * The command that starts verl's trainer.
   */
  launcher?: string[];
  /**
   * verl key=value settings added last.
   */
  overrides?: string[];
  /**
   * verl before 0.7.1: the reward function's keys without the reward. prefix.
   */
  legacy_reward_keys?: boolean;
}
export interface Checkpoint {
  /**
   * The step it was written after.
   */
  step: number;
  /**
   * Its folder, relative to the run directory (checkpoints/step-NNNNNN).
   */
  path: string;
}
/**
 * How the run ended: for a finished run steps, seconds, train_seconds and the last evaluation; for a stopped one the step; for a failed or paused one the error and the step.
 */
export interface RunSummary {
  /**
   * Steps trained.
   */
  steps?: number;
  /**
   * Wall time of the run.
   */
  seconds?: number;
  /**
   * Time in steps, evaluations left out.
   */
  train_seconds?: number;
  /**
   * The last evaluation, one result per split.
   */
  eval?: EvalResult[];
  /**
   * The last completed step.
   */
  step?: number;
  /**
   * What went wrong.
   */
  error?: string;
}
/**
 * A line of eval.jsonl: one evaluation split at one step (greedy decoding).
 */
export interface EvalResult {
  /**
   * The evaluation split (the dataset's `split` field).
   */
  split: string;
  /**
   * The step evaluated after (0: the starting policy).
   */
  step: number;
  /**
   * Prompts evaluated.
   */
  samples: number;
  /**
   * The fraction whose calls exactly match the ground truth.
   */
  strict_accuracy: number;
  /**
   * Mean reward of the greedy completions (failures left out).
   */
  mean_reward: number;
  /**
   * Seconds since the run started.
   */
  elapsed_s?: number;
}
/**
 * Where a run that Rollout Studio did not train came from (absent for the engine's own runs).
 */
export interface RunSource {
  /**
   * The trainer that wrote it: trl (a completions folder or a live TRL run), verl (rollout dumps), jsonl (a file of samples).
   */
  trainer: "trl" | "verl" | "jsonl";
  /**
   * The folder or file it was read from.
   */
  path: string;
  /**
   * import: read once from a finished run; follow: read while the trainer writes it; live: written by the trainer itself through Rollout Studio's callback.
   */
  mode?: "import" | "follow" | "live";
}
/**
 * A line of rollouts/step-NNNNNN.jsonl: one sampled completion, how it was scored, and what it did in the update.
 */
export interface TrajectoryRecord {
  /**
   * The run's id.
   */
  run: string;
  /**
   * The step the sample was drawn at.
   */
  step: number;
  /**
   * The dataset sample's id.
   */
  prompt_id: string;
  /**
   * Its GRPO group in the step.
   */
  group: number;
  /**
   * Its index among the group's G samples.
   */
  sample: number;
  /**
   * Updates the sampling policy had had (step − 1).
   */
  policy_version: number;
  /**
   * The reward version that scored it (rewards/<version>.json).
   */
  reward_version: string;
  prompt: Prompt;
  /**
   * The sampled text.
   */
  completion: string;
  /**
   * The calls the reward parsed from the completion, or null when they did not parse.
   */
  calls: ToolCall[] | null;
  /**
   * Why the calls did not parse, or null.
   */
  parse_failure: ParseFailure | null;
  /**
   * The calls expected.
   */
  ground_truth: ToolCall[];
  /**
   * The total reward; null for a reward failure.
   */
  reward: number | null;
  components: Components;
  /**
   * The reward failure, or null.
   */
  failure: RewardFailure | null;
  /**
   * The group-normalised advantage (0 for a sample that did not train).
   */
  advantage: number;
  /**
   * Whether the sample entered the loss (reward failures, and a group's lone survivor, do not).
   */
  trained: boolean;
  /**
   * Tokens of the prompt as the policy read it.
   */
  prompt_tokens: number;
  /**
   * Tokens sampled (the end-of-sequence token not counted).
   */
  completion_tokens: number;
  /**
   * stop: ended with end-of-sequence; length: truncated at max_new_tokens.
   */
  finish_reason: "stop" | "length";
  /**
   * Only when the schedule printed while scoring this sample: what it printed (at most 8 KiB).
   */
  reward_logs?: LogEntry[];
  /**
   * Only in runs imported from or followed in another trainer (TRL, verl, a JSONL of samples): the reward that trainer recorded for this sample (null: none recorded). `reward` is Rollout Studio's score of it.
   */
  source_reward?: number | null;
}
/**
 * The prompt as the dataset gives it (docs/dataset-format.md).
 */
export interface Prompt {
  /**
   * The conversation up to the assistant's turn.
   */
  messages: PromptMessage[];
  /**
   * The tool schemas offered, as the dataset gives them.
   */
  tools: {
    [k: string]: unknown;
  }[];
}
export interface PromptMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  [k: string]: unknown;
}
/**
 * A tool call: its name and its arguments, with Python's number types (40.0 is a float, 40 an int).
 */
export interface ToolCall {
  /**
   * The tool's name.
   */
  name: string;
  /**
   * The arguments by name, with Python's types.
   */
  arguments: {
    [k: string]: unknown;
  };
}
/**
 * Why a completion's tool calls did not parse.
 */
export interface ParseFailure {
  reason: ParseFailureReason;
  /**
   * What is wrong, in words.
   */
  message: string;
  /**
   * For bad_json and bad_python: line and column (1-based) in the tool-call payload, and the offset into the assistant's text.
   */
  position?: {
    line: number;
    column: number;
    offset: number;
  };
  /**
   * The offending call, for reasons about one call.
   */
  callIndex?: number;
}
/**
 * Each component's score, by name.
 */
export interface Components {
  [k: string]: ComponentScore;
}
/**
 * One component's score for one sample.
 */
export interface ComponentScore {
  /**
   * What the component's score function returned.
   */
  raw: number;
  /**
   * The component's weight at the sample's training time.
   */
  weight: number;
  /**
   * raw × weight: what it adds to a weighted sum.
   */
  value: number;
  /**
   * The component's reason, in words.
   */
  why: string;
  at?: SourceLocation;
}
/**
 * A place in a schedule's source: line and column (1-based), and the file when it is not the schedule itself (relative to its folder).
 */
export interface SourceLocation {
  /**
   * 1-based line.
   */
  line: number;
  /**
   * Column.
   */
  column: number;
  /**
   * The file, relative to the schedule's folder, when not the schedule itself.
   */
  file?: string;
}
/**
 * A reward failure: the sample has no reward (never a silent 0).
 */
export interface RewardFailure {
  /**
   * exception: the schedule's code threw; non_finite: a value or weight was not a finite number; timeout, out_of_memory, crashed: the sample hung, ate memory or killed its worker; bad_input: the sample itself is wrong.
   */
  kind: "exception" | "non_finite" | "timeout" | "out_of_memory" | "crashed" | "bad_input";
  /**
   * What happened, in words.
   */
  message: string;
  /**
   * The component that failed, when one did.
   */
  component?: string;
  /**
   * For bad_input: the sample's field that was wrong (ground_truth, completion).
   */
  field?: string;
  /**
   * For exception: the error's stack.
   */
  stack?: string;
}
/**
 * What a schedule printed to one stream (consecutive writes joined).
 */
export interface LogEntry {
  /**
   * Where the schedule printed it.
   */
  stream: "stdout" | "stderr";
  /**
   * What it printed.
   */
  text: string;
}
/**
 * A line of index/step-NNNNNN.jsonl: the fields the explorer filters and sorts on, and where the record lies in the step's rollout file. One line per record, in the same order.
 */
export interface IndexRow {
  /**
   * The record's first byte in the rollout file.
   */
  offset: number;
  /**
   * The record's length in bytes, without its newline.
   */
  length: number;
  /**
   * The step the sample was drawn at.
   */
  step: number;
  /**
   * Its GRPO group in the step.
   */
  group: number;
  /**
   * Its index among the group's G samples.
   */
  sample: number;
  /**
   * The dataset sample's id.
   */
  prompt_id: string;
  /**
   * The user's last message, first 200 characters.
   */
  request: string;
  /**
   * The total reward; null for a reward failure.
   */
  reward: number | null;
  /**
   * The group-normalised advantage (0 for a sample that did not train).
   */
  advantage: number;
  /**
   * {name: value}.
   */
  components: {
    [k: string]: number;
  };
  /**
   * The parse failure's reason, or null.
   */
  parse_failure: ParseFailureReason | null;
  /**
   * The reward version that scored it (rewards/<version>.json).
   */
  reward_version: string;
  /**
   * Whether the calls exactly match the ground truth (engine/rollout_engine/calls.py).
   */
  exact: boolean | null;
  /**
   * The reward failure as `kind: message`, or null.
   */
  failure: string | null;
  /**
   * Tokens sampled (the end-of-sequence token not counted).
   */
  completion_tokens: number;
}
/**
 * A line of metrics.jsonl: one step's metrics, appended and flushed at the end of the step.
 */
export interface StepMetrics {
  /**
   * The step.
   */
  step: number;
  /**
   * Seconds since the run (or its resume) started.
   */
  elapsed_s: number;
  /**
   * The learning rate used at this step; null when the trainer did not record it (a run imported from another trainer).
   */
  learning_rate: number | null;
  time?: StepTime;
  reward: Stat;
  /**
   * Each component's weighted values, by name.
   */
  components: {
    [k: string]: ComponentStat;
  };
  /**
   * The fraction of samples whose `format` component's raw score is above 0.
   */
  format_pass_rate: number;
  /**
   * The fraction of samples whose calls did not parse.
   */
  parse_failure_rate: number;
  /**
   * {reason: count}.
   */
  parse_failures: {
    [k: string]: number;
  };
  /**
   * Type-strict multiset match of calls with the ground truth.
   */
  exact_match_rate: number;
  /**
   * Samples without a reward (their failure is in the record).
   */
  reward_failures: number;
  /**
   * The fraction of groups whose rewards are all equal: they give no gradient.
   */
  zero_variance_groups: number;
  advantage: Stat;
  /**
   * To the reference policy (k3); null when the update was skipped.
   */
  kl: number | null;
  /**
   * Mean token entropy of the policy on the sampled completions; null when the update was skipped.
   */
  entropy: number | null;
  /**
   * The fraction of tokens whose ratio was clipped; null when the update was skipped.
   */
  clip_fraction: number | null;
  /**
   * Before clipping; null when the update was skipped.
   */
  grad_norm: number | null;
  /**
   * True in runs written before non-finite values paused the run (a non-finite loss then skipped the update); false since.
   */
  update_skipped: boolean;
  /**
   * Tokens per completion: mean and max.
   */
  completion_length: {
    mean: number;
    max: number;
  };
  /**
   * The fraction of completions cut at max_new_tokens.
   */
  truncation_rate: number;
  /**
   * Throughput of sampling (rollout) and of the update (train).
   */
  tokens_per_s: {
    rollout: number;
    train: number;
  };
  /**
   * Seconds spent in the step's phases (write: the records).
   */
  time_s: {
    rollout: number;
    reward: number;
    update: number;
    write?: number;
  };
}
/**
 * The training time the step's rewards were scored at: replaying a reward on stored rollouts uses it, so time-dependent schedules reproduce. Runs from before it was recorded lack it.
 */
export interface StepTime {
  /**
   * The global step.
   */
  step: number;
  /**
   * The fraction of training done.
   */
  progress: number;
  /**
   * Steps done divided by steps per epoch.
   */
  epoch: number;
}
export interface Stat {
  /**
   * Mean.
   */
  mean: number;
  /**
   * Smallest.
   */
  min: number;
  /**
   * Largest.
   */
  max: number;
}
/**
 * mean, min and max of a component's weighted values; raw_mean of the unweighted ones; its mean weight at this step.
 */
export interface ComponentStat {
  /**
   * Mean of the weighted values.
   */
  mean: number;
  /**
   * Smallest weighted value.
   */
  min: number;
  /**
   * Largest weighted value.
   */
  max: number;
  /**
   * Mean of the unweighted (raw) values: the component's own rise while its weight changes.
   */
  raw_mean?: number;
  /**
   * The component's mean weight at this step.
   */
  weight?: number;
}
/**
 * rewards/<version>.json: a reward version, written when it first scores.
 */
export interface RewardVersion {
  /**
   * The version's hash (the name of the file).
   */
  version: string;
  /**
   * What the version is (name, components with where their code is, options).
   */
  schedule?: ScheduleInfo | null;
  /**
   * The step it first scored at.
   */
  first_step?: number | null;
  /**
   * For a schedule file: the file.
   */
  source_file?: string | null;
  /**
   * For a schedule file: its source text at that time (a rollback runs it again).
   */
  source?: string | null;
  /**
   * Why the source could not be read, when it could not.
   */
  source_error?: string;
}
/**
 * What a schedule version is: its name, description, components and options.
 */
export interface ScheduleInfo {
  /**
   * The schedule's name.
   */
  name: string;
  /**
   * What it rewards, in words.
   */
  description: string;
  /**
   * Its components, in order.
   */
  components: ComponentInfo[];
  /**
   * The schedule's options (a preset's, or what a schedule file declares).
   */
  options: {
    [k: string]: unknown;
  };
}
/**
 * One component of a schedule.
 */
export interface ComponentInfo {
  /**
   * The component's name (the key of its score).
   */
  name: string;
  /**
   * What it rewards, in words.
   */
  description: string;
  /**
   * Whether its weight depends on the training time.
   */
  timedWeight: boolean;
  /**
   * Whether its declared range depends on the training time.
   */
  timedRange: boolean;
  at?: SourceLocation;
}
/**
 * The tiny base model is being built (first run only, a few minutes on 2 cores).
 */
export interface PretrainStartedEvent {
  event: "pretrain_started";
  /**
   * Where the base is built and cached.
   */
  dir: string;
}
/**
 * Progress of building the tiny base model.
 */
export interface PretrainEvent {
  event: "pretrain";
  /**
   * The pretraining step.
   */
  step: number;
  /**
   * Its training loss.
   */
  loss: number;
  /**
   * Seconds since pretraining started.
   */
  elapsed_s: number;
}
/**
 * Training starts (after the policy, data and reward host are ready).
 */
export interface StartedEvent {
  event: "started";
  /**
   * The run's id.
   */
  run_id: string;
  /**
   * The run directory's path.
   */
  run_dir: string;
  /**
   * The steps the run is set to train.
   */
  max_steps: number;
  /**
   * Seconds of training after which the run ends (0: none).
   */
  time_limit_s: number;
  /**
   * The policy's parameters.
   */
  params: number;
  /**
   * Training prompts.
   */
  train_samples: number;
  /**
   * The base model.
   */
  base: string;
  /**
   * 1, or the step a resume goes on from.
   */
  first_step: number;
  /**
   * How rollouts are sampled: shared-prefill (each prompt read once, its KV cache copied to its samples) or generate (transformers' generate, the hf backend's fallback).
   */
  rollout?: "shared-prefill" | "generate";
}
/**
 * A step is done and written.
 */
export interface StepEvent {
  event: "step";
  /**
   * The step done.
   */
  step: number;
  /**
   * The step's mean reward.
   */
  reward: number;
  /**
   * The step's exact-match rate.
   */
  exact: number;
  /**
   * The step's format pass rate.
   */
  format: number;
  /**
   * Seconds since the run (or its resume) started.
   */
  elapsed_s: number;
  /**
   * An estimate of the training time left.
   */
  remaining_s: number;
}
/**
 * An evaluation split is done: the line written to eval.jsonl, with `event`.
 */
export interface EvalEvent {
  event: "eval";
  /**
   * The evaluation split (the dataset's `split` field).
   */
  split: string;
  /**
   * The step evaluated after (0: the starting policy).
   */
  step: number;
  /**
   * Prompts evaluated.
   */
  samples: number;
  /**
   * The fraction whose calls exactly match the ground truth.
   */
  strict_accuracy: number;
  /**
   * Mean reward of the greedy completions (failures left out).
   */
  mean_reward: number;
  /**
   * Seconds since the run started.
   */
  elapsed_s?: number;
}
export interface CheckpointEvent {
  event: "checkpoint";
  /**
   * The step it was written after.
   */
  step: number;
  /**
   * The checkpoint's folder.
   */
  path: string;
}
/**
 * The run waits after this step (the control socket's pause).
 */
export interface PausedEvent {
  event: "paused";
  /**
   * The step after which the run waits.
   */
  step: number;
}
/**
 * A paused run goes on.
 */
export interface ResumedEvent {
  event: "resumed";
  /**
   * The step after which it goes on.
   */
  step: number;
}
/**
 * The run stopped after this step, with a checkpoint (stop command or SIGTERM); it can be resumed.
 */
export interface StoppedEvent {
  event: "stopped";
  /**
   * The last step done.
   */
  step: number;
}
/**
 * A new reward version scored this step (a saved schedule, a push or a rollback).
 */
export interface RewardReloadedEvent {
  event: "reward_reloaded";
  /**
   * The version scoring now.
   */
  version: string;
  /**
   * The version before it.
   */
  previous: string | null;
  /**
   * The step whose batch it scored first.
   */
  step: number;
}
/**
 * A new reward version was refused; the previous one goes on scoring.
 */
export interface RewardReloadRejectedEvent {
  event: "reward_reload_rejected";
  /**
   * Why it was refused.
   */
  message: string;
  /**
   * The step at which the refusal was seen.
   */
  step: number;
}
/**
 * What the reward schedule printed outside any sample (while loading, from a timer), or an error its code threw late: the reward host's log event with the step.
 */
export interface RewardLogEvent {
  event: "reward_log";
  /**
   * The step at which it was seen.
   */
  step: number;
  /**
   * The version that printed.
   */
  version: string;
  /**
   * stderr for an error, else the stream it printed to.
   */
  stream: "stdout" | "stderr";
  /**
   * load: while the schedule loaded; idle: outside any sample; late: from code a sample started, after its score was sent.
   */
  during: "load" | "idle" | "late";
  /**
   * For `late`: the sample (its id, or #n) that started the code.
   */
  sample?: string;
  /**
   * Present when the text is an error's stack, not printed output.
   */
  error?: true;
  /**
   * What was printed, or the error's stack.
   */
  text: string;
}
/**
 * Something a person should know; the run goes on. A restarted reward host is one (with step and reason), so is each partial line dropped on resume.
 */
export interface WarningEvent {
  event: "warning";
  /**
   * What happened, in words.
   */
  message: string;
  /**
   * The step, when it concerns one.
   */
  step?: number;
  /**
   * Why the reward host was restarted.
   */
  reason?: string;
}
/**
 * The run cannot go on (or cannot start); the message says what to do.
 */
export interface ErrorEvent {
  event: "error";
  /**
   * What went wrong and what to do.
   */
  message: string;
}
/**
 * The run is finished (run.json's summary).
 */
export interface FinishedEvent {
  event: "finished";
  /**
   * Steps trained.
   */
  steps: number;
  /**
   * Wall time of the run.
   */
  seconds: number;
  /**
   * Time in steps, evaluations left out.
   */
  train_seconds: number;
  /**
   * The last evaluation, one result per split.
   */
  eval: EvalResult[];
}
/**
 * control.json in the run directory, while an engine runs it: where its control socket is.
 */
export interface ControlFile {
  /**
   * The socket's absolute path (in a private per-user folder, not the run directory).
   */
  socket: string;
  /**
   * The engine's process id.
   */
  pid: number;
}
/**
 * pause: the run waits (samples are still served); resume; stop: checkpoint and exit 0 (resumable); checkpoint: a checkpoint now, without stopping.
 */
export interface RunCommand {
  /**
   * What to do.
   */
  command: "pause" | "resume" | "stop" | "checkpoint";
}
/**
 * A completion from the current policy. Answered with a SampleAnswer.
 */
export interface SampleCommand {
  command: "sample";
  /**
   * The prompt text, as the policy reads it.
   */
  prompt: string;
  /**
   * Default: the run's setting.
   */
  max_new_tokens?: number;
  /**
   * Default: the run's setting.
   */
  temperature?: number;
}
/**
 * Score with this schedule file from the next step (push, rollback), once the reward host has checked it. Answered with a RewardAnswer. The file must be inside the run directory or a folder the run was set up from (docs/run-directory.md).
 */
export interface RewardScheduleCommand {
  command: "reward";
  /**
   * The schedule file's absolute path (.ts, .mts, .cts, .js, .mjs, .cjs).
   */
  schedule: string;
}
/**
 * Score with this preset from the next step (push, rollback). Answered with a RewardAnswer.
 */
export interface RewardPresetCommand {
  command: "reward";
  /**
   * The preset's name (`rollout-studio presets` lists them).
   */
  preset: string;
  /**
   * The preset's options.
   */
  options?: {
    [k: string]: unknown;
  };
}
/**
 * A run command was taken (it acts at the end of the current step).
 */
export interface CommandDone {
  ok: true;
  /**
   * What to do.
   */
  command: "pause" | "resume" | "stop" | "checkpoint";
}
/**
 * A completion from the current policy.
 */
export interface SampleAnswer {
  ok: true;
  /**
   * The sampled text.
   */
  completion: string;
  /**
   * stop: it ended with end-of-sequence; length: it was cut at max_new_tokens.
   */
  finish_reason: "stop" | "length";
}
/**
 * Whether the run scores with the new reward from the next step, or keeps its reward.
 */
export interface RewardAnswer {
  ok: true;
  /**
   * True when the new reward passed the reward host's check.
   */
  accepted: boolean;
  /**
   * The reward version scoring from the next step.
   */
  version: string | null;
  /**
   * Why the new reward was refused.
   */
  error?: string;
}
/**
 * A command that was not taken: not JSON, unknown, a field it does not take, a value of the wrong type or out of range (the error names the field), a schedule file from elsewhere, or a run that ended first.
 */
export interface Refusal {
  ok: false;
  /**
   * Why, naming the field when one is wrong.
   */
  error: string;
}
/**
 * `score`: scores a batch of samples at a training time. Answered with a ScoreReply.
 */
export interface ScoreRequest {
  id: RequestId;
  method: "score";
  params: ScoreParams;
}
/**
 * A batch and the training time its rewards are scored at (reward schedules depend on it).
 */
export interface ScoreParams {
  /**
   * The samples, scored in this order.
   */
  samples: ScoreSample[];
  /**
   * The global optimizer step (0 before training).
   */
  step?: number;
  /**
   * The fraction of training done, in [0, 1].
   */
  progress?: number;
  /**
   * Steps done divided by steps per epoch.
   */
  epoch?: number;
  /**
   * The planned number of steps, when known.
   */
  total_steps?: number;
}
/**
 * A completion to score, with what it should have called.
 */
export interface ScoreSample {
  /**
   * Names the sample in its score and in messages (the engine sends <prompt id>#<sample>).
   */
  id?: string | number;
  /**
   * The model's output.
   */
  completion: string;
  /**
   * The expected calls: their JSON text (what the engine sends, as the papers' reward functions receive it), a list of {name, arguments} calls, or ToolRL's tagged target text.
   */
  ground_truth: {
    [k: string]: unknown;
  };
  /**
   * The tool schemas the prompt offered.
   */
  tools?: {
    [k: string]: unknown;
  }[];
}
/**
 * `version`: which schedule version serves now. Answered with a VersionReply.
 */
export interface VersionRequest {
  id: RequestId;
  method: "version";
  params?: NoParams;
}
/**
 * `reload`: reads the schedule file again now, checks it and switches to it. Answered with a ReloadReply.
 */
export interface ReloadRequest {
  id: RequestId;
  method: "reload";
  params?: NoParams;
}
/**
 * `load`: switches to another schedule file or preset (push, rollback) after the same check as a reload. Answered with a LoadReply.
 */
export interface LoadRequest {
  id: RequestId;
  method: "load";
  /**
   * A schedule file, or a preset with options.
   */
  params: LoadScheduleParams | LoadPresetParams;
}
/**
 * Switch to a schedule file.
 */
export interface LoadScheduleParams {
  /**
   * The schedule file to score with.
   */
  schedule: string;
}
/**
 * Switch to a preset.
 */
export interface LoadPresetParams {
  /**
   * The preset to score with.
   */
  preset: string;
  /**
   * The preset's options (each preset has its own).
   */
  options?: {
    [k: string]: unknown;
  };
}
/**
 * `weights`: each component's weight at some training times, for plotting a schedule. Answered with a WeightsReply.
 */
export interface WeightsRequest {
  id: RequestId;
  method: "weights";
  /**
   * The training times to give the weights at.
   */
  params: {
    /**
     * The training times; a missing field counts as 0.
     */
    times: {
      step?: number;
      progress?: number;
      epoch?: number;
      total_steps?: number;
    }[];
  };
}
/**
 * `shutdown`: the host answers and exits.
 */
export interface ShutdownRequest {
  id: RequestId;
  method: "shutdown";
  params?: NoParams;
}
/**
 * The answer to `score`.
 */
export interface ScoreReply {
  id: RequestId;
  /**
   * The version that scored the batch, and the scores.
   */
  result: {
    /**
     * The schedule version that scored the batch (all of it).
     */
    version: string;
    /**
     * One score per sample, in sample order.
     */
    scores: Score[];
  };
}
/**
 * One sample's reward, with what it is made of.
 */
export interface Score {
  /**
   * The sample's id, when it had one.
   */
  id?: string;
  /**
   * The reward; null for a reward failure.
   */
  total: number | null;
  components: Components;
  /**
   * The calls the reward parsed from the completion, or null when they did not parse.
   */
  calls: ToolCall[] | null;
  /**
   * Why the calls did not parse, or null.
   */
  parseFailure: ParseFailure | null;
  /**
   * The reward failure, or null.
   */
  failure: RewardFailure | null;
  /**
   * The schedule version that produced this score.
   */
  version: string;
  /**
   * Why the total is what it is, when the schedule's combine says.
   */
  why?: string;
  /**
   * What the schedule printed while scoring this sample (absent when nothing): at most 8 KiB, then an entry saying how much was dropped.
   */
  logs?: LogEntry[];
}
/**
 * The answer to `version`.
 */
export interface VersionReply {
  id: RequestId;
  /**
   * The version serving now, what it is, and its source.
   */
  result: {
    version: string;
    schedule: ScheduleInfo;
    source: ScheduleSource;
  };
}
export interface FileSource {
  kind: "file";
  /**
   * The schedule file's absolute path.
   */
  path: string;
}
export interface PresetSource {
  kind: "preset";
  name: string;
  options?: {
    [k: string]: unknown;
  };
}
/**
 * The answer to `reload`.
 */
export interface ReloadReply {
  id: RequestId;
  result: ReloadResult;
}
/**
 * Whether a new version was switched to.
 */
export interface ReloadResult {
  /**
   * Whether the new version serves from the next request.
   */
  accepted: boolean;
  /**
   * The version serving now (the new one when accepted, else the one kept; null when none loaded).
   */
  version: string | null;
  error?: ReloadError;
  /**
   * True when the new version is the one already serving.
   */
  unchanged?: boolean;
}
/**
 * Why a schedule did not compile or load.
 */
export interface LoadProblem {
  /**
   * What went wrong, in words.
   */
  message: string;
  /**
   * Compile errors, each where it is.
   */
  errors?: CompileMessage[];
}
/**
 * A compile error where it is.
 */
export interface CompileMessage {
  /**
   * The file, absolute.
   */
  file: string;
  /**
   * 1-based line.
   */
  line: number;
  /**
   * 1-based column.
   */
  column: number;
  /**
   * esbuild's message.
   */
  text: string;
}
/**
 * A version that failed the contract check on recent samples (docs/debugging.md).
 */
export interface CheckRejection {
  /**
   * Which version failed on how many samples, and the first problems.
   */
  message: string;
  /**
   * The blocking problems as lines of text, most frequent first.
   */
  problems: string[];
  report: CheckReport;
}
/**
 * The contract check of one schedule version.
 */
export interface CheckReport {
  /**
   * The version checked.
   */
  version: string;
  /**
   * The samples it was checked on.
   */
  samples: number;
  /**
   * No blocking problem.
   */
  ok: boolean;
  /**
   * Its problems, one per kind and place.
   */
  problems: CheckProblem[];
  /**
   * Time to score one sample, in milliseconds; null without samples.
   */
  latencyMs: {
    mean: number;
    p95: number;
    max: number;
  } | null;
}
/**
 * A problem of a version, at one place in its code.
 */
export interface CheckProblem {
  /**
   * What went wrong (slow: a sample took longer than the limit).
   */
  kind:
    | "exception"
    | "non_finite"
    | "out_of_range"
    | "non_deterministic"
    | "timeout"
    | "crashed"
    | "out_of_memory"
    | "slow";
  /**
   * The first occurrence's message.
   */
  message: string;
  /**
   * How many samples had it at this place.
   */
  count: number;
  /**
   * The component, when one is concerned.
   */
  component?: string;
  /**
   * The first sample it happened on.
   */
  sample?: string;
  at?: SourceLocation;
  /**
   * Whether it blocks the version (slow only warns).
   */
  blocking: boolean;
}
/**
 * The answer to `load`.
 */
export interface LoadReply {
  id: RequestId;
  result: LoadResult;
}
/**
 * A ReloadResult with the source serving now.
 */
export interface LoadResult {
  /**
   * Whether the new version serves from the next request.
   */
  accepted: boolean;
  /**
   * The version serving now (the new one when accepted, else the one kept; null when none loaded).
   */
  version: string | null;
  error?: ReloadError;
  /**
   * True when the new version is the one already serving.
   */
  unchanged?: boolean;
  source: ScheduleSource;
}
/**
 * The answer to `weights`.
 */
export interface WeightsReply {
  id: RequestId;
  /**
   * A row per training time asked for, in order.
   */
  result: {
    rows: WeightsRow[];
  };
}
/**
 * One training time and each component's weight then.
 */
export interface WeightsRow {
  time: TrainingTime;
  /**
   * Each component's weight at that time.
   */
  weights: {
    [k: string]: number;
  };
}
/**
 * A training time as the host writes it (camelCase, as reward schedules see it).
 */
export interface TrainingTime {
  /**
   * The global step.
   */
  step: number;
  /**
   * The fraction of training done.
   */
  progress: number;
  /**
   * Steps done divided by steps per epoch.
   */
  epoch: number;
  /**
   * The planned number of steps, when known.
   */
  totalSteps?: number;
}
/**
 * The answer to `shutdown`; the host then exits.
 */
export interface ShutdownReply {
  id: RequestId;
  /**
   * `{ok: true}`.
   */
  result: {
    ok: true;
  };
}
/**
 * A request the host could not serve.
 */
export interface ErrorReply {
  /**
   * The request's id; null when the line could not be read.
   */
  id: RequestId | null;
  /**
   * The error's code and message.
   */
  error: {
    /**
     * bad_request: the line is not JSON or its params are wrong; unknown_method; no_schedule: no schedule is loaded.
     */
    code: "bad_request" | "unknown_method" | "no_schedule";
    /**
     * What is wrong, naming the request line.
     */
    message: string;
  };
}
/**
 * The schedule is loaded: the host takes requests.
 */
export interface ReadyEvent {
  event: "ready";
  /**
   * The version serving.
   */
  version: string;
  schedule: ScheduleInfo;
  /**
   * Worker threads that share each batch.
   */
  workers: number;
}
/**
 * The schedule cannot be loaded at start. Without --watch the host then exits with code 1; with it, it waits for a fixed file.
 */
export interface LoadFailedEvent {
  event: "load_failed";
  error: LoadProblem;
}
/**
 * A new version passed its check and serves from the next request.
 */
export interface ReloadedEvent {
  event: "reloaded";
  /**
   * Why: `file changed`, `requested` (reload) or `loaded` (load).
   */
  reason: string;
  /**
   * The version serving from the next request.
   */
  version: string;
  /**
   * The version it replaces (null when none was loaded).
   */
  previous: string | null;
  schedule: ScheduleInfo;
  source: ScheduleSource;
}
/**
 * A new version did not compile, did not load, or failed its check: the one kept goes on serving.
 */
export interface ReloadRejectedEvent {
  event: "reload_rejected";
  /**
   * Why: `file changed`, `requested` (reload) or `loaded` (load).
   */
  reason: string;
  error: ReloadError;
  /**
   * The version that goes on serving (null when none is loaded).
   */
  version_kept: string | null;
}
/**
 * The schedule printed outside any sample, or code it started threw after its sample's score was sent.
 */
export interface LogEvent {
  event: "log";
  /**
   * The version that printed.
   */
  version: string;
  /**
   * stderr for an error, else the stream it printed to.
   */
  stream: "stdout" | "stderr";
  /**
   * load: while the schedule loaded; idle: outside any sample; late: from code a sample started, after its score was sent.
   */
  during: "load" | "idle" | "late";
  /**
   * For `late`: the sample (its id, or #n) that started the code.
   */
  sample?: string;
  /**
   * Present when the text is an error's stack, not printed output.
   */
  error?: true;
  /**
   * What was printed, or the error's stack.
   */
  text: string;
}
