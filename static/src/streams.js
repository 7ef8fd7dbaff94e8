// Stream output (stdout/stderr): how a run of stream outputs is shown, and how much of the
// NEW text a kernel sends is kept in the page and in the file.
//
// Shown: consecutive stream outputs of one name render as one terminal (so "\r" in one
// message overwrites the line another message wrote, as in JupyterLab), at most SHOW_LINES
// lines: the first SHOW_HEAD and the last ones, with an "output truncated, N lines hidden —
// show / download" notice between. Saved: text a kernel sent in this page keeps at most
// SAVE_LINES lines (the first SAVE_HEAD_LINES and the last ones) and at most SAVE_HEAD +
// SAVE_TAIL characters, with a line saying what was left out. Outputs that
// were in the file when it was opened are never cut or rewritten.
import { plainText, terminalPre } from "./termtext.js";

export const SHOW_LINES = 2000;
export const SHOW_HEAD = 200;
export const SAVE_HEAD = 20_000;
export const SAVE_TAIL = 80_000;
export const SAVE_LINES = 2000;
export const SAVE_HEAD_LINES = 200;
// What one output keeps in the page (the kernel's own cap, 2 MB per run by default, comes first).
const MEMORY_LIMIT = 8_000_000;
const MEMORY_HEAD = 1_000_000;
const MEMORY_TAIL = 4_000_000;

const fmt = (n) => n.toLocaleString("en-US");

function newlines(text) {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Where the last n lines of text start (a final newline does not open a line). */
function lastLinesStart(text, n) {
  let i = text.length - (text.endsWith("\n") ? 2 : 1);
  let start = 0;
  for (let k = 0; k < n; k++) {
    const j = text.lastIndexOf("\n", i);
    if (j < 0) return 0;
    start = j + 1;
    i = j - 1;
  }
  return start;
}

/** Index just after the n-th newline (or text.length). */
function firstLinesEnd(text, n) {
  let i = 0;
  for (let k = 0; k < n; k++) {
    const j = text.indexOf("\n", i);
    if (j < 0) return text.length;
    i = j + 1;
  }
  return i;
}

/**
 * Cut the middle out of text: the head keeps at most headLines lines and headChars characters,
 * the tail tailLines lines and tailChars characters; cuts fall on line ends where a line is
 * not longer than the cap itself. Returns [head, middle, tail].
 */
function cutMiddle(text, headChars, tailChars, headLines = Infinity, tailLines = Infinity) {
  let a = headLines === Infinity ? text.length : firstLinesEnd(text, headLines);
  if (a > headChars) {
    a = text.lastIndexOf("\n", headChars - 1);
    a = a > headChars / 2 ? a + 1 : headChars;
  }
  let b = tailLines === Infinity ? 0 : lastLinesStart(text, tailLines);
  if (text.length - b > tailChars) {
    b = text.indexOf("\n", text.length - tailChars);
    b = b >= 0 && b < text.length - 1 && b - (text.length - tailChars) < tailChars / 2 ? b + 1 : text.length - tailChars;
  }
  b = Math.max(a, b);
  return [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

const notice = (head, middle, where) =>
  `${head && !head.endsWith("\n") ? "\n" : ""}[output truncated: ${fmt(newlines(middle))} lines (${fmt(middle.length)} characters) ${where}]\n`;

/** Add text a kernel sent to a live stream output (bounded in memory). */
export function appendLive(out, text) {
  out.text += text;
  if (out.text.length <= MEMORY_LIMIT) return;
  const [head, middle, tail] = cutMiddle(out.text, MEMORY_HEAD, MEMORY_TAIL);
  out.text = head + notice(head, middle, "dropped by the page") + tail;
}

/** The nbformat dict to save for a live stream output: its text capped to SAVE_HEAD + SAVE_TAIL. */
export function savedStream(out, json) {
  const text = out.text;
  if (!out._saved || out._saved.length !== text.length) {
    let saved = text;
    if (text.length > SAVE_HEAD + SAVE_TAIL || newlines(text) > SAVE_LINES) {
      const [head, middle, tail] = cutMiddle(text, SAVE_HEAD, SAVE_TAIL, SAVE_HEAD_LINES, SAVE_LINES - SAVE_HEAD_LINES);
      if (middle) saved = head + notice(head, middle, "not saved in the notebook") + tail;
    }
    out._saved = { length: text.length, text: saved };
  }
  return out._saved.text === text ? json : { ...json, text: out._saved.text };
}

/** One run of consecutive stream outputs of one name, drawn as one terminal. */
export class StreamBlock {
  constructor(out) {
    this.name = out.name;
    this.outputs = [out];
    this.expanded = false;
    this.dirty = true;
    this.el = document.createElement("div");
    this.el.className = "output output-stream";
  }

  text() {
    return this.outputs.length === 1 ? this.outputs[0].text : this.outputs.map((o) => o.text).join("");
  }

  draw() {
    this.dirty = false;
    const opts = this.expanded ? {} : { maxLines: SHOW_LINES, head: SHOW_HEAD, makeGap: (n) => this.gap(n) };
    this.el.replaceChildren(terminalPre(this.text(), `stream-output ${this.name}`, opts).el);
  }

  /** The notice between the first and last lines of a long output. */
  gap(hidden) {
    const span = document.createElement("span");
    span.className = "output-truncated";
    const button = (label, title, fn) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link-button";
      b.textContent = label;
      b.title = title;
      b.addEventListener("click", fn);
      return b;
    };
    span.append(
      `output truncated, ${fmt(hidden)} lines hidden — `,
      button("show", "Show every line of this output (slow for very long outputs)", () => {
        this.expanded = true;
        this.draw();
      }),
      " / ",
      button("download", "Download this output as a text file", () => this.download()),
    );
    return span;
  }

  download() {
    const blob = new Blob([plainText(this.text())], { type: "text/plain;charset=utf-8" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${this.name}.txt`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }
}
