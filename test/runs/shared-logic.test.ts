// GRPO group advantages and zero-variance groups against the fixture the engine's tests read too
// (test/fixtures/shared-logic/advantages.json; engine/tests/test_shared_logic.py), so the two cannot drift apart.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { groupAdvantages, zeroVariance } from "../../runs/grpo";
import { sharedFixture } from "../reward/fixtures";

interface AdvantageCase {
  name: string;
  group_size: number;
  scale: boolean;
  rewards: (number | null)[];
  advantages: number[];
  zero_variance: boolean[];
  zero_variance_fraction: number;
}

const fixture = JSON.parse(readFileSync(sharedFixture("fixtures/shared-logic/advantages.json"), "utf8")) as { eps: number; cases: AdvantageCase[] };

describe("group advantages as the engine computes them (shared fixture)", () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const advantages: number[] = [];
      const zero: boolean[] = [];
      for (let start = 0; start < c.rewards.length; start += c.group_size) {
        const group = c.rewards.slice(start, start + c.group_size);
        advantages.push(...groupAdvantages(group, c.scale, fixture.eps));
        zero.push(zeroVariance(group));
      }
      assert.equal(advantages.length, c.advantages.length);
      advantages.forEach((a, i) => assert.ok(Math.abs(a - (c.advantages[i] as number)) < 1e-9, `sample ${i}: ${a}, expected ${c.advantages[i]}`));
      assert.deepEqual(zero, c.zero_variance);
      assert.equal(zero.filter(Boolean).length / Math.max(1, zero.length), c.zero_variance_fraction);
    });
  }
});
