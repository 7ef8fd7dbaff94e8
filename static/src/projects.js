// The project list (/projects): open, create, open an existing folder, clone a git URL
// (with progress), rename, archive, delete to the trash and restore. With accounts, "Mine"
// and "Shared with me" (and, for admins, other people's), and a collaborators dialog.
import "./style.css";
import "./pages.css";
import { projects, projectBase, rootApi, rootUrl } from "./api.js";
import { topbar } from "./chrome.js";
import { h, toast, ask } from "./dom.js";
import { me } from "./accounts/api.js";
import { collaboratorsDialog } from "./accounts/collaborators.js";
import { syncSlot } from "./sync/badge.js";

// Which projects each tab shows, by the caller's role in them (accounts mode).
const SHARED = new Set(["editor", "viewer"]);
const TABS = {
  active: (p) => !p.role || p.role === "owner",
  shared: (p) => SHARED.has(p.role),
  others: (p) => p.role === "admin",
};

function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "never";
}

class ProjectsPage {
  constructor() {
    this.view = "active"; // active | shared | others | archived | trash
    this.multi = false;
  }

  layout() {
    const tab = (key, label) => h("button", { class: "tab", role: "tab", dataset: { view: key }, onclick: () => this.show(key) }, label);
    const tabs = this.multi
      ? [tab("active", "Mine"), tab("shared", "Shared with me"), this.admin ? tab("others", "Other people's") : null]
      : [tab("active", "Projects")];
    this.tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Which projects" }, ...tabs.filter(Boolean), tab("archived", "Archived"), tab("trash", "Trash"));
    this.list = h("div", { class: "project-list", "aria-live": "polite" });
    this.jobs = h("div", { class: "jobs" });
    const title = h("input", { name: "title", placeholder: "Title of a new project", "aria-label": "Title of a new project", required: true });
    const create = h("form", { class: "inline-form create-project", onsubmit: (ev) => (ev.preventDefault(), this.create(title)) }, title, h("button", { class: "primary" }, "Create"));
    const url = h("input", { name: "url", placeholder: "https://github.com/user/repo.git", "aria-label": "Git URL to clone", required: true });
    const clone = h("form", { class: "inline-form clone-project", onsubmit: (ev) => (ev.preventDefault(), this.clone(url)) }, url, h("button", { class: "tool" }, "Clone"));
    const folder = h("input", { name: "folder", placeholder: "/home/me/thesis", "aria-label": "Folder to open as a project", required: true });
    const open = h("form", { class: "inline-form open-folder", onsubmit: (ev) => (ev.preventDefault(), this.openFolder(folder)) }, folder, h("button", { class: "tool" }, "Open"));
    const add = h(
      "section",
      { class: "add-project", "aria-label": "Add a project" },
      h("h2", {}, "New project"),
      create,
      h("h3", {}, "Clone a git repository"),
      clone,
      // With accounts, only an admin opens folders of the server's computer.
      ...(this.multi && !this.admin
        ? []
        : [h("h3", {}, "Open a folder on this computer"), h("p", { class: "hint" }, "Its files stay where they are; a git repository is made there if it has none."), open]),
      this.jobs,
    );
    const main = h("main", { class: "projects-page" }, h("section", { class: "projects-col" }, h("h1", {}, "Projects", this.multi ? h("a", { class: "courses-from-projects", href: `${rootUrl()}courses`, title: "Courses you teach or take: assignments, due dates, feedback" }, "Courses") : null), this.tabs, this.list), add);
    document.body.replaceChildren(topbar({}), h("div", { class: "workspace" }, main));
  }

  async show(view = this.view) {
    this.view = view;
    for (const t of this.tabs.children) t.setAttribute("aria-selected", String(t.dataset.view === view));
    // Only the latest listing draws: a tab clicked while the first listing loads (or a refresh
    // after an action) must not be overwritten by an older answer for another tab.
    const seq = (this.shows = (this.shows || 0) + 1);
    let list;
    // Unread chat per project, for a badge on its card (the list shows without it when this fails).
    const unread = view === "trash" ? Promise.resolve(null) : rootApi("GET", "api/notifications").catch(() => null);
    try {
      list = await projects.list(view === "trash" ? "?deleted=1" : view === "archived" ? "?archived=1" : "");
    } catch (err) {
      if (seq === this.shows) this.list.replaceChildren(h("p", { class: "muted" }, `Cannot list projects: ${err.message}`));
      return;
    }
    if (view === "archived") list = list.filter((p) => p.archived);
    else if (TABS[view]) list = list.filter(TABS[view]);
    const empty = {
      active: "No projects yet: create one on the right.",
      shared: "Nobody has shared a project with you yet.",
      others: "Nobody else has projects yet.",
      archived: "No archived projects.",
      trash: "The trash is empty.",
    }[view];
    const counts = new Map();
    for (const c of (await unread)?.unread || []) {
      const n = counts.get(c.project_id) || { count: 0, mentions: 0 };
      counts.set(c.project_id, { count: n.count + c.count, mentions: n.mentions + c.mentions });
    }
    if (seq !== this.shows) return;
    this.list.replaceChildren(...(list.length ? list.map((p) => this.card(p, counts.get(p.id))) : [h("p", { class: "muted" }, empty)]));
  }

  card(p, unread = null) {
    const btn = (label, title, fn, cls = "tool") => h("button", { class: cls, title, onclick: fn }, label);
    // Only the owner (or an admin) renames, archives, deletes and shares; others just open.
    const manages = !p.role || p.role === "owner" || p.role === "admin";
    const share = this.multi && manages && p.id !== "default" ? btn("Collaborators", "Who else can open this project", () => collaboratorsDialog(p).then(() => this.show()), "tool collaborators-button") : null;
    const actions = !manages
      ? []
      : this.view === "trash"
        ? [btn("Restore", "Bring the project back", () => this.act(projects.restore(p.id), `Restored ${p.title}`), "primary restore-project")]
        : [
            btn("Rename", "Change the title", () => this.rename(p), "tool rename-project"),
            p.archived
              ? btn("Unarchive", "Show it in the project list again", () => this.act(projects.update(p.id, { archived: false }), `${p.title} is back in the list`), "tool unarchive-project")
              : btn("Archive", "Hide it from the list (nothing is deleted)", () => this.act(projects.update(p.id, { archived: true }), `Archived ${p.title}`), "tool archive-project"),
            p.id === "default" || p.home ? null : btn("Delete", "Move to the trash (restorable)", () => this.remove(p), "tool delete-project"),
            share,
          ];
    const shared = p.role && p.role !== "owner"
      ? h(
          "span",
          { class: `role-badge role-${p.role}`, title: p.role === "viewer" ? "You can read its files and outputs, not change them or run code" : "" },
          { viewer: `Read only · shared by ${p.owner}`, editor: `Editor · shared by ${p.owner}` }[p.role] || `${p.owner}'s project`,
        )
      : null;
    const base = projectBase(p.id);
    return h(
      "article",
      { class: "project-card", dataset: { id: p.id } },
      h(
        "div",
        { class: "project-main" },
        this.view === "trash" ? h("strong", { class: "project-title" }, p.title) : h("a", { class: "project-title", href: `${base}files/` }, p.title),
        unread && unread.count
          ? h(
              "a",
              {
                class: `project-unread${unread.mentions ? " mention" : ""}`,
                href: `${base}files/`,
                title: `${unread.count} unread chat message${unread.count === 1 ? "" : "s"}${unread.mentions ? `, ${unread.mentions} mentioning you` : ""}`,
              },
              unread.count > 99 ? "99+" : String(unread.count),
            )
          : null,
        shared,
        h("div", { class: "project-meta" }, h("span", { title: p.path }, p.path), p.origin ? h("span", {}, ` · from ${p.origin}`) : null),
        h("div", { class: "project-meta" }, this.view === "trash" ? `Deleted ${when(p.deleted)}` : `Last opened ${when(p.last_opened)}`),
        this.view === "trash" ? null : syncSlot(p.id),
      ),
      this.view === "trash"
        ? null
        : h(
            "nav",
            { class: "project-links" },
            h("a", { href: `${base}files/` }, "Files"),
            p.role === "viewer" ? null : h("a", { href: base }, "Scratchpad"),
            p.role === "viewer" ? null : h("a", { href: `${base}terminals/` }, "Terminal"),
          ),
      actions.some(Boolean) ? h("div", { class: "project-actions" }, ...actions) : null,
    );
  }

  async act(promise, message) {
    try {
      await promise;
      toast(message);
    } catch (err) {
      toast(err.message, 8000);
    }
    this.show();
  }

  async create(input) {
    const title = input.value.trim();
    if (!title) return;
    try {
      const p = await projects.create({ title });
      input.value = "";
      location.href = `${projectBase(p.id)}files/`;
    } catch (err) {
      toast(`Could not create the project: ${err.message}`, 8000);
    }
  }

  async openFolder(input) {
    try {
      const p = await projects.create({ open: input.value.trim() });
      location.href = `${projectBase(p.id)}files/`;
    } catch (err) {
      toast(`Could not open that folder: ${err.message}`, 8000);
    }
  }

  async rename(p) {
    const title = await ask({ title: `Rename ${p.title}`, message: "New title:", value: p.title, ok: "Rename" });
    if (title && title.trim() && title.trim() !== p.title) this.act(projects.update(p.id, { title: title.trim() }), `Renamed to ${title.trim()}`);
  }

  async remove(p) {
    const ok = await ask({ title: `Delete ${p.title}?`, message: "The project goes to the trash; you can restore it from there.", ok: "Delete", danger: true });
    if (!ok) return;
    try {
      await projects.remove(p.id);
    } catch (err) {
      return toast(err.message, 8000);
    }
    const undo = h("button", { class: "link-button toast-action", onclick: () => this.act(projects.restore(p.id), `Restored ${p.title}`) }, "Undo");
    toast(h("span", {}, `Moved ${p.title} to the trash. `, undo), 10000);
    this.show();
  }

  /** Start a clone job and show its progress until it ends. */
  async clone(input) {
    const url = input.value.trim();
    let job;
    try {
      job = await projects.create({ clone: url });
    } catch (err) {
      return toast(`Could not clone: ${err.message}`, 8000);
    }
    input.value = "";
    const bar = h("progress", { max: 1 });
    const text = h("span", { class: "job-text" }, "Starting…");
    const row = h("div", { class: "job", role: "status" }, h("strong", {}, `Cloning ${url}`), bar, text);
    this.jobs.append(row);
    for (;;) {
      try {
        job = await projects.job(job.id);
      } catch (err) {
        text.textContent = `Lost track of the clone: ${err.message}`;
        return;
      }
      if (job.fraction != null) bar.value = job.fraction;
      else bar.removeAttribute("value");
      text.textContent = [job.stage, job.message].filter(Boolean).join(": ");
      if (job.state !== "running") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (job.state === "error") {
      row.classList.add("failed");
      text.textContent = `Failed: ${job.error && job.error.message}`;
      row.append(h("button", { class: "icon-button", title: "Dismiss", onclick: () => row.remove() }, "×"));
      return;
    }
    row.remove();
    toast(`Cloned into ${job.result.title}`);
    this.show("active");
  }

  async start() {
    try {
      const info = await me();
      this.multi = info.mode === "multi";
      this.admin = info.user && info.user.role === "admin";
    } catch {
      // Without /api/me the page works as for one user.
    }
    this.layout();
    await this.show("active");
  }
}

new ProjectsPage().start();
