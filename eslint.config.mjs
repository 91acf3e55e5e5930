// Lint rules for the TypeScript sources. Type-aware rules stay off: `npm run typecheck` covers types.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".venv/**", "**/*.d.ts", "engine/**", "test/reward/schedules/**"] },
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
