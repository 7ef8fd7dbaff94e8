// The bar shown when a file changed on disk while the page holds unsaved edits: the user
// chooses; nothing is discarded behind their back.
import { h } from "./dom.js";

export class ConflictBar {
  constructor() {
    this.el = h("div", { class: "conflict-bar", role: "alert", hidden: true });
  }

  /**
   * Show a message with actions. actions: [[label, fn, {primary, title}]]; any action hides the bar
   * unless it returns false.
   */
  show(message, actions) {
    this.el.replaceChildren(
      h("span", { class: "conflict-text" }, message),
      h(
        "span",
        { class: "conflict-actions" },
        ...actions.map(([label, fn, o = {}]) =>
          h("button", { class: o.primary ? "primary" : "tool", title: o.title || "", onclick: async () => (await fn()) !== false && this.hide() }, label),
        ),
      ),
    );
    this.el.hidden = false;
  }

  hide() {
    this.el.hidden = true;
  }

  get shown() {
    return !this.el.hidden;
  }
}

/** Does a change event concern this path, and came from outside this server? */
export function externalChangeOf(ev, path) {
  if (ev.external === false || ev.type === "snapshot" || ev.type === "snapshot_skipped") return null;
  if (ev.path === path) return ev.type === "moved" ? { kind: "moved", to: ev.dest_path } : { kind: ev.type === "deleted" ? "deleted" : "modified" };
  if (ev.dest_path === path) return { kind: "modified" };
  return null;
}
