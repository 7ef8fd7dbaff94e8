// /join: the join QR code as large as the screen allows, with the address and class code
// under it, for a projector. Esc or a click goes back to the teacher's page.
import "../style.css";
import "./accounts.css";
import { rootUrl } from "../api.js";
import { h } from "../dom.js";
import { join, svgUrl } from "./api.js";

async function main() {
  const back = () => (location.href = `${rootUrl()}teacher`);
  let j;
  try {
    j = await join.get();
  } catch (err) {
    document.body.replaceChildren(h("main", { class: "join-page" }, h("p", { class: "form-error" }, `Cannot show the join code: ${err.message}`), h("a", { href: `${rootUrl()}teacher` }, "Back")));
    return;
  }
  const url = new URL(j.url);
  document.body.replaceChildren(
    h(
      "main",
      { class: "join-page" },
      h("img", { class: "join-qr-big", src: svgUrl(j.qr_svg), alt: `QR code of ${j.url}` }),
      h("div", { class: "join-text" }, h("div", { class: "join-address" }, url.host + url.pathname), h("div", { class: "join-code" }, "Class code ", h("strong", {}, j.class_code))),
      h("div", { class: "join-tools no-print" }, h("button", { class: "tool", onclick: back }, "Close"), document.fullscreenEnabled ? h("button", { class: "tool", onclick: () => document.documentElement.requestFullscreen() }, "Full screen") : null),
    ),
  );
  document.addEventListener("keydown", (ev) => ev.key === "Escape" && !document.fullscreenElement && back());
}

main();
