// /signup?code=…: a student makes an account with the class code the teacher shows. When the
// teacher approves accounts first, the page then says so and waits; else it leads to sign-in.
import "../style.css";
import { rootUrl } from "../api.js";
import { h } from "../dom.js";
import { account } from "./api.js";
import { authCard, field, formError } from "./ui.js";

const USERNAME_RULE = "Lower-case letters, digits, - and _, starting with a letter.";

function signInLink(username) {
  return h("a", { class: "primary button-link sign-in-link", href: `${rootUrl()}login?username=${encodeURIComponent(username)}` }, "Sign in");
}

function pendingCard(user) {
  return authCard(
    "Waiting for approval",
    h("p", { class: "pending-note" }, `Your account `, h("strong", {}, user.name), ` is made. Your teacher has to approve it before you can sign in.`),
    h("p", { class: "hint" }, "Tell your teacher you are waiting. Once they approve you, sign in with your username and password."),
    signInLink(user.name),
  );
}

function doneCard(user) {
  return authCard("Your account is ready", h("p", {}, "Sign in as ", h("strong", {}, user.name), " with the password you chose."), signInLink(user.name));
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
      document.querySelector(".auth-page").replaceWith(user.status === "pending" ? pendingCard(user) : doneCard(user));
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

document.body.replaceChildren(form());
document.querySelector("[autofocus]")?.focus();
