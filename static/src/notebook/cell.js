// Code, markdown and raw cells: an editor, a prompt, outputs, and their nbformat JSON.
import { createEditor, getText, atEdge } from "../editor.js";
import { OutputArea } from "../outputarea.js";
import { joinText, renderMarkdown } from "../render.js";
import { toast } from "../ui.js";

let nextId = 0;
const newCellId = () => Math.random().toString(36).slice(2, 10) + (nextId++).toString(36);

class Cell {
  constructor(nb, json, ymap = null) {
    this.nb = nb;
    this.json = json; // fields we do not edit are kept and written back as they were
    this.ymap = ymap; // the cell's Y.Map in a shared notebook (collab/cells.js), else null
    this.uid = json.id || newCellId();
    this.el = document.createElement("div");
    this.el.className = `cell ${this.type}-cell`;
    this.el.dataset.uid = this.uid;
    this.prompt = document.createElement("div");
    this.prompt.className = "prompt";
    this.body = document.createElement("div");
    this.body.className = "cell-body";
    this.inputWrap = document.createElement("div");
    this.inputWrap.className = "cell-input";
    this.body.append(this.inputWrap);
    this.el.append(this.prompt, this.body);
    this.el.addEventListener("mousedown", () => nb.select(this, { keepMode: true }));
  }

  /** Markdown editors are made on first edit; code cells make theirs at once. */
  ensureEditor() {
    if (this.editor) return this.editor;
    const nb = this.nb;
    this.editor = createEditor({
      parent: this.inputWrap,
      doc: this.pendingSource ?? "",
      mode: this.type === "code" ? "code" : "markdown",
      keys: nb.editKeys(this),
      getKernel: () => nb.kernel,
      onInspect: (code, pos) => nb.inspect(code, pos),
      onChange: () => nb.changed(),
      onFocus: () => nb.enterEdit(this, false),
      ...this.editorOptions(),
    });
    this.pendingSource = undefined;
    return this.editor;
  }

  /** More createEditor options (a shared cell adds its Yjs binding). */
  editorOptions() {
    return {};
  }

  get source() {
    return this.editor ? getText(this.editor) : this.pendingSource ?? "";
  }

  focusEditor(where) {
    const view = this.ensureEditor();
    if (where === "end") view.dispatch({ selection: { anchor: view.state.doc.length } });
    if (where === "start") view.dispatch({ selection: { anchor: 0 } });
    view.focus();
  }

  atEdge(dir) {
    return !this.editor || atEdge(this.editor, dir);
  }

  baseJSON() {
    const { outputs, execution_count, ...rest } = this.json;
    const out = { ...rest, cell_type: this.type, metadata: this.json.metadata || {}, source: this.source };
    if (this.nb.withCellIds) out.id = this.uid;
    else delete out.id;
    return out;
  }
}

export class CodeCell extends Cell {
  get type() {
    return "code";
  }

  constructor(nb, json, ymap) {
    super(nb, json, ymap);
    this.pendingSource = joinText(json.source);
    this.ensureEditor();
    this.count = json.execution_count ?? null;
    this.outputArea = new OutputArea(nb.outputContext());
    this.outputArea.set(json.outputs || []);
    this.body.append(this.outputArea.el);
    this.showPrompt();
  }

  showPrompt(state) {
    this.prompt.textContent = state === "queued" ? "[*]:" : `[${this.count ?? " "}]:`;
    this.el.classList.toggle("running", state === "queued");
  }

  /** Send the code to the kernel; outputs stream into this cell. */
  run() {
    const kernel = this.nb.kernel;
    const code = this.source;
    if (kernel && kernel.pendingInput && code.trim()) {
      // As JupyterLab 4 does: running now would queue behind the input() and look frozen.
      toast("Not run: the kernel is waiting for input. Answer the input box (or press Stop), then run again.", 6000);
      const box = document.querySelector(".stdin-input");
      if (box) box.focus();
      return false;
    }
    this.outputArea.clear();
    if (!code.trim()) {
      this.count = null;
      this.showPrompt();
      return;
    }
    if (!kernel) return;
    this.showPrompt("queued");
    kernel.execute(code, {
      onOutput: (msg) => this.outputArea.handle(msg),
      onInput: (content, reply) => this.outputArea.askInput(content, reply),
      onReply: (msg) => {
        const c = msg.content;
        if (c.execution_count != null) this.count = c.execution_count;
        for (const p of c.payload || []) {
          if (p.source === "page" && p.data) this.nb.showHelp(p.data);
          if (p.source === "set_next_input" && p.text && !p.replace) this.nb.insertAfter(this, "code", p.text);
        }
      },
      onDone: () => {
        this.outputArea.endInput();
        this.showPrompt();
        this.nb.changed();
      },
    }, { metadata: { cellId: this.uid } });
  }

  toJSON() {
    return { ...this.baseJSON(), execution_count: this.count, outputs: this.outputArea.toJSON() };
  }
}

export class MarkdownCell extends Cell {
  get type() {
    return this.json.cell_type === "raw" ? "raw" : "markdown";
  }

  constructor(nb, json, ymap) {
    super(nb, json, ymap);
    this.pendingSource = joinText(json.source);
    this.rendered = document.createElement("div");
    this.rendered.className = "markdown-rendered";
    this.body.append(this.rendered);
    this.rendered.addEventListener("dblclick", () => this.nb.enterEdit(this, true));
    this.render();
  }

  /** Show the rendered markdown (hide the editor). */
  render() {
    const text = this.source;
    if (this.type === "raw") {
      this.rendered.replaceChildren(Object.assign(document.createElement("pre"), { textContent: text }));
    } else if (text.trim()) {
      this.rendered.replaceChildren(renderMarkdown(text, this.nb.trusted, this.json.attachments));
    } else {
      this.rendered.innerHTML = '<p class="placeholder">Empty markdown cell: double-click or press Enter to edit</p>';
    }
    this.el.classList.add("is-rendered");
  }

  edit() {
    this.ensureEditor();
    this.el.classList.remove("is-rendered");
  }

  run() {
    this.render();
  }

  toJSON() {
    return this.baseJSON();
  }
}

/** Build a cell object of the right class from nbformat JSON. */
export function makeCell(nb, json) {
  return json.cell_type === "code" ? new CodeCell(nb, json) : new MarkdownCell(nb, json);
}
