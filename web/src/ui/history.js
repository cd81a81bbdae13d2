// @ts-check
/** History: the caller's own battles (the server knows the voter by its cookie), newest first, each opening as a replay. */

import { api } from '../api.js';
import { h } from './dom.js';

/** @param {HTMLElement} main */
export async function historyPage(main) {
  const battles = (await api.myBattles()).filter((/** @type {any} */ b) => b.turns.length > 0);
  const items = battles.map((/** @type {any} */ b) => {
    const when = new Date(b.created_at * 1000);
    const vote = b.vote;
    return h('a.history-item', { href: `/battles/${b.battle_id}`, 'data-nav': true, 'data-testid': `history-${b.battle_id}` },
      h('div', null, h('div', null, `${b.robot_id} · ${b.scene_id}`), h('div.when', null, when.toLocaleString())),
      h('div.turns', null, b.turns.length
        ? b.turns.map((/** @type {any} */ t) => `${t.seq + 1}. ${t.instruction}`).join(' · ')
        : 'no instruction yet'),
      vote ? h('span.badge.voted', null, `${vote.left.name} vs ${vote.right.name} · ${vote.choice.replace('_', ' ')}`)
        : h('span.badge', null, 'not voted'));
  });
  main.replaceChildren(
    h('h1', null, 'Your battles'),
    h('p.muted', null, 'Battles you started (this browser holds your anonymous voter cookie). Each opens as an exact replay at a stable URL that only you can open.'),
    items.length ? h('div.history-list', { 'data-testid': 'history' }, ...items) : h('p.muted', null, 'None yet.'));
}
