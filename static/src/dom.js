// DOM helpers every page shares, with no heavy imports: element builder, toasts, dialogs.

export const h = (tag, props = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k in el) el[k] = v;
    else el.setAttribute(k, v);
  }
  el.append(...children.filter((c) => c != null));
  return el;
};

let toastBox = null;
/** A short message at the bottom of the window. */
export function toast(message, ms = 3500) {
  if (!toastBox) {
    toastBox = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(toastBox);
  }
  const el = h("div", { class: "toast" }, message);
  toastBox.append(el);
  setTimeout(() => el.remove(), ms);
}

/**
 * A small modal dialog. opts: {title, message, value (shows a text field), ok, cancel, danger,
 * extra: [[label, result]]}. Resolves with the field's text (or true) on OK, an extra's result,
 * or null when cancelled (Esc, ×, Cancel).
 */
export function ask(opts) {
  return new Promise((resolve) => {
    const field = opts.value !== undefined ? h("input", { class: "dialog-input", value: opts.value, "aria-label": opts.title, spellcheck: false }) : null;
    const done = (result) => {
      overlay.remove();
      if (opts.restoreFocus !== false && previous && previous.focus) previous.focus();
      resolve(result);
    };
    const ok = () => done(field ? field.value : true);
    const previous = document.activeElement;
    const overlay = h(
      "div",
      { class: "overlay", onclick: (ev) => ev.target === overlay && done(null) },
      h(
        "form",
        { class: "dialog ask-dialog", role: "dialog", "aria-label": opts.title, onsubmit: (ev) => (ev.preventDefault(), ok()) },
        h("header", {}, h("strong", {}, opts.title), h("button", { type: "button", class: "icon-button", title: "Cancel (Esc)", onclick: () => done(null) }, "×")),
        opts.message ? h("p", {}, opts.message) : null,
        field,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", class: "tool", onclick: () => done(null) }, opts.cancel || "Cancel"),
          ...(opts.extra || []).map(([label, result]) => h("button", { type: "button", class: "tool", onclick: () => done(result) }, label)),
          h("button", { type: "submit", class: opts.danger ? "primary danger" : "primary" }, opts.ok || "OK"),
        ),
      ),
    );
    overlay.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      if (ev.key === "Escape") done(null);
    });
    document.body.append(overlay);
    if (field) {
      field.focus();
      // Select the name without its extension, as file managers do.
      const dot = field.value.lastIndexOf(".");
      field.setSelectionRange(0, dot > 0 && opts.selectStem ? dot : field.value.length);
    } else overlay.querySelector("[type=submit]").focus();
  });
}
