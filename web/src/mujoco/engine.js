// @ts-check
/**
 * MuJoCo WebAssembly: load the engine once, compile a scene bundle through the virtual file system,
 * and pose a model from recorded states with forward kinematics only.
 *
 * Replays are never re-simulated here: native and WASM physics drift apart, so a frame is shown by
 * copying its recorded qpos into MjData and running `mj_kinematics` (positions and orientations of
 * bodies, geoms and sites), nothing else.
 */

import loadMujoco from '@mujoco/mujoco';

/** @typedef {import('@mujoco/mujoco').MainModule} MujocoModule */
/** @typedef {import('@mujoco/mujoco').MjModel} MjModel */
/** @typedef {import('@mujoco/mujoco').MjData} MjData */

/**
 * A scene bundle as served by `GET /api/scenes/{id}/bundle` (msgpack-decoded).
 * @typedef {{robot_id: string, scene_id: string, entry: string, hash: string, files: Record<string, Uint8Array>}} SceneBundle
 */

/** Raised when the engine cannot load or a bundle does not compile. */
export class EngineError extends Error {
  /** @param {string} message @param {unknown} [cause] */
  constructor(message, cause) {
    super(message, { cause });
    this.name = 'EngineError';
  }
}

/** @type {Promise<MujocoModule> | null} */
let modulePromise = null;
let bundleCounter = 0;

/**
 * The MuJoCo WASM module, loaded once per page (or Node process).
 * @returns {Promise<MujocoModule>}
 */
export function mujoco() {
  if (!modulePromise) {
    modulePromise = loadMujoco().catch((err) => {
      modulePromise = null;
      throw new EngineError(`could not load MuJoCo WebAssembly: ${err?.message ?? err}`, err);
    });
  }
  return modulePromise;
}

/** MuJoCo object types used here (mjtObj). */
export const OBJ = Object.freeze({ BODY: 1, JOINT: 3, GEOM: 5, SITE: 6, CAMERA: 7 });

/** Geom types (mjtGeom). */
export const GEOM = Object.freeze({ PLANE: 0, HFIELD: 1, SPHERE: 2, CAPSULE: 3, ELLIPSOID: 4, CYLINDER: 5, BOX: 6, MESH: 7 });

/**
 * One compiled scene. Owns its MjModel and every MjData made from it; `dispose()` frees them all.
 */
export class SceneModel {
  /**
   * @param {MujocoModule} mj
   * @param {MjModel} model
   * @param {SceneBundle} bundle
   */
  constructor(mj, model, bundle) {
    this.mj = mj;
    this.model = model;
    this.bundle = bundle;
    /** @type {MjData[]} */
    this._datas = [];
    this._names = decodeNames(model.names);
  }

  /**
   * Compile a bundle with `MjModel.from_xml_string(entry, vfs)`.
   *
   * Where the asset files go, `assets`:
   * - `'memfs'` (default): Emscripten's in-memory file system, in a fresh folder that is the
   *   working directory during the compile (MuJoCo falls back to the file system for files its
   *   MjVFS lacks) and is removed afterwards. One typed-array copy per file: ~5 ms for the
   *   Franka's 6.8 MB of meshes.
   * - `'vfs'`: `MjVFS.addBuffer` per file. The 3.14.0 bindings convert its argument byte by
   *   byte (~400 ns per byte, 2.6 s for the same meshes), so it is kept for checks, not pages.
   * Both compile the same bytes into the same model (tested).
   * @param {SceneBundle} bundle
   * @param {MujocoModule} [mj]
   * @param {{assets?: 'memfs' | 'vfs'}} [options]
   * @returns {Promise<SceneModel>}
   */
  static async fromBundle(bundle, mj, options = {}) {
    const m = mj ?? (await mujoco());
    const entry = bundle.files?.[bundle.entry];
    if (!entry) throw new EngineError(`scene bundle has no entry file ${JSON.stringify(bundle.entry)}`);
    const assets = Object.entries(bundle.files).filter(([path]) => path !== bundle.entry);
    for (const [path] of assets) {
      if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '.' || p === '')) {
        throw new EngineError(`scene bundle file name ${JSON.stringify(path)} is not a plain relative path`);
      }
    }
    const xml = new TextDecoder().decode(entry);
    const vfs = new m.MjVFS();
    const fsRoot = options.assets === 'vfs' ? null : `/arena-bundles/${++bundleCounter}`;
    const FS = /** @type {any} */ (m).FS;
    const cwd = FS.cwd();
    try {
      if (fsRoot === null) {
        for (const [path, bytes] of assets) vfs.addBuffer(path, bytes);
      } else {
        FS.mkdirTree(fsRoot);
        for (const [path, bytes] of assets) {
          const full = `${fsRoot}/${path}`;
          FS.mkdirTree(full.slice(0, full.lastIndexOf('/')));
          FS.writeFile(full, bytes);
        }
        FS.chdir(fsRoot);
      }
      let model;
      try {
        model = m.MjModel.from_xml_string(xml, vfs);
      } catch (err) {
        throw new EngineError(`scene ${bundle.scene_id} does not compile in MuJoCo WASM: ${describe(m, err)}`, err);
      }
      return new SceneModel(m, model, bundle);
    } finally {
      vfs.delete();
      if (fsRoot !== null) {
        FS.chdir(cwd);
        removeTree(FS, fsRoot);
      }
    }
  }

  /** A new MjData for this model, freed with the scene. @returns {MjData} */
  newData() {
    const d = new this.mj.MjData(this.model);
    this._datas.push(d);
    return d;
  }

  /** @param {MjData} data */
  freeData(data) {
    const i = this._datas.indexOf(data);
    if (i >= 0) {
      this._datas.splice(i, 1);
      data.delete();
    }
  }

  /**
   * Pose `data` at a recorded state: copy qpos row `frame` of a row-major qpos array, then run
   * forward kinematics. Time is set too, for completeness; velocities are not needed to pose.
   * @param {MjData} data
   * @param {Float64Array} qpos row-major [nFrames * nq]
   * @param {number} frame
   * @param {number} [time]
   */
  pose(data, qpos, frame, time) {
    const nq = this.model.nq;
    const start = frame * nq;
    if (start < 0 || start + nq > qpos.length) throw new RangeError(`frame ${frame} is outside the recorded states`);
    data.qpos.set(qpos.subarray(start, start + nq));
    if (time !== undefined) data.time = time;
    this.mj.mj_kinematics(this.model, data);
  }

  /**
   * Id of a named object, or -1.
   * @param {number} objType one of OBJ
   * @param {string} name
   */
  id(objType, name) {
    return this.mj.mj_name2id(this.model, /** @type {any} */ (objType), name);
  }

  /**
   * Name of object `i` given its name-address array (e.g. `model.name_geomadr`).
   * @param {ArrayLike<number>} adr
   * @param {number} i
   */
  name(adr, i) {
    return readName(this._names, adr[i]);
  }

  /** Free the model and every MjData made from it. Idempotent. */
  dispose() {
    for (const d of this._datas) d.delete();
    this._datas = [];
    if (this.model) {
      this.model.delete();
      // @ts-ignore -- disposed
      this.model = null;
    }
  }
}

/**
 * Delete a folder of Emscripten's FS and everything in it (best effort: a leftover costs memory only).
 * @param {any} FS
 * @param {string} path
 */
function removeTree(FS, path) {
  try {
    for (const name of FS.readdir(path)) {
      if (name === '.' || name === '..') continue;
      const child = `${path}/${name}`;
      if (FS.isDir(FS.stat(child).mode)) removeTree(FS, child);
      else FS.unlink(child);
    }
    FS.rmdir(path);
  } catch {
    /* already gone */
  }
}

/**
 * @param {ArrayLike<number> | ArrayBufferView | string} names
 * @returns {Uint8Array}
 */
function decodeNames(names) {
  if (typeof names === 'string') return new TextEncoder().encode(names);
  if (ArrayBuffer.isView(names)) {
    // A view into WASM memory (Int8Array): copy its bytes, which may grow or move later.
    return new Uint8Array(names.buffer, names.byteOffset, names.byteLength).slice();
  }
  return Uint8Array.from(names, (v) => v & 0xff);
}

/** @param {Uint8Array} buf @param {number} start */
function readName(buf, start) {
  let end = start;
  while (end < buf.length && buf[end] !== 0) end++;
  return new TextDecoder().decode(buf.subarray(start, end));
}

/** @param {MujocoModule} m @param {unknown} err */
function describe(m, err) {
  if (typeof err === 'number') {
    // Emscripten exceptions arrive as pointers; ask the module for the message when it can.
    const anyM = /** @type {any} */ (m);
    if (typeof anyM.getExceptionMessage === 'function') return String(anyM.getExceptionMessage(err)).trim();
  }
  // MuJoCo's messages end in blank lines; trim them so the text reads well inline.
  return (err instanceof Error ? err.message : String(err)).trim();
}
