// /settings: change your password (signs out your other browsers) and manage API tokens
// (each shown once, then only its prefix; revocable).
import "../style.css";
import "../pages.css";
import { rootUrl } from "../api.js";
import { topbar } from "../chrome.js";
import { h, toast, ask } from "../dom.js";
import { me, account, tokens, short } from "./api.js";
import { field, formError, showSecret } from "./ui.js";

const EXPIRIES = [["", "Never"], ["30", "30 days"], ["90", "90 days"], ["365", "1 year"]];

class SettingsPage {
  async start() {
    this.tokenList = h("tbody");
    const main = h("main", { class: "account-page settings-page" }, h("h1", {}, "Settings"), this.passwordSection(), this.tokenSection());
    document.body.replaceChildren(topbar({}), h("div", { class: "workspace" }, main));
    let info;
    try {
      info = await me();
    } catch (err) {
      return toast(err.message, 8000);
    }
    if (info.mode !== "multi") {
      main.querySelector(".password-section").replaceChildren(h("h2", {}, "Password"), h("p", { class: "muted" }, "This server runs for one person and has no passwords: it is opened with the link it printed when it started."));
      main.querySelector(".token-section").replaceChildren(
        h("h2", {}, "API tokens"),
        h("p", { class: "muted" }, "Programs use the server's own token, the part after ?token= of the printed link: send it as ", h("code", {}, "Authorization: token …"), "."),
      );
      return;
    } else {
      main.querySelector(".who").textContent = `Signed in as ${info.user.name} (${info.user.role}).`;
      // The first admin starts with no password (the printed link signs them in): they set one here.
      if (info.user.role === "admin") {
        this.oldIn.required = false;
        this.oldHint.textContent = "Leave it empty if you have no password yet (you signed in with the printed link).";
      }
    }
    this.showTokens();
  }

  passwordSection() {
    const [oldRow, oldIn] = field("Current password", { name: "old_password", type: "password", autocomplete: "current-password" });
    this.oldIn = oldIn;
    this.oldHint = h("div", { class: "hint" });
    oldRow.append(this.oldHint);
    const [pwRow, pwIn] = field("New password", { name: "new_password", type: "password", autocomplete: "new-password", minLength: 8 }, "At least 8 characters.");
    const [againRow, againIn] = field("New password again", { name: "new_password2", type: "password", autocomplete: "new-password" });
    const error = formError();
    const submit = h("button", { type: "submit", class: "primary" }, "Change password");
    const form = h("form", {
      class: "auth-form password-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (pwIn.value !== againIn.value) return error.set("The two new passwords differ.");
        error.set("");
        submit.disabled = true;
        try {
          await account.changePassword(oldIn.value, pwIn.value);
          form.reset();
          toast("Password changed. Your other browsers and devices are signed out.", 6000);
        } catch (err) {
          error.set(err.message);
        }
        submit.disabled = false;
      },
    }, oldRow, pwRow, againRow, error, submit);
    return h("section", { class: "panel password-section" }, h("h2", {}, "Password"), h("p", { class: "who muted" }), h("p", { class: "hint" }, "Changing it signs you out everywhere else."), form);
  }

  tokenSection() {
    const note = h("input", { name: "note", placeholder: "What it is for, e.g. laptop sync", "aria-label": "Note", maxLength: 100 });
    const scope = h("select", { name: "scope", "aria-label": "Scope" }, h("option", { value: "api" }, "API: all you can do"), h("option", { value: "sync" }, "Sync only"));
    const expires = h("select", { name: "expires", "aria-label": "Expires" }, ...EXPIRIES.map(([v, label]) => h("option", { value: v }, label)));
    const form = h(
      "form",
      { class: "token-form", onsubmit: (ev) => (ev.preventDefault(), this.create(note, scope, expires)) },
      h("label", {}, "Note", note),
      h("label", {}, "Scope", scope),
      h("label", {}, "Expires", expires),
      h("button", { class: "primary create-token" }, "Create token"),
    );
    const table = h(
      "table",
      { class: "data-table token-table" },
      h("thead", {}, h("tr", {}, ...["Token", "Scope", "Note", "Created", "Expires", "Last used", ""].map((t) => h("th", {}, t)))),
      this.tokenList,
    );
    return h(
      "section",
      { class: "panel token-section" },
      h("h2", {}, "API tokens"),
      h("p", { class: "hint" }, "A token lets a program act as you: send it as ", h("code", {}, "Authorization: token …"), ". It is shown once when you create it."),
      form,
      h("div", { class: "table-wrap" }, table),
    );
  }

  async showTokens() {
    const seq = (this.tokenLoads = (this.tokenLoads || 0) + 1); // after a create and a revoke: the later list wins
    let list;
    try {
      list = await tokens.list();
    } catch (err) {
      if (seq !== this.tokenLoads) return;
      this.tokenList.replaceChildren(h("tr", {}, h("td", { colSpan: 7, class: "muted" }, `Cannot list tokens: ${err.message}`)));
      return;
    }
    if (seq !== this.tokenLoads) return;
    if (!list.length) {
      this.tokenList.replaceChildren(h("tr", {}, h("td", { colSpan: 7, class: "muted empty" }, "No tokens yet.")));
      return;
    }
    this.tokenList.replaceChildren(
      ...list.map((t) =>
        h(
          "tr",
          { class: "token-row", dataset: { id: t.id } },
          h("td", {}, h("code", {}, `${t.prefix}…`)),
          h("td", {}, t.scope),
          h("td", { class: "note" }, t.note || ""),
          h("td", { "data-label": "Created" }, short(t.created)),
          h("td", { "data-label": "Expires" }, short(t.expires)),
          h("td", { "data-label": "Last used" }, short(t.last_used)),
          h("td", {}, h("button", { class: "tool revoke-token", onclick: () => this.revoke(t) }, "Revoke")),
        ),
      ),
    );
  }

  async create(note, scope, expires) {
    const body = { scope: scope.value };
    if (note.value.trim()) body.note = note.value.trim();
    if (expires.value) body.expires_days = Number(expires.value);
    let made;
    try {
      made = await tokens.create(body);
    } catch (err) {
      return toast(`Could not create the token: ${err.message}`, 8000);
    }
    note.value = "";
    this.showTokens();
    const api = `${location.origin}${rootUrl()}api/me`;
    await showSecret(
      "New API token",
      h("span", {}, "Programs send it in a header, for example: ", h("code", { class: "example" }, `curl -H "Authorization: token ${made.token.slice(0, 8)}…" ${api}`)),
      made.token,
      "Copy it now: it is shown only this once. Revoke it here when you no longer need it.",
    );
  }

  async revoke(t) {
    const ok = await ask({ title: `Revoke ${t.prefix}…?`, message: "Programs that use this token lose access at once.", ok: "Revoke", danger: true });
    if (!ok) return;
    try {
      await tokens.revoke(t.id);
      toast("Token revoked.");
    } catch (err) {
      toast(err.message, 8000);
    }
    this.showTokens();
  }
}

new SettingsPage().start();
