// The prompt templates as the tiny policy reads them (engine/rollout_engine/templates.py: messages and
// render_plain), for sampling in the extension host. The same text as the engine's for every sample of
// test/fixtures/playground/cases.json. JSON in the prompts is written as Python's json.dumps writes it.

export type Template = "tool-n1" | "toolrl" | "tool-zero" | "documentation";
export const TEMPLATES: Template[] = ["tool-n1", "toolrl", "tool-zero", "documentation"];

export interface Message {
  role: string;
  content: string;
}
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Tool {
  name: string;
  description?: string;
  parameters?: { properties?: Record<string, Json>; required?: string[] };
}

const N1_INSTRUCTION =
  "In each action step, first reason inside <think> </think>, then give the tool calls as a JSON list " +
  '[{"name": ..., "arguments": {...}}] inside <tool_call> </tool_call>. If no tool fits, answer ' +
  "<tool_call>[]</tool_call>. Make sure the type of each argument is correct.";
const TOOLRL_INSTRUCTION =
  'Output format: <think> your reasoning </think>, then <tool_call> with one JSON object {"name": ..., "parameters": {...}} per line </tool_call>, and/or <response> your answer </response>. ' +
  "Always think first; use tool calls, a response, or both.";
const ZERO_INSTRUCTION = "Answer with your reasoning in <think> </think>, then the calls as a JSON list in <tool_call> </tool_call>.";
const ROLE_TAGS: Record<string, string> = { system: "<|system|>", user: "<|user|>", assistant: "<|assistant|>", tool: "<|tool|>" };
const PLAIN_LABELS: Record<string, Record<string, string>> = {
  "tool-zero": { system: "", user: "Task: ", assistant: "Answer: ", tool: "Result: " },
  documentation: { system: "", user: "Request: ", assistant: "Answer: ", tool: "Result: " },
};

/** Python's json.dumps with its defaults: ", " and ": " between items, non-ASCII as \uXXXX. */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : value > 0 ? "Infinity" : value < 0 ? "-Infinity" : "NaN";
  if (typeof value === "string") return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`).join(", ")}}`;
}

function typeText(schema: Record<string, Json>): string {
  if (Array.isArray(schema.enum)) return schema.enum.map(pyJson).join("|");
  if (schema.type === "object" && schema.properties) return `{${argumentsText(schema as Tool["parameters"])}}`;
  return String(schema.type ?? "any");
}

function argumentsText(schema: Tool["parameters"] = {}): string {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .map(([k, v]) => `${k}${required.has(k) ? "" : "?"}: ${typeText(v as Record<string, Json>)}`)
    .join(", ");
}

/** A tool as one compact line: name(arg: type, optional?: type) - description. */
export function signature(tool: Tool): string {
  return `${tool.name}(${argumentsText(tool.parameters)}) - ${tool.description ?? ""}`;
}

/** The conversation the policy answers: a system message with the tools, then the sample's history. */
export function promptMessages(sample: { tools: unknown[]; messages: Message[] }, template: Template): Message[] {
  const tools = sample.tools as Tool[];
  const history = sample.messages.filter((m) => m.role !== "system");
  let system: string;
  if (template === "tool-n1") {
    system = `You are an expert in composing functions.\n# Tool\n<tools>\n${tools.map((t) => pyJson({ type: "function", function: t })).join("\n")}\n</tools>\n${N1_INSTRUCTION}`;
  } else if (template === "toolrl") {
    const list = tools.map((t, i) => `${i + 1}. Name: ${t.name}\nDescription: ${t.description ?? ""}\nParameters: ${pyJson(t.parameters?.properties ?? {})}`).join("\n");
    system = `You are a helpful multi-turn dialogue assistant capable of leveraging tool calls.\n**Available Tools**\n${list}\n${TOOLRL_INSTRUCTION}`;
  } else if (template === "tool-zero") {
    system = `${ZERO_INSTRUCTION}\nFunctions you can call:\n` + tools.map((t) => pyJson(t)).join("\n");
  } else if (template === "documentation") {
    system = "Tools:\n" + tools.map(signature).join("\n");
  } else {
    throw new Error(`unknown template "${String(template)}"; templates: ${TEMPLATES.join(", ")}`);
  }
  return [{ role: "system", content: system }, ...history];
}

/** The conversation as the tiny policy reads it, ending where the answer begins. */
export function renderPlain(conversation: Message[], template: Template): string {
  const labels = PLAIN_LABELS[template];
  if (labels) return conversation.map((m) => `${labels[m.role] ?? ""}${m.content}\n`).join("");
  return conversation.map((m) => `${ROLE_TAGS[m.role] ?? ""}${m.content}\n`).join("") + ROLE_TAGS.assistant;
}
