// @ts-check
/**
 * Run the project's Python from Node tests and benchmarks. The interpreter is $ARENA_PYTHON, else the
 * repository's .venv, else `python3` on the PATH.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (this file is web/test/support/python.mjs). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** @returns {string} the Python interpreter to use */
export function pythonInterpreter() {
  if (process.env.ARENA_PYTHON) return process.env.ARENA_PYTHON;
  const venv = path.join(repoRoot, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/**
 * Run Python with `args` in the repository root and return its stdout; a failure throws an Error
 * carrying Python's stderr.
 * @param {string[]} args
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number, input?: Uint8Array | string}} [opts]
 *   `input` is written to Python's stdin
 * @returns {Buffer}
 */
export function runPython(args, opts = {}) {
  const python = pythonInterpreter();
  try {
    return execFileSync(python, args, {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, ...opts.env },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 256 * 1024 * 1024,
      input: opts.input,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = /** @type {{stderr?: Buffer, message: string}} */ (error);
    const stderr = e.stderr ? e.stderr.toString().trim() : '';
    const command = `${python} ${args.join(' ')}`.slice(0, 300);
    throw new Error(`${command} failed${stderr ? `:\n${stderr}` : `: ${e.message}`}`, { cause: error });
  }
}
