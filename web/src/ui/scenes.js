// @ts-check
/**
 * Compiled scenes, kept for the page's lifetime: one SceneModel, its three.js assets and one shared
 * camera per (robot, scene), so moving between battles and turns costs no reload.
 */

import { api } from '../api.js';
import { SceneModel } from '../mujoco/engine.js';
import { SharedCamera } from '../render/camera.js';
import { SceneAssets } from '../render/scene3d.js';

/** @type {Map<string, Promise<{scene: SceneModel, assets: SceneAssets, camera: SharedCamera, bundleBytes: number}>>} */
const cache = new Map();

/**
 * @param {string} robotId
 * @param {string} sceneId
 * @param {(message: string) => void} [progress]
 */
export function loadScene(robotId, sceneId, progress = () => {}) {
  const key = `${robotId}/${sceneId}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      progress('Downloading the scene…');
      const { bundle, bytes } = await api.bundle(sceneId, robotId);
      performance.mark('arena:bundle-fetched');
      progress('Compiling the scene in MuJoCo (WebAssembly)…');
      const scene = await SceneModel.fromBundle(bundle);
      performance.mark('arena:scene-compiled');
      const assets = new SceneAssets(scene);
      const camera = new SharedCamera();
      camera.frameScene(scene);
      return { scene, assets, camera, bundleBytes: bytes };
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
