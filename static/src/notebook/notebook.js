// The notebook: an ordered list of cells, the selection, command/edit mode, cell-level
// undo, a cell clipboard, and nbformat v4 in and out.
import { makeCell } from "./cell.js";

const CLIPBOARD_KEY = "salvus.cellClipboard";
const UNDO_LIMIT = 100;

export class Notebook extends EventTarget {
  constructor(container, options) {
    super();
    this.container = container;
    this.options = options; // {showHelp(data), inspect(code, pos), save()}
    this.cells = [];
    this.active = 0;
    this.mode = "command";
    this.undoStack = [];
    this.redoStack = [];
    this.kernel = null;
    this.widgets = null;
    this.json = { metadata: {}, nbformat: 4, nbformat_minor: 5 };
  }

  get trusted() {
    return !!(this.json.metadata.salvus && this.json.metadata.salvus.trusted);
  }

  set trusted(value) {
    this.json.metadata.salvus = { ...(this.json.metadata.salvus || {}), trusted: !!value };
    if (!value) delete this.json.metadata.salvus.trusted;
    if (!Object.keys(this.json.metadata.salvus).length) delete this.json.metadata.salvus;
    for (const cell of this.cells) {
      if (cell.outputArea) cell.outputArea.rerender();
      else if (cell.el.classList.contains("is-rendered")) cell.render();
    }
    this.changed();
  }

  /** nbformat 4.5 added cell ids; older notebooks stay id-less so their schema holds. */
  get withCellIds() {
    return this.json.nbformat > 4 || (this.json.nbformat === 4 && this.json.nbformat_minor >= 5);
  }

  /** Live view of trust and widgets for output areas (both can change after a cell is made). */
  outputContext() {
    const nb = this;
    return {
      get trusted() {
        return nb.trusted;
      },
      get widgets() {
        return nb.widgets;
      },
      onChange: () => nb.changed(),
    };
  }

  load(nbJSON) {
    const { cells = [], ...rest } = nbJSON;
    this.json = { metadata: {}, nbformat: 4, nbformat_minor: 5, ...rest };
    this.cells = cells.map((c) => makeCell(this, c));
    if (!this.cells.length) this.cells.push(makeCell(this, { cell_type: "code", source: "", metadata: {}, outputs: [] }));
    this.container.replaceChildren(...this.cells.map((c) => c.el));
    this.undoStack = [];
    this.active = 0;
    this.select(this.cells[0]);
  }

  toJSON() {
    return { ...this.json, cells: this.cells.map((c) => c.toJSON()) };
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  get activeCell() {
    return this.cells[this.active];
  }

  // --- selection and modes -------------------------------------------------

  select(cell, { keepMode = false } = {}) {
    const index = this.cells.indexOf(cell);
    if (index < 0) return;
    const prev = this.activeCell;
    if (prev && prev !== cell) prev.el.classList.remove("selected", "found");
    this.active = index;
    cell.el.classList.add("selected");
    if (!keepMode && this.mode === "edit" && prev !== cell) this.commandMode();
  }

  /** Select a cell a search pointed at and mark it (the mark goes when another cell is selected). */
  markFound(cell) {
    this.select(cell);
    cell.el.classList.add("found");
  }

  selectRelative(delta) {
    const index = Math.max(0, Math.min(this.cells.length - 1, this.active + delta));
    this.select(this.cells[index]);
    this.activeCell.el.scrollIntoView({ block: "nearest" });
  }

  enterEdit(cell = this.activeCell, focus = true, where) {
    this.select(cell, { keepMode: true });
    this.mode = "edit";
    this.container.classList.add("edit-mode");
    this.container.classList.remove("command-mode");
    document.querySelectorAll(".cell.editing").forEach((el) => el !== cell.el && el.classList.remove("editing"));
    cell.el.classList.add("editing");
    if (cell.edit) cell.edit();
    if (focus) cell.focusEditor(where);
  }

  /** Leave the editor; keys now act on cells (Esc). */
  commandMode() {
    this.mode = "command";
    this.container.classList.remove("edit-mode");
    this.container.classList.add("command-mode");
    document.querySelectorAll(".cell.editing").forEach((el) => el.classList.remove("editing"));
    const cell = this.activeCell;
    if (cell && cell.type === "markdown" && cell.editor && !cell.el.classList.contains("is-rendered") && cell.source.trim()) {
      cell.render();
    }
    this.container.focus({ preventScroll: true });
  }

  // --- structure (every change below can be undone with Z) --------------------

  pushUndo() {
    this.undoStack.push({ cells: [...this.cells], active: this.active });
    if (this.undoStack.length > UNDO_LIMIT) this.undoStack.shift();
    this.redoStack = [];
  }

  restore(from, to) {
    const snap = from.pop();
    if (!snap) return;
    to.push({ cells: [...this.cells], active: this.active });
    this.cells = snap.cells;
    this.container.replaceChildren(...this.cells.map((c) => c.el));
    this.cells.forEach((c) => c.el.classList.remove("selected"));
    this.select(this.cells[Math.min(snap.active, this.cells.length - 1)]);
    this.changed();
  }

  undo() {
    this.restore(this.undoStack, this.redoStack);
  }

  redo() {
    this.restore(this.redoStack, this.undoStack);
  }

  insertAt(index, cell) {
    this.cells.splice(index, 0, cell);
    const next = this.cells[index + 1];
    this.container.insertBefore(cell.el, next ? next.el : null);
    this.changed();
    return cell;
  }

  newCell(type = "code", source = "") {
    const json = { cell_type: type, source, metadata: {} };
    if (type === "code") Object.assign(json, { outputs: [], execution_count: null });
    return makeCell(this, json);
  }

  insert(where, type = "code") {
    this.pushUndo();
    const cell = this.insertAt(this.active + (where === "below" ? 1 : 0), this.newCell(type));
    this.select(cell);
    cell.el.scrollIntoView({ block: "nearest" });
    return cell;
  }

  insertAfter(cell, type, source) {
    this.pushUndo();
    return this.insertAt(this.cells.indexOf(cell) + 1, this.newCell(type, source));
  }

  deleteActive() {
    this.pushUndo();
    const cell = this.activeCell;
    this.cells.splice(this.active, 1);
    cell.el.remove();
    if (!this.cells.length) this.insertAt(0, this.newCell());
    this.active = Math.min(this.active, this.cells.length - 1);
    this.select(this.activeCell);
    this.changed();
  }

  move(delta) {
    const to = this.active + delta;
    if (to < 0 || to >= this.cells.length) return;
    this.pushUndo();
    const [cell] = this.cells.splice(this.active, 1);
    this.cells.splice(to, 0, cell);
    const next = this.cells[to + 1];
    this.container.insertBefore(cell.el, next ? next.el : null);
    this.active = to;
    cell.el.scrollIntoView({ block: "nearest" });
    this.changed();
  }

  changeType(type) {
    const cell = this.activeCell;
    if (cell.type === type) return;
    this.pushUndo();
    const json = { ...cell.toJSON(), cell_type: type };
    if (type === "code") Object.assign(json, { outputs: [], execution_count: null });
    else for (const k of ["outputs", "execution_count"]) delete json[k];
    const fresh = makeCell(this, json);
    this.cells[this.active] = fresh;
    cell.el.replaceWith(fresh.el);
    this.select(fresh);
    this.changed();
  }

  copy() {
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify([this.activeCell.toJSON()]));
  }

  cut() {
    this.copy();
    this.deleteActive();
  }

  paste(where = "below") {
    let cells;
    try {
      cells = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "[]");
    } catch {
      cells = [];
    }
    if (!cells.length) return;
    this.pushUndo();
    let index = this.active + (where === "below" ? 1 : 0);
    let last = null;
    for (const json of cells) {
      delete json.id; // a pasted cell is a new cell
      last = this.insertAt(index++, makeCell(this, json));
    }
    this.select(last);
  }

  // --- running ---------------------------------------------------------------

  run(cell = this.activeCell) {
    cell.run();
    if (cell.type !== "code") this.changed();
  }

  /** Shift+Enter: run, then select the next cell; at the end, add one and edit it (as Jupyter does). */
  runAndAdvance() {
    const cell = this.activeCell;
    this.run(cell);
    if (this.active === this.cells.length - 1) this.enterEdit(this.insert("below"), true);
    else {
      this.selectRelative(1);
      this.commandMode();
    }
  }

  /** Alt+Enter: run, then insert a cell below and edit it. */
  runAndInsert() {
    this.run(this.activeCell);
    this.enterEdit(this.insert("below"), true);
  }

  /** Ctrl+Enter: run and stay; a markdown cell shows its rendering. */
  runInPlace() {
    const cell = this.activeCell;
    this.run(cell);
    if (this.mode === "edit" && cell.type !== "code") this.commandMode();
  }

  runAll() {
    for (const cell of this.cells) if (cell.run() === false) break; // refused: input() is waiting
  }

  clearOutputs() {
    for (const cell of this.cells) {
      if (!cell.outputArea) continue;
      cell.outputArea.clear();
      cell.count = null;
      cell.showPrompt();
    }
    this.changed();
  }

  /** Edit-mode keys bound inside each CodeMirror editor. */
  editKeys(cell) {
    const stay = (fn) => () => {
      fn();
      return true;
    };
    return [
      { key: "Shift-Enter", run: stay(() => this.runAndAdvance()) },
      { key: "Mod-Enter", run: stay(() => this.runInPlace()) },
      { key: "Ctrl-Enter", run: stay(() => this.runInPlace()) },
      { key: "Alt-Enter", run: stay(() => this.runAndInsert()) },
      { key: "Escape", run: stay(() => this.commandMode()) },
      { key: "Mod-s", run: stay(() => this.options.save()) },
      { key: "ArrowUp", run: () => this.leaveEdge(cell, -1) },
      { key: "ArrowDown", run: () => this.leaveEdge(cell, 1) },
    ];
  }

  leaveEdge(cell, dir) {
    const index = this.cells.indexOf(cell) + dir;
    if (!cell.atEdge(dir) || index < 0 || index >= this.cells.length) return false;
    const next = this.cells[index];
    if (next.type !== "code" && next.el.classList.contains("is-rendered")) {
      this.select(next);
      this.commandMode();
    } else this.enterEdit(next, true, dir < 0 ? "end" : "start");
    return true;
  }

  inspect(code, pos) {
    this.options.inspect(code, pos);
  }

  showHelp(data) {
    this.options.showHelp(data);
  }
}
