// @ts-check
/**
 * The viewer's transport: play and pause on a clock at real time (or a chosen speed), seek, step by
 * control steps or frames, the A/B lock, and following a live episode's newest frame. A base class of
 * DualViewer, which supplies the sides, the elements and `draw()`.
 */

import { DualCursor, PlayClock } from '../lib/timeline.js';
import { setText } from './dom.js';

/** @typedef {'left' | 'right'} SideName */
/** @typedef {import('../lib/timeline.js').Timeline} Timeline */
/** @type {SideName[]} */
const SIDES = ['left', 'right'];

export class Transport {
  constructor() {
    /** @type {Record<SideName, import('./viewer.js').SideState | null>} */
    this.sides = { left: null, right: null };
    this.cursor = new DualCursor();
    this.clock = new PlayClock(50);
    this.playing = false;
    this.touched = false; // the voter has used the transport: stop auto-playing live episodes
    this.dirty = true;
    /** @type {number} until then (performance.now()), draw nothing before `awaited` sides have a state */
    this.holdUntil = 0;
    /** @type {SideName[]} */
    this.awaited = [];
    this._last = performance.now();
    /** @type {import('./viewer-layout.js').ViewerElements} set by the subclass */
    this.el;
    /** @type {import('../render/plot.js').StepPlot} set by the subclass */
    this.plot;
  }

  /** Render now (the subclass's). */
  draw() {}

  anyLive() {
    return SIDES.some((s) => this.sides[s]?.live);
  }

  maxLastFrame() {
    return Math.max(0, ...SIDES.map((s) => this.sides[s]?.timeline.lastFrame ?? 0));
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
    if (playing && this.cursor.frame[this.cursor.focus] >= this._end() && !this.anyLive()) this._seek(0); // from the start
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

  /** Jump to a frame (locked: both sides; unlocked: the focused side). @param {number} frame */
  seek(frame) {
    this.touched = true;
    this._seek(frame);
  }

  /** @param {number} frame */
  _seek(frame) {
    const tl = this._focusTimeline();
    const f = Number.isFinite(frame) ? Math.max(0, Math.round(frame)) : this._end();
    const clamped = this.cursor.locked ? Math.min(f, this.maxLastFrame()) : (tl ? tl.clampFrame(f) : 0);
    this.cursor.set(clamped);
    this.clock.cursor = clamped;
    this.requestDraw();
  }

  /** Move by control steps, on the longer timeline when locked. @param {number} delta */
  stepBy(delta) {
    this.setPlaying(false);
    const tl = this.cursor.locked ? this._longestTimeline() : this._focusTimeline();
    if (tl) this.seek(tl.stepBy(this.cursor.frame[this.cursor.focus], delta));
  }

  /**
   * Jump to the newest frame when playback is more than half a second behind it and the voter has
   * not taken the controls (a page opened while the episodes stream).
   */
  toLiveEdge() {
    const edge = this.maxLastFrame();
    if (this.touched || !this.playing || edge - this.cursor.frame[this.cursor.focus] < this.clock.frameRate / 2) return;
    this._seek(edge);
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
  plotSeek(e) {
    const rect = this.el.plotCanvas.getBoundingClientRect();
    this.setPlaying(false);
    this.seek(this.plot.timeAt(e.clientX - rect.left) * this.clock.frameRate);
  }

  // ---- drawing -------------------------------------------------------------------------------------

  requestDraw() {
    this.dirty = true;
  }

  /**
   * Draw nothing for up to `ms` until every side in `sides` has a state: when the first states are
   * due at once (a turn just started), a frame of the default pose first would only delay them (a
   * software renderer spends 0.3-1 s on a frame, and stream messages wait behind it), and both sides
   * then appear in the same frame.
   * @param {number} ms @param {SideName[]} sides
   */
  holdIdle(ms, sides) {
    this.holdUntil = performance.now() + ms;
    this.awaited = sides;
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
    if (this.dirty && (now >= this.holdUntil || this.awaited.every((s) => this.sides[s]))) this.draw();
  }

}
