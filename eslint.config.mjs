// Lint rules for the TypeScript sources. Type-aware rules stay off: `npm run typecheck` covers types.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", ".device/**", "node_modules/**", ".venv/**", "**/*.d.ts", "engine/**", "test/reward/schedules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: "readonly", process: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    // A webview's CSP nonce (and anything else that must not be guessed) comes from node:crypto.
    files: ["extension/**/*.ts", "runs/**/*.ts"],
    rules: { "no-restricted-properties": ["error", { object: "Math", property: "random", message: "Use newNonce() / node:crypto: Math.random is predictable." }] },
  },
  {
    // reward/ is the bottom layer: runs/, cli/, extension/ and webview/ build on it, never the other way.
    files: ["reward/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/runs", "**/runs/**", "**/cli", "**/cli/**", "**/extension", "**/extension/**", "**/webview", "**/webview/**"], message: "reward/ imports nothing from the layers above it." }] }],
    },
  },
  {
    // runs/ (the run contract's TypeScript side) builds on reward/ and contract/ only, without VS Code: the CLI,
    // the extension and the webviews use it, never the other way (docs/architecture.md).
    files: ["runs/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: [{ name: "vscode", message: "runs/ has no VS Code dependency: the CLI and the tests use it too." }],
        patterns: [{ group: ["**/cli", "**/cli/**", "**/extension", "**/extension/**", "**/webview", "**/webview/**"], message: "runs/ imports only reward/ and contract/." }],
      }],
    },
  },
  {
    // cli/ is a top room beside extension/: it imports reward/ and runs/, never the extension or the webviews.
    files: ["cli/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: [{ name: "vscode", message: "The CLI runs without VS Code." }],
        patterns: [{ group: ["**/extension", "**/extension/**", "**/webview", "**/webview/**"], message: "cli/ imports reward/ and runs/ only; the extension runs the CLI as a process." }],
      }],
    },
  },
  {
    // webview/ runs inside a webview (a browser page): no VS Code API, no Node, nothing of the extension host's.
    files: ["webview/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: [{ name: "vscode", message: "A webview has no VS Code API: it talks to the host with webview/protocol.ts messages." }],
        patterns: [
          { group: ["node:*"], message: "A webview has no Node APIs." },
          { group: ["**/extension", "**/extension/**", "**/cli", "**/cli/**"], message: "webview/ imports runs/ and reward/ (types and pure code) only." },
        ],
      }],
    },
  },
  {
    // contract/ is below everything (reward/ included): it imports nothing.
    files: ["contract/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["*", "./*", "../*"], message: "contract/ imports nothing: it is generated from its JSON Schemas." }] }],
    },
  },
  {
    files: ["**/*.cjs", "**/*.mjs", "scripts/**"],
    languageOptions: { globals: { require: "readonly", module: "writable", __dirname: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
