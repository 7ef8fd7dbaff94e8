// The outputs of one cell: nbformat v4 output dicts plus their DOM.
//
// Outputs are kept in Jupyter's own shapes (stream / display_data / execute_result /
// error) so a saved notebook opens in JupyterLab unchanged.
import { ansiPre, htmlFragment, joinText, renderLatex, renderMarkdown, typesetMath } from "./render.js";
import { sandboxedFrames } from "./sandboxframe.js";

const WIDGET_MIME = "application/vnd.jupyter.widget-view+json";

// Richest first, as JupyterLab orders them.
const MIME_ORDER = [
  WIDGET_MIME,
  "text/html",
  "text/markdown",
  "text/latex",
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "image/gif",
  "text/plain",
];

const imageRenderer = (mime) => (data, meta) => {
  const img = document.createElement("img");
  const value = joinText(data).replace(/\s/g, "");
  img.src = `data:${mime};base64,${value}`;
  img.className = "image-output";
  if (meta && meta.width) img.width = meta.width;
  if (meta && meta.height) img.height = meta.height;
  return img;
};

/** mime type -> (data, metadata, ctx) => Node | null; null falls through to the next mime. */
const RENDERERS = {
  // Until its model arrives (or if it never does) a widget shows as its text/plain.
  [WIDGET_MIME]: (data, meta, ctx, bundle) =>
    ctx.widgets && data && data.model_id
      ? ctx.widgets.viewFor(data.model_id, () => ansiPre(joinText(bundle["text/plain"] || ""), "text-output"))
      : null,
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
  "text/plain": (data) => ansiPre(joinText(data), "text-output"),
};

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

/** Apply carriage returns and backspaces the way a terminal would (progress bars). */
function squashControl(text) {
  if (!/[\r\b]/.test(text)) return text;
  return text
    .split("\n")
    .map((line) => {
      const parts = line.split("\r");
      let out = "";
      for (const part of parts) out = part + out.slice(part.length);
      while (/[^\b]\b/.test(out)) out = out.replace(/[^\b]\b/, "");
      return out;
    })
    .join("\n");
}

// display_id -> Set of OutputArea holding it (update_display_data can target any cell).
const displays = new Map();

export class OutputArea {
  constructor(ctx) {
    this.ctx = ctx; // {trusted, widgets, onChange}
    this.outputs = [];
    this.el = document.createElement("div");
    this.el.className = "output-area";
    this.clearPending = false;
  }

  changed() {
    if (this.ctx.onChange) this.ctx.onChange();
  }

  /** Replace all outputs (when a notebook is loaded). */
  set(outputs) {
    this.outputs = [];
    this.el.replaceChildren();
    for (const out of outputs || []) this.append(normalize(out), false);
  }

  clear(wait = false) {
    if (wait) {
      this.clearPending = true;
      return;
    }
    this.clearPending = false;
    this.outputs = [];
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
    const last = this.outputs[this.outputs.length - 1];
    if (out.output_type === "stream" && last && last.output_type === "stream" && last.name === out.name) {
      last.text = squashControl(joinText(last.text) + joinText(out.text));
      const node = this.renderOutput(last);
      last._node.replaceWith(node);
      last._node = node;
    } else {
      if (out.output_type === "stream") out.text = squashControl(joinText(out.text));
      const id = out.transient && out.transient.display_id;
      if (id) {
        out._displayId = id;
        if (!displays.has(id)) displays.set(id, new Set());
        displays.get(id).add(this);
      }
      delete out.transient;
      out._node = this.renderOutput(out);
      this.outputs.push(out);
      this.el.append(out._node);
    }
    if (live) this.changed();
  }

  renderOutput(out) {
    const wrap = document.createElement("div");
    wrap.className = `output output-${out.output_type}`;
    const kind = {
      stream: () => ansiPre(joinText(out.text), `stream-output ${out.name}`),
      error: () => ansiPre((out.traceback && out.traceback.length ? out.traceback : [`${out.ename}: ${out.evalue}`]).join("\n"), "error-output"),
      display_data: () => renderBundle(out.data, out.metadata, this.ctx),
      execute_result: () => renderBundle(out.data, out.metadata, this.ctx),
    }[out.output_type];
    wrap.append(kind ? kind() : ansiPre(JSON.stringify(out), "text-output"));
    return wrap;
  }

  /** Re-render every output (after the notebook's trust changed), or only widget views. */
  rerender(onlyWidgets = false) {
    for (const out of this.outputs) {
      if (onlyWidgets && !(out.data && out.data[WIDGET_MIME])) continue;
      const node = this.renderOutput(out);
      out._node.replaceWith(node);
      out._node = node;
    }
  }

  /** Show an input() prompt; calls reply(value) once the user presses Enter. */
  askInput(content, reply) {
    const row = document.createElement("div");
    row.className = "output stdin-row";
    const label = document.createElement("span");
    label.className = "stdin-prompt";
    label.textContent = content.prompt || "";
    const input = document.createElement("input");
    input.type = content.password ? "password" : "text";
    input.className = "stdin-input";
    input.setAttribute("aria-label", content.prompt || "input");
    input.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      const shown = document.createElement("span");
      shown.className = "stdin-value";
      shown.textContent = content.password ? "········" : input.value;
      input.replaceWith(shown);
      reply(input.value);
    });
    row.append(label, input);
    this.el.append(row);
    input.focus();
  }

  /** Outputs as nbformat JSON (private fields dropped). */
  toJSON() {
    return this.outputs.map(({ _node, _displayId, ...out }) => out);
  }
}

function updateDisplay(content) {
  const id = content.transient && content.transient.display_id;
  for (const area of displays.get(id) || []) {
    for (const out of area.outputs) {
      if (out._displayId !== id) continue;
      out.data = content.data;
      out.metadata = content.metadata || {};
      const node = area.renderOutput(out);
      out._node.replaceWith(node);
      out._node = node;
    }
    area.changed();
  }
}

/** Outputs read from a file: join multiline strings so they compare and render alike. */
function normalize(out) {
  const copy = { ...out };
  if (copy.text !== undefined) copy.text = joinText(copy.text);
  if (copy.data) {
    copy.data = { ...copy.data };
    for (const [k, v] of Object.entries(copy.data)) if (Array.isArray(v)) copy.data[k] = v.join("");
  }
  return copy;
}
