// The search box of the top bar: past computations and chat messages of every project (GET /api/search).
// Results show project, file, time and snippets; opening one jumps to its notebook cell, or
// opens the chat panel at the message (#chat=<id>, see chat/toggle.js).
import { search, projectBase, projectId, encodePath, projectTitles } from "./api.js";
import { me } from "./accounts/api.js";
import { h } from "./dom.js";

const JUMP_KEY = "salvus.jump";

/** Where a computation lives: its notebook at the cell, a text file, or the scratchpad. */
export function resultHref(r) {
  const base = projectBase(r.project_id || "default");
  if (r.kind === "chat") {
    const jump = `#chat=${r.id}`;
    if (!r.path) return `${base}${jump}`;
    return `${base}${r.path.endsWith(".ipynb") ? "notebooks" : "edit"}/${encodePath(r.path)}${jump}`;
  }
  if (!r.path) return base;
  const cell = r.cell_id ? `#cell=${encodeURIComponent(r.cell_id)}` : "";
  return r.path.endsWith(".ipynb") ? `${base}notebooks/${encodePath(r.path)}${cell}` : `${base}edit/${encodePath(r.path)}`;
}

/** The server marks matches between \u0002 and \u0003 (characters no code or output contains). */
export function markSnippet(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(/\u0002([^\u0003]*)\u0003/gu)) {
    out.push(text.slice(last, m.index), h("mark", {}, m[1]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function ago(iso) {
  const d = new Date(iso);
  const secs = (Date.now() - d) / 1000;
  if (secs < 60) return "just now";
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86400 && new Date().toDateString() === d.toDateString()) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export class SearchBox {
  constructor() {
    this.input = h("input", {
      type: "search",
      class: "search-input",
      placeholder: "Search  /",
      title: "Search past computations and chat messages (press / to focus)",
      "aria-label": "Search past computations and chat messages in all projects",
      autocomplete: "off",
      spellcheck: false,
    });
    this.panel = h("div", { class: "search-results", hidden: true, role: "listbox", "aria-label": "Search results" });
    this.el = h("div", { class: "search", role: "search" }, this.input, this.panel);
    this.items = [];
    this.active = -1;
    this.input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(), 250);
    });
    this.input.addEventListener("keydown", (ev) => this.key(ev));
    this.input.addEventListener("focus", () => this.items.length && this.show(true));
    document.addEventListener("mousedown", (ev) => !this.el.contains(ev.target) && this.show(false));
    // "/" focuses the box from anywhere that is not a text field (as on GitHub).
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const t = ev.target;
      if (t.closest && t.closest("input, textarea, select, .cm-editor, .xterm, [contenteditable]")) return;
      ev.preventDefault();
      this.input.focus();
      this.input.select();
    });
  }

  show(on) {
    this.panel.hidden = !on;
  }

  key(ev) {
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (ev.key in moves && this.items.length) {
      ev.preventDefault();
      this.select((this.active + moves[ev.key] + this.items.length) % this.items.length);
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      clearTimeout(this.timer);
      if (this.active >= 0 && !this.panel.hidden) this.items[this.active].click();
      else this.run();
    } else if (ev.key === "Escape") {
      this.show(false);
      this.input.blur();
    }
    ev.stopPropagation(); // the notebook's command keys must not see typing here
  }

  select(i) {
    this.items.forEach((el, j) => el.setAttribute("aria-selected", String(i === j)));
    this.active = i;
    if (this.items[i]) this.items[i].scrollIntoView({ block: "nearest" });
  }

  async run() {
    const q = this.input.value.trim();
    const seq = (this.seq = (this.seq || 0) + 1); // also when emptied: a search still on its way must not show
    if (!/\w/u.test(q)) {
      this.items = [];
      this.show(false);
      return;
    }
    let reply;
    try {
      // With accounts the server searches one project (the home one unless named): the one on screen.
      const who = await me().catch(() => null);
      reply = await search(q, 30, who && who.mode === "multi" && projectId() !== "default" ? projectId() : null);
    } catch (err) {
      if (seq === this.seq) this.render([h("div", { class: "search-empty" }, `Search failed: ${err.message}`)]);
      return;
    }
    const names = await projectTitles();
    if (seq !== this.seq) return; // a newer query is on its way
    const results = reply.results || [];
    if (!results.length) return this.render([h("div", { class: "search-empty" }, `No computation or chat message matches “${q}”.`)]);
    this.items = results.map((r) => this.item(r, names, q));
    this.render(this.items);
  }

  render(nodes) {
    if (!nodes.some((n) => n.classList.contains("search-hit"))) this.items = [];
    this.panel.replaceChildren(...nodes);
    this.active = -1;
    this.show(true);
  }

  item(r, names, q) {
    const project = names.get(r.project_id) || (r.project_id && r.project_id !== "default" ? r.project_id : "Home");
    if (r.kind === "chat") return this.chatItem(r, project);
    const where = r.path || "Scratchpad";
    const el = h(
      "a",
      { class: "search-hit", href: resultHref(r), role: "option", title: `Open ${where}` },
      h("div", { class: "hit-head" }, h("span", { class: "hit-project" }, project), h("span", { class: "hit-path" }, where), h("time", { class: "hit-time", datetime: r.time }, ago(r.time))),
      h("pre", { class: "hit-input" }, ...markSnippet(r.input_snippet || "")),
      r.output_snippet ? h("pre", { class: "hit-output" }, ...markSnippet(r.output_snippet)) : null,
    );
    el.addEventListener("click", () => {
      // The notebook finds the cell by id, or by its code when the id was not recorded.
      sessionStorage.setItem(JUMP_KEY, JSON.stringify({ path: r.path, cell: r.cell_id, computation: r.id, query: q }));
    });
    return el;
  }

  /** A chat message found by the search: who wrote it where, and the matching words. */
  chatItem(r, project) {
    const where = r.path ? `Chat · ${r.path}` : "Project chat";
    return h(
      "a",
      { class: "search-hit chat-hit", href: resultHref(r), role: "option", title: "Open the chat at this message" },
      h("div", { class: "hit-head" }, h("span", { class: "hit-project" }, project), h("span", { class: "hit-path" }, where), h("time", { class: "hit-time", datetime: r.time }, ago(r.time))),
      h("div", { class: "hit-chat" }, h("strong", { class: "hit-author" }, `${r.author}: `), ...markSnippet(r.snippet || "")),
    );
  }
}

/** The jump a search result asked for (read once), if it is for this notebook. */
export function takeJump(path) {
  let jump = null;
  try {
    jump = JSON.parse(sessionStorage.getItem(JUMP_KEY) || "null");
  } catch {
    jump = null;
  }
  sessionStorage.removeItem(JUMP_KEY);
  const cell = new URLSearchParams(location.hash.slice(1)).get("cell");
  if (jump && jump.path === path) return { ...jump, cell: cell || jump.cell };
  return cell ? { cell } : null;
}
