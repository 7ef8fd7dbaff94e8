// The "Online now" table of the teacher's view: one row per running session (kernel, CPU,
// memory, since when, a Stop button), grouped by person, busiest first; people with nothing
// running get one quiet row.
import { h } from "../dom.js";
import { short } from "./api.js";

const cpu = (pct) => (pct == null ? "–" : `${Math.round(pct)} %`);
const memory = (mb) => (mb == null ? "–" : mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`);
// What a session runs: its kernel, and the folder inside the project when not the top one
// (the server gives that folder relative to the project, "" for the top).
function sessionName(s) {
  const folder = (s.path || "").split("/").filter(Boolean).join("/");
  return `${s.name || "kernel"}${folder ? ` in ${folder}/` : ""}`;
}

/** The table for list ({name, display_name, online, sessions}); onStop(user, session) stops one. */
export function onlineTable(list, onStop) {
  if (!list.length) return h("p", { class: "muted" }, "Nobody is signed in right now.");
  // Who runs something first (the busiest on top), then the others by name: one table, one row per session.
  const load = (u) => (u.sessions || []).reduce((sum, s) => sum + (s.cpu_percent || 0), 0);
  const sorted = [...list].sort((a, b) => (b.sessions || []).length - (a.sessions || []).length || load(b) - load(a) || a.name.localeCompare(b.name));
  const who = (u, rows) =>
    h(
      "td",
      { class: "who", rowSpan: rows },
      h("span", { class: u.online ? "dot on" : "dot", title: u.online ? "Online" : "Offline" }),
      h("strong", {}, u.display_name || u.name),
      u.display_name && u.display_name !== u.name ? h("span", { class: "muted" }, ` · ${u.name}`) : null,
    );
  const rows = [];
  for (const u of sorted) {
    const sessions = u.sessions || [];
    if (!sessions.length) {
      rows.push(h("tr", { class: "online-user idle", dataset: { name: u.name } }, who(u, 1), h("td", { class: "hint no-sessions", colSpan: 5 }, "Nothing running")));
      continue;
    }
    sessions.forEach((s, i) =>
      rows.push(
        h(
          "tr",
          { class: "online-user session-row", dataset: { name: u.name, kernel: s.kernel_id } },
          i === 0 ? who(u, sessions.length) : null,
          h("td", { class: "session-path" }, h("span", { class: "muted" }, `${s.project_id} · `), sessionName(s)),
          h("td", { class: "num cpu" }, cpu(s.cpu_percent)),
          h("td", { class: "num mem" }, memory(s.rss_mb)),
          h("td", { class: "since" }, short(s.started, "")),
          h("td", {}, h("button", { class: "tool danger-text stop-session", onclick: () => onStop(u, s) }, "Stop")),
        ),
      ),
    );
  }
  const head = h("thead", {}, h("tr", {}, ...["Who", "Running", "CPU", "Memory", "Since", ""].map((t) => h("th", {}, t))));
  return h("div", { class: "table-wrap" }, h("table", { class: "data-table sessions-table" }, head, h("tbody", {}, ...rows)));
}
