// CodeMirror 6 editors for code (Python highlighting: Sage's syntax is Python's plus a
// preparser) and markdown cells. Tab asks the kernel to complete; Shift+Tab inspects.
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap, drawSelection, highlightSpecialChars, placeholder as placeholderExt } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentMore, indentLess, undo, redo } from "@codemirror/commands";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting, HighlightStyle } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, startCompletion, completionStatus } from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";
import { tags as t } from "@lezer/highlight";
import { fromCodePoints } from "./kernel.js";

export const highlight = HighlightStyle.define([
  { tag: t.keyword, color: "#8000a0", fontWeight: "600" },
  { tag: [t.string, t.special(t.string)], color: "#b2221a" },
  { tag: t.comment, color: "#408080", fontStyle: "italic" },
  { tag: [t.number, t.bool, t.null], color: "#0a7d32" },
  { tag: [t.operator], color: "#aa22ff" },
  { tag: [t.definition(t.variableName), t.function(t.definition(t.variableName))], color: "#0033b3" },
  { tag: t.className, color: "#0033b3", fontWeight: "600" },
  { tag: t.self, color: "#8000a0" },
  { tag: t.meta, color: "#aa22ff" },
]);

const theme = EditorView.theme({
  "&": { fontSize: "var(--code-size)", backgroundColor: "transparent" },
  ".cm-content": { fontFamily: "var(--code-font)", padding: "6px 0" },
  ".cm-line": { padding: "0 8px" },
  "&.cm-focused": { outline: "none" },
  ".cm-tooltip-autocomplete > ul": { fontFamily: "var(--code-font)", maxHeight: "16em" },
});

const KIND_ICON = { function: "function", class: "class", module: "namespace", keyword: "keyword", instance: "variable", statement: "variable", path: "text", param: "variable" };

/** A completion source that asks the kernel (complete_request), only when Tab asked for it. */
function kernelCompletion(getKernel) {
  return async (context) => {
    const kernel = getKernel();
    if (!context.explicit || !kernel) return null;
    const code = context.state.doc.toString();
    let reply;
    try {
      reply = (await kernel.complete(code, context.pos)).content;
    } catch {
      return null;
    }
    if (reply.status !== "ok" || !reply.matches || !reply.matches.length) return null;
    const types = (reply.metadata && reply.metadata._jupyter_types_experimental) || [];
    const typeOf = new Map(types.map((x) => [x.text, x.type]));
    return {
      from: fromCodePoints(code, reply.cursor_start),
      to: fromCodePoints(code, reply.cursor_end),
      options: reply.matches.map((m) => ({ label: m, type: KIND_ICON[typeOf.get(m)] || "variable" })),
      filter: false,
    };
  };
}

/** Tab: complete after a word, indent at the start of a line (as in JupyterLab). */
const tabCommand = (view) => {
  const { state } = view;
  const sel = state.selection.main;
  const before = state.doc.sliceString(state.doc.lineAt(sel.head).from, sel.head);
  if (sel.empty && /\S$/.test(before)) return startCompletion(view);
  return indentMore(view);
};

/**
 * Create an editor.
 * opts: {parent, doc, mode: "code"|"markdown", keys: [{key, run}], onChange(view), onFocus(), getKernel(), onInspect(code, pos),
 * readOnly, collab: {extension, keys} (a shared document's binding, see collab/cells.js)}
 */
export function createEditor(opts) {
  // In a shared document (opts.collab: y-codemirror.next's binding and its undo keys) undo is
  // Yjs's, which undoes only this person's edits; CodeMirror's own history would undo others' too.
  const extensions = [
    highlightSpecialChars(),
    opts.collab ? opts.collab.extension : history(),
    drawSelection(),
    EditorState.allowMultipleSelections.of(false),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    bracketMatching(),
    closeBrackets(),
    theme,
    Prec.high(keymap.of([
      ...(opts.keys || []),
      { key: "Tab", run: tabCommand, shift: (view) => {
        const pos = view.state.selection.main.head;
        const line = view.state.doc.lineAt(pos);
        if (opts.onInspect && /\S/.test(view.state.doc.sliceString(line.from, pos))) {
          opts.onInspect(view.state.doc.toString(), pos);
          return true;
        }
        return indentLess(view);
      } },
    ])),
    keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...(opts.collab ? opts.collab.keys : historyKeymap)]),
    EditorView.updateListener.of((u) => {
      if (u.docChanged && opts.onChange) opts.onChange(u.view);
      if (u.focusChanged && u.view.hasFocus && opts.onFocus) opts.onFocus();
    }),
  ];
  if (opts.mode === "markdown") {
    extensions.push(EditorView.lineWrapping);
  } else {
    extensions.push(python(), syntaxHighlighting(highlight), indentOnInput());
    extensions.push(autocompletion({ override: [kernelCompletion(opts.getKernel)], activateOnTyping: false, icons: true, interactionDelay: 0 }));
  }
  if (opts.placeholder) extensions.push(placeholderExt(opts.placeholder));
  if (opts.readOnly) extensions.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
  const view = new EditorView({
    state: EditorState.create({ doc: opts.doc || "", extensions }),
    parent: opts.parent,
  });
  return view;
}

export function getText(view) {
  return view.state.doc.toString();
}

export function setText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Is the cursor on the first (dir<0) or last (dir>0) line, with no completion open? */
export function atEdge(view, dir) {
  if (completionStatus(view.state)) return false;
  const { head } = view.state.selection.main;
  const line = view.state.doc.lineAt(head);
  return dir < 0 ? line.number === 1 : line.number === view.state.doc.lines;
}

export { undo, redo };
