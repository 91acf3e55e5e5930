// Finding the Python the engine runs with: one that can import torch. The extension and the CLI look in
// the same places as scripts/setup-python.sh, and say exactly what to do when none fits.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface PythonChoice {
  python: string;
  torch: string;
}

/** torch's version in this Python, or the reason it cannot be used. */
export function checkPython(python: string): { torch: string } | { problem: string } {
  const result = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 });
  if (result.error) return { problem: (result.error as NodeJS.ErrnoException).code === "ENOENT" ? `${python} does not exist` : result.error.message };
  if (result.status !== 0) {
    const last = (result.stderr || "").trim().split("\n").pop() ?? "";
    return { problem: /No module named ['"]?torch/.test(last) ? `${python} has no PyTorch (import torch failed)` : `${python} failed: ${last}` };
  }
  return { torch: result.stdout.trim() };
}

/**
 * The first usable Python among: the configured one (a setting; when set, only it is tried), the one
 * set-up chose (.rollout-studio/python in the project), an active venv or conda env, python3 on PATH,
 * /usr/bin/python3. Throws an error that says what to install or set.
 */
export function findPython(options: { configured?: string; root: string; env?: NodeJS.ProcessEnv }): PythonChoice {
  const env = options.env ?? process.env;
  if (options.configured) {
    const checked = checkPython(options.configured);
    if ("torch" in checked) return { python: options.configured, torch: checked.torch };
    throw new Error(`The configured Python cannot run the engine: ${checked.problem}. Install PyTorch into it (pip install torch), or clear the setting "rolloutStudio.pythonPath" to let Rollout Studio look for one.`);
  }
  const candidates: string[] = [];
  const chosen = path.join(options.root, ".rollout-studio", "python");
  if (fs.existsSync(chosen)) candidates.push(fs.readFileSync(chosen, "utf8").trim());
  if (env.ROLLOUT_STUDIO_PYTHON) candidates.push(env.ROLLOUT_STUDIO_PYTHON);
  if (env.VIRTUAL_ENV) candidates.push(path.join(env.VIRTUAL_ENV, "bin", "python"));
  if (env.CONDA_PREFIX) candidates.push(path.join(env.CONDA_PREFIX, "bin", "python"));
  candidates.push("python3", "/usr/bin/python3");
  const problems: string[] = [];
  for (const candidate of [...new Set(candidates.filter(Boolean))]) {
    const checked = checkPython(candidate);
    if ("torch" in checked) return { python: candidate, torch: checked.torch };
    problems.push(checked.problem);
  }
  throw new Error(
    `No Python with PyTorch was found for the training engine (${problems.join("; ")}). ` +
      `On Debian/Ubuntu: sudo apt-get install -y python3-torch libopenblas0-pthread. Elsewhere install PyTorch (pip install torch) ` +
      `and set "rolloutStudio.pythonPath" to that Python.`,
  );
}
