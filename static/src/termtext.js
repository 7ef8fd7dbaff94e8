// Text as a terminal shows it: carriage return, backspace, CRLF, a few cursor moves and
// every ANSI SGR attribute (bold, dim, italic, underline, inverse, strike; 16, 256 and
// true colour). Used for stream text, tracebacks and text/plain.
//
// Pure: it reads a string and builds DOM; the string itself is never changed, so what a
// notebook stores stays exactly what the kernel sent (what you see is derived from it).

const NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];
// The 16 colours as solid values, for inverse video (the classes give softer backgrounds).
const PALETTE = ["#3e424d", "#c0392b", "#1e8449", "#9a7d0a", "#1f5fa8", "#8e44ad", "#117a8b", "#777777",
  "#7f8c8d", "#e74c3c", "#27ae60", "#b7950b", "#2e86de", "#a569bd", "#17a2b8", "#999999"];
const DEFAULT_FG = "var(--ink, #1c2330)";
const DEFAULT_BG = "var(--paper, #fff)";

/** xterm's 256-colour table: 16 system colours, a 6x6x6 cube, 24 greys. */
function colour256(n) {
  if (n < 16) return n;
  if (n < 232) {
    const c = n - 16;
    const v = (x) => (x ? 55 + x * 40 : 0);
    return `rgb(${v(Math.floor(c / 36))},${v(Math.floor(c / 6) % 6)},${v(c % 6)})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g},${g},${g})`;
}

const PLAIN = Object.freeze({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false, hidden: false });

/** Apply the parameters of one SGR sequence (ESC [ ... m) to a style; returns the new style. */
export function applySGR(style, params) {
  const p = params === "" ? [0] : params.split(/[;:]/).map((x) => (x === "" ? 0 : Number(x)));
  const s = { ...style };
  for (let i = 0; i < p.length; i++) {
    const code = p[i];
    if (code === 0) Object.assign(s, PLAIN);
    else if (code === 1) s.bold = true;
    else if (code === 2) s.dim = true;
    else if (code === 3) s.italic = true;
    else if (code === 4 || code === 21) s.underline = true;
    else if (code === 7) s.inverse = true;
    else if (code === 8) s.hidden = true;
    else if (code === 9) s.strike = true;
    else if (code === 22) s.bold = s.dim = false;
    else if (code === 23) s.italic = false;
    else if (code === 24) s.underline = false;
    else if (code === 27) s.inverse = false;
    else if (code === 28) s.hidden = false;
    else if (code === 29) s.strike = false;
    else if (code >= 30 && code <= 37) s.fg = code - 30;
    else if (code === 39) s.fg = null;
    else if (code >= 40 && code <= 47) s.bg = code - 40;
    else if (code === 49) s.bg = null;
    else if (code >= 90 && code <= 97) s.fg = code - 90 + 8;
    else if (code >= 100 && code <= 107) s.bg = code - 100 + 8;
    else if (code === 38 || code === 48) {
      let value = null;
      if (p[i + 1] === 5 && i + 2 < p.length) {
        value = colour256(p[i + 2] & 255);
        i += 2;
      } else if (p[i + 1] === 2 && i + 4 < p.length) {
        value = `rgb(${p[i + 2] & 255},${p[i + 3] & 255},${p[i + 4] & 255})`;
        i += 4;
      } else break; // malformed: ignore the rest, as terminals do
      if (code === 38) s.fg = value;
      else s.bg = value;
    }
  }
  return s;
}

const styleKeys = new Map(); // style key -> style (interned, so a line stores short keys)
function keyOf(s) {
  if (!s.fg && s.fg !== 0 && !s.bg && s.bg !== 0 && !s.bold && !s.dim && !s.italic && !s.underline && !s.inverse && !s.strike && !s.hidden) return "";
  const key = JSON.stringify(s);
  if (!styleKeys.has(key)) styleKeys.set(key, s);
  return key;
}

// One token: a CSI sequence, an OSC sequence (titles, links: dropped), another escape, a
// control character we act on, or a run of ordinary text.
const TOKEN = /\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|[\r\n\b]|[^\r\n\b\x1b]+/g;

/**
 * Run text through a small terminal: returns lines, each a list of [text, styleKey] runs.
 * style: the SGR state at the start (carried across hidden lines); returns it at the end too.
 */
export function emulate(text, style = PLAIN) {
  const lines = [{ chars: [], keys: [] }];
  let row = 0;
  let col = 0;
  let key = keyOf(style);
  const line = () => lines[row];
  const put = (run) => {
    const l = line();
    for (const ch of run) {
      while (l.chars.length < col) {
        l.chars.push(" ");
        l.keys.push("");
      }
      l.chars[col] = ch;
      l.keys[col] = key;
      col++;
    }
  };
  TOKEN.lastIndex = 0;
  let m;
  while ((m = TOKEN.exec(text))) {
    const tok = m[0];
    if (tok === "\n") {
      row++;
      col = 0;
      if (row >= lines.length) lines.push({ chars: [], keys: [] });
    } else if (tok === "\r") col = 0;
    else if (tok === "\b") col = Math.max(0, col - 1);
    else if (tok.charCodeAt(0) !== 27) put(tok);
    else if (m[2] !== undefined) {
      const n = Math.max(1, parseInt(m[1], 10) || 1);
      switch (m[2]) {
        case "m":
          style = applySGR(style, m[1]);
          key = keyOf(style);
          break;
        case "K": { // erase in line: 0 to the end, 1 to the cursor, 2 all
          const l = line();
          const mode = parseInt(m[1], 10) || 0;
          if (mode === 0) (l.chars.length = Math.min(l.chars.length, col)), (l.keys.length = l.chars.length);
          else if (mode === 1) for (let i = 0; i <= col && i < l.chars.length; i++) (l.chars[i] = " "), (l.keys[i] = "");
          else (l.chars.length = 0), (l.keys.length = 0);
          break;
        }
        case "A": row = Math.max(0, row - n); break; // cursor up (tqdm's nested bars)
        case "B": row += n; while (row >= lines.length) lines.push({ chars: [], keys: [] }); break;
        case "C": col += n; break;
        case "D": col = Math.max(0, col - n); break;
        case "G": col = n - 1; break;
        default: break; // other CSI sequences change nothing we show
      }
    }
  }
  return { lines: lines.map(runsOf), style };
}

function runsOf({ chars, keys }) {
  const runs = [];
  let start = 0;
  for (let i = 1; i <= chars.length; i++) {
    if (i === chars.length || keys[i] !== keys[start]) {
      runs.push([chars.slice(start, i).join(""), keys[start]]);
      start = i;
    }
  }
  return runs;
}

/** Near-white text meant for a dark terminal (IPython's grey 255) would vanish on our light page. */
function tooLight(rgb) {
  const m = /rgb\((\d+),(\d+),(\d+)\)/.exec(rgb);
  return !!m && 0.2126 * m[1] + 0.7152 * m[2] + 0.0722 * m[3] > 215;
}

/** A styled <span> for a run (inline colours for 256/true colour and inverse video). */
function spanFor(text, key) {
  const s = styleKeys.get(key);
  const span = document.createElement("span");
  span.textContent = text;
  let fg = s.fg;
  let bg = s.bg;
  const cls = [];
  const solid = (c) => (typeof c === "number" ? PALETTE[c] : c);
  if (s.inverse) {
    // Inverse video swaps the two colours; a missing one is the page's own.
    span.style.color = bg == null ? DEFAULT_BG : solid(bg);
    span.style.backgroundColor = fg == null ? DEFAULT_FG : solid(fg);
    cls.push("ansi-inverse");
    fg = bg = undefined;
  }
  if (typeof fg === "number") cls.push(`ansi-${fg >= 8 ? "bright-" : ""}${NAMES[fg % 8]}-fg`);
  else if (fg && !(bg == null && tooLight(fg))) span.style.color = fg;
  if (typeof bg === "number") cls.push(`ansi-${bg >= 8 ? "bright-" : ""}${NAMES[bg % 8]}-bg`);
  else if (bg) span.style.backgroundColor = bg;
  if (s.bold) cls.push("ansi-bold");
  if (s.dim) cls.push("ansi-dim");
  if (s.italic) cls.push("ansi-italic");
  if (s.underline) cls.push("ansi-underline");
  if (s.strike) cls.push("ansi-strike");
  if (s.hidden) cls.push("ansi-hidden");
  span.className = cls.join(" ");
  return span;
}

const SGR_ONLY = /\x1b\[([0-9;:]*)m/g;

/** The SGR state after a stretch of text we do not show (so colours carry over a gap). */
function styleAfter(text, style) {
  if (!text.includes("\x1b")) return style;
  SGR_ONLY.lastIndex = 0;
  let m;
  while ((m = SGR_ONLY.exec(text))) style = applySGR(style, m[1]);
  return style;
}

/** Index just after the n-th newline of text (or text.length). */
function afterNewlines(text, n, from = 0) {
  let i = from;
  for (let k = 0; k < n; k++) {
    const j = text.indexOf("\n", i);
    if (j < 0) return text.length;
    i = j + 1;
  }
  return i;
}

/** Number of lines in text (newlines + 1, a trailing newline not opening a line). */
export function countLines(text) {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return text.endsWith("\n") ? n : n + 1;
}

/** Append text's terminal rendering to parent (a <pre>): plain text nodes, styled spans. */
function appendRendered(parent, text, style) {
  if (!/[\r\b\x1b]/.test(text)) {
    parent.append(text);
    return style;
  }
  const { lines, style: after } = emulate(text, style);
  const frag = document.createDocumentFragment();
  lines.forEach((runs, i) => {
    if (i) frag.append("\n");
    for (const [t, key] of runs) frag.append(key ? spanFor(t, key) : t);
  });
  parent.append(frag);
  return after;
}

/**
 * Render text into a new <pre class=className>. With maxLines, a longer text shows its first
 * `head` lines, a gap element from makeGap(hiddenLines), and its last lines.
 * Returns {el, hidden} (hidden: lines not shown).
 */
export function terminalPre(text, className = "", { maxLines = 0, head = 0, makeGap = null } = {}) {
  const pre = document.createElement("pre");
  pre.className = className;
  text = String(text);
  const total = maxLines ? countLines(text) : 0;
  if (!maxLines || total <= maxLines) {
    appendRendered(pre, text, PLAIN);
    return { el: pre, hidden: 0 };
  }
  const tail = maxLines - head;
  const cutA = afterNewlines(text, head);
  const cutB = afterNewlines(text, total - tail - head, cutA); // where the last `tail` lines start
  let style = appendRendered(pre, text.slice(0, cutA), PLAIN);
  style = styleAfter(text.slice(cutA, cutB), style);
  const hidden = total - head - tail;
  if (makeGap) pre.append(makeGap(hidden));
  appendRendered(pre, text.slice(cutB), style);
  return { el: pre, hidden };
}

/** The text as plain characters (what a terminal shows, without colours): for downloads. */
export function plainText(text) {
  if (!/[\r\b\x1b]/.test(text)) return text;
  return emulate(text).lines.map((runs) => runs.map((r) => r[0]).join("")).join("\n");
}
