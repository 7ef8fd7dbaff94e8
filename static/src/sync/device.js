// /sync/device?code=XXXX-XXXX: the hub's page where a signed-in person lets a laptop sync as
// them (`salvus-local sync login` printed the code and this address). It shows which machine
// asks before anything is approved (RFC 8628 §5.4: never approve a code you did not start).
import "../style.css";
import "./device.css";
import { rootApi } from "../api.js";
import { h } from "../dom.js";
import { me } from "../accounts/api.js";
import { authCard, field, formError } from "../accounts/ui.js";

const params = new URLSearchParams(location.search);

function done(title, text) {
  document.body.replaceChildren(authCard(title, h("p", { class: "lead device-done", role: "status" }, text)));
}

async function confirmCard(code, who) {
  let grant;
  try {
    grant = await rootApi("GET", `api/sync/device/pending?user_code=${encodeURIComponent(code)}`);
  } catch (err) {
    return codeCard(err.message, code);
  }
  const error = formError();
  const decide = async (allow) => {
    error.set("");
    for (const b of buttons) b.disabled = true;
    try {
      await rootApi("POST", "api/sync/device/approve", { user_code: grant.user_code, allow });
      if (allow) done("Device signed in", `${grant.machine} can now sync your projects. Go back to its terminal: the sign-in finishes there by itself.`);
      else done("Sign-in refused", `${grant.machine} was not signed in. You can close this page.`);
    } catch (err) {
      error.set(err.message);
      for (const b of buttons) b.disabled = false;
    }
  };
  const buttons = [
    h("button", { type: "button", class: "tool device-deny", onclick: () => decide(false) }, "Deny"),
    h("button", { type: "button", class: "primary device-allow", onclick: () => decide(true) }, "Allow"),
  ];
  document.body.replaceChildren(
    authCard(
      "Let a device sync as you?",
      h("p", { class: "lead" }, h("strong", { class: "device-machine" }, grant.machine), " asks to push and pull your projects as ", h("strong", {}, who), "."),
      h("p", {}, "Code: ", h("code", { class: "device-code" }, grant.user_code)),
      h("p", { class: "hint" }, "Allow only if you started ", h("code", {}, "salvus-local sync login"), " yourself and its terminal shows this same code. You can revoke it later under Password and API tokens."),
      error,
      h("div", { class: "device-buttons" }, ...buttons),
    ),
  );
  buttons[1].focus();
}

function codeCard(message = "", value = "") {
  const [row, input] = field("Code shown by salvus-local sync login", { name: "user_code", value, autocomplete: "off", spellcheck: false, autocapitalize: "characters", placeholder: "XXXX-XXXX" });
  const error = formError();
  error.set(message);
  const onsubmit = (ev) => {
    ev.preventDefault();
    history.replaceState(null, "", `?code=${encodeURIComponent(input.value.trim())}`);
    main();
  };
  document.body.replaceChildren(
    authCard("Sign in a device", h("form", { class: "auth-form device-form", onsubmit }, row, error, h("button", { type: "submit", class: "primary wide" }, "Next"))),
  );
  input.focus();
}

async function main() {
  let info;
  try {
    info = await me();
  } catch (err) {
    return done("Cannot continue", err.message);
  }
  const code = new URLSearchParams(location.search).get("code") || params.get("code") || "";
  if (!code) return codeCard();
  return confirmCard(code, info.user.display_name || info.user.name);
}

main();
