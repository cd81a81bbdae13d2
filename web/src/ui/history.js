// @ts-check
/** History: this browser's past battles (by its voter id), newest first, each opening as a replay. */

import { api, voterId } from '../api.js';
import { h } from './dom.js';

/** @param {HTMLElement} main */
export async function historyPage(main) {
  const battles = await api.voterBattles(voterId());
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
    h('p.muted', null, 'Battles started in this browser. Each opens as an exact replay; its URL is stable and can be shared.'),
    items.length ? h('div.history-list', { 'data-testid': 'history' }, ...items) : h('p.muted', null, 'None yet.'));
}
