// @ts-check
/** three.js geometry of a MuJoCo mesh, straight from the compiled model's arrays. */

import * as THREE from 'three';

/**
 * Non-indexed geometry of mesh `id` with MuJoCo's own per-corner normals.
 * @param {any} m
 * @param {number} id
 */
export function meshGeometry(m, id) {
  const vadr = m.mesh_vertadr[id];
  const nadr = m.mesh_normaladr[id];
  const fadr = m.mesh_faceadr[id];
  const nface = m.mesh_facenum[id];
  const vert = m.mesh_vert;
  const normal = m.mesh_normal;
  const face = m.mesh_face;
  const facenormal = m.mesh_facenormal;
  const pos = new Float32Array(nface * 9);
  const nrm = new Float32Array(nface * 9);
  for (let f = 0; f < nface; f++) {
    for (let c = 0; c < 3; c++) {
      const v = 3 * (vadr + face[3 * (fadr + f) + c]);
      const n = 3 * (nadr + facenormal[3 * (fadr + f) + c]);
      const o = 9 * f + 3 * c;
      pos[o] = vert[v];
      pos[o + 1] = vert[v + 1];
      pos[o + 2] = vert[v + 2];
      nrm[o] = normal[n];
      nrm[o + 1] = normal[n + 1];
      nrm[o + 2] = normal[n + 2];
    }
  }
  const geo = new THREE.BufferGeometry();
  geo.setAttribute('position', new THREE.BufferAttribute(pos, 3));
  geo.setAttribute('normal', new THREE.BufferAttribute(nrm, 3));
  geo.computeBoundingSphere();
  return geo;
}
