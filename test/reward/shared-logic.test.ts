// Exact match of tool calls against the fixture the engine's tests read too
// (test/fixtures/shared-logic/exact-match.json; engine/tests/test_shared_logic.py), so the two cannot drift apart.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { exactCallsMatch } from "../../reward/match";
import { isParseFailure, toToolCall, type ToolCall } from "../../reward/parse";
import { parsePyJson, type PyValue } from "../../reward/pyjson";
import { sharedFixture } from "./fixtures";

interface MatchCase {
  name: string;
  predicted: PyValue[] | null;
  truth: PyValue[];
  exact: boolean;
}

// The Python-compatible reader keeps 1.0 a float and big integers exact.
const fixture = parsePyJson(readFileSync(sharedFixture("fixtures/shared-logic/exact-match.json"), "utf8")) as unknown as { cases: MatchCase[] };

/** The items as calls, or null when one is not a call (the completion did not parse). */
function asCalls(items: PyValue[] | null): ToolCall[] | null {
  if (items === null) return null;
  const calls = items.map((item, i) => toToolCall(item, i));
  return calls.some(isParseFailure) ? null : (calls as ToolCall[]);
}

describe("exact match of calls as the engine computes it (shared fixture)", () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const truth = asCalls(c.truth);
      assert.ok(truth !== null, "the truth's items are calls");
      const predicted = asCalls(c.predicted);
      assert.equal(predicted !== null && exactCallsMatch(predicted, truth), c.exact);
    });
  }
});
