// @ts-check
/**
 * One z-up perspective camera shared by both views (so A and B are always seen from the same place),
 * orbiting a target point, with one OrbitControls per canvas all driving it. The home view frames the
 * workspace (the end effector's reach and the objects), and presets look at it from the front, the
 * side and the top (the wrist preset is each view's own camera: see wrist.js).
 */

import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

/** Preset viewing directions (from the target towards the camera), z up; the robot faces +x. */
export const PRESETS = Object.freeze({
  home: [1.0, -0.75, 0.6],
  front: [1.0, 0.0, 0.32],
  side: [0.0, -1.0, 0.3],
  top: [0.02, 0.0, 1.0], // not exactly vertical: the orbit needs a defined azimuth
});

export class SharedCamera {
  constructor() {
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.02, 50);
    this.camera.up.set(0, 0, 1);
    this.target = new THREE.Vector3(0.45, 0, 0.45);
    this.radius = 0.6;
    this.camera.position.set(1.6, -1.2, 1.3);
    this.camera.lookAt(this.target);
    /** @type {OrbitControls[]} */
    this.controls = [];
    /** @type {() => void} */
    this.onChange = () => {};
    /** The voter started dragging or zooming a view. @type {() => void} */
    this.onUserMove = () => {};
    this.home = { position: this.camera.position.clone(), target: this.target.clone() };
    this.framed = false;
  }

  /**
   * A first guess before any state is known: the middle of the model's bounding box.
   * @param {import('../mujoco/engine.js').SceneModel} scene
   */
  frameScene(scene) {
    const stat = /** @type {any} */ (scene.model).stat;
    const c = stat?.center ?? [0.4, 0, 0.5];
    this.target.set(c[0], c[1], Math.max(c[2], 0.3));
    this.radius = Math.min(Math.max(0.5 * (stat?.extent ?? 1.2), 0.5), 1.2);
    this.preset('home', true);
  }

  /**
   * Frame the workspace: a sphere around `points` (x, y, z triples: the end effector and the objects,
   * in metres), with a margin so a 5 cm cube is clearly visible.
   * @param {number[][]} points
   */
  frameWorkspace(points) {
    if (!points.length) return;
    const box = new THREE.Box3();
    for (const p of points) box.expandByPoint(new THREE.Vector3(p[0], p[1], p[2]));
    const sphere = box.getBoundingSphere(new THREE.Sphere());
    this.target.copy(sphere.center);
    this.radius = Math.min(Math.max(sphere.radius + 0.12, 0.3), 1.2);
    this.framed = true;
    this.preset('home', true);
  }

  /**
   * Look at the workspace from a preset direction, at a distance that fits its sphere.
   * @param {string} name one of PRESETS
   * @param {boolean} [makeHome] also make it the view `reset()` returns to
   */
  preset(name, makeHome = false) {
    const d = /** @type {Record<string, number[]>} */ (PRESETS)[name] ?? PRESETS.home;
    const dir = new THREE.Vector3(d[0], d[1], d[2]).normalize();
    const fov = THREE.MathUtils.degToRad(this.camera.fov);
    const distance = this.radius / Math.sin(fov / 2);
    this.camera.position.copy(this.target).addScaledVector(dir, distance);
    this.camera.lookAt(this.target);
    if (makeHome) this.home = { position: this.camera.position.clone(), target: this.target.clone() };
    for (const c of this.controls) c.update();
    this.onChange();
  }

  /** @param {HTMLElement} element */
  attach(element) {
    const controls = new OrbitControls(this.camera, element);
    controls.target = this.target; // one target object for every control
    controls.enableDamping = false;
    controls.zoomSpeed = 0.8;
    // OrbitControls re-derives its spherical coordinates from the camera on every update, so the
    // controls of the other canvases need no syncing: they all move the same camera.
    controls.addEventListener('change', () => this.onChange());
    controls.addEventListener('start', () => this.onUserMove());
    controls.update();
    this.controls.push(controls);
    return controls;
  }

  reset() {
    this.camera.position.copy(this.home.position);
    this.target.copy(this.home.target);
    for (const c of this.controls) c.update();
    this.onChange();
  }

  dispose() {
    for (const c of this.controls) c.dispose();
    this.controls = [];
  }
}
