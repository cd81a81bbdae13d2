// @ts-check
/**
 * Start the real arena server (granian via `arena serve`) on a free port with a fresh data dir, for
 * end-to-end tests and browser benchmarks.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { pythonInterpreter, repoRoot } from './python.mjs';

/**
 * A models.toml of cheap policies that drive every robot, for ARENA_MODELS: one entry per `kinds[i]`
 * ("zero", "random", ...) named `names[i]`.
 * @param {string[]} names @param {string[]} kinds @param {string} organisation
 */
export function everyRobotModels(names, kinds, organisation) {
  return names.map((name, i) => `[[model]]
name = "${name}"
kind = "${kinds[i]}"
organisation = "${organisation}"
licence = "MIT"
latency_s = 0.0
robots = ["franka", "ur5e", "widowx"]
`).join('\n');
}

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @param {{env?: Record<string, string>, timeoutMs?: number, cwd?: string}} [opts] `cwd`: another checkout of
 *   the repository to serve (benchmarks compare an older commit); default this one
 * @returns {Promise<{url: string, dataDir: string, log: () => string, stop: () => Promise<void>}>}
 */
export async function startServer(opts = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'arena-e2e-'));
  let output = '';
  const child = spawn(pythonInterpreter(), ['-m', 'api.cli', 'serve'], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, ARENA_HOST: '127.0.0.1', ARENA_PORT: String(port), ARENA_DATA_DIR: dataDir, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`arena server exited with ${child.exitCode}:\n${output}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`arena server did not answer /api/health within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dataDir,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
