// @ts-check
/**
 * The vote bar: docked at the bottom of the window (always reachable), four buttons with their
 * shortcut keys (1-4) shown on them, and a hint that says why voting is closed. Keys typed into a
 * text field do not vote; Tab moves through the buttons like any others.
 */

import { h, setText } from './dom.js';
import { isTextEntry } from './viewer-keys.js';

export const CHOICES = [
  { choice: 'left', key: '1', label: 'A is better' },
  { choice: 'tie', key: '2', label: 'Tie' },
  { choice: 'both_bad', key: '3', label: 'Both bad' },
  { choice: 'right', key: '4', label: 'B is better' },
];

/** @param {string} choice */
export const choiceLabel = (choice) => CHOICES.find((c) => c.choice === choice)?.label ?? choice;

export class VoteBar {
  /** @param {(choice: string) => void} onVote */
  constructor(onVote) {
    this.onVote = onVote;
    this.buttons = CHOICES.map(({ choice, key, label }) => /** @type {HTMLButtonElement} */ (
      h('button', {
        type: 'button', dataset: { choice }, 'data-testid': `vote-${choice}`, disabled: true, 'aria-keyshortcuts': key,
        onclick: () => this.onVote(choice),
      }, h('kbd', null, key), ` ${label}`)));
    this.hint = h('div.vote-hint', { 'data-testid': 'vote-hint' });
    this.el = h('div.vote-dock', { 'data-testid': 'vote-dock', role: 'region', 'aria-label': 'Vote' },
      h('div.vote-bar', null, ...this.buttons), this.hint);
    this._onKey = (/** @type {KeyboardEvent} */ e) => this.onKey(e);
    document.addEventListener('keydown', this._onKey);
  }

  /** @param {boolean} open @param {string} hint */
  set(open, hint) {
    for (const b of this.buttons) b.disabled = !open;
    setText(this.hint, hint);
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || isTextEntry(/** @type {HTMLElement} */ (e.target))) return;
    const i = CHOICES.findIndex((c) => c.key === e.key);
    if (i < 0 || this.buttons[i].disabled) return;
    e.preventDefault();
    this.buttons[i].focus();
    this.buttons[i].click();
  }

  dispose() {
    document.removeEventListener('keydown', this._onKey);
    this.el.remove();
  }
}
