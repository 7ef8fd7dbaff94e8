// The history panel of a file (text or notebook): its versions (snapshots) with times,
// view one, diff two, restore one (which adds a new version). The version before the
// current content is one click away: "Restore previous version".
import { versions } from "./api.js";
import { h, toast } from "./dom.js";

const loadDiff = () => import("./diffview.js");

function when(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export class HistoryPanel {
  /**
   * opts: {projectId, path(), notebook: bool, mode, current(): text now in the page (or a promise of it),
   * beforeRestore(): async (save unsaved edits first), afterRestore(): async (reload from disk)}
   */
  constructor(opts) {
    this.opts = opts;
    this.list = h("ol", { class: "version-list" });
    this.status = h("p", { class: "hint history-status" });
    this.previousButton = h("button", { class: "primary restore-previous", onclick: () => this.restorePrevious(), disabled: true }, "Restore previous version");
    this.el = h(
      "aside",
      { class: "side-panel history-panel", hidden: true, "aria-label": "History" },
      h("header", {}, h("strong", {}, "History"), h("button", { class: "icon-button", title: "Close (Esc)", onclick: () => this.close() }, "×")),
      h("div", { class: "history-actions" }, this.previousButton),
      this.status,
      this.list,
    );
    this.el.addEventListener("keydown", (ev) => ev.key === "Escape" && this.close());
    this.versions = [];
    this.cache = new Map();
  }

  get path() {
    return this.opts.path();
  }

  toggle() {
    return this.el.hidden ? this.open() : this.close();
  }

  close() {
    this.el.hidden = true;
    document.body.classList.remove("with-side");
  }

  async open() {
    this.el.hidden = false;
    document.body.classList.add("with-side");
    await this.refresh();
    (this.list.querySelector("button") || this.previousButton).focus();
  }

  /** Take a snapshot now (so the current content is listed), then list the versions. */
  async refresh() {
    const seq = (this.refreshes = (this.refreshes || 0) + 1); // only the latest list draws
    this.status.textContent = "Loading versions…";
    let list;
    try {
      await versions.snapshot(this.opts.projectId, `history opened for ${this.path}`).catch(() => null);
      list = await versions.list(this.opts.projectId, this.path);
    } catch (err) {
      if (seq === this.refreshes) this.status.textContent = `Could not load the history: ${err.message}`;
      return;
    }
    if (seq !== this.refreshes) return;
    this.versions = list;
    this.status.textContent = this.versions.length
      ? `${this.versions.length} version${this.versions.length > 1 ? "s" : ""}, newest first. A version is kept on every save and every minute or two while files change.`
      : "No versions yet: one is kept when the file is saved.";
    this.list.replaceChildren(...this.versions.map((v, i) => this.row(v, i)));
    this.previousButton.disabled = this.versions.length < 2;
  }

  row(v, i) {
    const label = i === 0 ? "Latest" : `${this.versions.length - i}`;
    return h(
      "li",
      { class: "version", dataset: { version: v.id } },
      h("div", { class: "version-head" }, h("time", { datetime: v.time, title: new Date(v.time).toString() }, when(v.time)), h("span", { class: "version-tag" }, i === 0 ? "latest" : `#${label}`)),
      h(
        "div",
        { class: "version-tools" },
        h("button", { class: "tool", onclick: () => this.view(i), title: "Show this version" }, "View"),
        i + 1 < this.versions.length ? h("button", { class: "tool", onclick: () => this.diff(i + 1, i), title: "What changed in this version" }, "Changes") : null,
        h("button", { class: "tool", onclick: () => this.restore(v), title: "Make this the current content (adds a new version)" }, "Restore"),
      ),
    );
  }

  /** The file's text at a version (notebooks as readable text). */
  async text(id) {
    if (!this.cache.has(id)) {
      const reply = await versions.read(this.opts.projectId, id, this.path);
      let text = reply.format === "text" ? reply.content : `(binary file, ${reply.size} bytes)`;
      if (this.opts.notebook && reply.format === "text") {
        try {
          text = (await loadDiff()).notebookText(JSON.parse(text));
        } catch {
          // not valid JSON at that version: show it as it is
        }
      }
      this.cache.set(id, text);
    }
    return this.cache.get(id);
  }

  label(i) {
    return `${i === 0 ? "Latest version" : "Version"} of ${when(this.versions[i].time)}`;
  }

  /** Show a version next to the current content. */
  async view(i) {
    try {
      const { showDiff } = await loadDiff();
      const v = this.versions[i];
      const restore = h("button", { class: "primary", onclick: () => (dlg.close(), this.restore(v)) }, "Restore this version");
      const dlg = await showDiff({
        title: `${this.path}: ${this.label(i)} and now`,
        left: await this.text(v.id),
        right: await this.opts.current(),
        leftLabel: this.label(i),
        rightLabel: "Now (in this page)",
        mode: this.opts.mode,
        actions: [restore],
      });
    } catch (err) {
      toast(`Could not show that version: ${err.message}`);
    }
  }

  /** Diff two versions (older a, newer b). */
  async diff(a, b) {
    try {
      const { showDiff } = await loadDiff();
      await showDiff({
        title: `${this.path}: changes`,
        left: await this.text(this.versions[a].id),
        right: await this.text(this.versions[b].id),
        leftLabel: this.label(a),
        rightLabel: this.label(b),
        mode: this.opts.mode,
      });
    } catch (err) {
      toast(`Could not compute the diff: ${err.message}`);
    }
  }

  /** The newest version whose content differs from the latest one (e.g. before a blanking save). */
  async restorePrevious() {
    if (this.versions.length < 2) return;
    const latest = await this.text(this.versions[0].id);
    for (let i = 1; i < Math.min(this.versions.length, 20); i++) {
      if ((await this.text(this.versions[i].id)) !== latest) return this.restore(this.versions[i]);
    }
    toast("Earlier versions have the same content as now.");
  }

  async restore(v) {
    try {
      await this.opts.beforeRestore();
      await versions.restore(this.opts.projectId, v.id, this.path);
      await this.opts.afterRestore();
      toast(`Restored the version of ${when(v.time)}. The content before is still in the history.`);
      await this.refresh();
    } catch (err) {
      toast(`Restore failed: ${err.message}`, 8000);
    }
  }
}
