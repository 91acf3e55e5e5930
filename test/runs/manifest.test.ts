// The extension's manifest as VS Code reads it: fields in the wrong place are ignored silently there.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const manifest = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "..", "..", "package.json"), "utf8")) as {
  capabilities?: { untrustedWorkspaces?: { supported?: unknown; restrictedConfigurations?: string[] } };
  contributes: { capabilities?: unknown; configuration?: { properties?: Record<string, unknown> } };
};

describe("extension manifest", () => {
  it("declares Workspace Trust support at the top level, where VS Code reads it (limited: viewing works in Restricted Mode)", () => {
    assert.equal(manifest.contributes.capabilities, undefined, "capabilities inside contributes is ignored by VS Code");
    assert.equal(manifest.capabilities?.untrustedWorkspaces?.supported, "limited");
  });

  it("ignores workspace settings that name programs or folders to run from while the workspace is untrusted", () => {
    const restricted = manifest.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? [];
    for (const key of restricted) assert.ok(manifest.contributes.configuration?.properties?.[key], `${key} is a contributed setting`);
    assert.ok(restricted.includes("rolloutStudio.pythonPath"));
  });
});
