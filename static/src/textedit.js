// The text editor page (/edit/<path>): CodeMirror 6 with a mode per file type, Ctrl+S to
// save, search (Ctrl+F), history, and changes made on disk by others shown, never lost.
import "./style.css";
import "./pages.css";
import { EditorState, Compartment } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, highlightSpecialChars } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab, isolateHistory } from "@codemirror/commands";
import { bracketMatching, indentOnInput, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { search, searchKeymap, openSearchPanel, highlightSelectionMatches } from "@codemirror/search";
import { contents, projectId, projectBase, encodePath, ApiError } from "./api.js";
import { topbar } from "./chrome.js";
import { ChangeFeed } from "./events.js";
import { ConflictBar, externalChangeOf } from "./conflict.js";
import { HistoryPanel } from "./historypanel.js";
import { modeOf, modeLabel, loadMode } from "./languages.js";
import { highlight } from "./editor.js";
import { h, toast } from "./dom.js";
import { collabStatus } from "./collab/status.js";

const STATE_TEXT = { saved: "Saved", dirty: "Unsaved changes", saving: "Saving…", error: "Save failed", conflict: "Changed on disk", new: "New file: Ctrl+S creates it" };
const WRAP = new Set(["markdown", "latex", ""]);

class EditorPage {
  constructor() {
    this.path = document.body.dataset.path || "";
    this.pid = projectId();
    this.mode = modeOf(this.path);
    this.base = { text: "", lastModified: null, exists: false };
    this.saveState = h("span", { class: "save-state", role: "status", "aria-live": "polite" });
    this.conflict = new ConflictBar();
    this.feed = new ChangeFeed(this.pid);
    this.history = new HistoryPanel({
      projectId: this.pid,
      path: () => this.path,
      notebook: false,
      mode: this.mode,
      current: () => this.text(),
      beforeRestore: () => !this.shared && this.dirty() && this.save(),
      afterRestore: () => (this.shared ? toast("Restored: the room takes the restored version.") : this.reload("Restored from history.")),
    });
    window.salvus = { page: this };
  }

  text() {
    return this.view.state.doc.toString();
  }

  dirty() {
    return this.text() !== this.base.text;
  }

  setState(state, detail = "") {
    this.state = state;
    this.saveState.textContent = STATE_TEXT[state] + (detail ? `: ${detail}` : "");
    this.saveState.dataset.state = state;
    if (this.saveButton) this.saveButton.dataset.state = state; // the only indicator in a narrow window
  }

  layout() {
    const dir = this.path.includes("/") ? this.path.slice(0, this.path.lastIndexOf("/")) : "";
    const name = this.path.split("/").pop();
    const folder = h("a", { class: "crumb-dir", href: `${projectBase(this.pid)}files/${encodePath(dir)}`, title: "Show the folder" }, dir ? `${dir}/` : "");
    const btn = (label, title, fn, cls = "") => h("button", { class: `tool ${cls}`, title, onclick: fn }, label);
    const header = topbar({ left: [h("span", { class: "file-title" }, folder, h("strong", {}, name)), this.saveState] });
    const toolbar = h(
      "nav",
      { class: "toolbar", "aria-label": "Editor tools" },
      (this.saveButton = btn("Save", "Save (Ctrl+S)", () => this.save(), "run save-button")),
      btn("Find", "Find and replace (Ctrl+F)", () => openSearchPanel(this.view)),
      btn("History", "Earlier versions: view, compare, restore", () => this.history.toggle(), "history-button"),
      h("span", { class: "spacer" }),
      h("span", { class: "hint mode-label" }, modeLabel(this.mode)),
    );
    this.editorEl = h("div", { class: "text-editor" });
    const main = h("main", { class: "editor-main" }, this.conflict.el, this.editorEl);
    document.body.replaceChildren(header, toolbar, h("div", { class: "workspace" }, main, this.history.el));
    this.language = new Compartment();
    this.undoConf = new Compartment(); // CodeMirror's history, or in a room Yjs's (collab/textpage.js)
    this.editable = new Compartment();
    this.view = new EditorView({
      parent: this.editorEl,
      state: EditorState.create({
        doc: "",
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightSpecialChars(),
          this.undoConf.of([history(), keymap.of(historyKeymap)]),
          this.editable.of([]),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          closeBrackets(),
          highlightActiveLine(),
          highlightSelectionMatches(),
          search({ top: true }),
          syntaxHighlighting(highlight),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          this.language.of([]),
          WRAP.has(this.mode) ? EditorView.lineWrapping : [],
          keymap.of([{ key: "Mod-s", run: () => (this.save(), true), preventDefault: true }, indentWithTab, ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap]),
          EditorView.updateListener.of((u) => u.docChanged && this.edited()),
          EditorView.contentAttributes.of({ "aria-label": `Text of ${name}` }),
        ],
      }),
    });
    loadMode(this.mode).then((ext) => this.view.dispatch({ effects: this.language.reconfigure(ext) }));
    // Ctrl+S saves wherever the focus is (a toolbar button, the conflict bar), not only in the text.
    document.addEventListener("keydown", (ev) => {
      if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "s" && !ev.defaultPrevented) {
        ev.preventDefault();
        this.save();
      }
    });
    window.addEventListener("beforeunload", (ev) => {
      if (!this.shared && this.dirty()) ev.preventDefault(); // the browser asks before unsaved edits are lost
    });
  }

  edited() {
    if (this.shared) return; // the server saves a room's text: its state shows "Saving…" (collab/presence.js)
    clearTimeout(this.dirtyTimer);
    this.dirtyTimer = setTimeout(() => {
      if (this.state === "conflict" || this.state === "saving") return;
      const next = this.dirty() ? "dirty" : this.base.exists ? "saved" : "new";
      if (next !== this.state) this.setState(next); // keeps a note such as "Reloaded from disk"
    }, 120);
  }

  /** Replace the whole text, keeping the cursor where it can stay; undo brings the old text back. */
  replaceText(text) {
    const sel = this.view.state.selection.main.head;
    this.view.dispatch({
      changes: { from: 0, to: this.view.state.doc.length, insert: text },
      selection: { anchor: Math.min(sel, text.length) },
      annotations: isolateHistory.of("full"), // one undo step of its own, never merged with typing
    });
  }

  async open() {
    // A change event can arrive while the file is still being read: it is looked at once the
    // first read is in (else an older read could land over a newer one).
    this.ready = this.load();
    return this.ready;
  }

  async load() {
    this.layout();
    const status = collabStatus(); // asked alongside the file
    await this.feed.start(); // before the load: a change in between is not missed
    this.feed.addEventListener("change", (ev) => this.onDiskChange(ev.detail));
    let model;
    try {
      model = await contents.getText(this.path);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        this.setState("new");
        this.view.focus();
        return;
      }
      return this.fail(err.message);
    }
    if (model.type === "directory") return location.replace(`${projectBase(this.pid)}files/${encodePath(this.path)}`);
    if (model.format !== "text") return this.fail("This is a binary file: it cannot be edited as text. Download it from the file browser.");
    const shared = await status;
    const limit = shared.max_bytes && shared.max_bytes.text;
    if (shared.enabled && limit && model.size > limit) {
      // The server refuses a room for a file this big (413 before the upgrade): edit it alone, and say so.
      const notice = h("div", { class: "conflict-bar room-notice", role: "note" },
        h("span", {}, `${this.path} is ${(model.size / 2 ** 20).toFixed(1)} MB, above the ${Math.floor(limit / 2 ** 20)} MB a shared room opens: you edit it alone here and save it yourself; a change someone else saves shows up as a conflict.`),
        h("button", { class: "tool", onclick: () => notice.remove() }, "OK"));
      this.conflict.el.after(notice);
    } else if (shared.enabled) {
      // Collaboration is on: the text is the room's, everyone in the file edits it, the server saves it.
      const { openSharedText } = await import("./collab/textpage.js");
      return openSharedText(this, shared);
    }
    this.lineSep = model.content.includes("\r\n") ? "\r\n" : null; // CRLF files keep their line ends (see save)
    this.base = { text: model.content.replace(/\r\n/g, "\n"), lastModified: model.last_modified, exists: true };
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: this.base.text } });
    this.view.dispatch({ selection: { anchor: 0 }, scrollIntoView: true });
    this.setState("saved");
    this.view.focus();
  }

  fail(message) {
    this.editorEl.replaceChildren(
      h("div", { class: "error-page" }, h("h2", {}, `Cannot open ${this.path}`), h("p", {}, message),
        h("p", {}, h("a", { href: `${projectBase(this.pid)}files/${encodePath(this.path.slice(0, this.path.lastIndexOf("/") + 1))}` }, "Back to the folder"))),
    );
  }

  /** Save, unless the file changed on disk since we read it (then ask). */
  async save() {
    if (this.shared) return toast("Saved automatically: everyone in this file edits one copy, which the server saves.");
    if (this.saving) return this.saving;
    this.saving = this.doSave().finally(() => (this.saving = null));
    return this.saving;
  }

  async doSave() {
    const text = this.text();
    this.setState("saving");
    try {
      if (this.base.exists && !this.keepMine) {
        const stat = await contents.stat(this.path).catch((err) => (err.status === 404 ? null : Promise.reject(err)));
        if (stat && stat.last_modified !== this.base.lastModified) {
          const disk = await contents.getText(this.path);
          if (disk.content.replace(/\r\n/g, "\n") !== this.base.text) return this.showConflict(disk);
          this.base.lastModified = disk.last_modified;
        }
      }
      const content = this.lineSep ? text.replace(/\n/g, this.lineSep) : text;
      const model = await contents.save(this.path, { type: "file", format: "text", content });
      this.base = { text, lastModified: model.last_modified, exists: true };
      this.keepMine = false;
      this.conflict.hide();
      this.setState(this.dirty() ? "dirty" : "saved");
    } catch (err) {
      this.setState("error", err.message);
      toast(`Could not save ${this.path}: ${err.message}`, 8000);
    }
  }

  /** Read the file again (after a restore, or "load theirs"). */
  async reload(note) {
    const disk = await contents.getText(this.path);
    this.applyDisk(disk);
    if (note) toast(note);
  }

  applyDisk(disk) {
    const text = disk.content.replace(/\r\n/g, "\n");
    this.base = { text, lastModified: disk.last_modified, exists: true };
    if (this.text() !== text) this.replaceText(text);
    this.keepMine = false;
    this.conflict.hide();
    this.setState("saved");
  }

  async onDiskChange(ev) {
    const change = externalChangeOf(ev, this.path);
    if (!change) return;
    if (this.shared && change.kind === "modified") return; // the server merges it into the room
    if (change.kind === "deleted" || change.kind === "moved") {
      this.base.exists = false;
      const where = change.kind === "moved" ? `moved to ${change.to}` : "deleted";
      const actions = [["Keep editing", () => this.setState("dirty"), { title: "Ctrl+S writes it here again" }]];
      if (change.kind === "moved") actions.unshift(["Open " + change.to, () => (location.href = `${projectBase(this.pid)}edit/${encodePath(change.to)}`), { primary: true }]);
      this.conflict.show(`${this.path} was ${where} outside this editor.`, actions);
      return;
    }
    // Only the latest check acts: two quick changes (a truncate, then the write) start two reads,
    // and the older one's answer must not land over the newer one's.
    const seq = (this.diskChecks = (this.diskChecks || 0) + 1);
    await this.ready.catch(() => {});
    while (this.saving) await this.saving; // a save of ours on its way is not someone else's change
    let disk;
    try {
      disk = await contents.getText(this.path);
    } catch {
      return;
    }
    if (seq !== this.diskChecks || disk.format !== "text") return;
    const text = disk.content.replace(/\r\n/g, "\n");
    if (text === this.base.text) {
      this.base.lastModified = disk.last_modified; // touched, not changed
      return;
    }
    if (!this.dirty() || text === this.text()) {
      this.applyDisk(disk);
      toast("The file changed on disk: reloaded.");
      this.saveState.textContent = "Reloaded from disk";
      return;
    }
    this.showConflict(disk);
  }

  showConflict(disk) {
    this.setState("conflict");
    this.conflict.show(`${this.path} changed on disk, and you have unsaved edits.`, [
      ["Keep mine", () => {
        this.base.lastModified = disk.last_modified;
        this.keepMine = true;
        this.setState("dirty");
      }, { title: "Keep your text; Save will overwrite the version on disk" }],
      ["Load theirs", () => {
        this.applyDisk(disk);
        toast("Loaded the version on disk. Ctrl+Z brings your edits back.", 6000);
      }, { title: "Replace your text with the version on disk (undo brings yours back)" }],
      ["Show diff", async () => {
        const { showDiff } = await import("./diffview.js");
        showDiff({ title: `${this.path}: on disk and yours`, left: disk.content.replace(/\r\n/g, "\n"), right: this.text(), leftLabel: "On disk (theirs)", rightLabel: "In this editor (yours, unsaved)", mode: this.mode });
        return false;
      }, { primary: true, title: "Compare the two versions" }],
    ]);
  }
}

new EditorPage().open();
