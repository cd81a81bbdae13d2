// @ts-check
/**
 * Per-step comparison quantities that come straight from a replay (no MuJoCo needed): the action at
 * a control step, the gripper's command and finger opening, task progress. Quantities that need
 * forward kinematics (end-effector to target distance) are computed by the viewer and passed in.
 * Pure: no DOM.
 */

/**
 * The subset of a decoded replay (or live episode) these functions read.
 * @typedef {{
 *   header: {action_space: string, action_dim: number, nq: number, joints: {name: string, type: string, qpos_adr: number}[],
 *            metadata?: Record<string, any>},
 *   nFrames: number, nSteps: number,
 *   frames: {qpos: Float64Array, time: Float64Array},
 *   steps: {action: Float64Array, progress?: Float64Array}
 * }} ReplayLike
 */

/** Human names of action spaces and their components. */
export const ACTION_LABELS = Object.freeze({
  joint_position: ['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'grip'],
  joint_velocity: ['dq1', 'dq2', 'dq3', 'dq4', 'dq5', 'dq6', 'dq7', 'grip'],
  ee_delta: ['dx', 'dy', 'dz', 'rx', 'ry', 'rz', 'grip'],
});

/** Units of each component by action space, for display. */
export const ACTION_UNITS = Object.freeze({
  joint_position: 'rad',
  joint_velocity: 'rad/s',
  ee_delta: 'm, rad',
});

/**
 * Action row of control step `step`, or null when there is none (before the first step, or a step
 * whose action was not recorded: all NaN).
 * @param {ReplayLike} r
 * @param {number} step
 * @returns {Float64Array | null}
 */
export function actionAt(r, step) {
  const dim = r.header.action_dim;
  if (step < 0 || step >= r.nSteps || dim === 0) return null;
  const row = r.steps.action.subarray(step * dim, (step + 1) * dim);
  if (row.length < dim || row.every((v) => Number.isNaN(v))) return null;
  return row;
}

/**
 * Component labels for an action row.
 * @param {string} actionSpace
 * @param {number} dim
 */
export function actionLabels(actionSpace, dim) {
  const known = /** @type {Record<string, readonly string[]>} */ (ACTION_LABELS)[actionSpace];
  if (known && known.length === dim) return [...known];
  return Array.from({ length: dim }, (_, i) => `a${i}`);
}

/**
 * qpos addresses of the gripper's finger joints (slide/hinge joints whose name mentions "finger").
 * @param {ReplayLike['header']} header
 */
export function fingerJoints(header) {
  return header.joints.filter((j) => /finger/i.test(j.name) && (j.type === 'slide' || j.type === 'hinge'))
    .map((j) => j.qpos_adr);
}

/**
 * Finger opening at `frame`: the sum of the finger joints' positions (metres for the Franka's
 * slide joints), or null when the robot has no finger joints.
 * @param {ReplayLike} r
 * @param {number} frame
 * @param {number[]} [adrs] from fingerJoints(), to avoid recomputing
 */
export function gripperOpening(r, frame, adrs = fingerJoints(r.header)) {
  if (adrs.length === 0 || frame < 0 || frame >= r.nFrames) return null;
  const base = frame * r.header.nq;
  let sum = 0;
  for (const a of adrs) sum += r.frames.qpos[base + a];
  return sum;
}

/**
 * The gripper command of an action (its last component: 0 open .. 1 closed), or null.
 * @param {Float64Array | null} action
 */
export function gripperCommand(action) {
  if (!action || action.length === 0) return null;
  return action[action.length - 1];
}

/**
 * A word for the gripper state, from its command (0 open, 1 closed).
 * @param {number | null} command
 */
export function gripperWord(command) {
  if (command === null || Number.isNaN(command)) return '—';
  if (command >= 0.5) return 'closed';
  return 'open';
}

/**
 * Task progress after control step `step` (0..1), or null where undefined.
 * @param {ReplayLike} r
 * @param {number} step
 */
export function progressAt(r, step) {
  const p = r.steps.progress;
  if (!p || step < 0 || step >= r.nSteps) return null;
  const v = p[step];
  return Number.isNaN(v) ? null : v;
}

/**
 * MuJoCo body name of the object the task manipulates (the target of the distance readout), or
 * null when the instruction named none. The arena's scenes name cubes `cube_<colour>`.
 * @param {Record<string, any> | undefined} task the interpreted task (header.metadata.task)
 */
export function targetBody(task) {
  if (!task || !task.object) return null;
  return `cube_${task.object}`;
}

/**
 * Euclidean distance between two 3-vectors stored in flat arrays.
 * @param {ArrayLike<number>} a
 * @param {number} ia offset of the first vector
 * @param {ArrayLike<number>} b
 * @param {number} ib offset of the second vector
 */
export function distance3(a, ia, b, ib) {
  const dx = a[ia] - b[ib];
  const dy = a[ia + 1] - b[ib + 1];
  const dz = a[ia + 2] - b[ib + 2];
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/**
 * Fixed-width number formatting for readouts: sign always shown so columns line up.
 * @param {number | null} v
 * @param {number} [digits]
 */
export function fmt(v, digits = 3) {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+inf' : '-inf';
  const s = v.toFixed(digits);
  if (Object.is(v, -0)) return `-${s}`; // toFixed drops the sign of -0
  return v >= 0 ? `+${s}` : s;
}
