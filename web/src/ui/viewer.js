// @ts-check
/**
 * The dual replay viewer: two views of the same scene posed from two episodes' recorded states,
 * one shared orbit camera, transport controls (play, step ±1/±10, scrub, speed, lock), a per-step
 * comparison panel and a plot of one quantity per side. Live episodes grow while they stream; the
 * viewer follows their newest frame until the voter takes the controls.
 *
 * Frames are shown by setting qpos and running mj_kinematics: never by simulating.
 */

import { PlayClock, DualCursor, SPEEDS, Timeline } from '../lib/timeline.js';
import {
  actionAt, actionLabels, distance3, fingerJoints, fmt, gripperCommand, gripperOpening, gripperWord, progressAt,
  targetBody,
} from '../lib/compare.js';
import { OBJ } from '../mujoco/engine.js';
import { StepPlot } from '../render/plot.js';
import { View3D } from '../render/scene3d.js';
import { h, setText } from './dom.js';

/** @typedef {'left' | 'right'} SideName */
/** @typedef {import('../mujoco/engine.js').SceneModel} SceneModel */
/** @typedef {import('../render/scene3d.js').SceneAssets} SceneAssets */
/** @typedef {import('../render/scene3d.js').SharedCamera} SharedCamera */

/** @type {SideName[]} */
const SIDES = ['left', 'right'];
const COLORS = { left: '#5aa9ff', right: '#f2894b' };

/** Plot quantities: per-frame series computed once per frame as episodes grow. */
const QUANTITIES = {
  dist: { label: 'gripper–target distance', unit: 'm', floor: 0 },
  grip: { label: 'finger opening', unit: 'mm', floor: 0 },
  height: { label: 'end-effector height', unit: 'm', floor: null },
  progress: { label: 'task progress', unit: '0–1', floor: 0 },
};

/**
 * @typedef {object} SideState
 * @property {any} episode decoded replay or LiveEpisode (same shape)
 * @property {Timeline} timeline
 * @property {any} data MjData used for display
 * @property {boolean} live still streaming
 * @property {{dist: Float64Array, grip: Float64Array, height: Float64Array, progress: Float64Array, n: number}} series
 * @property {number} target body id of the task object, or -1
 * @property {number[]} fingers qpos addresses of the finger joints
 */
/**
 * The page elements `_build()` makes.
 * @typedef {{views: HTMLElement, side: Record<SideName, HTMLElement>, canvas: Record<SideName, HTMLCanvasElement>,
 *   controls: HTMLElement, play: HTMLElement, scrub: HTMLInputElement, speed: HTMLSelectElement,
 *   lock: HTMLInputElement, readout: HTMLElement, actions: HTMLElement, plotCanvas: HTMLCanvasElement,
 *   qSelect: HTMLSelectElement}} ViewerElements
 */

export class DualViewer {
  /**
   * @param {HTMLElement} root
   * @param {SceneModel} scene
   * @param {SceneAssets} assets
   * @param {SharedCamera} camera
   */
  constructor(root, scene, assets, camera) {
    this.root = root;
    this.scene = scene;
    this.camera = camera;
    this.eeSite = scene.id(OBJ.SITE, 'end_effector');
    this.scratch = scene.newData();
    /** @type {Record<SideName, SideState | null>} */
    this.sides = { left: null, right: null };
    this.cursor = new DualCursor();
    this.clock = new PlayClock(50);
    this.playing = false;
    this.touched = false; // the voter has used the transport: stop auto-playing live episodes
    this.quantity = /** @type {keyof typeof QUANTITIES} */ ('dist');
    this.dirty = true;
    this.renders = 0;
    /** @type {ViewerElements} set by _build() */
    this.el;
    /** @type {StepPlot} set by _build() */
    this.plot;
    /** @type {string | undefined} what the readout shows, to redraw it only on change */
    this._readoutKey;
    this._build();
    /** @type {Record<SideName, View3D>} */
    this.views = {
      left: new View3D(this.el.canvas.left, assets, camera.camera),
      right: new View3D(this.el.canvas.right, assets, camera.camera),
    };
    for (const side of SIDES) {
      camera.attach(this.el.canvas[side]);
      this.el.side[side].addEventListener('pointerdown', () => this.focus(side));
    }
    camera.onChange = () => this.requestDraw();
    this._onKey = (/** @type {KeyboardEvent} */ e) => this.onKey(e);
    document.addEventListener('keydown', this._onKey);
    this._resize = new ResizeObserver(() => this.requestDraw());
    this._resize.observe(this.el.views);
    this._last = performance.now();
    this._raf = requestAnimationFrame((t) => this._tick(t));
    /** Called after each redraw (tests and status lines hook here). @type {() => void} */
    this.afterDraw = () => {};
  }

  // ---- layout ---------------------------------------------------------------------------------------

  _build() {
    /** @param {SideName} side */
    const sideBox = (side) => h(`div.side`, { dataset: { side }, 'data-testid': `view-${side}` },
      h('canvas', { 'data-testid': `canvas-${side}`, 'aria-label': `${side} episode` }),
      h('div.hud', null,
        h('span.name', { 'data-testid': `name-${side}` }, side === 'left' ? 'Model A' : 'Model B'),
        h('span', { 'data-testid': `hud-${side}` }, '')),
      h('div.status', { 'data-testid': `status-${side}` }, 'waiting…'));
    const side = { left: sideBox('left'), right: sideBox('right') };
    const canvas = {
      left: /** @type {HTMLCanvasElement} */ (side.left.querySelector('canvas')),
      right: /** @type {HTMLCanvasElement} */ (side.right.querySelector('canvas')),
    };
    const views = h('div.views', null, side.left, side.right);

    const btn = (/** @type {string} */ label, /** @type {string} */ title, /** @type {() => void} */ fn, /** @type {string} */ id) =>
      h('button', { title, 'aria-label': title, onclick: fn, 'data-testid': id }, label);
    const play = btn('▶', 'Play / pause (Space)', () => this.togglePlay(), 'play');
    const scrub = /** @type {HTMLInputElement} */ (h('input', { type: 'range', min: '0', max: '0', step: '1', value: '0', 'data-testid': 'scrub', 'aria-label': 'Scrub' }));
    scrub.addEventListener('input', () => this.seek(Number(scrub.value)));
    const speed = /** @type {HTMLSelectElement} */ (h('select', { 'data-testid': 'speed', 'aria-label': 'Playback speed' },
      ...SPEEDS.map((s) => h('option', { value: String(s), selected: s === 1 }, `${s}x`))));
    speed.addEventListener('change', () => { this.clock.speed = Number(speed.value); });
    const lock = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', checked: true, 'data-testid': 'lock' }));
    lock.addEventListener('change', () => this.setLocked(lock.checked));
    const controls = h('div.controls', { dataset: { locked: 'true' } },
      h('div.buttons', null,
        btn('|◀', 'First frame (Home)', () => this.seek(0), 'first'),
        btn('−10', 'Back ten control steps (Shift+←)', () => this.stepBy(-10), 'back10'),
        btn('−1', 'Back one control step (←)', () => this.stepBy(-1), 'back1'),
        play,
        btn('+1', 'Forward one control step (→)', () => this.stepBy(1), 'fwd1'),
        btn('+10', 'Forward ten control steps (Shift+→)', () => this.stepBy(10), 'fwd10'),
        btn('▶|', 'Last frame (End)', () => this.seek(Infinity), 'last')),
      h('div.scrub', null, scrub,
        h('div.labels', null,
          h('span.l', { 'data-testid': 'label-left' }, ''),
          h('span.focus-note.muted', { 'data-testid': 'focus-note' }, ''),
          h('span.r', { 'data-testid': 'label-right' }, ''))),
      h('div.right', null,
        h('label', null, 'speed', speed),
        h('label', { title: 'Keep left and right on the same step (L)' }, lock, 'lock'),
        btn('⟲', 'Reset camera (C)', () => this.camera.reset(), 'camera-reset')));

    const readout = h('table.readout', { 'data-testid': 'compare' });
    const actions = h('table.readout', { 'data-testid': 'actions' });
    const qSelect = /** @type {HTMLSelectElement} */ (h('select', { 'data-testid': 'plot-quantity', 'aria-label': 'Plotted quantity' },
      ...Object.entries(QUANTITIES).map(([k, q]) => h('option', { value: k }, q.label))));
    qSelect.addEventListener('change', () => {
      this.quantity = /** @type {any} */ (qSelect.value);
      this.requestDraw();
    });
    const plotCanvas = /** @type {HTMLCanvasElement} */ (h('canvas', { 'data-testid': 'plot' }));
    plotCanvas.addEventListener('pointerdown', (e) => this._plotSeek(e));
    plotCanvas.addEventListener('pointermove', (e) => { if (e.buttons & 1) this._plotSeek(e); });
    const compare = h('div.compare', null,
      h('div.panel', null, h('h2', null, 'At this step'), readout),
      h('div.panel', null, h('h2', null, 'Action'), actions));
    const plot = h('div.panel.plot-panel', null, h('header', null, h('h2', null, 'Over time'), qSelect,
      h('span.muted', null, 'click to seek')), plotCanvas);
    this.root.append(views, controls, compare, plot);
    this.el = { views, side, canvas, controls, play, scrub, speed, lock, readout, actions, plotCanvas, qSelect };
    this.plot = new StepPlot(plotCanvas);
  }

  // ---- episodes ------------------------------------------------------------------------------------

  /**
   * Show an episode on a side (a decoded replay or a LiveEpisode being streamed).
   * @param {SideName} side
   * @param {any} episode
   * @param {boolean} live
   */
  setEpisode(side, episode, live) {
    const prev = this.sides[side];
    const data = prev?.data ?? this.scene.newData();
    const task = episode.header.metadata?.task;
    const body = targetBody(task);
    this.sides[side] = {
      episode, live, data,
      timeline: timelineOf(episode),
      series: { dist: new Float64Array(0), grip: new Float64Array(0), height: new Float64Array(0), progress: new Float64Array(0), n: 0 },
      target: body ? this.scene.id(OBJ.BODY, body) : -1,
      fingers: fingerJoints(episode.header),
    };
    this.clock.frameRate = episode.header.frame_rate || 50;
    this._extendSeries(side);
    if (live && !this.touched && !this.playing) this._play(true); // watch it unfold, at real time
    this.requestDraw();
  }

  /** A side's episode grew (live frames) or ended. @param {SideName} side @param {boolean} [ended] */
  episodeUpdated(side, ended = false) {
    const s = this.sides[side];
    if (!s) return;
    s.timeline = timelineOf(s.episode);
    if (ended) s.live = false;
    this._extendSeries(side);
    this.requestDraw();
  }

  /** @param {SideName} side @param {string} text */
  setStatus(side, text) {
    setText(this.el.side[side].querySelector('.status'), text);
  }

  /**
   * Reveal the model on a side, with the episode's automatic metric.
   * @param {SideName} side
   * @param {{name: string, organisation: string}} model
   * @param {string} metric
   */
  reveal(side, model, metric) {
    setText(this.el.side[side].querySelector('.name'), model.name);
    this.el.side[side].querySelector('.reveal')?.remove();
    this.el.side[side].append(h('div.reveal', { 'data-testid': `reveal-${side}` },
      h('div.model', null, model.name), h('div.muted', null, model.organisation), h('div', null, metric)));
  }

  /** @param {SideName} side @param {string} message */
  showFailure(side, message) {
    this.el.side[side].querySelector('.failure')?.remove();
    this.el.side[side].append(h('div.failure.error-box', { 'data-testid': `failure-${side}` }, message));
  }

  anyLive() {
    return SIDES.some((s) => this.sides[s]?.live);
  }

  maxLastFrame() {
    return Math.max(0, ...SIDES.map((s) => this.sides[s]?.timeline.lastFrame ?? 0));
  }

  /**
   * Per-frame derived quantities for frames not yet computed: end-effector to target distance and
   * height (forward kinematics on a scratch MjData), finger opening, progress by step.
   * @param {SideName} side
   */
  _extendSeries(side) {
    const s = /** @type {SideState} */ (this.sides[side]);
    const ep = s.episode;
    const n = ep.nFrames;
    if (s.series.dist.length < n) {
      const cap = Math.max(n, 2 * s.series.dist.length, 64);
      for (const k of /** @type {const} */ (['dist', 'grip', 'height', 'progress'])) {
        const grown = new Float64Array(cap).fill(NaN);
        grown.set(s.series[k].subarray(0, s.series.n));
        s.series[k] = grown;
      }
    }
    const d = this.scratch;
    for (let f = s.series.n; f < n; f++) {
      this.scene.pose(d, ep.frames.qpos, f);
      const ee = this.eeSite >= 0 ? 3 * this.eeSite : -1;
      s.series.height[f] = ee >= 0 ? d.site_xpos[ee + 2] : NaN;
      s.series.dist[f] = ee >= 0 && s.target >= 0 ? distance3(d.site_xpos, ee, d.xpos, 3 * s.target) : NaN;
      const open = gripperOpening(ep, f, s.fingers);
      s.series.grip[f] = open === null ? NaN : open * 1000;
    }
    // progress after step k, drawn from the frame where step k ends
    const tl = s.timeline;
    for (let k = 0; k < ep.nSteps; k++) {
      const p = progressAt(ep, k);
      const a = tl.frameOfStep(k + 1);
      const b = k + 2 <= ep.nSteps ? tl.frameOfStep(k + 2) : n;
      for (let f = a; f < Math.min(b, n); f++) s.series.progress[f] = p === null ? NaN : p;
    }
    s.series.n = n;
  }

  // ---- transport -----------------------------------------------------------------------------------

  togglePlay() {
    this.setPlaying(!this.playing);
  }

  /** @param {boolean} playing */
  setPlaying(playing) {
    this.touched = true;
    this._play(playing);
  }

  /** @param {boolean} playing */
  _play(playing) {
    const focusFrame = this.cursor.frame[this.cursor.focus];
    if (playing && focusFrame >= this._end() && !this.anyLive()) this._seek(0); // replay from the start
    this.playing = playing;
    this.clock.cursor = this.cursor.frame[this.cursor.focus];
    this._last = performance.now();
    setText(this.el.play, playing ? '❚❚' : '▶');
    this.el.play.dataset.playing = String(playing);
    this.requestDraw();
  }

  /** The last frame the transport can reach: both sides when locked, else the focused side's. */
  _end() {
    return this.cursor.locked ? this.maxLastFrame() : (this._focusTimeline()?.lastFrame ?? 0);
  }

  /**
   * Jump to a frame (locked: both sides; unlocked: the focused side).
   * @param {number} frame
   */
  seek(frame) {
    this.touched = true;
    this._seek(frame);
  }

  /** @param {number} frame */
  _seek(frame) {
    const tl = this._focusTimeline();
    const f = Number.isFinite(frame) ? Math.max(0, Math.round(frame)) : (this.cursor.locked ? this.maxLastFrame() : tl?.lastFrame ?? 0);
    const clamped = this.cursor.locked ? Math.min(f, this.maxLastFrame()) : (tl ? tl.clampFrame(f) : 0);
    this.cursor.set(clamped);
    this.clock.cursor = clamped;
    this.requestDraw();
  }

  /**
   * Move by control steps, on the longer timeline when locked.
   * @param {number} delta
   */
  stepBy(delta) {
    this.setPlaying(false);
    const tl = this.cursor.locked ? this._longestTimeline() : this._focusTimeline();
    if (!tl) return;
    this.seek(tl.stepBy(this.cursor.frame[this.cursor.focus], delta));
  }

  /** @param {number} delta frames */
  frameBy(delta) {
    this.setPlaying(false);
    this.seek(this.cursor.frame[this.cursor.focus] + delta);
  }

  /** @param {boolean} locked */
  setLocked(locked) {
    this.cursor.setLocked(locked);
    this.el.lock.checked = locked;
    this.el.controls.dataset.locked = String(locked);
    this.requestDraw();
  }

  /** @param {SideName} side */
  focus(side) {
    this.cursor.focus = side;
    this.requestDraw();
  }

  _focusTimeline() {
    return this.sides[this.cursor.focus]?.timeline ?? this._longestTimeline();
  }

  _longestTimeline() {
    /** @type {Timeline | null} */
    let best = null;
    for (const s of SIDES) {
      const tl = this.sides[s]?.timeline;
      if (tl && (!best || tl.lastFrame > best.lastFrame)) best = tl;
    }
    return best;
  }

  /** @param {PointerEvent} e */
  _plotSeek(e) {
    const rect = this.el.plotCanvas.getBoundingClientRect();
    const t = this.plot.timeAt(e.clientX - rect.left);
    const rate = this.clock.frameRate;
    this.setPlaying(false);
    this.seek(t * rate);
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    const t = /** @type {HTMLElement} */ (e.target);
    if (t && (t.tagName === 'INPUT' && /** @type {HTMLInputElement} */ (t).type === 'text' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const big = e.shiftKey ? 10 : 1;
    switch (e.key) {
      case ' ': this.togglePlay(); break;
      case 'ArrowRight': this.stepBy(big); break;
      case 'ArrowLeft': this.stepBy(-big); break;
      case 'Home': this.setPlaying(false); this.seek(0); break;
      case 'End': this.setPlaying(false); this.seek(Infinity); break;
      case '.': this.frameBy(1); break;
      case ',': this.frameBy(-1); break;
      case '+': case '=': this.el.speed.value = String(this.clock.nudgeSpeed(1)); break;
      case '-': case '_': this.el.speed.value = String(this.clock.nudgeSpeed(-1)); break;
      case 'l': case 'L': this.setLocked(!this.cursor.locked); break;
      case 'c': case 'C': this.camera.reset(); break;
      case 'Tab':
        if (this.cursor.locked) return;
        this.focus(this.cursor.focus === 'left' ? 'right' : 'left');
        break;
      default: return;
    }
    e.preventDefault();
  }

  // ---- drawing -------------------------------------------------------------------------------------

  requestDraw() {
    this.dirty = true;
  }

  /** @param {number} now */
  _tick(now) {
    this._raf = requestAnimationFrame((t) => this._tick(t));
    const dt = (now - this._last) / 1000;
    this._last = now;
    if (this.playing) {
      const end = this._end();
      const f = this.clock.advance(Math.min(dt, 0.25));
      if (f >= end) {
        this.clock.cursor = end; // at the live edge: wait for frames; at the end: stop
        this.cursor.set(end);
        if (!this.anyLive()) this._play(false);
      } else {
        this.cursor.set(Math.floor(f));
      }
      this.dirty = true;
    }
    if (this.dirty) this.draw();
  }

  /** Pose both sides at their frames, render, and refresh every readout. */
  draw() {
    this.dirty = false;
    for (const side of SIDES) {
      const s = this.sides[side];
      if (!s) continue;
      const f = this.cursor.shown(side, s.timeline);
      this.scene.pose(s.data, s.episode.frames.qpos, f, s.episode.frames.time[f]);
      this.views[side].update(s.data);
      this.views[side].render();
      this.el.side[side].classList.toggle('focused', !this.cursor.locked && this.cursor.focus === side);
    }
    this.renders += 1;
    this._drawControls();
    this._drawReadout();
    this._drawPlot();
    this.afterDraw();
  }

  _drawControls() {
    const max = this.cursor.locked ? this.maxLastFrame() : (this._focusTimeline()?.lastFrame ?? 0);
    if (this.el.scrub.max !== String(max)) this.el.scrub.max = String(max);
    const value = String(this.cursor.frame[this.cursor.focus]);
    if (this.el.scrub.value !== value) this.el.scrub.value = value;
    for (const side of SIDES) {
      const s = this.sides[side];
      const el = this.el.controls.querySelector(side === 'left' ? '.labels .l' : '.labels .r');
      if (!s) { setText(el, ''); continue; }
      const f = this.cursor.shown(side, s.timeline);
      setText(el, `${side === 'left' ? 'L' : 'R'} ${s.timeline.label(f)}${s.live ? ' · live' : ''}`);
      if (el) /** @type {HTMLElement} */ (el).dataset.frame = String(f);
      if (el) /** @type {HTMLElement} */ (el).dataset.step = String(s.timeline.stepAt(f));
      setText(this.el.side[side].querySelector('.hud span:last-child'), `frame ${f}/${s.timeline.lastFrame}`);
    }
    setText(this.el.controls.querySelector('.focus-note'), this.cursor.locked ? '' : `keys move ${this.cursor.focus}`);
  }

  _drawReadout() {
    /** @type {Record<SideName, any>} */
    const v = { left: null, right: null };
    for (const side of SIDES) {
      const s = this.sides[side];
      if (!s) continue;
      const f = this.cursor.shown(side, s.timeline);
      const step = s.timeline.stepAt(f);
      const aStep = s.timeline.actionStepAt(f);
      const action = actionAt(s.episode, aStep);
      v[side] = {
        step, nSteps: s.timeline.nSteps, time: s.timeline.timeAt(f), action, aStep,
        grip: gripperCommand(action), opening: s.series.grip[f], dist: s.series.dist[f],
        progress: progressAt(s.episode, step - 1), space: s.episode.header.action_space,
      };
    }
    const cell = (/** @type {SideName} */ side, /** @type {string} */ key, /** @type {string} */ text, /** @type {number | null | undefined} */ raw) =>
      h(`td.${side === 'left' ? 'l' : 'r'}`, { 'data-testid': `${key}-${side}`, 'data-value': raw === undefined || raw === null ? '' : String(raw) }, text);
    const row = (/** @type {string} */ label, /** @type {string} */ key, /** @type {(x: any) => [string, number | null | undefined]} */ get) =>
      h('tr', null, h('th', null, label), ...SIDES.map((side) => {
        const x = v[side];
        if (!x) return cell(side, key, '—', null);
        const [text, raw] = get(x);
        return cell(side, key, text, raw);
      }));
    const rows = [
      row('control step', 'step', (x) => [`${x.step}/${x.nSteps}`, x.step]),
      row('sim time', 'time', (x) => [`${x.time.toFixed(3)} s`, x.time]),
      row('gripper command', 'grip', (x) => [`${gripperWord(x.grip)} ${x.grip === null ? '' : `(${x.grip.toFixed(2)})`}`, x.grip]),
      row('finger opening', 'opening', (x) => [Number.isFinite(x.opening) ? `${x.opening.toFixed(1)} mm` : '—', x.opening]),
      row('gripper → target', 'dist', (x) => [Number.isFinite(x.dist) ? `${(x.dist * 100).toFixed(1)} cm` : '—', Number.isFinite(x.dist) ? x.dist : null]),
      row('progress', 'progress', (x) => [x.progress === null ? '—' : `${(x.progress * 100).toFixed(0)}%`, x.progress]),
    ];
    const key = JSON.stringify(SIDES.map((s) => v[s] && [v[s].step, v[s].time, v[s].aStep, v[s].dist]));
    if (this._readoutKey !== key) {
      this._readoutKey = key;
      this.el.readout.replaceChildren(...rows);
      this._drawActions(v);
    }
  }

  /** @param {Record<SideName, any>} v */
  _drawActions(v) {
    const dims = Math.max(0, ...SIDES.map((s) => v[s]?.action?.length ?? 0));
    /** @type {Record<SideName, string[]>} */
    const labels = { left: [], right: [] };
    for (const s of SIDES) labels[s] = v[s] ? actionLabels(v[s].space, v[s].action?.length ?? 0) : [];
    const cls = (/** @type {SideName} */ s) => (s === 'left' ? 'l' : 'r');
    const head = h('tr', null, ...SIDES.flatMap((s) => [
      h('th', null, s === 'left' ? 'left' : 'right'),
      h(`td.${cls(s)}`, { 'data-testid': `action-space-${s}` }, v[s] ? `${v[s].space} · step ${v[s].aStep < 0 ? '—' : v[s].aStep}` : '—')]));
    const rows = [head];
    for (let i = 0; i < dims; i++) {
      rows.push(h('tr', null, ...SIDES.flatMap((s) => {
        const a = v[s]?.action;
        const x = a && i < a.length ? a[i] : null;
        return [h('th', null, labels[s][i] ?? ''),
          h(`td.${cls(s)}`, { 'data-testid': `action-${s}-${i}`, 'data-value': x === null ? '' : String(x) }, x === null ? '' : fmt(x, 3))];
      })));
    }
    if (dims === 0) rows.push(h('tr', null, h('td.muted', { colspan: 4 }, 'no action yet')));
    this.el.actions.replaceChildren(...rows);
  }

  _drawPlot() {
    const q = QUANTITIES[this.quantity];
    /** @type {import('../render/plot.js').Series[]} */
    const series = [];
    for (const side of SIDES) {
      const s = this.sides[side];
      if (!s) continue;
      const y = this.quantity === 'dist' ? s.series.dist : this.quantity === 'grip' ? s.series.grip
        : this.quantity === 'height' ? s.series.height : s.series.progress;
      series.push({ label: side, color: COLORS[side], t: s.episode.frames.time, y, n: s.series.n, cursor: this.cursor.shown(side, s.timeline) });
    }
    this.plot.set(series, q.unit, q.floor);
    this.plot.draw();
  }

  dispose() {
    cancelAnimationFrame(this._raf);
    document.removeEventListener('keydown', this._onKey);
    this._resize.disconnect();
    for (const side of SIDES) {
      this.views[side].dispose();
      const s = this.sides[side];
      if (s) this.scene.freeData(s.data);
    }
    this.scene.freeData(this.scratch);
    this.camera.dispose();
    this.root.replaceChildren();
  }
}

/** @param {any} episode */
function timelineOf(episode) {
  return new Timeline(episode.header.step_frames, Math.max(1, episode.nFrames), episode.frames.time, episode.header.frame_rate);
}
