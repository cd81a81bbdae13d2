// @ts-check
/**
 * Shadows (src/render/shadows.js): on with a GPU, off on a software rasteriser unless asked for, and
 * what enabling them sets up (a caster over the scene's extent; planes receive but never cast).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';

import * as THREE from 'three';

import { enableShadows, shadowsWanted } from '../../src/render/shadows.js';

/** @param {string | null} value */
function storing(value) {
  /** @type {any} */ (globalThis).localStorage = { getItem: () => value };
}

describe('shadows', () => {
  afterEach(() => { delete /** @type {any} */ (globalThis).localStorage; });

  test('on with a GPU, off on a software renderer, unless the stored choice says otherwise', () => {
    assert.equal(shadowsWanted(false), true);
    assert.equal(shadowsWanted(true), false);
    storing('on');
    assert.equal(shadowsWanted(true), true);
    storing('off');
    assert.equal(shadowsWanted(false), false);
  });

  test('the key light casts over the scene; every geom receives, planes do not cast', () => {
    const renderer = /** @type {any} */ ({ shadowMap: { enabled: false, type: null } });
    const light = new THREE.DirectionalLight(0xffffff, 1);
    light.position.set(1.5, -1.0, 3.0);
    const scene = new THREE.Scene();
    const objects = [0, 1].map((geom) => ({ geom, object: new THREE.Mesh() }));
    enableShadows(renderer, light, scene, objects, { stat: { center: [0.5, 0, 0.4], extent: 1.2 }, geom_type: [0, 6] });
    assert.equal(renderer.shadowMap.enabled, true);
    assert.equal(light.castShadow, true);
    assert.deepEqual(light.target.position.toArray(), [0.5, 0, 0.4]);
    const dir = light.position.clone().sub(light.target.position).normalize();
    assert.ok(dir.distanceTo(new THREE.Vector3(1.5, -1.0, 3.0).normalize()) < 1e-12, 'the light keeps its direction');
    const cam = /** @type {THREE.OrthographicCamera} */ (light.shadow.camera);
    assert.deepEqual([cam.left, cam.right, cam.bottom, cam.top], [-1.2, 1.2, -1.2, 1.2]);
    assert.deepEqual(objects.map((o) => [o.object.castShadow, o.object.receiveShadow]), [[false, true], [true, true]]);
  });
});
