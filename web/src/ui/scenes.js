// @ts-check
/**
 * Compiled scenes, kept for the page's lifetime: one SceneModel, its three.js assets, one shared
 * camera and a pool of ready views (WebGL renderers that have drawn the scene once, so their shaders
 * are compiled and meshes uploaded) per (robot, scene): moving between battles and turns costs no
 * reload, and the setup page warms two views while the voter types.
 */

import { api } from '../api.js';
import { SceneModel } from '../mujoco/engine.js';
import { SharedCamera } from '../render/camera.js';
import { SceneAssets, View3D } from '../render/scene3d.js';

/** @typedef {{scene: SceneModel, assets: SceneAssets, camera: SharedCamera, bundleBytes: number, views: View3D[]}} LoadedScene */
/** @type {Map<string, Promise<LoadedScene>>} */
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
      return { scene, assets, camera, bundleBytes: bytes, views: /** @type {View3D[]} */ ([]) };
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/**
 * Make `n` views of a loaded scene ready in its pool: each draws the scene once, off screen, at the
 * model's default pose (the first draw on a software renderer costs ~0.3 s of shader compiling and
 * mesh upload, which then happens while the voter types rather than after the episode starts).
 * @param {LoadedScene} loaded @param {number} [n]
 */
export function warmViews(loaded, n = 2) {
  const data = loaded.scene.newData();
  // laid out (so the first draw has a size) but off screen
  const shelf = document.body.appendChild(document.createElement('div'));
  shelf.style.cssText = 'position:fixed;left:-10000px;top:0;width:320px;height:240px;visibility:hidden';
  const camera = loaded.camera.camera;
  const aspect = camera.aspect;
  try {
    loaded.scene.mj.mj_kinematics(loaded.scene.model, data);
    while (loaded.views.length < n) {
      const canvas = shelf.appendChild(document.createElement('canvas'));
      canvas.style.cssText = 'width:320px;height:240px';
      const view = new View3D(canvas, loaded.assets, camera);
      view.update(data);
      view.render();
      canvas.removeAttribute('style');
      loaded.views.push(view);
    }
  } finally {
    for (const v of loaded.views) v.canvas.remove();
    shelf.remove();
    camera.aspect = aspect;
    camera.updateProjectionMatrix();
    loaded.scene.freeData(data);
  }
}

/** A view from the pool, or a new one. @param {LoadedScene} loaded @param {Record<string, string>} attrs */
export function takeView(loaded, attrs) {
  const view = loaded.views.pop() ?? new View3D(document.createElement('canvas'), loaded.assets, loaded.camera.camera);
  for (const [k, v] of Object.entries(attrs)) view.canvas.setAttribute(k, v);
  return view;
}

/** Give a view back to the pool (its canvas leaves the page; its WebGL context stays). @param {LoadedScene} loaded @param {View3D} view */
export function returnView(loaded, view) {
  view.canvas.remove();
  if (loaded.views.length < 2) loaded.views.push(view);
  else view.dispose();
}
