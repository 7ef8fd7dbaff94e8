// Sync badges: on the projects page one per linked project (state, last sync, a Sync button);
// in every project page's top bar a badge that opens a panel with the state, the last sync, the
// error if any, a Sync button and the conflict list linking both versions of each file.
// The server syncs in the background (every few minutes, soon after saves, backing off while
// offline); these only show it and poll the status, so editing never waits on them.
import "./badge.css";
import { rootApi, projectBase, encodePath } from "../api.js";
import { h, toast } from "../dom.js";

const POLL_MS = 15000;
const LABEL = {
  synced: "Synced",
  ahead: "Ahead",
  behind: "Behind",
  diverged: "Ahead & behind",
  conflict: "Conflict",
  offline: "Offline",
  error: "Sync error",
  syncing: "Syncing…",
};
const HELP = {
  synced: "Everything here is on the remote, and the remote's work is here.",
  ahead: "Work made here is not on the remote yet: it goes with the next sync.",
  behind: "The remote has work not merged here yet: it comes with the next sync.",
  diverged: "Both sides have new work: the next sync merges it (nothing is lost).",
  conflict: "Both sides changed the same files: both versions are kept. Look at them below.",
  offline: "The remote could not be reached: your work is kept here and syncs when it is back.",
  error: "The last sync needs you: see the message.",
  syncing: "A sync is running.",
};

const statusUrl = (id) => `api/projects/${encodeURIComponent(id)}/sync`;

/** "just now", "5 min ago", "3 h ago", or a date; "never" for null. */
export function ago(seconds) {
  if (!seconds) return "never";
  const s = Date.now() / 1000 - seconds;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(seconds * 1000).toLocaleDateString([], { dateStyle: "medium" });
}

function badge(info) {
  const state = info.state in LABEL ? info.state : "synced";
  let text = LABEL[state];
  if (state === "ahead" && info.ahead) text = `Ahead ${info.ahead}`;
  if (state === "behind" && info.behind) text = `Behind ${info.behind}`;
  if (state === "conflict") text = info.conflicts.length > 1 ? `${info.conflicts.length} conflicts` : "1 conflict";
  const title = `${HELP[state]}${info.last_error && (state === "error" || state === "offline") ? `\n${info.last_error}` : ""}\nLast sync: ${ago(info.last_sync)}`;
  return h("span", { class: `sync-badge sync-${state}`, title, dataset: { state } }, h("span", { class: "sync-dot", "aria-hidden": "true" }), text);
}

async function syncNow(id, button) {
  button.disabled = true;
  const old = button.textContent;
  button.textContent = "Syncing…";
  try {
    const r = await rootApi("POST", statusUrl(id), { action: "sync" });
    if (!r.ok) toast(r.error, 8000);
    return r.status;
  } catch (err) {
    toast(err.message, 8000);
    return null;
  } finally {
    button.disabled = false;
    button.textContent = old;
  }
}

// --- The projects page ----------------------------------------------------------------------

let allStatus = null;
/** Everything the projects page shows, fetched once per list drawing. */
function statuses() {
  allStatus ||= rootApi("GET", "api/sync/status").then((r) => r.projects).catch(() => ({}));
  setTimeout(() => (allStatus = null), 2000);
  return allStatus;
}

/** A slot in a project card: the badge, last sync and a Sync button once the status says it is linked. */
export function syncSlot(id) {
  const slot = h("div", { class: "sync-slot" });
  const draw = (info) => {
    if (!info) return slot.replaceChildren();
    const button = h("button", { type: "button", class: "tool sync-now", title: "Sync with the remote now" }, "Sync");
    button.onclick = async () => draw(await syncNow(id, button) || info);
    slot.replaceChildren(badge(info), h("span", { class: "sync-when muted" }, `last sync ${ago(info.last_sync)}`), info.remote ? button : null);
  };
  statuses().then((all) => draw(all[id]));
  return slot;
}

// --- Project pages: the top bar's badge and its panel ------------------------------------------

function fileHref(pid, path, kind) {
  const base = projectBase(pid);
  if (kind === "binary") {
    const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    return `${base}files/${encodePath(folder)}`;
  }
  return path.endsWith(".ipynb") ? `${base}notebooks/${encodePath(path)}` : `${base}edit/${encodePath(path)}`;
}

function conflictList(pid, conflicts) {
  const what = {
    text: "both changed it",
    binary: "both changed it",
    notebook: "both changed the same cells: the notebook shows both",
    "edit-vs-delete": "edited here, deleted there: kept",
    "delete-vs-edit": "deleted here, edited there: kept",
    "untracked-renamed": "a file of yours was in the way: renamed",
    "edited-during-sync": "edited during the sync",
  };
  return h(
    "ul",
    { class: "sync-conflicts" },
    ...conflicts.map((c) =>
      h(
        "li",
        {},
        h("div", {}, c.other ? h("span", { class: "sync-side" }, "Yours ") : null, h("a", { href: fileHref(pid, c.path, c.kind), class: "sync-mine" }, c.path)),
        c.other ? h("div", {}, h("span", { class: "sync-side" }, "Other "), h("a", { href: fileHref(pid, c.other, c.kind), class: "sync-theirs" }, c.other)) : null,
        h("div", { class: "hint" }, what[c.kind] || c.kind),
      ),
    ),
  );
}

/** Put a sync badge in a project page's top bar (nothing when the project is not linked). */
export function mountSyncBadge(nav, pid) {
  const holder = h("details", { class: "sync-menu", hidden: true });
  nav.append(holder);
  let timer = null;
  const draw = (info) => {
    if (!info || (!info.remote && !info.conflicts.length)) return (holder.hidden = true);
    holder.hidden = false;
    const button = h("button", { type: "button", class: "primary sync-now" }, "Sync now");
    button.onclick = async () => draw(await syncNow(pid, button) || info);
    const panel = h(
      "div",
      { class: "sync-panel", role: "dialog", "aria-label": "Sync" },
      h("div", { class: "sync-panel-head" }, badge(info), info.remote ? button : null),
      h("p", { class: "sync-help" }, HELP[info.state] || ""),
      info.last_error && (info.state === "error" || info.state === "offline") ? h("p", { class: "form-error sync-error" }, info.last_error) : null,
      h("dl", { class: "sync-facts" },
        h("dt", {}, "Last sync"), h("dd", { class: "sync-last" }, ago(info.last_sync)),
        info.url ? h("dt", {}, "Remote") : null, info.url ? h("dd", { class: "sync-url", title: info.url }, info.url) : null,
        info.next_sync && info.state !== "syncing" ? h("dt", {}, "Next") : null,
        info.next_sync && info.state !== "syncing" ? h("dd", {}, info.next_sync * 1000 <= Date.now() ? "soon" : new Date(info.next_sync * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })) : null),
      info.conflicts.length ? h("h4", {}, "Both versions kept") : null,
      info.conflicts.length ? conflictList(pid, info.conflicts) : null,
    );
    const open = holder.open;
    holder.replaceChildren(h("summary", { class: "sync-summary", title: "Sync status" }, badge(info)), panel);
    holder.open = open;
  };
  const poll = async () => {
    clearTimeout(timer);
    try {
      draw(await rootApi("GET", statusUrl(pid)));
    } catch {
      /* the server restarting: try again later */
    }
    // Not linked: look again now and then (a link made from the command line shows up).
    if (document.visibilityState === "visible") timer = setTimeout(poll, holder.hidden ? 4 * POLL_MS : POLL_MS);
  };
  document.addEventListener("click", (ev) => {
    if (holder.open && !holder.contains(ev.target)) holder.open = false;
  });
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && poll());
  poll();
}
