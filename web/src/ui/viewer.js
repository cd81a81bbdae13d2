// @ts-check
/**
 * The dual replay viewer: views A and B of the same scene posed from two episodes' recorded states,
 * one shared camera (framed on the workspace, with presets), transport controls, a per-step
 * comparison panel, end-effector trails and drop lines, and a plot over time. Live episodes grow while
 * they stream; the viewer follows their newest frame until the voter takes the controls.
 *
 * Blind until revealed: before the vote it shows only what both sides share (states, ctrl, what
 * forward kinematics derives from them). `setRevealed(true)` adds each side's actions and the
 * automatic metric. Frames are shown by setting qpos and running mj_kinematics, never by simulating.
 */

import { fingerJoints, targetBody } from '../lib/compare.js';
import { Timeline } from '../lib/timeline.js';
import { OBJ } from '../mujoco/engine.js';
import { Ghost } from '../render/ghost.js';
import { Overlays } from '../render/overlays.js';
import { StepPlot } from '../render/plot.js';
import { WristCamera } from '../render/wrist.js';
import { h, setText } from './dom.js';
import { returnView, takeView } from './scenes.js';
import { viewerKey } from './viewer-keys.js';
import { drawPlot } from './viewer-plot.js';
import { buildViewer, fillQuantities, letter, onResize } from './viewer-layout.js';
import { Transport } from './viewer-transport.js';
import { actionRows, ctrlRows, sideValues, stepRows } from './viewer-readout.js';
import { QUANTITIES, emptySeries, extendSeries } from './viewer-series.js';
import { freeBodies, workspacePoints } from './workspace.js';

/** @typedef {'left' | 'right'} SideName */
/** @typedef {import('../mujoco/engine.js').SceneModel} SceneModel */
/** @typedef {import('../render/scene3d.js').View3D} View3D */
/** @typedef {import('../render/camera.js').SharedCamera} SharedCamera */
/**
 * @typedef {{episode: any, timeline: Timeline, data: any, live: boolean,
 *   series: import('./viewer-series.js').Series, target: number, fingers: number[]}} SideState
 */

/** @type {SideName[]} */
const SIDES = ['left', 'right'];
const COLORS = { left: '#5aa9ff', right: '#f2894b' };
const other = (/** @type {SideName} */ s) => (s === 'left' ? 'right' : 'left');

export class DualViewer extends Transport {
  /**
   * @param {HTMLElement} root
   * @param {import('./scenes.js').LoadedScene} loaded the compiled scene, its assets, camera and view pool
   */
  constructor(root, loaded) {
    const { scene, camera } = loaded;
    super();
    this.root = root;
    this.scene = scene;
    this.camera = camera;
    this.eeSite = scene.id(OBJ.SITE, 'end_effector');
    this.scratch = scene.newData();
    this.free = freeBodies(scene);
    this.revealed = false;
    this.trails = true;
    this.quantity = 'dist';
    this.renders = 0;
    /** @type {any} MjData at the default pose, for sides without a state yet */
    this.idle = null;
    /** @type {number | null} the table height, from the first state shown */
    this.floor = null;
    /** @type {string | undefined} what the readout shows, to redraw it only on change */
    this._readoutKey = undefined;
    this.loaded = loaded;
    /** @type {Record<SideName, View3D>} ready views from the scene's pool (or new ones) */
    this.views = {
      left: takeView(loaded, { 'data-testid': 'canvas-left', 'aria-label': 'view A' }),
      right: takeView(loaded, { 'data-testid': 'canvas-right', 'aria-label': 'view B' }),
    };
    this.el = buildViewer(root, this, { left: this.views.left.canvas, right: this.views.right.canvas });
    fillQuantities(this.el.qSelect, false, this.quantity);
    this.plot = new StepPlot(this.el.plotCanvas);
    this.overlays = { left: new Overlays(this.views.left.scene, COLORS.left, COLORS.right), right: new Overlays(this.views.right.scene, COLORS.right, COLORS.left) };
    this.ghost = false;
    this.wristView = false; // each view through its own robot's wrist camera
    this.wrist = { left: new WristCamera(scene), right: new WristCamera(scene) };
    this.ghosts = {
      left: new Ghost(this.views.left.scene, loaded.assets, scene.model, COLORS.right),
      right: new Ghost(this.views.right.scene, loaded.assets, scene.model, COLORS.left),
    };
    for (const side of SIDES) {
      camera.attach(this.el.canvas[side]);
      this.el.side[side].addEventListener('pointerdown', () => this.focus(side));
    }
    camera.onChange = () => this.requestDraw();
    camera.onUserMove = () => { if (this.wristView) this.cameraPreset('orbit'); }; // dragging leaves the wrist view
    this._onKey = (/** @type {KeyboardEvent} */ e) => { if (!e.defaultPrevented) viewerKey(this, e); };
    document.addEventListener('keydown', this._onKey);
    this._resize = onResize(this.el.views, () => this.requestDraw());
    this._raf = requestAnimationFrame((t) => this._tick(t));
    /** Called after each redraw (tests and status lines hook here). @type {() => void} */
    this.afterDraw = () => {};
    /** Asked for a link to a frame (the page knows the URL). @type {(frame: number) => void} */
    this.onFrameLink = () => {};
  }

  // ---- episodes ------------------------------------------------------------------------------------

  /** Show an episode (a decoded replay or a growing LiveEpisode) on a side. @param {SideName} side @param {any} episode @param {boolean} live */
  setEpisode(side, episode, live) {
    const prev = this.sides[side];
    const body = targetBody(episode.header.metadata?.task);
    this.sides[side] = {
      episode, live, data: prev?.data ?? this.scene.newData(), timeline: timelineOf(episode), series: emptySeries(),
      target: body ? this.scene.id(OBJ.BODY, body) : -1, fingers: fingerJoints(episode.header),
    };
    this.clock.frameRate = episode.header.frame_rate || 50;
    if (this.floor === null && episode.nFrames > 0) this._frame(episode);
    if (body === null && this.quantity === 'dist') this.setQuantity('height');
    this._extend(side);
    if (live && !this.touched && !this.playing) this._play(true); // watch it unfold, at real time
    this.requestDraw();
  }

  /** The table height, and the camera framed on the workspace (once per scene), at the first state. @param {any} episode */
  _frame(episode) {
    this.scene.pose(this.scratch, episode.frames.qpos, 0);
    const { points, floor } = workspacePoints(this.scene, this.scratch, this.eeSite, this.free);
    this.floor = floor;
    if (!this.camera.framed) this.camera.frameWorkspace(points);
  }

  /** A side's episode grew (live frames) or ended. @param {SideName} side @param {boolean} [ended] */
  episodeUpdated(side, ended = false) {
    const s = this.sides[side];
    if (!s) return;
    s.timeline = timelineOf(s.episode);
    if (ended) s.live = false;
    this._extend(side);
    this.requestDraw();
  }

  /** @param {SideName} side */
  _extend(side) {
    const s = /** @type {SideState} */ (this.sides[side]);
    extendSeries(s.series, { scene: this.scene, scratch: this.scratch, eeSite: this.eeSite, target: s.target,
      fingers: s.fingers, episode: s.episode, timeline: s.timeline, revealed: this.revealed });
  }

  /** After the vote: show actions and the automatic metric (episodes must be the full records). @param {boolean} revealed */
  setRevealed(revealed) {
    this.revealed = revealed;
    this.el.actionsPanel.hidden = !revealed;
    fillQuantities(this.el.qSelect, revealed, this.quantity);
    for (const side of SIDES) if (this.sides[side]) this._extend(side);
    this._readoutKey = undefined;
    this.requestDraw();
  }

  /** @param {SideName} side @param {string} text */
  setStatus(side, text) {
    setText(this.el.side[side].querySelector('.status'), text);
  }

  /** Reveal the model on a side, with its outcome. @param {SideName} side @param {{name: string, organisation: string}} model @param {string} metric */
  reveal(side, model, metric) {
    setText(this.el.side[side].querySelector('.name'), `${letter(side)} · ${model.name}`);
    this.el.side[side].querySelector('.reveal')?.remove();
    this.el.side[side].append(h('div.reveal', { 'data-testid': `reveal-${side}` },
      h('div.model', null, model.name), h('div.muted', null, model.organisation), h('div', null, metric)));
  }

  /** @param {SideName} side @param {string | null} message null clears it */
  showFailure(side, message) {
    this.el.side[side].querySelector('.failure')?.remove();
    if (message !== null) this.el.side[side].append(h('div.failure.error-box', { 'data-testid': `failure-${side}` }, message));
  }

  /** @param {boolean} on */
  setTrails(on) { this.trails = this.el.trails.checked = on; this.requestDraw(); }

  /** The other side's ghost in each view. @param {boolean} on */
  setGhost(on) { this.ghost = this.el.ghost.checked = on; this.requestDraw(); }

  /** A camera preset (front, side, top), the wrist cameras, 'reset' (home) or 'orbit' (keep the shared camera). @param {string} name */
  cameraPreset(name) {
    this.wristView = name === 'wrist' && this.wrist.left.id >= 0;
    this.el.views.dataset.camera = this.wristView ? 'wrist' : name === 'wrist' ? 'orbit' : name;
    if (name === 'reset') this.camera.reset();
    else if (name !== 'wrist' && name !== 'orbit') this.camera.preset(name);
    this.requestDraw();
  }

  /** @param {string} q */
  setQuantity(q) {
    if (!(q in QUANTITIES) || (QUANTITIES[q].revealed && !this.revealed)) return;
    this.quantity = q;
    this.el.qSelect.value = q;
    this.requestDraw();
  }

  copyFrameLink() { this.onFrameLink(this.cursor.frame[this.cursor.focus]); }

  /** Pose both sides at their frames, render, and refresh every readout. @override */
  draw() {
    this.dirty = false;
    for (const side of SIDES) { // pose both first: each view may show the other as a ghost
      const s = this.sides[side];
      if (s) this.scene.pose(s.data, s.episode.frames.qpos, this.cursor.shown(side, s.timeline), s.episode.frames.time[this.cursor.shown(side, s.timeline)]);
    }
    for (const side of SIDES) {
      const s = this.sides[side];
      const data = s ? s.data : this._idle(); // before its first state (queued, connecting): the scene itself
      this.views[side].update(data);
      this.ghosts[side].update(s && this.ghost ? this.sides[other(side)]?.data ?? null : null);
      if (s) this._drawOverlays(side, s, this.cursor.shown(side, s.timeline));
      this.views[side].render(this.wristView ? this.wrist[side].at(data) : undefined);
      this.el.side[side].classList.toggle('focused', !this.cursor.locked && this.cursor.focus === side);
    }
    this.renders += 1;
    this._drawControls();
    this._drawReadout();
    this._drawPlot();
    this.afterDraw();
  }

  /** The scene at the model's default pose, made once. */
  _idle() {
    if (!this.idle) this.scene.mj.mj_kinematics(this.scene.model, this.idle = this.scene.newData());
    return this.idle;
  }

  /** @param {SideName} side @param {SideState} s @param {number} f */
  _drawOverlays(side, s, f) {
    const o = this.sides[other(side)];
    const fo = o ? this.cursor.shown(other(side), o.timeline) : 0;
    const points = [];
    if (this.eeSite >= 0) points.push(Array.from(s.data.site_xpos.subarray(3 * this.eeSite, 3 * this.eeSite + 3)));
    for (const b of this.free) points.push(Array.from(s.data.xpos.subarray(3 * b.body, 3 * b.body + 3)));
    this.overlays[side].visible = this.trails;
    this.overlays[side].update({ own: s.series.ee, ownCount: Math.min(f + 1, s.series.n), other: o ? o.series.ee : null,
      otherCount: o ? Math.min(fo + 1, o.series.n) : 0, points, floor: this.floor ?? 0 });
  }

  _drawControls() {
    const max = String(this._end());
    if (this.el.scrub.max !== max) this.el.scrub.max = max;
    const value = String(this.cursor.frame[this.cursor.focus]);
    if (this.el.scrub.value !== value) this.el.scrub.value = value;
    for (const side of SIDES) {
      const s = this.sides[side];
      const el = /** @type {HTMLElement} */ (this.el.controls.querySelector(side === 'left' ? '.labels .l' : '.labels .r'));
      if (!s) { setText(el, ''); continue; }
      const f = this.cursor.shown(side, s.timeline);
      setText(el, `${letter(side)} ${s.timeline.label(f)}${s.live ? ' · live' : ''}`);
      el.dataset.frame = String(f);
      el.dataset.step = String(s.timeline.stepAt(f));
      setText(this.el.side[side].querySelector('.hud .frame'), `frame ${f}/${s.timeline.lastFrame}`);
    }
    setText(this.el.controls.querySelector('.focus-note'), this.cursor.locked ? '' : `keys move ${letter(this.cursor.focus)}`);
  }

  _drawReadout() {
    /** @type {Record<SideName, import('./viewer-readout.js').SideValues | null>} */
    const v = { left: null, right: null };
    for (const side of SIDES) {
      const s = this.sides[side];
      if (s) v[side] = sideValues(s, this.cursor.shown(side, s.timeline), this.revealed);
    }
    const key = JSON.stringify(SIDES.map((s) => v[s] && [v[s]?.f, v[s]?.aStep, v[s]?.nSteps, v[s]?.dist])) + this.revealed;
    if (this._readoutKey === key) return;
    this._readoutKey = key;
    this.el.readout.replaceChildren(...stepRows(v, this.revealed));
    this.el.ctrl.replaceChildren(...ctrlRows(v));
    if (this.revealed) this.el.actions.replaceChildren(...actionRows(v));
  }

  _drawPlot() {
    drawPlot(this);
  }

  dispose() {
    cancelAnimationFrame(this._raf);
    document.removeEventListener('keydown', this._onKey);
    this._resize.disconnect();
    for (const side of SIDES) {
      this.overlays[side].dispose();
      this.ghosts[side].dispose();
      returnView(this.loaded, this.views[side]);
      const s = this.sides[side];
      if (s) this.scene.freeData(s.data);
    }
    this.scene.freeData(this.scratch);
    if (this.idle) this.scene.freeData(this.idle);
    this.camera.dispose();
    this.root.replaceChildren();
  }
}

/** @param {any} episode */
function timelineOf(episode) {
  return new Timeline(episode.header.step_frames, Math.max(1, episode.nFrames), episode.frames.time, episode.header.frame_rate);
}
