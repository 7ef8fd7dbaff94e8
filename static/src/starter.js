// The landing page: a scratch box to run Sage code at once (no setup), its history kept
// in localStorage with the kernel it ran on, and the list of the project's notebooks.
import "katex/dist/katex.min.css";
import "./style.css";
import { contents, kernels, kernelspecs, baseUrl, encodePath, ApiError } from "./api.js";
import { Kernel } from "./kernel.js";
import { WidgetManager } from "./widgets/manager.js";
import { createEditor, getText, setText, atEdge } from "./editor.js";
import { OutputArea } from "./outputarea.js";
import { h, statusBadge, watchKernel, HelpPanel, inspectInto, toast } from "./ui.js";
import { topbar } from "./chrome.js";

const STATE_KEY = "salvus.scratch";
const MAX_ENTRIES = 200;

class Scratch {
  constructor() {
    this.help = new HelpPanel();
    this.badge = statusBadge();
    this.history = h("div", { class: "scratch-history", "aria-live": "polite" });
    this.kernel = null;
    this.state = this.loadState();
    this.recall = this.state.entries.length; // index into inputs for Up/Down
  }

  loadState() {
    try {
      const s = JSON.parse(localStorage.getItem(STATE_KEY) || "null");
      if (s && Array.isArray(s.entries)) return s;
    } catch {
      // A broken entry is dropped; the page starts fresh.
    }
    return { kernelId: null, entries: [] };
  }

  persist() {
    // Before the kernel is connected, the last visit's kernel is still the one to come back to.
    const state = { kernelId: this.kernel ? this.kernel.id : this.state.kernelId, entries: this.state.entries.map(({ area, ...e }) => ({ ...e, outputs: area ? area.toJSON() : e.outputs })) };
    // Drop the oldest entries until it fits in the browser's storage quota.
    while (state.entries.length) {
      try {
        localStorage.setItem(STATE_KEY, JSON.stringify(state));
        return;
      } catch {
        state.entries.shift();
        this.state.entries.shift();
      }
    }
  }

  layout() {
    const restart = h("button", { class: "tool", title: "Restart the kernel: variables are cleared", onclick: () => this.restart() }, "↻ Restart");
    const interrupt = h("button", { class: "tool", title: "Interrupt the running computation", onclick: () => this.kernel && this.kernel.interrupt() }, "■ Stop");
    const header = topbar({ right: [interrupt, restart, this.badge] });
    this.boxEl = h("div", { class: "scratch-input" });
    const run = h("button", { class: "primary run-button", title: "Run (Shift+Enter)", onclick: () => this.run() }, "Run");
    const clear = h("button", { class: "link-button", onclick: () => this.clearHistory() }, "Clear history");
    const box = h(
      "div",
      { class: "scratch-box" },
      h("div", { class: "prompt" }, "In:"),
      this.boxEl,
      h("div", { class: "scratch-actions" }, run, h("span", { class: "hint" }, "Shift+Enter runs · Tab completes · name? shows help · ↑ recalls"), h("span", { class: "spacer" }), clear),
    );
    const scratch = h(
      "section",
      { class: "scratch", "aria-label": "Scratch" },
      h("h1", {}, "Sage scratchpad"),
      h("p", { class: "intro" }, "Type Sage code and press Shift+Enter. Your work here stays in this browser; use a notebook to keep it as a file."),
      this.history,
      box,
    );
    this.files = new FileList();
    const main = h("main", { class: "starter" }, scratch, this.files.el);
    document.body.replaceChildren(header, h("div", { class: "workspace" }, main, this.help.el));
    this.followOutput(main, box);
    this.editor = createEditor({
      parent: this.boxEl,
      mode: "code",
      placeholder: "factor(2^64 - 1)",
      getKernel: () => this.kernel,
      onInspect: (code, pos) => inspectInto(this.help, this.kernel, code, pos),
      keys: [
        { key: "Shift-Enter", run: () => (this.run(), true) },
        { key: "Mod-Enter", run: () => (this.run(), true) },
        { key: "ArrowUp", run: (v) => atEdge(v, -1) && this.recallInput(-1) },
        { key: "ArrowDown", run: (v) => atEdge(v, 1) && this.recallInput(1) },
      ],
    });
    this.editor.contentDOM.setAttribute("aria-label", "Sage code");
  }

  recallInput(dir) {
    const inputs = this.state.entries.filter((e) => e.code != null);
    if (!inputs.length) return false;
    const next = this.recall + dir;
    if (next < 0 || next > inputs.length) return false;
    this.recall = next;
    setText(this.editor, next === inputs.length ? "" : inputs[next].code);
    return true;
  }

  /** Draw one history entry (input + outputs) and return it. */
  addEntry(entry) {
    if (entry.note) {
      this.history.append(h("div", { class: "scratch-note" }, entry.note));
      return entry;
    }
    const page = this;
    entry.area = new OutputArea({
      trusted: false,
      get widgets() {
        return page.widgets; // entries restored at load come before the kernel
      },
      onChange: () => this.schedulePersist(),
    });
    entry.area.set(entry.outputs || []);
    const prompt = h("div", { class: "prompt" }, `In [${entry.count ?? " "}]:`);
    const input = h("div", { class: "scratch-code", title: "Click to edit this again" });
    createEditor({ parent: input, doc: entry.code, mode: "code", readOnly: true });
    input.addEventListener("click", () => {
      setText(this.editor, entry.code);
      this.editor.focus();
    });
    entry.prompt = prompt;
    this.history.append(h("div", { class: "scratch-entry" }, h("div", { class: "scratch-in" }, prompt, input), h("div", { class: "scratch-out" }, h("div", { class: "prompt" }), entry.area.el)));
    return entry;
  }

  schedulePersist() {
    clearTimeout(this.persistTimer);
    this.persistTimer = setTimeout(() => this.persist(), 300);
  }

  run() {
    const code = getText(this.editor);
    if (!code.trim() || !this.kernel) return;
    if (this.kernel.pendingInput) {
      // As in a notebook: running now would queue behind the waiting input() and look frozen.
      toast("Not run: the kernel is waiting for input. Answer the input box (or press Stop), then run again.", 6000);
      const box = document.querySelector(".stdin-input");
      if (box) box.focus();
      return;
    }
    const entry = this.addEntry({ code, count: null, outputs: [] });
    this.state.entries.push(entry);
    if (this.state.entries.length > MAX_ENTRIES) this.state.entries.shift();
    this.recall = this.state.entries.filter((e) => e.code != null).length;
    entry.prompt.textContent = "In [*]:";
    setText(this.editor, "");
    this.kernel.execute(code, {
      onOutput: (msg) => entry.area.handle(msg),
      onInput: (content, reply) => entry.area.askInput(content, reply),
      onReply: (msg) => {
        entry.count = msg.content.execution_count;
        for (const p of msg.content.payload || []) if (p.source === "page" && p.data) this.help.show(p.data);
      },
      onDone: () => {
        entry.area.endInput();
        entry.prompt.textContent = `In [${entry.count ?? " "}]:`;
        this.persist();
      },
    });
    this.schedulePersist();
    this.following = true;  // running a cell means: show me its output
    requestAnimationFrame(() => this.boxEl.scrollIntoView({ block: "nearest" }));
  }

  /** Keep the newest output in view above the prompt while the user is following along: the
   * history grows (streams, plots that load later) and would otherwise slide under the sticky prompt. */
  followOutput(scroller, box) {
    const hidden = () => this.history.getBoundingClientRect().bottom - box.getBoundingClientRect().top;
    this.following = true;
    scroller.addEventListener("scroll", () => { this.following = hidden() <= 4; }, { passive: true });
    new ResizeObserver(() => {
      const d = hidden();
      if (this.following && d > 0) scroller.scrollTop += d;
    }).observe(this.history);
  }

  clearHistory() {
    this.state.entries = [];
    this.history.replaceChildren();
    this.recall = 0;
    this.persist();
    this.editor.focus();
  }

  async restart() {
    if (!this.kernel) return;
    try {
      await this.kernel.restart();
      this.note("Kernel restarted: earlier variables are gone.");
    } catch (err) {
      toast(`Restart failed: ${err.message}`);
    }
  }

  note(text) {
    this.state.entries.push(this.addEntry({ note: text }));
    this.persist();
  }

  /** Reconnect to the scratch kernel of the last visit, or start a new one. */
  async connect() {
    let model = null;
    if (this.state.kernelId) {
      try {
        model = await kernels.get(this.state.kernelId);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    }
    if (!model) {
      let name;
      try {
        name = (await kernelspecs()).default;
      } catch {
        name = undefined;
      }
      model = await kernels.start(name);
      if (this.state.entries.length) this.note("New kernel: variables from earlier runs are gone.");
    }
    this.kernel = new Kernel(model);
    this.widgets = new WidgetManager(this.kernel);
    window.salvus = { kernel: this.kernel, page: this };
    watchKernel(this.kernel, this.badge);
    this.kernel.addEventListener("status", (ev) => {
      if (ev.detail === "dead") this.note("The kernel died. Press Restart to get a new one.");
    });
    await this.kernel.connect();
    this.persist();
    if (await this.widgets.restore()) for (const e of this.state.entries) if (e.area) e.area.rerender(true);
  }

  async start() {
    this.layout();
    // A reload or a navigation right after a result arrived must not lose it: the debounced
    // save (schedulePersist) may not have run yet.
    window.addEventListener("pagehide", () => this.persist());
    for (const entry of this.state.entries) this.addEntry(entry);
    this.files.load("");
    this.editor.focus();
    try {
      await this.connect();
    } catch (err) {
      this.badge.set("dead");
      toast(`Could not start a kernel: ${err.message}`, 8000);
    }
  }
}

/** The project's notebooks and folders, with "New notebook". */
class FileList {
  constructor() {
    this.list = h("ul", { class: "file-list" });
    this.crumbs = h("div", { class: "crumbs" });
    this.el = h(
      "aside",
      { class: "files", "aria-label": "Notebooks" },
      h("div", { class: "files-head" }, h("h2", {}, "Notebooks"), h("button", { class: "primary new-notebook", onclick: () => this.create() }, "New notebook")),
      this.crumbs,
      this.list,
      h("a", { class: "all-files", href: `${baseUrl()}files/`, title: "Every file of the project: upload, rename, move, trash" }, "All files →"),
      h("footer", { class: "app-footer" }, `Salvus Local ${document.body.dataset.version || ""}`.trim(), " · BSD-3-Clause"),
    );
    this.dir = "";
  }

  async load(dir) {
    this.dir = dir;
    const parts = dir.split("/").filter(Boolean);
    this.crumbs.hidden = !parts.length;
    this.crumbs.replaceChildren(
      h("button", { class: "link-button", onclick: () => this.load("") }, "Home"),
      ...parts.flatMap((p, i) => [" / ", h("button", { class: "link-button", onclick: () => this.load(parts.slice(0, i + 1).join("/")) }, p)]),
    );
    const seq = (this.loads = (this.loads || 0) + 1); // only the latest listing draws
    let model;
    try {
      model = await contents.get(dir);
    } catch (err) {
      if (seq === this.loads) this.list.replaceChildren(h("li", { class: "muted" }, `Cannot list notebooks: ${err.message}`));
      return;
    }
    if (seq !== this.loads) return;
    const items = (model.content || [])
      .filter((f) => f.type === "directory" || f.type === "notebook")
      .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === "directory" ? -1 : 1));
    if (!items.length) {
      this.list.replaceChildren(h("li", { class: "muted" }, "No notebooks yet."));
      return;
    }
    this.list.replaceChildren(
      ...items.map((f) =>
        f.type === "directory"
          ? h("li", { class: "dir" }, h("button", { class: "link-button", onclick: () => this.load(f.path) }, `${f.name}/`))
          : h("li", { class: "nb" }, h("a", { href: `${baseUrl()}notebooks/${encodePath(f.path)}` }, f.name), h("time", { class: "muted" }, when(f.last_modified))),
      ),
    );
  }

  async create() {
    try {
      const model = await contents.create(this.dir, "notebook");
      location.href = `${baseUrl()}notebooks/${encodePath(model.path)}`;
    } catch (err) {
      toast(`Could not create a notebook: ${err.message}`);
    }
  }
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString();
}

new Scratch().start();
