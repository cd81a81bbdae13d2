// @ts-check
/**
 * three.js rendering of a compiled MuJoCo scene, posed from MjData: one THREE.Mesh per visible geom
 * (primitives and meshes from `mesh_vert`/`mesh_face`/`mesh_normal`), coloured by geom or material
 * (with the material's texture), placed every frame from `geom_xpos`/`geom_xmat`. z is up. Shadows
 * from the key light where the renderer can afford them (`shadows.js`). Geometries and materials are
 * built once and shared by every view of the same scene.
 */

import * as THREE from 'three';

import { GEOM } from '../mujoco/engine.js';
import { meshGeometry } from './mesh-geometry.js';
import { enableShadows, shadowsWanted } from './shadows.js';

/** @typedef {import('../mujoco/engine.js').SceneModel} SceneModel */
/** @typedef {import('@mujoco/mujoco').MjData} MjData */

/** Geom groups drawn (MuJoCo's viewer default: 0, 1, 2; the Franka's collision meshes are group 3). */
const VISIBLE_GROUPS = new Set([0, 1, 2]);
const TEXROLE_RGB = 1; // mjTEXROLE_RGB
const NTEXROLE = 10; // mjNTEXROLE

/** Per-scene GPU-independent assets: geometry and material per visible geom. */
export class SceneAssets {
  /** @param {SceneModel} scene */
  constructor(scene) {
    const m = scene.model;
    this.model = m;
    /** @type {{geom: number, geometry: THREE.BufferGeometry, material: THREE.Material}[]} */
    this.items = [];
    /** @type {Map<number, THREE.BufferGeometry>} */
    const meshCache = new Map();
    /** @type {Map<string, THREE.Material>} */
    const materialCache = new Map();
    /** @type {Map<number, THREE.Texture>} */
    this.textures = new Map();
    for (let g = 0; g < m.ngeom; g++) {
      const rgba = geomRgba(m, g);
      if (!VISIBLE_GROUPS.has(m.geom_group[g]) || rgba[3] <= 0) continue;
      const geometry = this.#geometry(m, g, meshCache);
      if (!geometry) continue;
      const matid = m.geom_matid[g];
      const texid = matid >= 0 ? m.mat_texid[matid * NTEXROLE + TEXROLE_RGB] : -1;
      const key = `${rgba.join(',')}|${texid}|${matid}`;
      let material = materialCache.get(key);
      if (!material) {
        material = this.#material(m, rgba, matid, texid);
        materialCache.set(key, material);
      }
      this.items.push({ geom: g, geometry, material });
    }
    this.materials = [...materialCache.values()];
    this.geometries = [...new Set(this.items.map((i) => i.geometry))];
  }

  /**
   * @param {any} m MjModel
   * @param {number} g
   * @param {Map<number, THREE.BufferGeometry>} meshCache
   * @returns {THREE.BufferGeometry | null}
   */
  #geometry(m, g, meshCache) {
    const s = m.geom_size;
    const [a, b, c] = [s[3 * g], s[3 * g + 1], s[3 * g + 2]];
    switch (m.geom_type[g]) {
      case GEOM.PLANE:
        return new THREE.PlaneGeometry(a > 0 ? 2 * a : 20, b > 0 ? 2 * b : 20);
      case GEOM.SPHERE:
        return new THREE.SphereGeometry(a, 24, 16);
      case GEOM.ELLIPSOID:
        return new THREE.SphereGeometry(1, 24, 16).scale(a, b, c);
      case GEOM.CAPSULE:
        return new THREE.CapsuleGeometry(a, 2 * b, 8, 20).rotateX(Math.PI / 2);
      case GEOM.CYLINDER:
        return new THREE.CylinderGeometry(a, a, 2 * b, 32).rotateX(Math.PI / 2);
      case GEOM.BOX:
        return new THREE.BoxGeometry(2 * a, 2 * b, 2 * c);
      case GEOM.MESH: {
        const id = m.geom_dataid[g];
        let geo = meshCache.get(id);
        if (!geo) {
          geo = meshGeometry(m, id);
          meshCache.set(id, geo);
        }
        return geo;
      }
      default:
        return null; // height fields and SDFs are not used by the arena's scenes
    }
  }

  /**
   * @param {any} m
   * @param {number[]} rgba
   * @param {number} matid
   * @param {number} texid
   */
  #material(m, rgba, matid, texid) {
    const params = /** @type {THREE.MeshStandardMaterialParameters} */ ({
      color: new THREE.Color().setRGB(rgba[0], rgba[1], rgba[2], THREE.SRGBColorSpace),
      roughness: 0.65,
      metalness: 0.05,
      transparent: rgba[3] < 1,
      opacity: rgba[3],
    });
    if (matid >= 0) {
      params.roughness = 1 - 0.6 * m.mat_shininess[matid];
      if (texid >= 0) {
        params.map = this.#texture(m, texid, m.mat_texrepeat[2 * matid], m.mat_texrepeat[2 * matid + 1]);
        params.color = new THREE.Color(1, 1, 1);
      }
    }
    return new THREE.MeshStandardMaterial(params);
  }

  /**
   * A DataTexture from the model's compiled texture bytes (builtin textures included).
   * @param {any} m
   * @param {number} texid
   * @param {number} repeatU
   * @param {number} repeatV
   */
  #texture(m, texid, repeatU, repeatV) {
    let tex = this.textures.get(texid);
    if (!tex) {
      const w = m.tex_width[texid];
      const h = m.tex_height[texid];
      const nc = m.tex_nchannel[texid];
      const src = m.tex_data.subarray(m.tex_adr[texid], m.tex_adr[texid] + w * h * nc);
      const rgba = new Uint8Array(w * h * 4);
      for (let i = 0; i < w * h; i++) {
        rgba[4 * i] = src[nc * i];
        rgba[4 * i + 1] = src[nc * i + (nc > 1 ? 1 : 0)];
        rgba[4 * i + 2] = src[nc * i + (nc > 2 ? 2 : 0)];
        rgba[4 * i + 3] = nc > 3 ? src[nc * i + 3] : 255;
      }
      tex = new THREE.DataTexture(rgba, w, h, THREE.RGBAFormat);
      tex.colorSpace = THREE.SRGBColorSpace;
      tex.wrapS = THREE.RepeatWrapping;
      tex.wrapT = THREE.RepeatWrapping;
      tex.magFilter = THREE.NearestFilter;
      tex.generateMipmaps = true;
      tex.minFilter = THREE.LinearMipmapLinearFilter;
      tex.needsUpdate = true;
      this.textures.set(texid, tex);
    }
    tex.repeat.set(repeatU || 1, repeatV || 1);
    return tex;
  }

  dispose() {
    for (const g of this.geometries) g.dispose();
    for (const m of this.materials) m.dispose();
    for (const t of this.textures.values()) t.dispose();
    this.items = [];
  }
}

/**
 * @param {any} m
 * @param {number} g
 * @returns {number[]}
 */
function geomRgba(m, g) {
  const matid = m.geom_matid[g];
  const src = matid >= 0 ? m.mat_rgba : m.geom_rgba;
  const i = 4 * (matid >= 0 ? matid : g);
  return [src[i], src[i + 1], src[i + 2], src[i + 3]];
}

/** @type {boolean | null} */
let software = null;

/**
 * Whether WebGL runs on a CPU rasteriser (SwiftShader, llvmpipe, Microsoft Basic Render Driver).
 * Probed once with a throwaway context.
 */
export function softwareRenderer() {
  if (software !== null) return software;
  software = false;
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      software = /swiftshader|llvmpipe|softpipe|basic render/i.test(name);
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    /* no WebGL at all: the renderer will say so */
  }
  return software;
}

/**
 * One canvas showing one MjData of a scene.
 */
export class View3D {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {SceneAssets} assets
   * @param {THREE.PerspectiveCamera} camera shared by every view
   */
  constructor(canvas, assets, camera) {
    this.canvas = canvas;
    this.camera = camera;
    // Multisampling costs 1.5-3.5x per frame on a software rasteriser (SwiftShader, llvmpipe), where
    // scrubbing speed matters more than smooth edges; GPUs keep it.
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: !softwareRenderer(), preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(globalThis.devicePixelRatio || 1, 2));
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x1b1f27);
    this.scene.add(new THREE.HemisphereLight(0xdde6f0, 0x3a3226, 1.4));
    const key = new THREE.DirectionalLight(0xffffff, 1.6);
    key.position.set(1.5, -1.0, 3.0);
    this.scene.add(key);
    const fill = new THREE.DirectionalLight(0xffffff, 0.5);
    fill.position.set(-2.0, 1.5, 1.5);
    this.scene.add(fill);
    /** @type {{geom: number, object: THREE.Mesh}[]} */
    this.objects = assets.items.map(({ geom, geometry, material }) => {
      const object = new THREE.Mesh(geometry, material);
      object.matrixAutoUpdate = false;
      this.scene.add(object);
      return { geom, object };
    });
    if (shadowsWanted(softwareRenderer())) enableShadows(this.renderer, key, this.scene, this.objects, assets.model);
    this._m = new THREE.Matrix4();
    this.frames = 0; // renders so far, for frame-rate measurements
  }

  /**
   * Place every geom from `data.geom_xpos`/`geom_xmat` (after mj_kinematics).
   * @param {MjData} data
   */
  update(data) {
    const xpos = data.geom_xpos;
    const xmat = data.geom_xmat;
    for (const { geom: g, object } of this.objects) {
      const p = 3 * g;
      const r = 9 * g;
      // Matrix4.set takes row-major entries, as MuJoCo stores xmat.
      object.matrix.set(
        xmat[r], xmat[r + 1], xmat[r + 2], xpos[p],
        xmat[r + 3], xmat[r + 4], xmat[r + 5], xpos[p + 1],
        xmat[r + 6], xmat[r + 7], xmat[r + 8], xpos[p + 2],
        0, 0, 0, 1,
      );
      object.matrixWorldNeedsUpdate = true;
    }
  }

  /** Match the drawing buffer to the canvas's CSS size. */
  resize() {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w === 0 || h === 0) return;
    const size = this.renderer.getSize(new THREE.Vector2());
    if (size.x !== w || size.y !== h) this.renderer.setSize(w, h, false);
  }

  /** @param {THREE.PerspectiveCamera} [camera] this view's own camera (the wrist's) instead of the shared one */
  render(camera = this.camera) {
    this.resize();
    const aspect = this.canvas.clientWidth / Math.max(1, this.canvas.clientHeight);
    if (Math.abs(camera.aspect - aspect) > 1e-6) {
      camera.aspect = aspect;
      camera.updateProjectionMatrix();
    }
    this.renderer.render(this.scene, camera);
    this.frames += 1;
  }

  dispose() {
    this.renderer.dispose();
    this.renderer.forceContextLoss(); // browsers cap live WebGL contexts; give this one back now
    this.objects = [];
  }
}
