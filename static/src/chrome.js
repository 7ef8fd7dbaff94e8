// The top bar every page shares: brand, the current project (a link to the project list),
// the project's Files and Terminal, a search box over past computations, page tools, and
// in multi-user mode the user menu (accounts/ui.js).
import { projectBase, projectId, projectTitles, rootUrl } from "./api.js";
import { SearchBox } from "./searchbox.js";
import "./chrome.css";
import "./phone.js"; // phones: Run button within reach, keyboard-aware scrolling (phone.css)
import { h } from "./dom.js";
import { accountChrome } from "./accounts/ui.js";
import { chatToggle } from "./chat/toggle.js";
import { mountSyncBadge } from "./sync/badge.js";

const NAV = [
  ["files", "Files", "files/", "The project's files (folders, upload, trash)"],
  ["terminal", "Terminal", "terminals/", "A shell in the project's folder"],
];

/**
 * Build the top bar. opts: {current: "files"|"terminal"|…, left: [nodes after the nav],
 * right: [nodes before the search box]}.
 */
export function topbar(opts = {}) {
  const pid = projectId();
  const project = h("a", { class: "project-switch", href: `${rootUrl()}projects`, title: "All projects: switch, create, clone" }, pid === "default" ? "Home" : pid);
  projectTitles().then((t) => {
    if (t.has(pid)) project.textContent = t.get(pid);
  });
  const nav = h(
    "nav",
    { class: "topnav", "aria-label": "Project" },
    project,
    ...NAV.map(([key, label, path, title]) =>
      h("a", { class: "navlink", href: projectBase(pid) + path, title, ...(opts.current === key ? { "aria-current": "page" } : {}) }, label),
    ),
  );
  const search = new SearchBox();
  // Filled with the user menu once /api/me says the server has accounts.
  const account = h("span", { class: "account-slot" });
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: projectBase(pid), title: "Scratchpad and notebooks of this project" }, h("span", { class: "logo" }, "S"), h("span", { class: "brand-name" }, "Salvus Local")),
    nav,
    ...(opts.left || []),
    h("span", { class: "spacer" }),
    ...(opts.right || []),
    chatToggle(), // null on pages without a project chat
    search.el,
    account,
  );
  accountChrome(header, account);
  if (document.body.dataset.page !== "projects") mountSyncBadge(nav, pid); // sync state of this project, if linked
  return header;
}
