// Pieces the account pages share: the card of the pages seen before signing in, password
// fields, the dialog that shows a secret once, and what every page's top bar gains in
// multi-user mode (the user menu, the forced password change, the shared-uid warning).
import "./accounts.css";
import { rootUrl, cookie, projectId, projects } from "../api.js";
import { h, toast } from "../dom.js";
import { me, isTeacher } from "./api.js";

/** A centred card with the brand on top: the look of the login page. */
export function authCard(title, ...children) {
  const brand = h("div", { class: "auth-brand" }, h("span", { class: "logo" }, "S"), h("span", {}, "Salvus Local"));
  return h("main", { class: "auth-page" }, h("section", { class: "auth-card" }, brand, h("h1", {}, title), ...children));
}

/** A labelled form field with an optional hint under it; returns [row, input]. */
export function field(label, props = {}, hint = "") {
  const input = h("input", { id: `f-${props.name}`, required: true, ...props });
  const row = h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("div", { class: "hint" }, hint) : null);
  return [row, input];
}

/** An inline error line under a form; set(text) shows it, set("") hides it. */
export function formError() {
  const el = h("p", { class: "form-error", role: "alert", hidden: true });
  el.set = (text) => {
    el.textContent = text;
    el.hidden = !text;
  };
  return el;
}

/** Where to go after a form: the page's ?next= when it is a path on this server, else the root. */
export function nextUrl() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") && !next.includes("\\") ? next : rootUrl();
}

/** Copy text to the clipboard, with a toast either way. */
export async function copy(text, what = "Copied") {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} to the clipboard.`);
  } catch {
    toast("Copying is not allowed here: select the text and copy it yourself.", 6000);
  }
}

/** A dialog that shows a secret once (a token, a one-time password) with a copy button. */
export function showSecret(title, message, secret, note = "It is shown only this once.") {
  return new Promise((resolve) => {
    const value = h("input", { class: "secret-value", readOnly: true, value: secret, "aria-label": title, spellcheck: false });
    const close = () => (overlay.remove(), resolve());
    const overlay = h(
      "div",
      { class: "overlay", onkeydown: (ev) => ev.key === "Escape" && close() },
      h(
        "div",
        { class: "dialog secret-dialog", role: "dialog", "aria-label": title },
        h("header", {}, h("strong", {}, title), h("button", { type: "button", class: "icon-button", title: "Close", onclick: close }, "×")),
        h("p", {}, message),
        h("div", { class: "secret-row" }, value, h("button", { type: "button", class: "tool", onclick: () => copy(secret) }, "Copy")),
        h("p", { class: "hint" }, note),
        h("div", { class: "dialog-buttons" }, h("button", { type: "button", class: "primary", onclick: close }, "Done")),
      ),
    );
    document.body.append(overlay);
    value.focus();
    value.select();
  });
}

/** A form that signs out (POST with the XSRF value: a GET never changes state). */
function signOutForm() {
  return h(
    "form",
    { method: "post", action: `${rootUrl()}logout`, class: "menu-form" },
    h("input", { type: "hidden", name: "_xsrf", value: cookie("_xsrf") }),
    h("button", { type: "submit", class: "menu-item sign-out" }, "Sign out"),
  );
}

/** The user menu of the top bar: who is signed in, Settings, Teacher, Sign out. */
function userMenu(info) {
  const user = info.user;
  const menu = h(
    "details",
    { class: "user-menu" },
    h("summary", { class: "user-button", title: `Signed in as ${user.name}` }, user.display_name || user.name),
    h(
      "div",
      { class: "menu", role: "menu" },
      h("div", { class: "menu-head" }, h("strong", {}, user.name), h("span", { class: "muted" }, ` · ${user.role}`)),
      h("a", { class: "menu-item", href: `${rootUrl()}projects` }, "Projects"),
      h("a", { class: "menu-item courses-menu-link", href: `${rootUrl()}courses` }, "Courses"),
      h("a", { class: "menu-item", href: `${rootUrl()}settings` }, "Password and API tokens"),
      isTeacher(user) ? h("a", { class: "menu-item teacher-link", href: `${rootUrl()}teacher` }, "Teacher's view") : null,
      signOutForm(),
    ),
  );
  document.addEventListener("click", (ev) => {
    if (menu.open && !menu.contains(ev.target)) menu.open = false;
  });
  return menu;
}

/** The warning every page shows when sessions of different users share one uid. */
export function sharedUidBanner() {
  return h(
    "div",
    { class: "shared-uid-banner", role: "alert" },
    h("strong", {}, "Warning: "),
    "everyone's code runs as one system user (--allow-shared-uid): ",
    "any user's code can read and change every project on this server.",
  );
}

/** Say in the top bar when the page's project is someone else's and this user only views it. */
async function markReadOnly(header) {
  let list;
  try {
    list = await projects.list("?archived=1");
  } catch {
    return;
  }
  const p = list.find((x) => x.id === projectId());
  if (!p || p.role !== "viewer") return;
  document.body.classList.add("read-only-project");
  const badge = h("span", { class: "read-only-badge", title: `${p.owner} shared this project with you to read: you cannot change files, run code or open terminals.` }, "Read only");
  header.querySelector(".topnav")?.append(badge);
}

/**
 * Add what multi-user mode needs to a page's top bar, once /api/me answers: the user menu,
 * the shared-uid warning under the bar, and the forced password change.
 */
export function accountChrome(header, slot) {
  me().then(
    (info) => {
      if (info.user && info.user.must_change_password && !location.pathname.endsWith("/change-password")) {
        location.href = `${rootUrl()}change-password?next=${encodeURIComponent(location.pathname + location.search)}`;
        return;
      }
      if (info.mode === "multi" && info.user) {
        slot.replaceWith(userMenu(info));
        markReadOnly(header);
      }
      if (info.isolation && info.isolation.shared_uid && !document.querySelector(".shared-uid-banner")) header.after(sharedUidBanner());
    },
    () => {},
  );
}
