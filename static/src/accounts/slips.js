// /teacher/slips: login slips to print and cut, one per imported student, with the sign-in
// address and the one-time password. The passwords come from this tab's sessionStorage.
import "../style.css";
import "./accounts.css";
import { rootUrl } from "../api.js";
import { h } from "../dom.js";
import { readSlips, SLIPS_KEY } from "./importcsv.js";
import { when } from "./api.js";

function slip(s, login) {
  return h(
    "article",
    { class: "slip" },
    h("div", { class: "slip-name" }, s.display_name || s.username),
    h("dl", {}, h("dt", {}, "Address"), h("dd", { class: "slip-address" }, login.replace(/^https?:\/\//, "")), h("dt", {}, "Username"), h("dd", { class: "slip-user" }, s.username), h("dt", {}, "Password"), h("dd", { class: "slip-password" }, s.one_time_password)),
    h("div", { class: "slip-note" }, "You choose your own password when you first sign in."),
  );
}

function main() {
  const data = readSlips();
  const back = h("a", { class: "tool button-link", href: `${rootUrl()}teacher` }, "← Teacher's view");
  const forget = h("button", { class: "tool forget-slips", onclick: () => (sessionStorage.removeItem(SLIPS_KEY), main()) }, "Forget these passwords");
  const bar = h("header", { class: "slips-bar no-print" }, back, h("span", { class: "spacer" }), data.slips.length ? forget : null, data.slips.length ? h("button", { class: "primary", onclick: () => print() }, "Print") : null);
  const body = data.slips.length
    ? h("div", { class: "slips" }, ...data.slips.map((s) => slip(s, data.login || new URL(`${rootUrl()}login`, location.href).href)))
    : h("p", { class: "slips-empty" }, "No login slips in this tab. Import a class list on the teacher's page; its one-time passwords are kept in that tab until you close it.");
  const intro = data.slips.length ? h("p", { class: "hint no-print" }, `${data.slips.length} slip${data.slips.length === 1 ? "" : "s"}, made ${when(data.made, "")}. Each password works once.`) : null;
  document.body.replaceChildren(h("main", { class: "slips-page" }, bar, h("h1", { class: "no-print" }, "Login slips"), intro, body));
}

main();
