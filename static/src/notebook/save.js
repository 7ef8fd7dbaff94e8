// Autosave: a debounced PUT /api/contents after each change, a save indicator, and a
// localStorage backup of unsaved edits, so a reload or a crash loses nothing.
import { contents } from "../api.js";

const DEBOUNCE_MS = 800;
const backupKey = (path) => `salvus.backup:${path}`;

export class Saver extends EventTarget {
  constructor(path, getContent) {
    super();
    this.path = path;
    this.getContent = getContent;
    this.lastModified = null;
    this.state = "saved";
    this.dirty = false;
    this.saving = null;
    this.timer = null;
    this.backupTimer = null;
    window.addEventListener("beforeunload", () => this.flushOnUnload());
  }

  setState(state, detail = "") {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, detail } }));
  }

  /** Call after every change to the notebook. */
  changed() {
    this.dirty = true;
    this.setState("dirty");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), DEBOUNCE_MS);
    clearTimeout(this.backupTimer);
    this.backupTimer = setTimeout(() => this.backup(), 200);
  }

  backup() {
    try {
      const entry = { base: this.lastModified, content: this.getContent(), time: Date.now() };
      localStorage.setItem(backupKey(this.path), JSON.stringify(entry));
    } catch {
      // Storage full or disabled: the server copy is still saved every few seconds.
    }
  }

  /** Unsaved edits left by an earlier page of the same file version, or null. */
  takeBackup(serverLastModified) {
    let entry = null;
    try {
      entry = JSON.parse(localStorage.getItem(backupKey(this.path)) || "null");
    } catch {
      entry = null;
    }
    // A backup made on top of another version of the file would overwrite newer work.
    if (!entry || entry.base !== serverLastModified) {
      localStorage.removeItem(backupKey(this.path));
      return null;
    }
    return entry.content;
  }

  /** Save now (waits for a save already running, then saves again if needed). */
  async save() {
    clearTimeout(this.timer);
    if (this.saving) {
      await this.saving;
      if (!this.dirty) return;
    }
    this.dirty = false;
    this.setState("saving");
    const body = { type: "notebook", format: "json", content: this.getContent() };
    this.saving = contents
      .save(this.path, body)
      .then((model) => {
        this.lastModified = model && model.last_modified;
        if (!this.dirty) {
          localStorage.removeItem(backupKey(this.path));
          this.setState("saved");
        }
      })
      .catch((err) => {
        this.dirty = true;
        this.setState("error", err.message);
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.save(), 5000);
      })
      .finally(() => {
        this.saving = null;
      });
    return this.saving;
  }

  flushOnUnload() {
    if (!this.dirty) return;
    this.backup();
    const body = JSON.stringify({ type: "notebook", format: "json", content: this.getContent() });
    // keepalive lets the PUT finish after the page is gone (browsers cap it at 64 KB).
    if (body.length < 60000) contents.save(this.path, JSON.parse(body), { keepalive: true }).catch(() => {});
  }
}
