// Read-only code with the notebook editor's colours, without an editor: the Python parser
// tags the text and each token becomes a <span> (Sage's syntax is Python's plus a preparser).
import { highlightCode } from "@lezer/highlight";
import { python } from "@codemirror/lang-python";
import { StyleModule } from "style-mod";
import { highlight } from "../editor.js";

const parser = python().language.parser;
let mounted = false;

/** A <pre> of highlighted code; text only (never HTML), so a student's code cannot inject markup. */
export function codeBlock(source) {
  const pre = document.createElement("pre");
  pre.className = "code-source";
  // The colours' CSS rules: an editor view mounts them; with no editor, mount them once here.
  if (!mounted && highlight.module) StyleModule.mount(document, highlight.module);
  mounted = true;
  try {
    highlightCode(
      source,
      parser.parse(source),
      highlight,
      (text, classes) => {
        if (!classes) return pre.append(text);
        const span = document.createElement("span");
        span.className = classes;
        span.textContent = text;
        pre.append(span);
      },
      () => pre.append("\n"),
    );
  } catch {
    pre.textContent = source;
  }
  return pre;
}
