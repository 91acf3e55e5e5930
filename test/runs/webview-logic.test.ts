// The explorer's filters and sorting, and the checks on messages coming from webviews.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseDashboardMessage, parseExplorerMessage, type SampleRow } from "../../webview/protocol";
import { runQuery } from "../../webview/query";

function row(index: number, fields: Partial<SampleRow>): SampleRow {
  return {
    index, step: 1, group: 0, sample: index, prompt_id: `p${index}`, reward: 0, advantage: 0, components: {}, parse_failure: null,
    reward_version: "v1", group_outcome: "mixed", exact: false, failure: null, completion_tokens: 10, text: "", ...fields,
  };
}

const ROWS = [
  row(0, { reward: 0.5, components: { strict: 1 }, exact: true, text: "Weather in Paris" }),
  row(1, { reward: null, failure: "exception: boom", step: 2 }),
  row(2, { reward: -1, parse_failure: "no_tool_call", components: { strict: 0 }, reward_version: "v2", step: 2 }),
  row(3, { reward: 0.9, components: { strict: 0.5 }, group_outcome: "all-right", prompt_id: "p0" }),
];

describe("explorer query", () => {
  it("filters by step, parse failure, outcome, version, exactness, reward failures, prompt and text", () => {
    assert.deepEqual(runQuery(ROWS, { step: 2 }), [1, 2]);
    assert.deepEqual(runQuery(ROWS, { parse_failure: "any" }), [2]);
    assert.deepEqual(runQuery(ROWS, { parse_failure: "none" }), [0, 1, 3]);
    assert.deepEqual(runQuery(ROWS, { parse_failure: "no_tool_call" }), [2]);
    assert.deepEqual(runQuery(ROWS, { group_outcome: "all-right" }), [3]);
    assert.deepEqual(runQuery(ROWS, { reward_version: "v2" }), [2]);
    assert.deepEqual(runQuery(ROWS, { exact: true }), [0]);
    assert.deepEqual(runQuery(ROWS, { reward_failure: true }), [1]);
    assert.deepEqual(runQuery(ROWS, { prompt_id: "p0" }), [0, 3]);
    assert.deepEqual(runQuery(ROWS, { text: "paris" }), [0]);
  });

  it("sorts by reward (failures last when descending) and by a component", () => {
    assert.deepEqual(runQuery(ROWS, { sort: "reward", descending: true }), [3, 0, 2, 1]);
    assert.deepEqual(runQuery(ROWS, { sort: "reward", descending: false }), [1, 2, 0, 3]);
    assert.deepEqual(runQuery(ROWS, { sort: "component:strict", descending: true }), [0, 3, 2, 1]);
  });
});

describe("webview messages", () => {
  it("accepts the protocol's messages and nothing else", () => {
    assert.deepEqual(parseDashboardMessage({ type: "openRollouts", step: 3 }), { type: "openRollouts", step: 3 });
    assert.deepEqual(parseDashboardMessage({ type: "control", command: "stop" }), { type: "control", command: "stop" });
    assert.equal(parseDashboardMessage({ type: "control", command: "rm -rf" }), null);
    assert.equal(parseDashboardMessage({ type: "openRollouts", step: "3" }), null);
    assert.equal(parseDashboardMessage("ready"), null);
    assert.deepEqual(parseExplorerMessage({ type: "detail", index: 4 }), { type: "detail", index: 4 });
    assert.equal(parseExplorerMessage({ type: "detail", index: -1 }), null);
    assert.equal(parseExplorerMessage({ type: "openDiff", index: 1.5 }), null);
    assert.equal(parseExplorerMessage({ type: "samePrompt" }), null);
  });
});
