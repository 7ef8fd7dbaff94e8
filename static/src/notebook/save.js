// Autosave: a debounced PUT /api/contents after each change, a save indicator, and a
// localStorage backup of unsaved edits, so a reload or a crash loses nothing.
// Before each save the file's time on disk is checked: when someone else changed it, the
// save waits for the user's choice (onConflict) instead of overwriting their work.
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
    this.onConflict = null; // (diskModel) => void, set by the page
    window.addEventListener("beforeunload", (ev) => this.flushOnUnload(ev));
  }

  setState(state, detail = "") {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, detail } }));
  }

  /** Call after every change to the notebook. */
  changed() {
    this.dirty = true;
    clearTimeout(this.backupTimer);
    this.backupTimer = setTimeout(() => this.backup(), 200);
    if (this.state === "conflict") return; // no autosave until the user chose
    this.setState("dirty");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), DEBOUNCE_MS);
  }

  /** The user keeps their version: the next save overwrites the one on disk. */
  keepMine(diskLastModified) {
    this.lastModified = diskLastModified;
    this.setState("dirty");
    return this.save();
  }

  /** The page loaded the version on disk: nothing is unsaved any more. */
  loaded(diskLastModified) {
    clearTimeout(this.timer);
    this.lastModified = diskLastModified;
    this.dirty = false;
    localStorage.removeItem(backupKey(this.path));
    this.setState("saved");
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
    if (this.state === "conflict") return;
    this.dirty = false;
    this.setState("saving");
    const body = { type: "notebook", format: "json", content: this.getContent() };
    this.saving = this.changedOnDisk()
      .then((disk) => {
        if (!disk) return contents.save(this.path, body);
        this.dirty = true;
        this.setState("conflict");
        if (this.onConflict) this.onConflict(disk);
        return null;
      })
      .then((model) => {
        if (!model) return;
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

  /** The file's model when it changed on disk since we last read or wrote it, else null. */
  async changedOnDisk() {
    if (!this.lastModified) return null;
    try {
      const stat = await contents.get(this.path, false);
      return stat.last_modified !== this.lastModified ? stat : null;
    } catch (err) {
      if (err.status === 404) return null; // deleted: saving writes it again
      throw err;
    }
  }

  flushOnUnload(ev) {
    if (!this.dirty) return;
    if (this.state === "conflict") {
      ev.preventDefault(); // the browser asks: leaving now would drop the unsaved side of a conflict
      return;
    }
    this.backup();
    const body = JSON.stringify({ type: "notebook", format: "json", content: this.getContent() });
    // keepalive lets the PUT finish after the page is gone (browsers cap it at 64 KB).
    if (body.length < 60000) contents.save(this.path, JSON.parse(body), { keepalive: true }).catch(() => {});
  }
}
