// The file browser (/files/<path>): folders with size and time, breadcrumbs, new file and
// folder, upload (drag and drop), download, rename, move, copy, delete to the trash with
// undo, and the trash. The listing follows changes on disk (change events).
import "./style.css";
import "./pages.css";
import { api, contents, projects, projectId, projectBase, encodePath, baseUrl } from "./api.js";
import { downloadFile, formatSize, icon, uploadFile } from "./filetransfer.js";
import { topbar } from "./chrome.js";
import { ChangeFeed } from "./events.js";
import { h, toast, ask } from "./dom.js";
import { publishDialog } from "./share/publish.js";

const BINARY = /\.(png|jpe?g|gif|webp|bmp|ico|pdf|zip|gz|tgz|bz2|xz|tar|whl|so|o|a|pyc|sobj|mp[34]|wav|ogg|webm|xlsx?|docx?|pptx?|odt|sqlite|db)$/i;

// Old Sage worksheets (Sage notebook .sws, CoCalc .sagews): opening one imports it as a notebook.
const WORKSHEET = /\.(sws|sagews)$/i;

const parent = (path) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");
const join = (dir, name) => (dir ? `${dir}/${name}` : name);

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString([], { dateStyle: "medium" });
}

/** Where clicking a file leads: notebooks to the notebook page, text to the editor, others download. */
export function openHref(item) {
  const base = projectBase(projectId());
  if (item.type === "directory") return `${base}files/${encodePath(item.path)}`;
  if (item.type === "notebook") return `${base}notebooks/${encodePath(item.path)}`;
  if (BINARY.test(item.name)) return null;
  return `${base}edit/${encodePath(item.path)}`;
}

class FileBrowser {
  constructor() {
    this.pid = projectId();
    this.dir = (document.body.dataset.path || "").replace(/\/+$/, "");
    this.items = [];
    this.selected = new Set();
    this.showTrash = false;
    this.feed = new ChangeFeed(this.pid);
    window.salvus = { page: this };
  }

  layout() {
    const btn = (label, title, fn, cls = "") => h("button", { class: `tool ${cls}`, title, onclick: fn }, label);
    this.uploadInput = h("input", { type: "file", multiple: true, hidden: true, onchange: () => this.upload([...this.uploadInput.files]) });
    this.selTools = [
      btn("Rename", "Rename (F2)", () => this.rename(), "sel-one rename"),
      btn("Move", "Move to another folder", () => this.move(), "sel-any move"),
      btn("Copy", "Copy into a folder", () => this.copy(), "sel-files copy"),
      btn("Download", "Download", () => this.download(), "sel-files download"),
      btn("Publish", "Publish read-only (a link anyone can open); export notebooks", () => this.publish(), "sel-one publish"),
      btn("Delete", "Move to the trash (Delete)", () => this.remove(), "sel-any delete"),
    ];
    const toolbar = h(
      "nav",
      { class: "toolbar", "aria-label": "File tools" },
      btn("+ Notebook", "New notebook in this folder", () => this.create("notebook"), "run new-notebook"),
      btn("+ File", "New text file in this folder", () => this.create("file"), "new-file"),
      btn("+ Folder", "New folder in this folder", () => this.create("directory"), "new-folder"),
      btn("Upload", "Upload files (or drop them on the list)", () => this.uploadInput.click(), "upload"),
      h("span", { class: "sep" }),
      ...this.selTools,
      h("span", { class: "spacer" }),
      (this.trashButton = btn("Trash", "Deleted files: restore them", () => this.toggleTrash(), "trash-button")),
      this.uploadInput,
    );
    this.crumbs = h("nav", { class: "crumbs file-crumbs", "aria-label": "Folder" });
    this.table = h("table", { class: "file-table" });
    this.uploads = h("div", { class: "uploads", "aria-live": "polite" });
    this.dropHint = h("div", { class: "drop-hint" }, "Drop files to upload them here");
    this.main = h("main", { class: "files-main" }, this.crumbs, this.uploads, this.table, this.dropHint);
    document.body.replaceChildren(topbar({ current: "files" }), toolbar, h("div", { class: "workspace" }, this.main));
    this.dropZone();
    document.addEventListener("keydown", (ev) => this.key(ev));
    // Back from the editor restores this page from the browser's cache: list the folder again.
    window.addEventListener("pageshow", (ev) => ev.persisted && (this.showTrash ? this.renderTrash() : this.load()));
    window.addEventListener("popstate", () => this.load(decodeURIComponent(location.pathname.slice(`${baseUrl()}files/`.length)).replace(/\/+$/, ""), false));
  }

  key(ev) {
    const t = ev.target;
    if (t.closest("textarea, select, .overlay, .search") || (t.tagName === "INPUT" && t.type !== "checkbox")) return;
    if (ev.key === "Delete" && this.selected.size) this.remove();
    else if (ev.key === "F2" && this.selected.size === 1) this.rename();
    else if (ev.key === "Escape") this.select([]);
    else return;
    ev.preventDefault();
  }

  dropZone() {
    let depth = 0;
    const on = (type, fn) => this.main.addEventListener(type, fn);
    on("dragenter", (ev) => {
      if (!ev.dataTransfer.types.includes("Files")) return;
      depth++;
      this.main.classList.add("dropping");
    });
    on("dragleave", () => --depth <= 0 && this.main.classList.remove("dropping"));
    on("dragover", (ev) => ev.dataTransfer.types.includes("Files") && ev.preventDefault());
    on("drop", (ev) => {
      ev.preventDefault();
      depth = 0;
      this.main.classList.remove("dropping");
      this.upload([...ev.dataTransfer.files]);
    });
  }

  async load(dir = this.dir, push = false) {
    this.dir = dir;
    this.showTrash = false;
    this.trashButton.classList.remove("active");
    if (push) history.pushState(null, "", `${projectBase(this.pid)}files/${encodePath(dir)}${dir ? "/" : ""}`);
    document.title = `${dir ? dir.split("/").pop() : "Files"} · Salvus Local`;
    this.renderCrumbs();
    const seq = (this.loads = (this.loads || 0) + 1); // only the latest listing draws
    let model;
    try {
      model = await contents.get(dir);
    } catch (err) {
      if (seq !== this.loads) return;
      this.table.replaceChildren(h("tbody", {}, h("tr", {}, h("td", { class: "muted empty", colSpan: 4 }, `Cannot list this folder: ${err.message}`))));
      return;
    }
    if (seq !== this.loads) return;
    this.items = (model.content || []).sort((a, b) => ((a.type === "directory") === (b.type === "directory") ? a.name.localeCompare(b.name, undefined, { numeric: true }) : a.type === "directory" ? -1 : 1));
    const names = new Set(this.items.map((i) => i.path));
    this.select([...this.selected].filter((p) => names.has(p)));
    this.render();
  }

  renderCrumbs() {
    const parts = this.dir.split("/").filter(Boolean);
    const link = (label, path) => h("a", { href: `${projectBase(this.pid)}files/${encodePath(path)}`, onclick: (ev) => (ev.preventDefault(), this.load(path, true)) }, label);
    this.crumbs.replaceChildren(link("Project files", ""), ...parts.flatMap((p, i) => [h("span", { class: "crumb-sep" }, "/"), i === parts.length - 1 ? h("strong", { "aria-current": "page" }, p) : link(p, parts.slice(0, i + 1).join("/"))]));
  }

  render() {
    const all = h("input", { type: "checkbox", "aria-label": "Select all", onchange: (ev) => this.select(ev.target.checked ? this.items.map((i) => i.path) : []) });
    const head = h("thead", {}, h("tr", {}, h("th", { class: "check" }, all), h("th", {}, "Name"), h("th", { class: "size" }, "Size"), h("th", { class: "modified" }, "Modified")));
    const rows = this.items.map((item) => this.row(item));
    if (this.dir) rows.unshift(h("tr", { class: "up" }, h("td", {}), h("td", { colSpan: 3 }, h("a", { href: "#", onclick: (ev) => (ev.preventDefault(), this.load(parent(this.dir), true)) }, "↰ Parent folder"))));
    if (!this.items.length) rows.push(h("tr", {}, h("td", {}), h("td", { class: "muted empty", colSpan: 3 }, "This folder is empty. Create a notebook or a file, or drop files here to upload them.")));
    this.table.replaceChildren(head, h("tbody", {}, ...rows));
    this.updateTools();
  }

  row(item) {
    const href = openHref(item);
    const kind = item.type === "file" && BINARY.test(item.name) ? "binary" : item.type;
    const name = item.type === "directory" ? `${item.name}/` : item.name;
    const link = item.type === "file" && WORKSHEET.test(item.name)
      ? h("a", { class: "file-link worksheet-link", href: "#", title: "Import as a notebook (.ipynb beside it) and open it", onclick: (ev) => (ev.preventDefault(), this.importWorksheet(item)) }, name)
      : href
      ? h("a", { class: "file-link", href, onclick: (ev) => item.type === "directory" && !ev.ctrlKey && !ev.metaKey && (ev.preventDefault(), this.load(item.path, true)) }, name)
      : h("a", { class: "file-link", href: "#", title: "Download", onclick: (ev) => (ev.preventDefault(), downloadFile(item)) }, name);
    const check = h("input", { type: "checkbox", checked: this.selected.has(item.path), "aria-label": `Select ${item.name}`, onchange: () => this.toggle(item.path) });
    const tr = h(
      "tr",
      { class: `file-row ${item.type}`, dataset: { path: item.path } },
      h("td", { class: "check" }, check),
      h("td", { class: "name" }, icon(kind), link),
      h("td", { class: "size" }, item.type === "directory" ? "" : formatSize(item.size)),
      h("td", { class: "modified" }, h("time", { datetime: item.last_modified, title: new Date(item.last_modified).toLocaleString() }, when(item.last_modified))),
    );
    tr.addEventListener("click", (ev) => !ev.target.closest("a, input") && this.toggle(item.path));
    return tr;
  }

  /** Convert a worksheet into an .ipynb beside it (the worksheet stays) and open the notebook. */
  async importWorksheet(item) {
    try {
      const nb = await api("POST", "api/worksheets/import", { path: item.path });
      toast(`Imported ${item.name} as ${nb.name}`);
      location.href = openHref(nb);
    } catch (err) {
      toast(`Cannot import ${item.name}: ${err.message}`, 10000);
    }
  }

  toggle(path) {
    const s = new Set(this.selected);
    s.has(path) ? s.delete(path) : s.add(path);
    this.select([...s]);
  }

  select(paths) {
    this.selected = new Set(paths);
    for (const tr of this.table.querySelectorAll("tr.file-row")) {
      const on = this.selected.has(tr.dataset.path);
      tr.classList.toggle("selected", on);
      tr.querySelector("input").checked = on;
    }
    this.updateTools();
  }

  updateTools() {
    const chosen = this.chosen();
    const files = chosen.length && chosen.every((i) => i.type !== "directory");
    for (const b of this.selTools) {
      b.disabled = this.showTrash || (b.classList.contains("sel-one") ? chosen.length !== 1 : b.classList.contains("sel-files") ? !files : !chosen.length);
    }
  }

  chosen() {
    return this.items.filter((i) => this.selected.has(i.path));
  }

  async create(type) {
    const label = { notebook: "New notebook", file: "New file", directory: "New folder" }[type];
    const suggestion = { notebook: "Untitled.ipynb", file: "untitled.txt", directory: "New folder" }[type];
    let name = await ask({ title: label, message: `Name, in ${this.dir || "the project's top folder"}:`, value: suggestion, ok: "Create", selectStem: true });
    if (!name || !(name = name.trim())) return;
    if (type === "notebook" && !name.endsWith(".ipynb")) name += ".ipynb";
    const path = join(this.dir, name);
    try {
      if (this.items.some((i) => i.name === name)) throw new Error(`${name} already exists`);
      const model = type === "directory" ? { type: "directory" } : type === "notebook" ? undefined : { type: "file", format: "text", content: "" };
      const saved = await contents.save(path, model);
      if (type === "directory") return this.load(saved.path, true);
      location.href = openHref({ ...saved, name });
    } catch (err) {
      toast(`Could not create ${name}: ${err.message}`, 6000);
    }
  }

  publish() {
    const [item] = this.chosen();
    if (item) publishDialog({ project: this.pid, path: item.path, name: item.name, isNotebook: item.type === "notebook" });
  }

  async rename() {
    const [item] = this.chosen();
    if (!item) return;
    const name = await ask({ title: `Rename ${item.name}`, message: "New name:", value: item.name, ok: "Rename", selectStem: item.type !== "directory" });
    if (!name || name.trim() === item.name) return;
    if (name.includes("/")) return toast("A name cannot contain “/”: use Move to put it in another folder.", 6000);
    await this.moveTo(item, join(this.dir, name.trim()));
    this.load();
  }

  async move() {
    const chosen = this.chosen();
    const dest = await ask({ title: `Move ${chosen.length === 1 ? chosen[0].name : `${chosen.length} items`}`, message: "To the folder (path from the project's top folder; empty is the top):", value: this.dir, ok: "Move" });
    if (dest === null) return;
    const dir = dest.trim().replace(/^\/+|\/+$/g, "");
    for (const item of chosen) await this.moveTo(item, join(dir, item.name));
    this.load();
  }

  async moveTo(item, newPath) {
    try {
      await contents.rename(item.path, newPath);
      toast(`${item.name} → ${newPath}`);
    } catch (err) {
      toast(`Could not move ${item.name}: ${err.message}`, 6000);
    }
  }

  async copy() {
    const chosen = this.chosen();
    const dest = await ask({ title: `Copy ${chosen.length === 1 ? chosen[0].name : `${chosen.length} files`}`, message: "Into the folder (a copy in the same folder is named “…-Copy1”):", value: this.dir, ok: "Copy" });
    if (dest === null) return;
    const dir = dest.trim().replace(/^\/+|\/+$/g, "");
    for (const item of chosen) {
      try {
        const model = await contents.copy(item.path, dir);
        toast(`Copied to ${model.path}`);
      } catch (err) {
        toast(`Could not copy ${item.name}: ${err.message}`, 6000);
      }
    }
    this.load();
  }

  async remove() {
    const chosen = this.chosen();
    const done = [];
    for (const item of chosen) {
      try {
        await contents.remove(item.path);
        done.push(item);
      } catch (err) {
        toast(`Could not delete ${item.name}: ${err.message}`, 6000);
      }
    }
    this.select([]);
    await this.load();
    if (!done.length) return;
    const undo = h("button", { class: "link-button toast-action", onclick: () => this.undoDelete(done, undo) }, "Undo");
    toast(h("span", {}, `Moved ${done.length === 1 ? done[0].name : `${done.length} items`} to the trash. `, undo), 10000);
  }

  async undoDelete(items, button) {
    button.disabled = true;
    let trash = [];
    try {
      trash = await projects.trash(this.pid);
    } catch (err) {
      return toast(`Could not read the trash: ${err.message}`);
    }
    for (const item of items) {
      const entry = trash.find((t) => t.path === item.path);
      if (entry) await this.untrash(entry, false);
    }
    this.load();
  }

  async untrash(entry, reload = true) {
    try {
      await projects.untrash(this.pid, entry.id);
      toast(`Restored ${entry.path}`);
    } catch (err) {
      if (err.status !== 409) return toast(`Could not restore ${entry.path}: ${err.message}`, 6000);
      const other = await ask({ title: "Name taken", message: `${entry.path} exists again. Restore the deleted one under another name:`, value: entry.path.replace(/(\.[^./]+)?$/, " (restored)$1"), ok: "Restore" });
      if (other) await projects.untrash(this.pid, entry.id, other.trim()).then(() => toast(`Restored as ${other}`), (e) => toast(`Could not restore: ${e.message}`, 6000));
    }
    if (reload) this.showTrash ? this.renderTrash() : this.load();
  }

  toggleTrash() {
    if (this.showTrash) return this.load();
    clearTimeout(this.reloadTimer); // a listing reload still pending must not switch the view back
    this.showTrash = true;
    this.trashButton.classList.add("active");
    this.renderTrash();
  }

  async renderTrash() {
    const seq = (this.loads = (this.loads || 0) + 1); // the trash and the listing share one "latest wins" turn
    this.crumbs.replaceChildren(h("a", { href: "#", onclick: (ev) => (ev.preventDefault(), this.load()) }, "← Back to the files"), h("span", { class: "crumb-sep" }, "/"), h("strong", {}, "Trash"));
    this.updateTools();
    let trash;
    try {
      trash = await projects.trash(this.pid);
    } catch (err) {
      trash = [];
      if (seq === this.loads) toast(`Could not read the trash: ${err.message}`);
    }
    if (seq !== this.loads || !this.showTrash) return; // the listing was asked for meanwhile
    const head = h("thead", {}, h("tr", {}, h("th", { class: "check" }), h("th", {}, "Deleted file"), h("th", { class: "size" }), h("th", { class: "modified" }, "Deleted")));
    const rows = trash.map((t) =>
      h("tr", { class: "trash-row", dataset: { path: t.path } },
        h("td", {}),
        h("td", { class: "name" }, icon(t.type === "directory" ? "directory" : "file"), t.path),
        h("td", { class: "size" }, h("button", { class: "tool restore", onclick: () => this.untrash(t) }, "Restore")),
        h("td", { class: "modified" }, when(t.deleted))),
    );
    if (!rows.length) rows.push(h("tr", {}, h("td", {}), h("td", { class: "muted empty", colSpan: 3 }, "The trash is empty.")));
    this.table.replaceChildren(head, h("tbody", {}, ...rows));
  }

  async download() {
    for (const item of this.chosen()) await downloadFile(item);
  }

  async upload(files) {
    for (const file of files) {
      const path = join(this.dir, file.name);
      if (this.items.some((i) => i.path === path)) {
        const ok = await ask({ title: "Replace file?", message: `${file.name} already exists here. Replace it with the uploaded file? (The old content stays in its history.)`, ok: "Replace", danger: true });
        if (!ok) continue;
      }
      await uploadFile(file, path, this.uploads);
    }
    this.load();
  }

  async start() {
    this.layout();
    // Changes on disk (a terminal, another tab, git) show up in the listing. The feed learns its
    // position before the first listing is read, so a change made in between is not missed.
    this.feed.addEventListener("change", (ev) => {
      const e = ev.detail;
      if (this.showTrash || e.type.startsWith("snapshot")) return;
      if ([e.path, e.dest_path].some((p) => p != null && parent(p) === this.dir)) {
        clearTimeout(this.reloadTimer);
        // The user may open the trash before it fires: then the reload is not theirs to see.
        this.reloadTimer = setTimeout(() => !this.showTrash && this.load(), 300);
      }
    });
    await this.feed.start();
    await this.load(this.dir);
  }
}

new FileBrowser().start();
