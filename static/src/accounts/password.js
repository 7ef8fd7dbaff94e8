// /change-password: the page a user meets after signing in with a one-time password (the
// teacher's import or reset). They choose their own password; then they go on to ?next=.
import "../style.css";
import { h } from "../dom.js";
import { me, account } from "./api.js";
import { authCard, field, formError, nextUrl } from "./ui.js";

async function main() {
  let info;
  try {
    info = await me();
  } catch (err) {
    document.body.replaceChildren(authCard("Change your password", h("p", { class: "form-error" }, err.message)));
    return;
  }
  const forced = info.user && info.user.must_change_password;
  const [oldRow, oldIn] = field(forced ? "The password you were given" : "Current password", { name: "old_password", type: "password", autocomplete: "current-password" });
  const [pwRow, pwIn] = field("New password", { name: "new_password", type: "password", autocomplete: "new-password", minLength: 8 }, "At least 8 characters.");
  const [againRow, againIn] = field("New password again", { name: "new_password2", type: "password", autocomplete: "new-password" });
  const error = formError();
  const submit = h("button", { type: "submit", class: "primary wide" }, "Save my new password");
  const onsubmit = async (ev) => {
    ev.preventDefault();
    if (pwIn.value !== againIn.value) return error.set("The two new passwords differ.");
    if (pwIn.value === oldIn.value) return error.set("Choose a password different from the one you were given.");
    error.set("");
    submit.disabled = true;
    try {
      await account.changePassword(oldIn.value, pwIn.value);
      location.href = nextUrl();
    } catch (err) {
      error.set(err.message);
      submit.disabled = false;
    }
  };
  const intro = forced
    ? h("p", { class: "lead" }, `Welcome, ${info.user.display_name || info.user.name}. Your password was made for you: choose your own before you go on.`)
    : h("p", { class: "lead" }, "Your other browsers and devices will be signed out.");
  document.body.replaceChildren(authCard(forced ? "Choose your password" : "Change your password", intro, h("form", { class: "auth-form password-form", onsubmit }, oldRow, pwRow, againRow, error, submit)));
  oldIn.focus();
}

main();
