// Cells of a shared notebook: the editor is bound to the cell's Y.Text (remote cursors with
// names), outputs and the execution count are drawn from the document the server writes, and
// running a cell only sends execute_request with metadata.cellId: the server puts the outputs
// into the document for everyone, so this page never appends iopub outputs itself.
import * as Y from "yjs";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { CodeCell, MarkdownCell } from "../notebook/cell.js";
import { toast } from "../ui.js";
import { cellToJSON, plain, STRUCTURE } from "./schema.js";

/** What every shared cell adds to its base class. */
const shared = (Base) =>
  class extends Base {
    constructor(nb, ymap) {
      super(nb, cellToJSON(ymap), ymap);
      this.uid = ymap.get("id") || this.uid;
      this.el.dataset.uid = this.uid;
      this.unwatch = [];
      this.watch(ymap, (ev) => {
        // The text or the type was replaced as a whole: the notebook makes this cell again.
        if (ev.keysChanged.has("source") || ev.keysChanged.has("cell_type")) nb.remake(this);
        else this.onCellChange(ev.keysChanged);
      });
    }

    watch(type, fn, deep = false) {
      if (!type || !(type instanceof Y.AbstractType)) return;
      if (deep) type.observeDeep(fn);
      else type.observe(fn);
      this.unwatch.push(() => (deep ? type.unobserveDeep(fn) : type.unobserve(fn)));
    }

    get ytext() {
      return this.ymap.get("source");
    }

    editorOptions() {
      const undo = new Y.UndoManager(this.ytext);
      return {
        collab: { extension: yCollab(this.ytext, this.nb.room.awareness, { undoManager: undo }), keys: yUndoManagerKeymap },
        readOnly: this.nb.readOnly,
        doc: this.ytext.toString(), // the binding starts from the text as it is now
      };
    }

    get source() {
      return this.ytext.toString();
    }

    onCellChange() {}

    toJSON() {
      return cellToJSON(this.ymap);
    }

    /** Stop observing the document and free the editor (the cell left the notebook). */
    destroy() {
      for (const off of this.unwatch.splice(0)) off();
      if (this.editor) this.editor.destroy();
    }
  };

export class SharedCodeCell extends shared(CodeCell) {
  constructor(nb, ymap) {
    super(nb, ymap);
    this.localRun = false;
    this.watchOutputs();
    this.watch(ymap.get("metadata"), () => this.showPrompt());
    this.showPrompt();
  }

  watchOutputs() {
    if (this.offOutputs) this.offOutputs();
    const youts = this.ymap.get("outputs");
    const draw = () => this.outputArea.sync(youts instanceof Y.Array ? youts.toArray().map(plain) : plain(youts) || []);
    if (youts instanceof Y.AbstractType) {
      youts.observeDeep(draw);
      this.offOutputs = () => youts.unobserveDeep(draw);
      this.unwatch.push(this.offOutputs);
    }
    this.outputArea.set([]); // the base class drew the outputs once already: start over from the document
    this.outputArea.synced = [];
    draw();
  }

  onCellChange(keys) {
    if (keys.has("outputs")) this.watchOutputs();
    if (keys.has("execution_count") || keys.has("metadata")) {
      if (keys.has("metadata")) this.watch(this.ymap.get("metadata"), () => this.showPrompt());
      this.showPrompt();
    }
  }

  /** "[*]" while the server says it runs (anyone's run) or our request is still out. */
  showPrompt() {
    if (!this.ymap) return; // called by the base constructor before the document is attached
    const md = plain(this.ymap.get("metadata")) || {};
    const running = this.localRun || md.execution_state === "running" || md.execution_state === "busy";
    this.count = this.ymap.get("execution_count") ?? null;
    super.showPrompt(running ? "queued" : undefined);
  }

  run() {
    const kernel = this.nb.kernel;
    const code = this.source;
    if (this.nb.readOnly) {
      toast("You can read this notebook but not run it: ask its owner to make you an editor.", 5000);
      return false;
    }
    if (kernel && kernel.pendingInput && code.trim()) {
      toast("Not run: the kernel is waiting for input. Answer the input box (or press Stop), then run again.", 6000);
      return false;
    }
    if (!code.trim()) {
      this.nb.doc.transact(() => {
        const youts = this.ymap.get("outputs");
        if (youts instanceof Y.Array && youts.length) youts.delete(0, youts.length);
        this.ymap.set("execution_count", null);
      }, STRUCTURE);
      return;
    }
    if (!kernel) return;
    this.localRun = true;
    this.showPrompt();
    kernel.execute(code, {
      onOutput: () => {}, // the server writes outputs into the document; drawing them here too would double them
      onInput: (content, reply) => this.outputArea.askInput(content, reply),
      onReply: (msg) => {
        for (const p of msg.content.payload || []) {
          if (p.source === "page" && p.data) this.nb.showHelp(p.data);
          if (p.source === "set_next_input" && p.text && !p.replace) this.nb.insertAfter(this, "code", p.text);
        }
      },
      onDone: () => {
        this.outputArea.endInput();
        this.localRun = false;
        this.showPrompt();
      },
    }, { metadata: { cellId: this.uid } });
  }
}

export class SharedMarkdownCell extends shared(MarkdownCell) {
  constructor(nb, ymap) {
    super(nb, ymap);
    // Someone else edits the text while it shows rendered here: render again (once per frame).
    this.watch(this.ytext, () => {
      if (!this.el.classList.contains("is-rendered") || this.renderQueued) return;
      this.renderQueued = true;
      requestAnimationFrame(() => {
        this.renderQueued = false;
        if (this.el.classList.contains("is-rendered")) this.render();
      });
    });
  }

  get type() {
    return this.ymap && this.ymap.get("cell_type") === "raw" ? "raw" : "markdown";
  }

  onCellChange(keys) {
    if (keys.has("attachments")) {
      this.json.attachments = plain(this.ymap.get("attachments"));
      if (this.el.classList.contains("is-rendered")) this.render();
    }
  }

  edit() {
    if (this.nb.readOnly) return; // viewers read the rendered text
    super.edit();
  }
}

/** A shared cell of the right class for a Y.Map cell. */
export function makeSharedCell(nb, ymap) {
  return ymap.get("cell_type") === "code" ? new SharedCodeCell(nb, ymap) : new SharedMarkdownCell(nb, ymap);
}
