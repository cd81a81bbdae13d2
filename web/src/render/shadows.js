// @ts-check
/**
 * Real shadows from the key light, a depth cue beside the drop lines: a lifted cube's shadow leaves
 * it, a touched one's does not. One shadow map per view; every visible geom casts one and every
 * visible geom receives them (the floor plane only receives).
 *
 * On by default with a GPU. A software rasteriser (SwiftShader, llvmpipe) draws the scene a second
 * time for the map and filters it per pixel, which costs it far more (bench/bench_web_shadows.mjs), so
 * there they are off unless asked for: `localStorage['arena.shadows'] = 'on'` (or 'off' anywhere).
 */

import * as THREE from 'three';

import { GEOM } from '../mujoco/engine.js';

const MAP_SIZE = 1024;

/**
 * Whether views draw shadows: the stored choice, else on unless the renderer is a software one.
 * @param {boolean} software
 */
export function shadowsWanted(software) {
  let stored = null;
  try { stored = localStorage.getItem('arena.shadows'); } catch { /* no storage */ }
  return stored === 'on' ? true : stored === 'off' ? false : !software;
}

/**
 * Turn on shadows for a view: the renderer's shadow map, `light` casting over the scene's extent
 * (MuJoCo's `stat.center`/`stat.extent`), every geom casting but planes, every geom receiving.
 * @param {THREE.WebGLRenderer} renderer
 * @param {THREE.DirectionalLight} light
 * @param {THREE.Scene} scene the view's scene (the light's target joins it)
 * @param {{geom: number, object: THREE.Mesh}[]} objects
 * @param {any} model MjModel
 */
export function enableShadows(renderer, light, scene, objects, model) {
  renderer.shadowMap.enabled = true;
  renderer.shadowMap.type = THREE.PCFShadowMap;
  const stat = model.stat;
  const c = stat?.center ? Array.from(/** @type {ArrayLike<number>} */ (stat.center)) : [0.4, 0, 0.4];
  const reach = Math.min(Math.max(Number(stat?.extent ?? 1.5), 0.8), 3);
  const dir = light.position.clone().normalize();
  light.target.position.set(c[0], c[1], c[2]);
  light.position.set(c[0] + 4 * dir.x, c[1] + 4 * dir.y, c[2] + 4 * dir.z);
  scene.add(light.target);
  light.castShadow = true;
  const cam = /** @type {THREE.OrthographicCamera} */ (light.shadow.camera);
  cam.left = -reach;
  cam.right = reach;
  cam.top = reach;
  cam.bottom = -reach;
  cam.near = 0.5;
  cam.far = 8 + 2 * reach;
  cam.updateProjectionMatrix();
  light.shadow.mapSize.set(MAP_SIZE, MAP_SIZE);
  light.shadow.bias = -0.0005;
  light.shadow.normalBias = 0.01;
  for (const { geom, object } of objects) {
    object.receiveShadow = true;
    object.castShadow = model.geom_type[geom] !== GEOM.PLANE;
  }
}
