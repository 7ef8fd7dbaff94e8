// The notebook page (/notebooks/<path>): load the .ipynb, start its session, wire the
// toolbar, the keyboard, autosave and the kernel status.
import "katex/dist/katex.min.css";
import "./style.css";
import { contents, sessions, kernelspecs, ApiError, baseUrl, encodePath, projectId, rootApi } from "./api.js";
import { Kernel } from "./kernel.js";
import { WidgetManager } from "./widgets/manager.js";
import { Notebook } from "./notebook/notebook.js";
import { COMMANDS, commandKeyHandler } from "./notebook/keys.js";
import { Saver } from "./notebook/save.js";
import { h, statusBadge, watchKernel, HelpPanel, inspectInto, toast } from "./ui.js";
import { topbar } from "./chrome.js";
import { ChangeFeed } from "./events.js";
import { ConflictBar, externalChangeOf } from "./conflict.js";
import { HistoryPanel } from "./historypanel.js";
import { takeJump } from "./searchbox.js";
import { publishDialog } from "./share/publish.js";
import { collabStatus } from "./collab/status.js";

const SAVE_TEXT = { saved: "All changes saved", dirty: "Unsaved changes", saving: "Saving…", error: "Save failed, retrying", conflict: "Changed on disk" };

const emptyNotebook = (spec) => ({
  cells: [],
  metadata: {
    kernelspec: { name: spec.name, display_name: spec.display_name || spec.name, language: spec.language || "python" },
    language_info: { name: spec.language || "python" },
  },
  nbformat: 4,
  nbformat_minor: 5,
});

class NotebookPage {
  constructor() {
    this.path = document.body.dataset.path || "";
    this.help = new HelpPanel();
    this.badge = statusBadge();
    this.saveState = h("span", { class: "save-state", role: "status" });
    this.cellsEl = h("div", { class: "cells command-mode", tabIndex: -1, "aria-label": "Notebook cells" });
    this.banner = h("div", { class: "banner", hidden: true });
    this.nb = new Notebook(this.cellsEl, {
      save: () => this.save(),
      inspect: (code, pos) => inspectInto(this.help, this.nb.kernel, code, pos),
      showHelp: (data) => this.help.show(data),
    });
    this.saver = new Saver(this.path, () => this.nb.toJSON());
    this.saver.addEventListener("state", (ev) => {
      this.saveState.textContent = SAVE_TEXT[ev.detail.state] + (ev.detail.detail ? `: ${ev.detail.detail}` : "");
      this.saveState.dataset.state = ev.detail.state;
    });
    this.nb.addEventListener("change", () => this.saver.changed());
    this.conflict = new ConflictBar();
    this.saver.onConflict = (disk) => this.showConflict(disk);
    this.feed = new ChangeFeed(projectId());
    this.history = new HistoryPanel({
      projectId: projectId(),
      path: () => this.path,
      notebook: true,
      mode: "python",
      current: async () => (await import("./diffview.js")).notebookText(this.nb.toJSON()),
      beforeRestore: () => !this.shared && this.saver.dirty && this.saver.save(),
      afterRestore: () => (this.shared ? toast("Restored: the room takes the restored version.") : this.reloadFromDisk()),
    });
    window.salvus = { page: this, nb: this.nb };
  }

  layout() {
    const name = this.path.split("/").pop();
    this.title = h("button", { class: "nb-title", title: `${name} (click to rename)`, onclick: () => this.rename() }, name);
    this.trust = h("button", { class: "trust", onclick: () => this.toggleTrust() });
    const btn = (label, title, fn, cls = "") => h("button", { class: `tool ${cls}`, title, onclick: fn }, label);
    this.typeSelect = h(
      "select",
      { class: "cell-type", title: "Cell type (Y, M, R)", onchange: () => this.nb.changeType(this.typeSelect.value) },
      ...["code", "markdown", "raw"].map((t) => h("option", { value: t }, t[0].toUpperCase() + t.slice(1))),
    );
    const header = topbar({ left: [this.title, this.saveState], right: [this.trust, this.badge] });
    const toolbar = h(
      "nav",
      { class: "toolbar", "aria-label": "Notebook tools" },
      btn("+ Cell", "Insert cell below (B)", () => this.nb.insert("below")),
      btn("Cut", "Cut cell (X)", () => this.nb.cut()),
      btn("Copy", "Copy cell (C)", () => this.nb.copy()),
      btn("Paste", "Paste cell below (V)", () => this.nb.paste()),
      btn("↑", "Move cell up (Ctrl+Shift+↑)", () => this.nb.move(-1)),
      btn("↓", "Move cell down (Ctrl+Shift+↓)", () => this.nb.move(1)),
      h("span", { class: "sep" }),
      btn("▶ Run", "Run cell, select below (Shift+Enter)", () => this.nb.runAndAdvance(), "run"),
      btn("■ Stop", "Interrupt the kernel (I, I)", () => this.interrupt(), "interrupt"),
      btn("↻ Restart", "Restart the kernel (0, 0)", () => this.restart(), "restart"),
      btn("Run all", "Run all cells", () => this.nb.runAll(), "run-all"),
      btn("Clear", "Clear all outputs", () => this.nb.clearOutputs(), "clear"),
      h("span", { class: "sep" }),
      this.typeSelect,
      h("span", { class: "spacer" }),
      btn("Publish", "Publish read-only, export to HTML or PDF", () => publishDialog({ project: projectId(), path: this.path, name: this.path.split("/").pop(), isNotebook: true }), "publish-button"),
      btn("History", "Earlier versions: view, compare, restore", () => this.history.toggle(), "history-button"),
      btn("Keys", "Keyboard shortcuts (H)", () => this.showShortcuts()),
    );
    const main = h("main", { class: "notebook" }, this.conflict.el, this.banner, this.cellsEl);
    document.body.replaceChildren(header, toolbar, h("div", { class: "workspace" }, main, this.help.el, this.history.el));
    document.addEventListener("keydown", commandKeyHandler({ nb: this.nb, page: this }));
    // Keep the cell type menu in step with the selected cell.
    const sync = () => (this.typeSelect.value = this.nb.activeCell ? this.nb.activeCell.type : "code");
    this.cellsEl.addEventListener("mousedown", () => setTimeout(sync));
    document.addEventListener("keyup", sync);
    this.nb.addEventListener("change", sync);
  }

  open() {
    // A change event can arrive while the notebook is still being read: it is looked at once the
    // first read is shown (else an older read could land over a newer one), not after the kernel.
    const loading = this.load();
    this.ready = Promise.race([loading, new Promise((resolve) => (this.shown = resolve))]);
    return loading;
  }

  async load() {
    // With collaboration on (multi-user servers) an existing notebook opens in its room: the
    // server holds the document, saves it and writes the outputs (collab/notebookpage.js).
    const shared = await this.sharedMode();
    const openShared = shared && (await (await import("./collab/notebookpage.js")).sharedNotebookPage(this, shared));
    if (!shared) this.layout();
    await this.feed.start(); // before the load: a change in between is not missed
    this.feed.addEventListener("change", (ev) => this.onDiskChange(ev.detail));
    let spec = { name: "", display_name: "" };
    try {
      const specs = await kernelspecs();
      spec = specs.kernelspecs[specs.default] ? { name: specs.default, ...specs.kernelspecs[specs.default].spec } : spec;
      this.specs = specs;
    } catch (err) {
      toast(`Could not list kernels: ${err.message}`);
    }
    if (shared) return openShared(spec, takeJump(this.path));
    let model;
    try {
      model = await contents.get(this.path);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404 && this.path.endsWith(".ipynb"))) return this.fail(err);
      // A notebook that does not exist yet opens empty; opening a URL never writes a file
      // (a mistyped or mis-encoded link must not leave files behind): the first change saves it.
      model = { type: "notebook", name: this.path.split("/").pop(), last_modified: null, content: emptyNotebook(spec), isNew: true };
    }
    if (model.type !== "notebook") return this.fail(new Error(`${this.path} is not a notebook`));
    document.title = `${model.name} · Salvus Local`;
    this.saver.lastModified = model.last_modified;
    const backup = this.saver.takeBackup(model.last_modified);
    this.nb.load(backup || model.content);
    this.updateTrust();
    if (backup) {
      toast("Restored unsaved changes from your last visit.");
      this.saver.changed();
    } else this.saver.setState("saved");
    if (model.isNew) this.showNewBanner(model.name);
    this.jumpToCell(takeJump(this.path));
    this.shown();
    await this.startKernel(model.content.metadata && model.content.metadata.kernelspec, spec);
  }

  /** The collaboration status when this notebook opens in a room, else null (a new file opens as before). */
  async sharedMode() {
    const status = await collabStatus();
    if (!status.enabled) return null;
    try {
      await contents.get(this.path, false);
    } catch (err) {
      // 404: a new notebook is created by its first save, as ever; other errors show as ever.
      return null;
    }
    return status;
  }

  /** Scroll to and highlight the cell a search result pointed at (by id, else by its code). */
  async jumpToCell(jump) {
    if (!jump) return;
    let cell = jump.cell && this.nb.cells.find((c) => c.uid === jump.cell);
    if (!cell && jump.computation) {
      try {
        const rows = await rootApi("GET", `api/history?project=${encodeURIComponent(projectId())}&path=${encodeURIComponent(this.path)}&limit=500`);
        const row = rows.find((r) => r.id === jump.computation);
        if (row) cell = this.nb.cells.find((c) => c.source.trim() === row.input.trim());
      } catch {
        // no history API: the notebook still opens, at the top
      }
    }
    if (!cell) return toast("The cell of that computation is no longer in this notebook.", 6000);
    // The mark fades by itself (CSS) and stays on the cell until another cell is selected.
    this.nb.markFound(cell);
    cell.el.scrollIntoView({ block: "center" });
  }

  /** Load the notebook from disk again (after a restore, or "load theirs"). */
  async reloadFromDisk(note) {
    const seq = (this.reloads = (this.reloads || 0) + 1); // only the latest read draws
    let model;
    try {
      model = await contents.get(this.path);
    } catch (err) {
      if (seq === this.reloads) toast(`Could not read the notebook from disk: ${err.message}`, 6000);
      return;
    }
    if (seq !== this.reloads) return;
    this.nb.load(model.content);
    this.updateTrust();
    this.saver.loaded(model.last_modified);
    this.conflict.hide();
    if (note) toast(note);
  }

  async onDiskChange(ev) {
    const change = externalChangeOf(ev, this.path);
    if (!change) return;
    if (this.shared && change.kind === "modified") return; // the server merges it into the room
    if (change.kind !== "modified") {
      const where = change.kind === "moved" ? `moved to ${change.to}` : "deleted";
      const actions = [["Keep it open", () => {}, { title: "Your next change saves it here again" }]];
      if (change.kind === "moved") actions.unshift([`Open ${change.to}`, () => (location.href = `${baseUrl()}notebooks/${encodePath(change.to)}`), { primary: true }]);
      this.conflict.show(`This notebook was ${where} outside this page.`, actions);
      return;
    }
    // Only the latest check acts (two quick changes start two reads; the older must not win).
    const seq = (this.diskChecks = (this.diskChecks || 0) + 1);
    await this.ready.catch(() => {});
    // Our own save may still be on its way: once it is done, its time is the one to compare with.
    while (this.saver.saving) await this.saver.saving;
    let stat;
    try {
      stat = await contents.get(this.path, false);
    } catch {
      return;
    }
    if (seq !== this.diskChecks) return;
    if (stat.last_modified === this.saver.lastModified || this.saver.state === "conflict") return;
    if (!this.saver.dirty && this.saver.state !== "saving") {
      await this.reloadFromDisk("The notebook changed on disk: reloaded.");
      return;
    }
    this.showConflict(stat);
  }

  showConflict(disk) {
    this.saver.setState("conflict");
    this.conflict.show("This notebook changed on disk, and you have unsaved edits.", [
      ["Keep mine", () => this.saver.keepMine(disk.last_modified), { title: "Save your version over the one on disk (it stays in the history)" }],
      ["Load theirs", () => this.reloadFromDisk("Loaded the version on disk; yours was not saved."), { title: "Drop your unsaved edits and load the version on disk" }],
      ["Show diff", async () => {
        const [{ showDiff, notebookText }, theirs] = await Promise.all([import("./diffview.js"), contents.get(this.path)]);
        showDiff({ title: "On disk and yours", left: notebookText(theirs.content), right: notebookText(this.nb.toJSON()), leftLabel: "On disk (theirs)", rightLabel: "In this page (yours, unsaved)", mode: "python" });
        return false;
      }, { primary: true }],
    ]);
  }

  async startKernel(nbSpec, defaultSpec) {
    const known = this.specs && nbSpec && this.specs.kernelspecs[nbSpec.name];
    const name = known ? nbSpec.name : defaultSpec.name;
    try {
      const session = await sessions.create(this.path, name);
      const kernel = new Kernel(session.kernel);
      this.nb.kernel = kernel;
      this.nb.widgets = new WidgetManager(kernel, { trusted: () => this.nb.trusted });
      window.salvus.kernel = kernel;
      const label = (this.specs && this.specs.kernelspecs[kernel.name]?.spec.display_name) || kernel.name;
      watchKernel(kernel, this.badge, label);
      kernel.addEventListener("status", (ev) => this.showDead(ev.detail === "dead"));
      await kernel.connect();
      // Widgets still alive in the kernel (a reload) become live again in their outputs.
      if (await this.nb.widgets.restore()) for (const c of this.nb.cells) if (c.outputArea) c.outputArea.rerender(true);
    } catch (err) {
      this.badge.set("dead");
      toast(`Could not start a kernel: ${err.message}`, 8000);
    }
  }

  showNewBanner(name) {
    this.banner.hidden = false;
    this.banner.classList.add("banner-info");
    this.banner.replaceChildren(h("span", {}, `New notebook: ${name} is created on disk when you change something or save (Ctrl+S).`));
    this.saveState.textContent = "Not saved yet";
    this.saver.addEventListener("state", (ev) => ev.detail.state === "saved" && this.hideNewBanner());
  }

  hideNewBanner() {
    if (!this.banner.classList.contains("banner-info")) return;
    this.banner.classList.remove("banner-info");
    this.banner.hidden = true;
  }

  showDead(dead) {
    if (!dead && this.banner.classList.contains("banner-info")) return;
    this.banner.classList.remove("banner-info");
    this.banner.hidden = !dead;
    if (!dead) return;
    this.banner.replaceChildren(
      h("span", {}, "The kernel died. Your notebook is safe; restart the kernel to run code again."),
      h("button", { class: "primary", onclick: () => this.restart() }, "Restart kernel"),
    );
  }

  fail(err) {
    this.cellsEl.replaceChildren(h("div", { class: "error-page" }, h("h2", {}, "Could not open this notebook"), h("p", {}, err.message)));
  }

  save() {
    if (this.shared) return toast("Saved automatically: everyone in this notebook edits one copy, which the server saves."); // no PUT in a room
    return this.saver.save();
  }

  async interrupt() {
    try {
      await this.nb.kernel.interrupt();
    } catch (err) {
      toast(`Interrupt failed: ${err.message}`);
    }
  }

  async restart() {
    try {
      await this.nb.kernel.restart();
      toast("Kernel restarted.");
    } catch (err) {
      toast(`Restart failed: ${err.message}`);
    }
  }

  toggleTrust() {
    this.nb.trusted = !this.nb.trusted;
    this.updateTrust();
  }

  updateTrust() {
    const t = this.nb.trusted;
    this.trust.textContent = t ? "Trusted" : "Not trusted";
    this.trust.dataset.trusted = String(t);
    this.trust.title = t
      ? "HTML outputs are shown as they are (scripts stay blocked). Click to sanitize them again."
      : "HTML outputs are sanitized. Click to trust this notebook.";
  }

  async rename() {
    const input = h("input", { class: "nb-title-input", value: this.path.split("/").pop() });
    this.title.replaceWith(input);
    input.focus();
    input.select();
    const finish = async (commit) => {
      input.replaceWith(this.title);
      let name = input.value.trim();
      if (!commit || !name || name === this.title.textContent) return;
      if (!name.endsWith(".ipynb")) name += ".ipynb";
      const dir = this.path.includes("/") ? this.path.slice(0, this.path.lastIndexOf("/") + 1) : "";
      try {
        if (!this.shared) await this.saver.save();
        const model = await contents.rename(this.path, dir + name);
        if (this.shared) return location.assign(`${baseUrl()}notebooks/${encodePath(model.path)}`); // the room is per path
        this.path = model.path;
        this.saver.path = model.path;
        this.title.textContent = model.name;
        this.title.title = `${model.name} (click to rename)`;
        document.title = `${model.name} · Salvus Local`;
        history.replaceState(null, "", `${baseUrl()}notebooks/${encodePath(model.path)}`);
      } catch (err) {
        toast(`Rename failed: ${err.message}`);
      }
    };
    input.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      if (ev.key === "Enter") input.blur();
      if (ev.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true), { once: true });
  }

  showShortcuts() {
    const rows = Object.values(COMMANDS).map(([keys, label]) =>
      h("tr", {}, h("td", {}, ...keys.map((k) => h("kbd", {}, k.replace(/ /g, ", ")))), h("td", {}, label)),
    );
    const close = () => dialog.remove();
    const dialog = h(
      "div",
      { class: "overlay", onclick: (ev) => ev.target === dialog && close() },
      h(
        "div",
        { class: "dialog", role: "dialog", "aria-label": "Keyboard shortcuts" },
        h("header", {}, h("strong", {}, "Command mode (Esc)"), h("button", { class: "icon-button", onclick: close }, "×")),
        h("table", { class: "shortcuts" }, ...rows),
        h("p", { class: "hint" }, "Edit mode (Enter): Shift+Enter run · Ctrl+Enter run in place · Alt+Enter run and insert · Tab complete · Shift+Tab help · Esc leave"),
      ),
    );
    dialog.addEventListener("keydown", (ev) => ev.key === "Escape" && close());
    document.body.append(dialog);
    dialog.querySelector("button").focus();
  }
}

new NotebookPage().open();
