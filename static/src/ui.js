// Small shared pieces of the page: the kernel status badge, the help panel, toasts.
import { joinText, htmlFragment } from "./render.js";
import { h, toast, ask } from "./dom.js";

export { h, toast, ask };

const STATUS_TEXT = {
  idle: "Idle",
  busy: "Busy",
  starting: "Starting…",
  restarting: "Restarting…",
  reconnecting: "Reconnecting…",
  dead: "Kernel dead",
  disconnected: "No kernel",
};

/** A badge showing a kernel's status; kept up to date. */
export function statusBadge() {
  const dot = h("span", { class: "dot" });
  const text = h("span", { class: "status-text" });
  const el = h("span", { class: "kernel-status", role: "status", "aria-live": "polite" }, dot, text);
  el.set = (status, name = "") => {
    el.dataset.status = status;
    text.textContent = `${name ? name + " · " : ""}${STATUS_TEXT[status] || status}`;
    el.title = status === "dead" ? "The kernel stopped. Restart it to run code again." : `Kernel: ${status}`;
  };
  el.set("disconnected");
  return el;
}

/** Follow a kernel's status in a badge, and toast reconnections. */
export function watchKernel(kernel, badge, label) {
  badge.set(kernel.status, label);
  kernel.addEventListener("status", (ev) => badge.set(ev.detail, label));
  kernel.addEventListener("connected", (ev) => {
    if (ev.detail.reconnected) toast("Reconnected to the kernel.");
  });
}

/** The help panel for ?, ?? and Shift+Tab. */
export class HelpPanel {
  constructor() {
    this.body = h("div", { class: "help-body" });
    this.el = h(
      "aside",
      { class: "help-panel", hidden: true, "aria-label": "Help" },
      h("header", {}, h("strong", {}, "Help"), h("button", { class: "icon-button", title: "Close (Esc)", onclick: () => this.close() }, "×")),
      this.body,
    );
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !this.el.hidden && !ev.target.closest(".cm-editor")) this.close();
    });
  }

  /** Show a mime bundle (inspect_reply data or a pager payload). */
  show(data) {
    // Pager text is coloured for a dark terminal (near-white names): show it plain.
    const plain = joinText(data["text/plain"] || "No help found.").replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
    const node = data["text/html"]
      ? h("div", {}, htmlFragment(joinText(data["text/html"]), false))
      : h("pre", { class: "help-text" }, plain);
    this.body.replaceChildren(node);
    this.el.hidden = false;
    document.body.classList.add("with-help");
  }

  close() {
    this.el.hidden = true;
    document.body.classList.remove("with-help");
  }
}

/** Ask the kernel about the name at the cursor and show it in the panel. */
export async function inspectInto(panel, kernel, code, pos) {
  if (!kernel) return;
  try {
    const reply = (await kernel.inspect(code, pos, 0)).content;
    if (reply.status === "error") panel.show({ "text/plain": `The kernel could not look this up: ${reply.ename}: ${reply.evalue}` });
    else panel.show(reply.found ? reply.data : { "text/plain": "Nothing found for the name at the cursor." });
  } catch (err) {
    toast(`Help failed: ${err.message}`);
  }
}
