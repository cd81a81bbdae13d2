// @ts-check
/**
 * The viewer's keyboard shortcuts. Keys typed into a text field, and Space or Enter on a focused
 * control (a button, link, checkbox or menu), are left to the browser, so Space presses the focused
 * button and Tab always moves focus (no keyboard trap). `X` switches the side the keys move when A
 * and B are unlocked.
 */

/**
 * @param {HTMLElement | null} t
 * @returns {boolean} whether the element takes typed text
 */
export function isTextEntry(t) {
  if (!t) return false;
  if (t.tagName === 'TEXTAREA' || t.isContentEditable) return true;
  return t.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button', 'submit'].includes(/** @type {HTMLInputElement} */ (t).type);
}

/** @param {HTMLElement | null} t */
const isControl = (t) => !!t && (t.tagName === 'BUTTON' || t.tagName === 'A' || t.tagName === 'SELECT' || t.tagName === 'SUMMARY'
  || (t.tagName === 'INPUT' && /** @type {HTMLInputElement} */ (t).type !== 'range'));

/**
 * Handle one keydown for the viewer; returns whether it was used.
 * @param {import('./viewer.js').DualViewer} v
 * @param {KeyboardEvent} e
 */
export function viewerKey(v, e) {
  const t = /** @type {HTMLElement | null} */ (e.target instanceof HTMLElement ? e.target : null);
  if (isTextEntry(t) || t?.tagName === 'SELECT' || e.ctrlKey || e.metaKey || e.altKey) return false;
  if ((e.key === ' ' || e.key === 'Enter') && isControl(t)) return false;
  const big = e.shiftKey ? 10 : 1;
  switch (e.key) {
    case ' ': v.togglePlay(); break;
    case 'ArrowRight': v.stepBy(big); break;
    case 'ArrowLeft': v.stepBy(-big); break;
    case 'Home': v.setPlaying(false); v.seek(0); break;
    case 'End': v.setPlaying(false); v.seek(Infinity); break;
    case '.': v.frameBy(1); break;
    case ',': v.frameBy(-1); break;
    case '+': case '=': v.el.speed.value = String(v.clock.nudgeSpeed(1)); break;
    case '-': case '_': v.el.speed.value = String(v.clock.nudgeSpeed(-1)); break;
    case 'l': case 'L': v.setLocked(!v.cursor.locked); break;
    case 'c': case 'C': v.cameraPreset('reset'); break;
    case 'f': case 'F': v.cameraPreset('front'); break;
    case 's': case 'S': v.cameraPreset('side'); break;
    case 'v': case 'V': v.cameraPreset('top'); break;
    case 'w': case 'W': v.cameraPreset('wrist'); break;
    case 't': case 'T': v.setTrails(!v.trails); break;
    case 'g': case 'G': v.setGhost(!v.ghost); break;
    case 'x': case 'X':
      if (v.cursor.locked) return false;
      v.focus(v.cursor.focus === 'left' ? 'right' : 'left');
      break;
    default: return false;
  }
  e.preventDefault();
  return true;
}
