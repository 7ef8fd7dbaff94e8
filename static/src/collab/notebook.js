// The notebook bound to a shared document: the cell list follows the document's "cells" array
// (anyone's insert, delete, move or type change shows at once), and this page's structural edits
// are made on the document, never on the list directly. Cell-level undo (Z) undoes only this
// person's structural edits. Viewers get read-only editors and no structural edits (the server
// drops a viewer's updates anyway; this only keeps the page honest about it).
import * as Y from "yjs";
import { Notebook } from "../notebook/notebook.js";
import { h, toast } from "../ui.js";
import { makeSharedCell } from "./cells.js";
import { STRUCTURE, cellToJSON, newYCell, notebookJSON, notebookMeta, setNotebookMetadata } from "./schema.js";
import { avatar } from "./presence.js";

const CLIPBOARD_KEY = "salvus.cellClipboard"; // shared with notebook/notebook.js: copy here, paste there

export class SharedNotebook extends Notebook {
  /** options: as Notebook's; room: collab/room.js Room; readOnly: a viewer. */
  constructor(container, options, room, { readOnly = false } = {}) {
    super(container, options);
    this.room = room;
    this.readOnly = readOnly;
    this.doc = null;
    this.localTrust = null; // a viewer's own choice (they cannot write the document)
    this.placeholder = h("div", { class: "empty-shared" }, readOnly ? "This notebook has no cells." : "This notebook has no cells: press B or “+ Cell” to add one.");
    room.addEventListener("people", () => this.showPeers());
  }

  /** Show (and follow) a document; called again with a new one after a room reset. */
  bind(doc) {
    if (this.doc) this.unbind();
    this.doc = doc;
    this.ycells = doc.getArray("cells");
    this.ymeta = doc.getMap("meta");
    this.undoManager = new Y.UndoManager(this.ycells, { trackedOrigins: new Set([STRUCTURE]), captureTimeout: 0 });
    this.onCells = () => this.reconcile();
    this.onMeta = () => this.rerenderAll();
    this.ycells.observe(this.onCells);
    this.ymeta.observeDeep(this.onMeta);
    this.cells = [];
    this.container.replaceChildren();
    this.reconcile();
    this.select(this.cells[0]);
  }

  unbind() {
    this.ycells.unobserve(this.onCells);
    this.ymeta.unobserveDeep(this.onMeta);
    this.undoManager.destroy();
    for (const cell of this.cells) cell.destroy();
    this.cells = [];
  }

  get json() {
    return this.doc ? notebookMeta(this.doc) : { metadata: {}, nbformat: 4, nbformat_minor: 5 };
  }

  set json(_value) {} // the base constructor sets it; the document holds it here

  get withCellIds() {
    return true;
  }

  get trusted() {
    if (this.localTrust !== null) return this.localTrust;
    const salvus = this.json.metadata.salvus;
    return !!(salvus && salvus.trusted);
  }

  set trusted(value) {
    if (this.readOnly) this.localTrust = !!value;
    else {
      const salvus = { ...(this.json.metadata.salvus || {}), trusted: !!value };
      if (!value) delete salvus.trusted;
      setNotebookMetadata(this.doc, "salvus", Object.keys(salvus).length ? salvus : undefined, STRUCTURE);
    }
    this.rerenderAll();
  }

  rerenderAll() {
    for (const cell of this.cells) {
      if (cell.outputArea) cell.outputArea.rerender();
      else if (cell.el.classList.contains("is-rendered")) cell.render();
    }
    this.dispatchEvent(new Event("trust"));
  }

  toJSON() {
    return notebookJSON(this.doc);
  }

  /** Make the cell list and the DOM follow the document, keeping every cell object still in it. */
  reconcile() {
    const maps = this.ycells.toArray();
    const known = new Map(this.cells.map((c) => [c.ymap, c]));
    const activeId = this.activeCell && this.activeCell.uid;
    const next = maps.map((m) => known.get(m) || makeSharedCell(this, m));
    const kept = new Set(next);
    for (const cell of this.cells) if (!kept.has(cell)) {
      cell.destroy();
      cell.el.remove();
    }
    this.cells = next;
    // Move only what is out of place: a focused editor that stays where it is keeps its focus.
    let before = this.container.firstChild === this.placeholder ? this.placeholder.nextSibling : this.container.firstChild;
    for (const cell of next) {
      if (cell.el !== before) this.container.insertBefore(cell.el, before);
      else before = before.nextSibling;
    }
    if (!next.length) this.container.replaceChildren(this.placeholder);
    else this.placeholder.remove();
    const index = next.findIndex((c) => c.uid === activeId);
    this.active = Math.max(0, Math.min(index >= 0 ? index : this.active, next.length - 1));
    for (const c of next) c.el.classList.toggle("selected", c === this.activeCell);
    this.showPeers();
    this.changed();
  }

  /** A cell whose text or type was replaced in the document is made again. */
  remake(cell) {
    const index = this.cells.indexOf(cell);
    if (index < 0) return;
    const fresh = makeSharedCell(this, cell.ymap);
    cell.destroy();
    cell.el.replaceWith(fresh.el);
    this.cells[index] = fresh;
    if (index === this.active) fresh.el.classList.add("selected");
    this.showPeers();
  }

  select(cell, opts) {
    if (!cell) return;
    super.select(cell, opts);
    this.room.setLocal("cell", cell.uid);
  }

  /** Other people's active cells: a bar in their colour and their initials on the cell. */
  showPeers() {
    const byCell = new Map();
    for (const p of this.room.people()) {
      if (p.self || !p.cell) continue;
      if (!byCell.has(p.cell)) byCell.set(p.cell, []);
      if (!byCell.get(p.cell).some((q) => q.name === p.name)) byCell.get(p.cell).push(p);
    }
    for (const cell of this.cells) {
      const peers = byCell.get(cell.uid) || [];
      cell.el.classList.toggle("peer-active", peers.length > 0);
      let tags = cell.el.querySelector(":scope > .peer-tags");
      if (!peers.length) {
        if (tags) tags.remove();
        cell.el.style.removeProperty("--peer");
        continue;
      }
      cell.el.style.setProperty("--peer", peers[0].color);
      if (!tags) cell.el.append((tags = h("span", { class: "peer-tags" })));
      const names = peers.map((p) => p.name).join(", ");
      tags.title = `${names} ${peers.length > 1 ? "are" : "is"} here`;
      tags.replaceChildren(...peers.map((p) => avatar(p)));
    }
  }

  // --- structural edits: on the document; the list follows in reconcile() ---------

  /** Run fn in one document transaction with our origin; false (and a note) for a viewer. */
  edit(fn) {
    if (this.readOnly) {
      toast("You can read this notebook but not change it: ask its owner to make you an editor.", 5000);
      return false;
    }
    this.doc.transact(fn, STRUCTURE);
    return true;
  }

  cellOf(ymap) {
    return this.cells.find((c) => c.ymap === ymap) || null;
  }

  blankJSON(type = "code", source = "") {
    const json = { cell_type: type, source, metadata: {} };
    if (type === "code") Object.assign(json, { outputs: [], execution_count: null });
    return json;
  }

  insertJSON(index, json) {
    const ymap = newYCell(json);
    if (!this.edit(() => this.ycells.insert(Math.min(index, this.ycells.length), [ymap]))) return null;
    return this.cellOf(ymap);
  }

  insert(where, type = "code") {
    const index = this.cells.length ? this.active + (where === "below" ? 1 : 0) : 0;
    const cell = this.insertJSON(index, this.blankJSON(type));
    if (!cell) return this.activeCell;
    this.select(cell);
    cell.el.scrollIntoView({ block: "nearest" });
    return cell;
  }

  insertAfter(cell, type, source) {
    return this.insertJSON(this.cells.indexOf(cell) + 1, this.blankJSON(type, source));
  }

  deleteActive() {
    const cell = this.activeCell;
    if (!cell) return;
    const index = this.ycells.toArray().indexOf(cell.ymap);
    if (index < 0) return;
    this.edit(() => this.ycells.delete(index, 1));
  }

  /** Yjs arrays cannot move an item: the cell is deleted and inserted again (same id, text, outputs). */
  move(delta) {
    const cell = this.activeCell;
    const from = this.ycells.toArray().indexOf(cell && cell.ymap);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= this.ycells.length) return;
    const json = cellToJSON(cell.ymap);
    const ymap = newYCell(json);
    if (!this.edit(() => {
      this.ycells.delete(from, 1);
      this.ycells.insert(to, [ymap]);
    })) return;
    const moved = this.cellOf(ymap);
    if (moved) {
      this.select(moved);
      moved.el.scrollIntoView({ block: "nearest" });
    }
  }

  changeType(type) {
    const cell = this.activeCell;
    if (!cell || cell.type === type) return;
    const index = this.ycells.toArray().indexOf(cell.ymap);
    const json = { ...cellToJSON(cell.ymap), cell_type: type };
    if (type === "code") Object.assign(json, { outputs: [], execution_count: null });
    else for (const k of ["outputs", "execution_count"]) delete json[k];
    const ymap = newYCell(json);
    if (!this.edit(() => {
      this.ycells.delete(index, 1);
      this.ycells.insert(index, [ymap]);
    })) return;
    this.select(this.cellOf(ymap));
  }

  paste(where = "below") {
    let cells;
    try {
      cells = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "[]");
    } catch {
      cells = [];
    }
    if (!cells.length) return;
    let index = this.cells.length ? this.active + (where === "below" ? 1 : 0) : 0;
    const maps = cells.map((json) => newYCell({ ...json, id: undefined })); // a pasted cell is a new cell
    if (!this.edit(() => this.ycells.insert(index, maps))) return;
    const last = this.cellOf(maps[maps.length - 1]);
    if (last) this.select(last);
  }

  undo() {
    if (!this.readOnly) this.undoManager.undo();
  }

  redo() {
    if (!this.readOnly) this.undoManager.redo();
  }

  clearOutputs() {
    this.edit(() => {
      for (const ymap of this.ycells) {
        const youts = ymap.get("outputs");
        if (youts instanceof Y.Array && youts.length) youts.delete(0, youts.length);
        if (ymap.get("cell_type") === "code" && ymap.get("execution_count") != null) ymap.set("execution_count", null);
      }
    });
  }

  runAndAdvance() {
    if (!this.readOnly) return super.runAndAdvance();
    this.activeCell.run(); // says why it does not run
    this.selectRelative(1);
  }

  enterEdit(cell = this.activeCell, focus = true, where) {
    if (!cell) return;
    super.enterEdit(cell, focus, where);
  }
}
