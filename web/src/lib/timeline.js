// @ts-check
/**
 * Timeline maths for replays: frames, control steps, simulated time, playback speed and the
 * left/right lock. Pure: no DOM, no MuJoCo, no clocks (callers pass elapsed time in).
 *
 * A replay records `nFrames` states at `frameRate`; control step k starts at frame `stepFrames[k]`
 * (the state the policy saw). Step positions are 0..nSteps: position k < nSteps is frame
 * `stepFrames[k]`, position nSteps is the last frame (the state after the last action).
 */

/** Playback speed presets, slowest first. */
export const SPEEDS = Object.freeze([0.25, 0.5, 1, 2, 4]);

export class Timeline {
  /**
   * @param {ArrayLike<number>} stepFrames frame index at the start of each control step, non-decreasing
   * @param {number} nFrames frames recorded so far (>= 1)
   * @param {ArrayLike<number>} [time] simulated time per frame (seconds)
   * @param {number} [frameRate] frames per simulated second, used when `time` is absent
   */
  constructor(stepFrames, nFrames, time, frameRate = 50) {
    if (!(nFrames >= 1)) throw new RangeError(`a timeline needs at least one frame (got ${nFrames})`);
    this.stepFrames = Array.from(stepFrames);
    this.nFrames = nFrames;
    this.time = time;
    this.frameRate = frameRate;
  }

  /** Number of control steps. */
  get nSteps() {
    return this.stepFrames.length;
  }

  /** The last frame index. */
  get lastFrame() {
    return this.nFrames - 1;
  }

  /** @param {number} frame */
  clampFrame(frame) {
    return Math.min(Math.max(0, Math.round(frame)), this.lastFrame);
  }

  /**
   * Frame of step position k (0..nSteps), clamped.
   * @param {number} k
   */
  frameOfStep(k) {
    if (k >= this.nSteps) return this.lastFrame;
    return this.clampFrame(this.stepFrames[Math.max(0, k)]);
  }

  /**
   * The step position shown at `frame`: the largest k with frameOfStep(k) <= frame. The last frame
   * is position nSteps (the final state).
   * @param {number} frame
   */
  stepAt(frame) {
    const f = this.clampFrame(frame);
    if (this.nSteps > 0 && f >= this.lastFrame && this.lastFrame > this.stepFrames[this.nSteps - 1]) return this.nSteps;
    let lo = 0;
    let hi = this.nSteps - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.stepFrames[mid] <= f) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  /**
   * The control step whose action is in effect at `frame` (0..nSteps-1), or -1 before any step.
   * @param {number} frame
   */
  actionStepAt(frame) {
    if (this.nSteps === 0) return -1;
    return Math.min(this.stepAt(frame), this.nSteps - 1);
  }

  /**
   * Move by `delta` control steps from `frame`. From between two step starts, -1 first lands on the
   * start of the current step. Never moves against `delta`, and +-1 reaches another frame unless
   * at an end, also where steps start on the same frame (zero frames long). Returns the new frame.
   * @param {number} frame
   * @param {number} delta
   */
  stepBy(frame, delta) {
    const f = this.clampFrame(frame);
    let k = this.stepAt(f);
    if (delta < 0) {
      if (this.frameOfStep(k) < f) k += 1; // between steps: count the current start as one
      while (k > 0 && this.frameOfStep(k - 1) === f) k -= 1; // from the first position at f
    } else if (this.frameOfStep(k) > f) {
      k -= 1; // before the first step's frame: position 0 is one step ahead
    }
    const target = this.frameOfStep(Math.min(Math.max(0, k + delta), this.nSteps));
    return delta < 0 ? Math.min(target, f) : target; // before the first step, nothing is behind
  }

  /**
   * Simulated time at `frame` in seconds.
   * @param {number} frame
   */
  timeAt(frame) {
    const f = this.clampFrame(frame);
    if (this.time && f < this.time.length) return this.time[f];
    return f / this.frameRate;
  }

  /** Duration of the recording in simulated seconds. */
  get duration() {
    return this.timeAt(this.lastFrame) - this.timeAt(0);
  }

  /**
   * A label for the scrub bar, e.g. "step 12/30 · 1.240 s".
   * @param {number} frame
   */
  label(frame) {
    return `step ${this.stepAt(frame)}/${this.nSteps} · ${this.timeAt(frame).toFixed(3)} s`;
  }
}

/**
 * Playback clock: advances a fractional frame cursor by wall time at a speed. Real time at 1x
 * means `frameRate` frames per wall second.
 */
export class PlayClock {
  /** @param {number} frameRate */
  constructor(frameRate) {
    this.frameRate = frameRate;
    this.speed = 1;
    this.cursor = 0;
  }

  /**
   * Advance by `dtSeconds` of wall time; returns the new (fractional) cursor, not clamped.
   * @param {number} dtSeconds
   */
  advance(dtSeconds) {
    this.cursor += Math.max(0, dtSeconds) * this.speed * this.frameRate;
    return this.cursor;
  }

  /**
   * The next faster (+1) or slower (-1) speed preset.
   * @param {number} direction
   */
  nudgeSpeed(direction) {
    const i = SPEEDS.indexOf(this.speed);
    const j = Math.min(Math.max(0, (i < 0 ? SPEEDS.indexOf(1) : i) + Math.sign(direction)), SPEEDS.length - 1);
    this.speed = SPEEDS[j];
    return this.speed;
  }
}

/**
 * Left/right cursors. Locked: one shared frame, each side clamped to its own length (both replays
 * record at the same rates, so the same frame is the same control step and sim time). Unlocked: each
 * side keeps its own frame. Unlocking keeps both where they are; locking snaps the other side to the
 * focused one.
 */
export class DualCursor {
  constructor() {
    this.locked = true;
    /** @type {{left: number, right: number}} */
    this.frame = { left: 0, right: 0 };
    /** @type {'left' | 'right'} */
    this.focus = 'left';
  }

  /**
   * Set the cursor. Locked: both sides (`side` is ignored); unlocked: only `side` (default focus).
   * @param {number} frame
   * @param {'left' | 'right'} [side]
   */
  set(frame, side) {
    if (this.locked) {
      this.frame.left = frame;
      this.frame.right = frame;
    } else {
      this.frame[side ?? this.focus] = frame;
    }
  }

  /** @param {boolean} locked */
  setLocked(locked) {
    if (locked && !this.locked) {
      const f = this.frame[this.focus];
      this.frame.left = f;
      this.frame.right = f;
    }
    this.locked = locked;
  }

  /**
   * The frame a side shows, clamped to its timeline.
   * @param {'left' | 'right'} side
   * @param {Timeline} timeline
   */
  shown(side, timeline) {
    return timeline.clampFrame(this.frame[side]);
  }
}
