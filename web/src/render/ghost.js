// @ts-check
/**
 * A ghost of the other side in a view: every moving geom (the robot and the objects, not the table or
 * the floor) drawn again, translucent and in the other side's colour, posed from the other side's
 * state at its shown frame, so where the two runs part is visible in one picture. Off by default: it
 * doubles the triangles a view draws.
 */

import * as THREE from 'three';

/** @typedef {import('./scene3d.js').SceneAssets} SceneAssets */

export class Ghost {
  /**
   * @param {THREE.Scene} scene the view's scene
   * @param {SceneAssets} assets the scene's shared geometries
   * @param {any} model MjModel (for geom_bodyid)
   * @param {string} color the other side's colour
   */
  constructor(scene, assets, model, color) {
    this.material = new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.22, depthWrite: false });
    // moving geoms only: a body welded to the world (table, floor, walls) has weld id 0
    const moves = (/** @type {number} */ g) => (model.body_weldid ? model.body_weldid[model.geom_bodyid[g]] : model.geom_bodyid[g]) !== 0;
    /** @type {{geom: number, object: THREE.Mesh}[]} */
    this.objects = assets.items.filter(({ geom }) => moves(geom)).map(({ geom, geometry }) => {
      const object = new THREE.Mesh(geometry, this.material);
      object.matrixAutoUpdate = false;
      object.visible = false;
      object.renderOrder = 5;
      scene.add(object);
      return { geom, object };
    });
  }

  /** Pose from `data` (after mj_kinematics), or hide with null. @param {any | null} data */
  update(data) {
    for (const { geom: g, object } of this.objects) {
      object.visible = data !== null;
      if (data === null) continue;
      const [p, r, x, m] = [3 * g, 9 * g, data.geom_xpos, data.geom_xmat];
      object.matrix.set(m[r], m[r + 1], m[r + 2], x[p], m[r + 3], m[r + 4], m[r + 5], x[p + 1], m[r + 6], m[r + 7], m[r + 8], x[p + 2], 0, 0, 0, 1);
      object.matrixWorldNeedsUpdate = true;
    }
  }

  dispose() {
    for (const { object } of this.objects) object.removeFromParent();
    this.objects = [];
    this.material.dispose();
  }
}
