// Side-by-side (or, in a narrow window, unified) diffs with @codemirror/merge. Loaded on
// demand: pages pay for it only when someone opens a diff.
import { EditorState } from "@codemirror/state";
import { EditorView, lineNumbers } from "@codemirror/view";
import { syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { MergeView, unifiedMergeView } from "@codemirror/merge";
import { loadMode } from "./languages.js";
import { h } from "./dom.js";

const readOnly = [EditorState.readOnly.of(true), EditorView.editable.of(false)];

/**
 * Show a diff in a dialog. opts: {title, left, right, leftLabel, rightLabel, mode, actions: [button]}.
 * Unchanged stretches are folded so the differences are what one sees first.
 */
export async function showDiff(opts) {
  const lang = await loadMode(opts.mode || "");
  const ext = [lineNumbers(), syntaxHighlighting(defaultHighlightStyle), lang, EditorView.lineWrapping, ...readOnly];
  const close = () => {
    overlay.remove();
    document.removeEventListener("keydown", onKey);
  };
  const onKey = (ev) => ev.key === "Escape" && close();
  const narrow = window.matchMedia("(max-width: 760px)").matches;
  const body = h("div", { class: "diff-body" });
  const same = opts.left === opts.right;
  const legend = narrow
    ? h("div", { class: "diff-legend" }, h("span", { class: "del" }, `− ${opts.leftLabel}`), h("span", { class: "ins" }, `+ ${opts.rightLabel}`))
    : h("div", { class: "diff-legend two" }, h("span", { class: "del" }, opts.leftLabel), h("span", { class: "ins" }, opts.rightLabel));
  const overlay = h(
    "div",
    { class: "overlay", onclick: (ev) => ev.target === overlay && close() },
    h(
      "div",
      { class: "dialog diff-dialog", role: "dialog", "aria-label": opts.title },
      h("header", {}, h("strong", {}, opts.title), h("span", { class: "spacer" }), ...(opts.actions || []), h("button", { class: "icon-button", title: "Close (Esc)", onclick: close }, "×")),
      same ? h("p", { class: "diff-same" }, "No differences: both versions are the same.") : legend,
      body,
    ),
  );
  document.addEventListener("keydown", onKey);
  document.body.append(overlay);
  const collapse = { margin: 3, minSize: 6 };
  if (narrow) {
    new EditorView({
      parent: body,
      state: EditorState.create({ doc: opts.right, extensions: [...ext, unifiedMergeView({ original: opts.left, mergeControls: false, collapseUnchanged: collapse })] }),
    });
  } else {
    new MergeView({ parent: body, a: { doc: opts.left, extensions: ext }, b: { doc: opts.right, extensions: ext }, collapseUnchanged: collapse, gutter: true });
  }
  overlay.querySelector(".icon-button").focus();
  return { close };
}

/** A readable text form of a notebook for diffs: each cell's source under a header line, with text outputs. */
export function notebookText(nb) {
  const join = (s) => (Array.isArray(s) ? s.join("") : s || "");
  return (nb.cells || [])
    .map((c, i) => {
      const head = `# ── cell ${i + 1} · ${c.cell_type}${c.execution_count ? ` [${c.execution_count}]` : ""} ──`;
      const outs = (c.outputs || [])
        .map((o) => join(o.text) || join((o.data || {})["text/plain"]) || (o.ename ? `${o.ename}: ${o.evalue}` : ""))
        .filter(Boolean)
        .map((t) => t.replace(/^/gm, "# > "));
      return [head, join(c.source), ...outs].join("\n");
    })
    .join("\n\n");
}
