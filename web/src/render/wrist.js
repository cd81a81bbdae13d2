// @ts-check
/**
 * The wrist camera preset: each view looks through its own robot's camera named `wrist` (every arena
 * robot has one, fixed to the hand), posed from the state the view shows. `SceneModel.pose` runs
 * `mj_kinematics`; `mj_camlight` then fills `cam_xpos`/`cam_xmat`; the field of view is `cam_fovy`
 * (vertical, in degrees, as three.js takes it). A MuJoCo camera looks along its frame's -z with +y up,
 * as a three.js camera does, so its frame maps across unchanged.
 */

import * as THREE from 'three';

import { OBJ } from '../mujoco/engine.js';

export class WristCamera {
  /** @param {import('../mujoco/engine.js').SceneModel} scene */
  constructor(scene) {
    this.scene = scene;
    /** the camera's id in the model, -1 when it has none */
    this.id = scene.id(OBJ.CAMERA, 'wrist');
    const fovy = this.id >= 0 ? Number(/** @type {any} */ (scene.model).cam_fovy[this.id]) : 80;
    this.camera = new THREE.PerspectiveCamera(fovy, 1, 0.01, 50);
    this.camera.up.set(0, 1, 0);
    this._m = new THREE.Matrix4();
  }

  /**
   * Place the camera where the model's wrist camera is in `data` (posed by mj_kinematics).
   * @param {import('@mujoco/mujoco').MjData} data
   * @returns {THREE.PerspectiveCamera}
   */
  at(data) {
    if (this.id < 0) return this.camera;
    this.scene.mj.mj_camlight(this.scene.model, data);
    const p = 3 * this.id;
    const r = 9 * this.id;
    const x = data.cam_xpos;
    const R = data.cam_xmat; // row-major, its columns the camera's axes in the world
    this._m.set(
      R[r], R[r + 1], R[r + 2], x[p],
      R[r + 3], R[r + 4], R[r + 5], x[p + 1],
      R[r + 6], R[r + 7], R[r + 8], x[p + 2],
      0, 0, 0, 1,
    );
    this._m.decompose(this.camera.position, this.camera.quaternion, this.camera.scale);
    this.camera.updateMatrixWorld(true);
    return this.camera;
  }
}
