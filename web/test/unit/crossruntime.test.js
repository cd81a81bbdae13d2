// @ts-check
/**
 * Cross-runtime check: the browser's MuJoCo WASM poses a recorded episode exactly as native MuJoCo does.
 *
 * `test/support/crossruntime_fixture.py` (run once, before the tests) writes, for every robot × scene cell
 * the server offers, the bundle bytes it serves, a real arena episode, its qpos rows, and native
 * `mj_kinematics` output for a selection of frames (cubes sliding, grasped, lifted). Here the same bundle is
 * compiled through `SceneModel.fromBundle`, posed frame by frame, and every body, geom, site and camera pose
 * is compared.
 */

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { decode } from '@msgpack/msgpack';

import { EngineError, SceneModel, mujoco } from '../../src/mujoco/engine.js';
import { WristCamera } from '../../src/render/wrist.js';

const WEB = fileURLToPath(new URL('../../', import.meta.url));
const REPO = path.dirname(path.resolve(WEB));
const FIXTURE = path.join(WEB, 'test', 'support', 'crossruntime_fixture.py');
const PYTHON_HELPER = path.join(WEB, 'test', 'support', 'python.mjs');
const VLAR = path.join(WEB, 'src', 'lib', 'vlar.js');
const ROBOTS = ['franka', 'ur5e', 'widowx'];
const SCENES = ['table', 'table-cubes', 'kitchen', 'warehouse'];
const CELLS = SCENES.flatMap((s) => ROBOTS.map((r) => `${r}/${s}`));
const TOLERANCE = 1e-9;
/** Pose fields compared, with their row width (the fixture writes [frames, n, width]). */
const FIELDS = { xpos: 3, xquat: 4, xmat: 9, geom_xpos: 3, geom_xmat: 9, site_xpos: 3, site_xmat: 9, cam_xpos: 3, cam_xmat: 9 };
const SIZES = ['nq', 'nv', 'nu', 'na', 'njnt', 'nbody', 'ngeom', 'nsite', 'nmesh', 'ncam', 'nlight'];

/** Run a Python script with the project's interpreter (test/support/python.mjs when present). */
async function runPython(/** @type {string[]} */ args) {
  if (existsSync(PYTHON_HELPER)) {
    const helper = await import(pathToFileURL(PYTHON_HELPER).href);
    if (typeof helper.runPython === 'function') return helper.runPython(args);
  }
  const venv = path.join(REPO, '.venv', 'bin', 'python');
  const python = process.env.ARENA_PYTHON || (existsSync(venv) ? venv : 'python3');
  return promisify(execFile)(python, args, { cwd: REPO, maxBuffer: 16 << 20 });
}

/** @param {string} file */
function readF64(file) {
  const bytes = readFileSync(file);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** @param {Float64Array} a */
function bytesOf(a) {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Largest |a[i] - b[i]| over `n` values from the given offsets.
 * @param {ArrayLike<number>} a @param {number} aOff @param {ArrayLike<number>} b @param {number} bOff
 * @param {number} n
 */
function maxAbsDiff(a, aOff, b, bOff, n) {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[aOff + i] - b[bOff + i]);
    if (!(d <= max)) max = d; // NaN propagates
  }
  return max;
}

/** @type {string} */
let outDir;
/** @type {any} */
let index;
/** @type {import('../../src/mujoco/engine.js').MujocoModule} */
let mj;

before(async () => {
  outDir = mkdtempSync(path.join(tmpdir(), 'arena-crossruntime-'));
  await runPython([FIXTURE, outDir, '--cells', ...CELLS]);
  index = JSON.parse(readFileSync(path.join(outDir, 'index.json'), 'utf8'));
  mj = await mujoco();
});

after(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

test('the WASM engine is the MuJoCo release the server runs', () => {
  const pinned = JSON.parse(readFileSync(path.join(WEB, 'package.json'), 'utf8')).dependencies['@mujoco/mujoco'];
  assert.equal(mj.mj_versionString(), index.mujoco_version);
  assert.equal(mj.mj_versionString(), pinned);
});

test('every robot/scene cell the server offers is checked', () => {
  assert.deepEqual([...index.offered].sort(), [...CELLS].sort());
});

for (const cell of CELLS) {
  const [robotId, sceneId] = cell.split('/');
  describe(`cell ${cell}`, () => {
    /** @type {any} */
    let ref;
    /** @type {SceneModel} */
    let scene;
    /** @param {string} name */
    const file = (name) => path.join(outDir, ref.dir, name);

    before(async () => {
      ref = index.cells[cell];
      const bundle = /** @type {any} */ (decode(readFileSync(file('bundle.msgpack'))));
      scene = await SceneModel.fromBundle(bundle, mj);
    });
    after(() => scene?.dispose());

    test('the served bundle is the one the replay names', () => {
      assert.equal(scene.bundle.hash, ref.bundle_hash);
      assert.equal(scene.bundle.hash, ref.replay_bundle_hash);
      assert.equal(scene.bundle.scene_id, sceneId);
      assert.equal(scene.bundle.robot_id, robotId);
    });

    test('compiles to the model native MuJoCo compiles', () => {
      const m = /** @type {any} */ (scene.model);
      assert.deepEqual(Object.fromEntries(SIZES.map((k) => [k, m[k]])), ref.sizes);
      const names = (/** @type {string} */ adr, /** @type {number} */ n) =>
        Array.from({ length: n }, (_, i) => scene.name(m[adr], i));
      assert.deepEqual(names('name_bodyadr', m.nbody), ref.names.body);
      assert.deepEqual(names('name_geomadr', m.ngeom), ref.names.geom);
      assert.deepEqual(names('name_siteadr', m.nsite), ref.names.site);
    });

    test('the recorded episode moves, grasps and lifts a cube', () => {
      assert.equal(ref.success, true);
      assert.ok(ref.moving_frames.length > 0 && ref.lifted_frames.length > 0);
      for (const f of [...ref.moving_frames, ...ref.lifted_frames]) assert.ok(ref.frames.includes(f));
    });

    test('poses every selected frame as native mj_kinematics does', (t) => {
      const qpos = readF64(file('qpos.bin'));
      assert.equal(qpos.length, ref.n_frames * ref.sizes.nq);
      const worst = comparePoses(scene, ref, qpos, readF64(file('time.bin')), file);
      t.diagnostic(`${cell} (${ref.instruction}, seed ${ref.seed}): ${ref.frames.length} frames, max |WASM - native|: ${fmt(worst)}`);
      for (const [name, d] of Object.entries(worst)) assert.ok(d <= TOLERANCE, `${name} differs by ${d}`);
    });

    test('the wrist view looks through the model\'s wrist camera, as native MuJoCo places it', () => {
      const qpos = readF64(file('qpos.bin'));
      const [xpos, xmat] = [readF64(file('cam_xpos.bin')), readF64(file('cam_xmat.bin'))];
      const wrist = new WristCamera(scene);
      const id = wrist.id;
      assert.ok(id >= 0, 'every arena robot has a camera named wrist');
      assert.equal(wrist.camera.fov, /** @type {any} */ (scene.model).cam_fovy[id]);
      const data = scene.newData();
      try {
        let moved = 0;
        ref.frames.forEach((/** @type {number} */ frame, /** @type {number} */ row) => {
          scene.pose(data, qpos, frame);
          const cam = wrist.at(data);
          const p = (row * ref.sizes.ncam + id) * 3;
          const m = (row * ref.sizes.ncam + id) * 9;
          assert.ok(maxAbsDiff(cam.position.toArray(), 0, xpos, p, 3) <= TOLERANCE, 'position');
          // three.js cameras look along their -z, with +y up: MuJoCo's camera frame (xmat's columns)
          const e = cam.matrixWorld.elements; // column-major
          for (const [col, sign] of [[1, 1], [2, -1]]) {
            const axis = col === 2 ? cam.getWorldDirection(cam.position.clone()).toArray() : [e[4], e[5], e[6]];
            const want = [0, 1, 2].map((i) => sign * xmat[m + 3 * i + col]);
            assert.ok(maxAbsDiff(axis, 0, want, 0, 3) <= 1e-6, `axis ${col}: ${axis} vs ${want}`);
          }
          if (row > 0) moved = Math.max(moved, maxAbsDiff(xpos, p, xpos, p - 3 * ref.sizes.ncam, 3));
        });
        assert.ok(moved > 1e-3, 'the wrist camera moves with the hand');
      } finally {
        scene.freeData(data);
      }
    });

    test('assets through MjVFS.addBuffer compile the same model as through MEMFS, which is left clean', async (t) => {
      if (cell !== 'franka/table') return t.skip('slow route (byte-by-byte addBuffer): one cell is enough');
      const bundle = /** @type {any} */ (decode(readFileSync(file('bundle.msgpack'))));
      const viaVfs = await SceneModel.fromBundle(bundle, mj, { assets: 'vfs' });
      try {
        const a = /** @type {any} */ (viaVfs.model);
        const b = /** @type {any} */ (scene.model);
        assert.deepEqual(Object.fromEntries(SIZES.map((k) => [k, a[k]])), Object.fromEntries(SIZES.map((k) => [k, b[k]])));
        assert.deepEqual(bytesOf(a.mesh_vert), bytesOf(b.mesh_vert));
        assert.deepEqual(bytesOf(a.geom_pos), bytesOf(b.geom_pos));
        const worst = comparePoses(viaVfs, ref, readF64(file('qpos.bin')), readF64(file('time.bin')), file);
        for (const [name, d] of Object.entries(worst)) assert.ok(d <= TOLERANCE, `${name} differs by ${d}`);
      } finally {
        viaVfs.dispose();
      }
      const FS = /** @type {any} */ (mj).FS;
      const left = FS.analyzePath('/arena-bundles').exists ? FS.readdir('/arena-bundles').filter((/** @type {string} */ n) => !n.startsWith('.')) : [];
      assert.deepEqual(left, [], 'bundle folders are removed after compiling');
      assert.equal(FS.cwd(), '/', 'the working directory is restored');
    });

    // src/lib/vlar.js is written alongside this test; until it lands, this case is skipped.
    const noVlar = !existsSync(VLAR) && 'no src/lib/vlar.js yet';
    test('poses the same from the browser .vlar decoder', { skip: noVlar }, async () => {
      const { decodeReplay } = await import(pathToFileURL(VLAR).href);
      const replay = decodeReplay(new Uint8Array(readFileSync(file('episode.vlar'))));
      assert.equal(replay.header.bundle_hash, scene.bundle.hash);
      assert.deepEqual(replay.shapes.qpos, [ref.n_frames, ref.sizes.nq]);
      const { qpos, time } = replay.frames;
      assert.deepEqual(bytesOf(qpos), bytesOf(readF64(file('qpos.bin'))));
      const worst = comparePoses(scene, ref, qpos, time, file);
      for (const [name, d] of Object.entries(worst)) assert.ok(d <= TOLERANCE, `${name} differs by ${d}`);
    });
  });
}

/**
 * Pose each selected frame and return, per field, the largest difference from native MuJoCo.
 * @param {SceneModel} scene @param {any} ref @param {Float64Array} qpos @param {Float64Array} time
 * @param {(name: string) => string} file
 */
function comparePoses(scene, ref, qpos, time, file) {
  const data = scene.newData();
  try {
    const expected = Object.fromEntries(Object.keys(FIELDS).map((k) => [k, readF64(file(`${k}.bin`))]));
    const worst = Object.fromEntries(Object.keys(FIELDS).map((k) => [k, 0]));
    ref.frames.forEach((/** @type {number} */ frame, /** @type {number} */ row) => {
      scene.pose(data, qpos, frame, time[frame]);
      scene.mj.mj_camlight(scene.model, data); // what the wrist view adds
      for (const [name, width] of Object.entries(FIELDS)) {
        const got = /** @type {Float64Array} */ (/** @type {any} */ (data)[name]);
        const n = got.length;
        assert.equal(n, ref.shapes[name][1] * width, `${name} size`);
        worst[name] = Math.max(worst[name], maxAbsDiff(got, 0, expected[name], row * n, n));
      }
    });
    return worst;
  } finally {
    scene.freeData(data);
  }
}

/** @param {Record<string, number>} worst */
function fmt(worst) {
  return Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ');
}

describe('engine errors and cleanup', () => {
  const enc = new TextEncoder();
  /** @param {string} xml @param {Record<string, Uint8Array>} [assets] */
  const bundleOf = (xml, assets = {}) => ({
    robot_id: 'franka', scene_id: 'broken', entry: 'scene.xml', hash: 'sha256:0',
    files: { 'scene.xml': enc.encode(xml), ...assets },
  });

  test('a bundle whose entry does not compile raises EngineError with MuJoCo\'s reason', async () => {
    const xml = '<mujoco><worldbody><geom type="nonsense" size="1"/></worldbody></mujoco>';
    await assert.rejects(SceneModel.fromBundle(bundleOf(xml), mj), (err) => {
      assert.ok(err instanceof EngineError);
      assert.match(err.message, /scene broken does not compile/);
      assert.match(err.message, /invalid keyword: 'nonsense'/);
      assert.equal(err.message, err.message.trim());
      return true;
    });
    await assert.rejects(SceneModel.fromBundle(bundleOf('<mujoco><worldbody>'), mj), EngineError);
  });

  test('a missing asset or entry is named in the error', async () => {
    const xml = '<mujoco><asset><mesh name="m" file="franka/missing.stl"/></asset></mujoco>';
    await assert.rejects(SceneModel.fromBundle(bundleOf(xml), mj), { name: 'EngineError', message: /missing\.stl/ });
    const noEntry = { ...bundleOf(''), entry: 'other.xml' };
    await assert.rejects(SceneModel.fromBundle(noEntry, mj), { name: 'EngineError', message: /other\.xml/ });
  });

  test('dispose frees the model and its data, and a second dispose is harmless', async () => {
    const xml = '<mujoco><worldbody><body name="b"><freejoint/><geom size="0.1"/></body></worldbody></mujoco>';
    const scene = await SceneModel.fromBundle(bundleOf(xml), mj);
    const model = scene.model;
    const kept = scene.newData();
    const freed = scene.newData();
    scene.freeData(freed);
    assert.ok(freed.isDeleted());
    scene.pose(kept, new Float64Array([1, 2, 3, 1, 0, 0, 0]), 0);
    assert.deepEqual(Array.from(kept.xpos.subarray(3, 6)), [1, 2, 3]);
    scene.dispose();
    assert.ok(kept.isDeleted());
    assert.ok(model.isDeleted());
    assert.equal(scene.model, null);
    assert.doesNotThrow(() => scene.dispose());
    assert.doesNotThrow(() => scene.freeData(kept));
  });
});
