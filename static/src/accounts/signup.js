// /signup?code=…: a student makes an account with the class code the teacher shows, and is
// signed in. When the teacher approves accounts first, the page says so and waits (a pending
// account is sent back here from every page) until the approval comes, then goes on.
import "../style.css";
import { rootUrl, rootApi } from "../api.js";
import { h } from "../dom.js";
import { account, me } from "./api.js";
import { authCard, field, formError, nextUrl } from "./ui.js";

const USERNAME_RULE = "2 to 32 lower-case letters, digits, dots, dashes or underscores; starting with a letter.";
const POLL_MS = 3000;

function pendingCard(user) {
  // Wait for the approval: /api/me answers a pending account too.
  const timer = setInterval(async () => {
    let info;
    try {
      info = await rootApi("GET", "api/me");
    } catch (err) {
      // Signed out: the teacher rejected (removed) the account. Else the server is restarting: wait on.
      if (err.status === 401 || err.status === 403) {
        clearInterval(timer);
        document.querySelector(".auth-page").replaceWith(
          authCard("Not approved", h("p", { class: "rejected-note" }, "Your teacher did not accept this account. Ask them, or sign up again."), h("a", { class: "primary button-link", href: `${rootUrl()}signup` }, "Sign up again")),
        );
      }
      return;
    }
    if (info.user && info.user.status === "active") {
      clearInterval(timer);
      location.href = nextUrl();
    }
  }, POLL_MS);
  return authCard(
    "Waiting for approval",
    h("p", { class: "pending-note" }, "Your account ", h("strong", {}, user.name), " is made. Your teacher has to approve it before you can start."),
    h("p", { class: "hint", role: "status" }, h("span", { class: "spinner" }), "This page goes on by itself once they have. You can also come back later and sign in with your username and password."),
  );
}

function form() {
  const code = new URLSearchParams(location.search).get("code") || "";
  const [codeRow, codeIn] = field("Class code", { name: "class_code", value: code, autocomplete: "off", spellcheck: false }, code ? "" : "Your teacher shows it with the join link.");
  const [userRow, userIn] = field("Username", { name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: false }, USERNAME_RULE);
  const [nameRow, nameIn] = field("Your name (optional)", { name: "display_name", autocomplete: "name", required: false });
  const [pwRow, pwIn] = field("Password", { name: "password", type: "password", autocomplete: "new-password", minLength: 8 }, "At least 8 characters.");
  const [againRow, againIn] = field("Password again", { name: "password2", type: "password", autocomplete: "new-password" });
  const error = formError();
  const submit = h("button", { type: "submit", class: "primary wide" }, "Sign up");
  const onsubmit = async (ev) => {
    ev.preventDefault();
    if (pwIn.value !== againIn.value) return error.set("The two passwords differ.");
    error.set("");
    submit.disabled = true;
    try {
      const body = { username: userIn.value.trim(), password: pwIn.value, class_code: codeIn.value.trim() };
      if (nameIn.value.trim()) body.display_name = nameIn.value.trim();
      const { user } = await account.signup(body);
      // The answer signed this browser in: go on at once, or wait for the teacher.
      if (user.status === "pending") document.querySelector(".auth-page").replaceWith(pendingCard(user));
      else location.href = nextUrl();
    } catch (err) {
      error.set(err.message);
      submit.disabled = false;
    }
  };
  // The code field comes first only when the link did not carry it.
  const rows = code ? [userRow, nameRow, pwRow, againRow, codeRow] : [codeRow, userRow, nameRow, pwRow, againRow];
  (code ? userIn : codeIn).autofocus = true;
  return authCard(
    "Join the class",
    h("form", { class: "auth-form signup-form", onsubmit }, ...rows, error, submit),
    h("p", { class: "auth-foot" }, "Have an account? ", h("a", { href: `${rootUrl()}login` }, "Sign in")),
  );
}

async function main() {
  // A pending account is sent here from every page: show it the waiting card, not the form.
  let info = null;
  try {
    info = await me();
  } catch {
    // Not signed in: the form.
  }
  if (info && info.mode === "multi" && info.user && info.user.status === "pending") {
    document.body.replaceChildren(pendingCard(info.user));
    return;
  }
  document.body.replaceChildren(form());
  document.querySelector("[autofocus]")?.focus();
}

main();
