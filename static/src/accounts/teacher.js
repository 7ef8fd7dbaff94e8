// /teacher: the classroom at a glance. The join link and QR code, accounts waiting for
// approval, who is online with their running sessions (CPU, memory, a stop button), every
// account (reset a password, remove), and the class list import that prints login slips.
import "../style.css";
import "../pages.css";
import { rootUrl } from "../api.js";
import { topbar } from "../chrome.js";
import { h, toast, ask } from "../dom.js";
import { me, isTeacher, users, join, activity, stopKernel, when, short, svgUrl } from "./api.js";
import { copy, showSecret } from "./ui.js";
import { importSection } from "./importcsv.js";
import { onlineTable } from "./online.js";

const POLL_MS = 3000;

/** A panel with a heading (and optional count) and a body. */
function panel(cls, title, ...body) {
  const count = h("span", { class: "count" });
  const tools = h("span", { class: "panel-tools" });
  const el = h("section", { class: `panel ${cls}` }, h("div", { class: "panel-head" }, h("h2", {}, title, count), tools), ...body);
  el.count = (n) => (count.textContent = n ? ` (${n})` : "");
  el.tools = (...nodes) => tools.replaceChildren(...nodes.filter(Boolean));
  return el;
}

class TeacherPage {
  constructor() {
    this.seen = {};
  }

  async start() {
    this.joinBody = h("div", { class: "join-body" }, h("p", { class: "muted" }, "Loading…"));
    this.pendingBody = h("div", { class: "pending-list" });
    this.onlineBody = h("div", { class: "online-list" });
    this.usersBody = h("tbody");
    this.pending = panel("pending-section", "Waiting for approval", this.pendingBody);
    this.online = panel("online-section", "Online now", this.onlineBody);
    this.all = panel("users-section", "Accounts", this.addUserForm(), h("div", { class: "table-wrap" }, h("table", { class: "data-table users-table" }, h("thead", {}, h("tr", {}, ...["User", "Role", "Status", "Last seen", ""].map((t) => h("th", {}, t)))), this.usersBody)));
    const side = h("aside", { class: "teacher-side" }, panel("join-section", "Join the class", this.joinBody));
    const col = h("div", { class: "teacher-col" }, this.pending, this.online, this.all, importSection(() => this.refresh()));
    const main = h("main", { class: "account-page teacher-page" }, h("h1", {}, "Teacher's view"), h("div", { class: "teacher-grid" }, col, side));
    document.body.replaceChildren(topbar({}), h("div", { class: "workspace" }, main));
    let info;
    try {
      info = await me();
    } catch (err) {
      return toast(err.message, 8000);
    }
    const refusal =
      info.mode !== "multi"
        ? "This server runs for one person. For a class, start it with salvus-local --lan (or --multi-user): students then make accounts and you see them here."
        : !isTeacher(info.user)
          ? "Only teachers and admins can see this page."
          : null;
    if (refusal) {
      main.replaceChildren(h("h1", {}, "Teacher's view"), h("section", { class: "panel refusal" }, h("p", {}, refusal)));
      return;
    }
    this.admin = info.user.role === "admin";
    this.self = info.user.name;
    // Teachers make students; only admins make teachers.
    if (info.user.role !== "admin") for (const el of main.querySelectorAll(".admin-only")) el.remove();
    this.showJoin();
    await this.refresh();
    // Poll while the page is visible: the view follows who signs in and what runs.
    setInterval(() => document.visibilityState === "visible" && this.refresh(), POLL_MS);
  }

  // --- join link and QR -------------------------------------------------------
  async showJoin() {
    let j;
    try {
      j = await join.get();
    } catch (err) {
      this.joinBody.replaceChildren(h("p", { class: "muted" }, `Cannot get the join link: ${err.message}`));
      return;
    }
    const others = (j.lan_urls || []).filter((u) => u !== j.url);
    const approval = h("input", { type: "checkbox", checked: !!j.approval_required, class: "approval-toggle", onchange: () => this.setJoin({ approval_required: approval.checked }, approval.checked ? "New accounts wait for your approval." : "New accounts can sign in at once.") });
    this.joinBody.replaceChildren(
      ...[
      h("a", { class: "join-qr-link", href: `${rootUrl()}join`, title: "Show the QR code full screen" }, h("img", { class: "join-qr", src: svgUrl(j.qr_svg), alt: `QR code of ${j.url}` })),
      h("div", { class: "join-url-row" }, h("a", { class: "join-url", href: j.url }, j.url), h("button", { class: "tool", onclick: () => copy(j.url, "Link copied") }, "Copy")),
      others.length ? h("details", { class: "lan-urls" }, h("summary", {}, "Other addresses of this computer"), h("ul", {}, ...others.map((u) => h("li", {}, h("code", {}, u))))) : null,
      h("div", { class: "class-code-row" }, h("span", { class: "muted" }, "Class code"), h("strong", { class: "class-code" }, j.class_code), h("button", { class: "tool new-code", title: "Make a new code: the old link stops working", onclick: () => this.newCode() }, "New code")),
      h("label", { class: "check-row" }, approval, " Approve new accounts before they can sign in"),
      h("a", { class: "primary button-link full-screen", href: `${rootUrl()}join` }, "Show full screen"),
      ].filter(Boolean),
    );
  }

  async setJoin(body, message) {
    try {
      await join.update(body);
      toast(message);
    } catch (err) {
      toast(err.message, 8000);
    }
    this.showJoin();
  }

  async newCode() {
    const ok = await ask({ title: "Make a new class code?", message: "The old join link and code stop working. Accounts already made are kept.", ok: "New code" });
    if (ok) this.setJoin({ regenerate_code: true }, "New class code made.");
  }

  // --- users, pending, online ---------------------------------------------------
  async refresh() {
    // The poll and the refresh after an action overlap: only the latest answer draws (an older one
    // would bring back a row just approved or removed until the next poll).
    const seq = (this.refreshes = (this.refreshes || 0) + 1);
    let list, online;
    try {
      [list, online] = await Promise.all([users.list(), activity()]);
    } catch (err) {
      if (seq !== this.refreshes) return;
      // Signed out meanwhile (a password change elsewhere, a restart): the reload leads to the login page.
      if (err.status === 401 || err.status === 403) return location.reload();
      if (!this.failed) toast(`Cannot refresh: ${err.message}`, 8000);
      this.failed = true;
      return;
    }
    if (seq !== this.refreshes) return;
    this.failed = false;
    this.render("pending", list.filter((u) => u.status === "pending"), (l) => this.showPending(l));
    // Accounts still waiting are in the approval list, not among who is online.
    const waiting = new Set(list.filter((u) => u.status === "pending").map((u) => u.name));
    this.render("online", online.filter((u) => !waiting.has(u.name) && (u.online || (u.sessions && u.sessions.length))), (l) => this.showOnline(l));
    this.render("users", list, (l) => this.showUsers(l));
  }

  /** Re-render a part only when its data changed (keeps focus and open menus). */
  render(key, data, fn) {
    const json = JSON.stringify(data);
    if (this.seen[key] === json) return;
    this.seen[key] = json;
    fn(data);
  }

  showPending(list) {
    this.pending.count(list.length);
    this.pending.hidden = !list.length;
    const all = list.length > 1 ? h("button", { class: "primary approve-all", onclick: () => this.approveAll(list) }, "Approve all") : null;
    this.pending.tools(all);
    this.pendingBody.replaceChildren(
      ...list.map((u) =>
        h(
          "div",
          { class: "pending-row", dataset: { name: u.name } },
          h("div", { class: "who" }, h("strong", {}, u.name), u.display_name && u.display_name !== u.name ? h("span", { class: "muted" }, ` · ${u.display_name}`) : null, h("div", { class: "hint" }, `Signed up ${when(u.created)}`)),
          h("button", { class: "primary approve", onclick: () => this.act(users.update(u.name, { status: "active" }), `${u.name} can sign in now.`) }, "Approve"),
          h("button", { class: "tool reject", onclick: () => this.remove(u, true) }, "Reject"),
        ),
      ),
    );
  }

  showOnline(list) {
    this.online.count(list.length);
    this.onlineBody.replaceChildren(onlineTable(list, (u, s) => this.stop(u, s)));
  }

  showUsers(list) {
    this.all.count(list.length);
    this.usersBody.replaceChildren(
      ...list.map((u) =>
        h(
          "tr",
          { class: "user-row", dataset: { name: u.name } },
          h("td", {}, h("strong", {}, u.name), u.display_name && u.display_name !== u.name ? h("div", { class: "hint" }, u.display_name) : null),
          h("td", {}, this.admin && u.name !== this.self ? this.roleSelect(u) : u.role),
          h("td", {}, h("span", { class: `status status-${u.status}` }, u.status), u.online ? h("span", { class: "dot on", title: "Online" }) : null),
          h("td", { class: "hint" }, short(u.last_seen)),
          // Teachers manage students; admins everyone but themselves (their password is in Settings).
          this.admin || u.role === "student"
            ? h(
                "td",
                { class: "row-actions" },
                u.name === this.self ? null : h("button", { class: "tool reset-password", title: "Give a new one-time password; they choose their own at next sign-in", onclick: () => this.reset(u) }, "Reset password"),
                u.name === this.self ? null : h("button", { class: "tool remove-user", onclick: () => this.remove(u) }, "Remove"),
              )
            : h("td", {}),
        ),
      ),
    );
  }

  addUserForm() {
    const name = h("input", { name: "username", placeholder: "username", "aria-label": "Username", required: true, autocapitalize: "none", spellcheck: false });
    const display = h("input", { name: "display_name", placeholder: "Full name (optional)", "aria-label": "Full name" });
    const role = h("select", { name: "role", "aria-label": "Role", class: "admin-only" }, h("option", { value: "student" }, "student"), h("option", { value: "teacher" }, "teacher"));
    const form = h(
      "form",
      {
        class: "inline-form add-user",
        onsubmit: async (ev) => {
          ev.preventDefault();
          const body = { username: name.value.trim(), role: role.value };
          if (display.value.trim()) body.display_name = display.value.trim();
          let made;
          try {
            made = await users.create(body);
          } catch (err) {
            return toast(`Could not add ${body.username}: ${err.message}`, 8000);
          }
          form.reset();
          this.refresh();
          if (made.one_time_password) await showSecret(`${made.user.name}'s password`, `Give ${made.user.name} this one-time password; they choose their own when they first sign in.`, made.one_time_password, "It is shown only this once; you can reset it later.");
        },
      },
      name,
      display,
      role,
      h("button", { class: "tool" }, "Add"),
    );
    return form;
  }

  /** An admin's role picker for one account (a teacher manages the class; an admin everything). */
  roleSelect(u) {
    const select = h(
      "select",
      { class: "role-select user-role", "aria-label": `Role of ${u.name}`, onchange: () => this.act(users.update(u.name, { role: select.value }), `${u.name} is now ${select.value === "admin" ? "an" : "a"} ${select.value}.`) },
      ...["student", "teacher", "admin"].map((r) => h("option", { value: r, selected: r === u.role }, r)),
    );
    return select;
  }

  // --- actions ------------------------------------------------------------------
  async approveAll(list) {
    const results = await Promise.allSettled(list.map((u) => users.update(u.name, { status: "active" })));
    const failed = results.filter((r) => r.status === "rejected");
    toast(failed.length ? `${list.length - failed.length} approved; ${failed.length} failed: ${failed[0].reason.message}` : `${list.length} accounts approved.`, failed.length ? 8000 : 3500);
    this.refresh();
  }

  async act(promise, message) {
    try {
      await promise;
      toast(message);
    } catch (err) {
      toast(err.message, 8000);
    }
    this.refresh();
  }

  async stop(u, s) {
    const ok = await ask({ title: `Stop ${u.name}'s session?`, message: `${s.path || "The scratchpad"} stops running; its variables are lost. Files are kept.`, ok: "Stop", danger: true });
    if (ok) this.act(stopKernel(s.project_id, s.kernel_id), `Stopped ${u.name}'s ${s.path || "session"}.`);
  }

  async reset(u) {
    const ok = await ask({ title: `Reset ${u.name}'s password?`, message: "They are signed out everywhere and get a one-time password; they choose their own at the next sign-in.", ok: "Reset" });
    if (!ok) return;
    let r;
    try {
      r = await users.resetPassword(u.name);
    } catch (err) {
      return toast(err.message, 8000);
    }
    this.refresh();
    await showSecret(`${u.name}'s one-time password`, `Give this to ${u.display_name || u.name}.`, r.one_time_password, "It is shown only this once.");
  }

  async remove(u, pending = false) {
    const ok = await ask({
      title: pending ? `Reject ${u.name}?` : `Remove ${u.name}?`,
      message: pending ? "The request is deleted; they can sign up again." : "They can no longer sign in. Their projects are archived and kept (an admin can still open them).",
      ok: pending ? "Reject" : "Remove",
      danger: true,
    });
    if (ok) this.act(users.remove(u.name), pending ? `Rejected ${u.name}.` : `Removed ${u.name}; their projects are kept.`);
  }
}

new TeacherPage().start();
