// @ts-check
/**
 * The workspace of a scene at a given state: the end effector and the free objects (the cubes, the
 * bowl), which the camera frames and the height cue draws drop lines from, and the table height the
 * objects rest on.
 */

const FREE_JOINT = 0; // mjJNT_FREE

/**
 * Bodies with a free joint, each with the half height of its first geom (boxes: size z; spheres,
 * capsules, cylinders: size 0 or 1), to find the surface it rests on.
 * @param {import('../mujoco/engine.js').SceneModel} scene
 * @returns {{body: number, half: number}[]}
 */
export function freeBodies(scene) {
  const m = /** @type {any} */ (scene.model);
  const out = [];
  for (let j = 0; j < m.njnt; j++) {
    if (m.jnt_type[j] !== FREE_JOINT) continue;
    const body = m.jnt_bodyid[j];
    let half = 0;
    for (let g = 0; g < m.ngeom; g++) {
      if (m.geom_bodyid[g] !== body) continue;
      const type = m.geom_type[g];
      half = type === 6 ? m.geom_size[3 * g + 2] : type === 2 ? m.geom_size[3 * g] : m.geom_size[3 * g + 1];
      break;
    }
    out.push({ body, half });
  }
  return out;
}

/**
 * Points to frame (end effector and free objects, metres) and the table height (the lowest resting
 * object's bottom; 0 without objects) at the state in `data` (after mj_kinematics).
 * @param {import('../mujoco/engine.js').SceneModel} scene
 * @param {any} data
 * @param {number} eeSite
 * @param {{body: number, half: number}[]} free
 */
export function workspacePoints(scene, data, eeSite, free) {
  /** @type {number[][]} */
  const points = [];
  if (eeSite >= 0) points.push(Array.from(data.site_xpos.subarray(3 * eeSite, 3 * eeSite + 3)));
  let floor = Infinity;
  for (const b of free) {
    const p = Array.from(/** @type {Float64Array} */ (data.xpos.subarray(3 * b.body, 3 * b.body + 3)));
    points.push(p);
    floor = Math.min(floor, p[2] - b.half);
  }
  if (points.length && eeSite >= 0) points.push([points[0][0], points[0][1], Number.isFinite(floor) ? floor : 0]);
  void scene;
  return { points, floor: Number.isFinite(floor) ? floor : 0 };
}
