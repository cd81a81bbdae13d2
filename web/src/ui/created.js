// @ts-check
/**
 * A turn this page has just created, handed from the setup page to the battle page: the battle from
 * the session's answer, the turn and its episode ids from the turn's answer. The battle page shows it
 * at once (its streams are already open, `openStreamEarly`) instead of first waiting for
 * GET /api/battles/{id}, which a server busy starting both episodes answers in 0.05-0.4 s; the
 * server's own view replaces this one as soon as it arrives. Nothing here is more than the answers said.
 */

/** @type {{battle: any, turn: any, instruction: string} | null} */
let created = null;

/**
 * @param {any} battle the session's first battle (POST /api/sessions)
 * @param {{turn_id: string, battle_id: string, seq: number, start: string, episodes: Record<string, string>}} turn
 *   POST /api/battles/{id}/turns
 * @param {string} instruction as sent
 */
export function rememberCreated(battle, turn, instruction) {
  created = { battle, turn, instruction };
}

/**
 * The battle view for a turn just created here (once), else null: the turn running, both episodes
 * queued, with the stream URLs the server's view would give; no understanding or seed yet.
 * @param {string} battleId @param {number | null} seq
 */
export function takeCreated(battleId, seq) {
  const c = created;
  if (!c || c.battle.battle_id !== battleId || c.turn.seq !== seq) return null;
  created = null;
  const episode = (/** @type {string} */ id) => ({
    episode_id: id, status: 'queued', success: null, progress: null, steps: null, error: null,
    stream_url: `/api/episodes/${id}/stream`, trajectory_url: null, trajectory_bytes: null,
  });
  const turn = {
    turn_id: c.turn.turn_id, battle_id: battleId, seq: c.turn.seq, instruction: c.instruction, start: c.turn.start,
    status: 'running', seed: null, task: undefined, understanding: undefined,
    episodes: { left: episode(c.turn.episodes.left), right: episode(c.turn.episodes.right) },
  };
  return { ...c.battle, status: 'open', vote: null, turns: [turn] };
}
