// @ts-check
/**
 * Comparison overlays drawn into a View3D's scene: the end effector's trail up to the shown frame (in
 * the side's colour) and, dimmer, the other side's trail (a ghost path), so the two paths can be
 * compared in either view; and a height cue, a vertical drop line from the end effector and from
 * each free object to the table with a dot where it meets it, so a lifted cube reads differently from
 * a touched one. Positions come from the recorded states only.
 */

import * as THREE from 'three';

/** A growing polyline over a flat x, y, z array, drawn up to a given point. */
class Polyline {
  /** @param {THREE.Scene} scene @param {string} color @param {number} opacity */
  constructor(scene, color, opacity) {
    this.geometry = new THREE.BufferGeometry();
    this.positions = new Float32Array(0);
    this.material = new THREE.LineBasicMaterial({ color, transparent: opacity < 1, opacity, depthTest: false });
    this.line = new THREE.Line(this.geometry, this.material);
    this.line.frustumCulled = false;
    this.line.renderOrder = 10;
    scene.add(this.line);
  }

  /**
   * @param {ArrayLike<number>} xyz flat positions (NaN rows are skipped by clamping to the last good one)
   * @param {number} count points to draw
   */
  set(xyz, count) {
    if (this.positions.length < 3 * count) {
      this.positions = new Float32Array(Math.max(3 * count, 2 * this.positions.length, 3 * 256));
      this.geometry.setAttribute('position', new THREE.BufferAttribute(this.positions, 3));
    }
    for (let i = 0; i < 3 * count; i++) {
      const v = xyz[i];
      this.positions[i] = Number.isFinite(v) ? v : (i >= 3 ? this.positions[i - 3] : 0);
    }
    const attr = this.geometry.getAttribute('position');
    if (attr) attr.needsUpdate = true;
    this.geometry.setDrawRange(0, count);
  }

  dispose() {
    this.line.removeFromParent();
    this.geometry.dispose();
    this.material.dispose();
  }
}

export class Overlays {
  /**
   * @param {THREE.Scene} scene the view's scene
   * @param {string} color this side's colour
   * @param {string} otherColor the other side's colour
   */
  constructor(scene, color, otherColor) {
    this.trail = new Polyline(scene, color, 1);
    this.ghost = new Polyline(scene, otherColor, 0.45);
    this.drops = new Polyline(scene, '#e6e9ef', 0.5);
    const segments = new THREE.LineSegments(this.drops.geometry, this.drops.material); // pairs of points
    segments.frustumCulled = false;
    this.drops.line.removeFromParent();
    scene.add(segments);
    this.drops.line = segments;
    const dotGeo = new THREE.CircleGeometry(0.012, 20);
    this.dotMaterial = new THREE.MeshBasicMaterial({ color: 0x000000, transparent: true, opacity: 0.45, depthWrite: false });
    /** @type {THREE.Mesh[]} */
    this.dots = [];
    this.dotGeo = dotGeo;
    this.scene = scene;
    this.visible = true;
  }

  /**
   * @param {{own: ArrayLike<number> | null, ownCount: number, other: ArrayLike<number> | null, otherCount: number,
   *   points: number[][], floor: number}} o the trails (flat xyz, drawn up to the counts), and the points
   *   that get a drop line to the table at height `floor`
   */
  update(o) {
    this.trail.line.visible = this.visible && o.own !== null && o.ownCount > 1;
    this.ghost.line.visible = this.visible && o.other !== null && o.otherCount > 1;
    if (o.own && this.trail.line.visible) this.trail.set(o.own, o.ownCount);
    if (o.other && this.ghost.line.visible) this.ghost.set(o.other, o.otherCount);
    const flat = [];
    for (const p of o.points) flat.push(p[0], p[1], p[2], p[0], p[1], o.floor);
    this.drops.set(flat, 2 * o.points.length);
    while (this.dots.length < o.points.length) {
      const dot = new THREE.Mesh(this.dotGeo, this.dotMaterial);
      dot.renderOrder = 9;
      this.scene.add(dot);
      this.dots.push(dot);
    }
    o.points.forEach((p, i) => this.dots[i].position.set(p[0], p[1], o.floor + 0.001));
    for (let i = o.points.length; i < this.dots.length; i++) this.dots[i].visible = false;
  }

  dispose() {
    this.trail.dispose();
    this.ghost.dispose();
    this.drops.dispose();
    for (const d of this.dots) d.removeFromParent();
    this.dotGeo.dispose();
    this.dotMaterial.dispose();
  }
}
