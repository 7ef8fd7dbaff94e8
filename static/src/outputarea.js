// The outputs of one cell: nbformat v4 output dicts plus their DOM.
//
// Outputs are kept in Jupyter's own shapes (stream / display_data / execute_result /
// error) so a saved notebook opens in JupyterLab unchanged. Display never writes back:
// what a page shows is derived from the stored dicts (terminal semantics, line caps), and
// outputs read from a file are saved exactly as they were read. Only NEW stream output a
// kernel sends is merged (as JupyterLab does) and capped when saved (see streams.js).
import { htmlFragment, joinText, renderLatex, renderMarkdown, typesetMath } from "./render.js";
import { sandboxedFrames } from "./sandboxframe.js";
import { terminalPre } from "./termtext.js";
import { StreamBlock, appendLive, savedStream } from "./streams.js";
import { FILES_MIME, renderCellFiles } from "./cellfiles.js";

const WIDGET_MIME = "application/vnd.jupyter.widget-view+json";

// Richest first, as JupyterLab orders them. registerRenderer() adds to it.
const MIME_ORDER = [
  WIDGET_MIME,
  FILES_MIME,
  "text/html",
  "text/markdown",
  "text/latex",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "image/gif",
  "text/plain",
];

const textPre = (text, className) => terminalPre(text, className).el;

const imageRenderer = (mime) => (data, meta) => {
  const img = document.createElement("img");
  const value = joinText(data).replace(/\s/g, "");
  img.src = `data:${mime};base64,${value}`;
  img.className = "image-output";
  if (meta && meta.width) img.width = meta.width;
  if (meta && meta.height) img.height = meta.height;
  return img;
};

/** mime type -> (data, metadata, ctx, bundle) => Node | null; null falls through to the next mime. */
const RENDERERS = {
  // Until its model arrives (or if it never does) a widget shows as its text/plain.
  [WIDGET_MIME]: (data, meta, ctx, bundle) =>
    ctx.widgets && data && data.model_id
      ? ctx.widgets.viewFor(data.model_id, () => textPre(joinText(bundle["text/plain"] || ""), "text-output"))
      : null,
  [FILES_MIME]: (data) => renderCellFiles(data), // files the cell wrote: download links
  "text/html": (data, meta, ctx) => {
    const framed = sandboxedFrames(joinText(data)); // Sage's 3D viewer: a whole page in <iframe srcdoc>
    if (framed) return framed;
    const div = document.createElement("div");
    div.className = "html-output";
    div.append(htmlFragment(joinText(data), ctx.trusted));
    typesetMath(div);
    return div;
  },
  "text/markdown": (data, meta, ctx) => {
    const div = document.createElement("div");
    div.className = "markdown-output";
    div.append(renderMarkdown(joinText(data), ctx.trusted));
    return div;
  },
  "text/latex": (data) => renderLatex(joinText(data)),
  // An SVG shown through <img> cannot run scripts or load anything: safe even untrusted.
  "image/svg+xml": (data) => {
    const img = document.createElement("img");
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(joinText(data));
    img.className = "image-output svg-output";
    return img;
  },
  "image/png": imageRenderer("image/png"),
  "image/jpeg": imageRenderer("image/jpeg"),
  "image/gif": imageRenderer("image/gif"),
  "text/plain": (data) => textPre(joinText(data), "text-output"),
};

/**
 * Add a renderer for a mime type: fn(data, metadata, ctx, bundle) -> Node | null.
 * before: the mime it should be preferred to (default: just before text/plain).
 */
export function registerRenderer(mime, fn, { before = "text/plain" } = {}) {
  RENDERERS[mime] = fn;
  if (MIME_ORDER.includes(mime)) return;
  const at = MIME_ORDER.indexOf(before);
  MIME_ORDER.splice(at < 0 ? MIME_ORDER.length : at, 0, mime);
}

/** Render one mime bundle, richest renderable type first. */
export function renderBundle(data, metadata, ctx) {
  for (const mime of MIME_ORDER) {
    if (!(mime in data)) continue;
    const node = RENDERERS[mime](data[mime], (metadata || {})[mime], ctx, data);
    if (node) return node;
  }
  const pre = document.createElement("pre");
  pre.textContent = `[no renderer for ${Object.keys(data).join(", ")}]`;
  return pre;
}

/** Convert an iopub message into an nbformat output dict, or null. */
export function msgToOutput(msg) {
  const c = msg.content;
  switch (msg.header.msg_type) {
    case "stream":
      return { output_type: "stream", name: c.name, text: c.text };
    case "display_data":
      return { output_type: "display_data", data: c.data, metadata: c.metadata || {}, transient: c.transient };
    case "execute_result":
      return { output_type: "execute_result", execution_count: c.execution_count, data: c.data, metadata: c.metadata || {} };
    case "error":
      return { output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback || [] };
    default:
      return null;
  }
}

/** output_type -> (output, ctx) => Node, for every output but streams (StreamBlock draws those). */
const OUTPUT_KINDS = {
  error: (out) => textPre((out.traceback && out.traceback.length ? out.traceback : [`${out.ename}: ${out.evalue}`]).join("\n"), "error-output"),
  display_data: (out, ctx) => renderBundle(out.data || {}, out.metadata, ctx),
  execute_result: (out, ctx) => renderBundle(out.data || {}, out.metadata, ctx),
};

// display_id -> Set of OutputArea holding it (update_display_data can target any cell).
const displays = new Map();

// Stream blocks waiting to be drawn: one draw per animation frame, however many messages
// arrived, so a flood of output cannot starve the page (clicks, Stop, the websocket). When
// drawing got expensive (long outputs), the next draw waits a few times as long as it took.
const dirty = new Set();
let scheduled = false;
let lastCost = 0;
function schedule(area) {
  dirty.add(area);
  if (scheduled) return;
  scheduled = true;
  let timer = 0;
  const flush = () => {
    if (!scheduled) return;
    scheduled = false;
    clearTimeout(timer);
    const started = performance.now();
    const areas = [...dirty];
    dirty.clear();
    for (const a of areas) a.flush();
    lastCost = performance.now() - started;
  };
  const delay = lastCost > 8 ? Math.min(250, lastCost * 4) : 0;
  if (delay) setTimeout(() => requestAnimationFrame(flush), delay);
  else requestAnimationFrame(flush);
  // A hidden tab gets no animation frames: draw (and let autosave see changes) anyway.
  timer = setTimeout(flush, 250 + delay);
}

class OtherBlock {
  constructor(area, out) {
    this.area = area;
    this.outputs = [out];
    this.el = document.createElement("div");
    this.draw();
  }

  draw() {
    const out = this.outputs[0];
    const wrap = document.createElement("div");
    wrap.className = `output output-${out.output_type}`;
    const kind = OUTPUT_KINDS[out.output_type];
    wrap.append(kind ? kind(out, this.area.ctx) : textPre(JSON.stringify(out), "text-output"));
    this.el.replaceWith(wrap);
    this.el = wrap;
  }
}

export class OutputArea {
  constructor(ctx) {
    this.ctx = ctx; // {trusted, widgets, onChange}
    this.outputs = [];
    this.blocks = [];
    this.el = document.createElement("div");
    this.el.className = "output-area";
    this.clearPending = false;
    this.pendingChange = false;
    this.stdin = null;
  }

  changed() {
    if (this.ctx.onChange) this.ctx.onChange();
  }

  /** Replace all outputs (when a notebook is loaded): kept exactly as given. */
  set(outputs) {
    this.outputs = [];
    this.blocks = [];
    this.el.replaceChildren();
    for (const out of outputs || []) this.append(normalize(out), false);
    if (this.stdin) this.el.append(this.stdin.row); // an input() waiting for an answer stays
    this.flush();
  }

  /**
   * Show the outputs a shared document holds (collaboration: the server writes them, the page
   * only draws). list: the document's outputs in order; an unchanged one is the same object as
   * last time. Appended outputs and a stream that grew are drawn incrementally; anything else
   * (a clear, an update_display_data) redraws all.
   */
  sync(list) {
    const old = this.synced || [];
    this.synced = list.slice();
    let same = 0;
    while (same < old.length && same < list.length && old[same] === list[same]) same++;
    if (same === old.length && same === list.length) return;
    const last = old.length - 1;
    const grew = same === last && list.length >= old.length && this.outputs.length === old.length && streamGrew(old[last], list[last]);
    if (same < old.length && !grew) return this.set(list);
    if (grew) {
      this.outputs[last].text = joinText(list[last].text);
      this.blocks[this.blocks.length - 1].dirty = true;
      schedule(this);
    }
    for (let i = old.length; i < list.length; i++) this.append(normalize(list[i]), false);
    if (this.stdin) this.el.append(this.stdin.row);
    this.flush();
  }

  clear(wait = false) {
    if (wait) {
      this.clearPending = true;
      return;
    }
    this.clearPending = false;
    for (const out of this.outputs) if (out._displayId) displays.get(out._displayId)?.delete(this);
    this.outputs = [];
    this.blocks = [];
    this.el.replaceChildren();
    this.changed();
  }

  /** Handle an iopub message addressed to this area. */
  handle(msg) {
    const type = msg.header.msg_type;
    if (type === "clear_output") return this.clear(msg.content.wait);
    if (type === "update_display_data") return updateDisplay(msg.content);
    const out = msgToOutput(msg);
    if (out) this.append(out, true);
  }

  append(out, live) {
    if (this.clearPending) this.clear(false);
    const lastBlock = this.blocks[this.blocks.length - 1];
    if (out.output_type === "stream") {
      const last = this.outputs[this.outputs.length - 1];
      if (live && last && last._live && last.output_type === "stream" && last.name === out.name) {
        appendLive(last, joinText(out.text)); // one output per run of messages, as JupyterLab merges them
      } else {
        if (live) {
          const text = joinText(out.text);
          Object.assign(out, { text: "", _live: true });
          appendLive(out, text);
        }
        this.outputs.push(out);
        if (lastBlock instanceof StreamBlock && lastBlock.name === out.name) lastBlock.outputs.push(out);
        else this.addBlock(new StreamBlock(out));
      }
      schedule(this);
      this.blocks[this.blocks.length - 1].dirty = true;
    } else {
      const id = out.transient && out.transient.display_id;
      if (id) {
        out._displayId = id;
        if (!displays.has(id)) displays.set(id, new Set());
        displays.get(id).add(this);
      }
      delete out.transient;
      this.outputs.push(out);
      this.addBlock(new OtherBlock(this, out));
    }
    if (live) {
      this.pendingChange = true;
      schedule(this);
    }
  }

  addBlock(block) {
    this.blocks.push(block);
    this.el.append(block.el);
  }

  /** Draw what changed since the last frame and tell the notebook once. */
  flush() {
    for (const block of this.blocks) if (block.dirty) block.draw();
    if (this.pendingChange) {
      this.pendingChange = false;
      this.changed();
    }
  }

  /** Re-render every output (after the notebook's trust changed), or only widget views. */
  rerender(onlyWidgets = false) {
    for (const block of this.blocks) {
      if (onlyWidgets && !(block.outputs[0].data && block.outputs[0].data[WIDGET_MIME])) continue;
      block.draw();
    }
  }

  /** Show an input() prompt; calls reply(value) once the user presses Enter. */
  askInput(content, reply) {
    this.flush();
    const row = document.createElement("div");
    row.className = "output stdin-row";
    const label = document.createElement("span");
    label.className = "stdin-prompt";
    label.textContent = content.prompt || "";
    const input = document.createElement("input");
    input.type = content.password ? "password" : "text";
    input.className = "stdin-input";
    input.setAttribute("aria-label", content.prompt || "input");
    const settle = (text, cls) => {
      const shown = document.createElement("span");
      shown.className = cls;
      shown.textContent = text;
      input.replaceWith(shown);
      this.stdin = null;
    };
    input.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      settle(content.password ? "········" : input.value, "stdin-value");
      reply(input.value);
    });
    row.append(label, input);
    this.el.append(row);
    this.stdin = { input, row, cancel: () => settle("(no input: the execution ended)", "stdin-value stdin-cancelled") };
    input.focus();
  }

  /** The execution ended (interrupted, restarted) with its input() unanswered: retire the box. */
  endInput() {
    if (this.stdin) this.stdin.cancel();
  }

  /** Outputs as nbformat JSON (private fields dropped; new stream text capped). */
  toJSON() {
    return this.outputs.map((out) => {
      const { _displayId, _live, _saved, ...rest } = out;
      return _live ? savedStream(out, rest) : rest;
    });
  }
}

function updateDisplay(content) {
  const id = content.transient && content.transient.display_id;
  for (const area of displays.get(id) || []) {
    for (const block of area.blocks) {
      const out = block.outputs[0];
      if (!(block instanceof OtherBlock) || out._displayId !== id) continue;
      out.data = content.data;
      out.metadata = content.metadata || {};
      block.draw();
    }
    area.changed();
  }
}

/** Is b the stream output a with more text at its end (what a running cell's print does)? */
function streamGrew(a, b) {
  if (!a || !b || a.output_type !== "stream" || b.output_type !== "stream" || a.name !== b.name) return false;
  const before = joinText(a.text);
  const after = joinText(b.text);
  return after.length >= before.length && after.startsWith(before);
}

const isJSONMime = (mime) => mime === "application/json" || mime.endsWith("+json");

/** A copy of an output read from a file; multiline strings joined (the server joins them too). */
function normalize(out) {
  const copy = { ...out };
  if (copy.text !== undefined) copy.text = joinText(copy.text);
  if (copy.data) {
    copy.data = { ...copy.data };
    // JSON payloads stay as they are: a list there is data, not lines (nbformat's rule too).
    for (const [k, v] of Object.entries(copy.data)) if (Array.isArray(v) && !isJSONMime(k)) copy.data[k] = v.join("");
  }
  return copy;
}
