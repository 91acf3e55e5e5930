// The checks on messages coming from webviews: data from another process, not trusted calls.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseDashboardMessage, parseExplorerMessage, parseScheduleMessage } from "../../webview/protocol";

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
    assert.deepEqual(parseExplorerMessage({ type: "query", query: { step: 2, sort: "reward", text: undefined } }), { type: "query", query: { step: 2, sort: "reward" } });
    assert.equal(parseExplorerMessage({ type: "query", query: { step: "2" } }), null);
    assert.equal(parseExplorerMessage({ type: "query", query: { unknown: 1 } }), null);
    assert.equal(parseExplorerMessage({ type: "query", query: { group_outcome: "some" } }), null);
    assert.equal(parseExplorerMessage({ type: "page", offset: 0, count: 1_000_000 }), null);
    assert.deepEqual(parseScheduleMessage({ type: "preview", text: "export default 1" }), { type: "preview", text: "export default 1" });
    assert.equal(parseScheduleMessage({ type: "edit", text: 3 }), null);
  });
});
