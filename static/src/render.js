// Turning untrusted text into DOM: HTML (DOMPurify), markdown with math (markdown-it +
// KaTeX), LaTeX, ANSI-coloured text. Nothing here runs scripts: untrusted HTML is
// sanitized, and the page's Content-Security-Policy forbids inline scripts anyway.
import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";
import markdownItKatex from "@vscode/markdown-it-katex";
import katex from "katex";
import { terminalPre } from "./termtext.js";

// Sage's LaTeX uses a few macros of its own (\Bold{Z}, \ZZ, ...).
export const KATEX_MACROS = {
  "\\Bold": "\\mathbf{#1}",
  "\\ZZ": "\\Bold{Z}",
  "\\QQ": "\\Bold{Q}",
  "\\RR": "\\Bold{R}",
  "\\CC": "\\Bold{C}",
  "\\NN": "\\Bold{N}",
  "\\FF": "\\Bold{F}",
  "\\GF": "\\Bold{F}",
  "\\Zp": "\\ZZ_{#1}",
  "\\Qp": "\\QQ_{#1}",
  "\\Zmod": "\\ZZ/#1\\ZZ",
  "\\lt": "<",
  "\\gt": ">",
};
const katexOptions = (displayMode) => ({
  displayMode,
  throwOnError: false,
  output: "htmlAndMathml",
  macros: { ...KATEX_MACROS },
  trust: false,
  strict: "ignore",
});

// Links in outputs open in a new tab and never get the opener.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const PURIFY = {
  // <style> would restyle the whole app; forms could post anywhere.
  FORBID_TAGS: ["style", "form", "iframe", "frame", "object", "embed", "base", "meta", "link"],
  FORBID_ATTR: ["formaction", "action"],
  ADD_TAGS: [],
};

/** Parse HTML in an inert <template>: nothing loads or runs until the nodes are inserted. */
function inertFragment(html) {
  const t = document.createElement("template");
  t.innerHTML = html;
  return t.content;
}

/** Sanitize HTML into a DocumentFragment. */
export function sanitize(html) {
  return inertFragment(DOMPurify.sanitize(String(html), PURIFY));
}

// A trusted notebook may restyle the page and hold forms, but trust is read from the file's own
// metadata, which whoever wrote the file controls: frames (an <iframe srcdoc> runs any script of
// our origin), plugins, <base>/<meta>/<link>, scripts and event handlers still go.
const PURIFY_TRUSTED = {
  FORBID_TAGS: ["iframe", "frame", "object", "embed", "base", "meta", "link"],
  ADD_TAGS: ["style"],
  FORCE_BODY: true, // a leading <style> is kept (DOMPurify would move it into an unused <head>)
};

/** HTML → fragment; trusted notebooks get a looser sanitizer (styles and forms kept). */
export function htmlFragment(html, trusted = false) {
  return trusted ? inertFragment(DOMPurify.sanitize(String(html), PURIFY_TRUSTED)) : sanitize(html);
}

const md = new MarkdownIt({ html: true, linkify: true, typographer: false });
md.use(markdownItKatex.default || markdownItKatex, { ...katexOptions(false), enableBareBlocks: true });

// A markdown cell's images may point into its own attachments: ![a](attachment:my%20plot.png),
// or <img src="attachment:..."> in its HTML (as imported Sage worksheets have).
const IMAGE_MIMES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"];
const ATTACHMENT_SRC = /(<img\b[^>]*?\ssrc\s*=\s*)(["'])attachment:([^"']*)\2/gi;
const unescapeAttr = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** Point <img src="attachment:NAME"> of rendered HTML at the cell's attachments (data: URLs). */
function resolveAttachments(html, attachments) {
  if (!attachments || !html.includes("attachment:")) return html;
  return html.replace(ATTACHMENT_SRC, (whole, head, quote, ref) => {
    const url = attachmentURL(attachments, unescapeAttr(ref));
    return url ? `${head}${quote}${url}${quote}` : whole;
  });
}

/** data: URL of a cell attachment named in a link (percent-encoded or not), or null. */
function attachmentURL(attachments, ref) {
  let name = ref;
  try {
    name = decodeURIComponent(ref);
  } catch {
    // a lone "%" in the name: use it as written
  }
  const bundle = attachments[name] || attachments[ref];
  if (!bundle) return null;
  const mime = IMAGE_MIMES.find((m) => m in bundle) || Object.keys(bundle)[0];
  if (!mime) return null;
  const value = Array.isArray(bundle[mime]) ? bundle[mime].join("") : String(bundle[mime]);
  // SVG may be stored as text or (as JupyterLab pastes it) base64.
  return mime === "image/svg+xml" && !/^[A-Za-z0-9+/=\s]+$/.test(value)
    ? "data:image/svg+xml;charset=utf-8," + encodeURIComponent(value).replace(/'/g, "%27")
    : `data:${mime};base64,${value.replace(/\s/g, "")}`;
}

/** Render markdown with $math$ into a sanitized fragment; attachments: a cell's {name: {mime: data}}. */
export function renderMarkdown(text, trusted = false, attachments = null) {
  return htmlFragment(resolveAttachments(md.render(String(text)), attachments), trusted);
}

/** Render a LaTeX string (as in text/latex outputs) into an element, or null on failure. */
export function renderLatex(text) {
  let src = String(text).trim();
  let display = true;
  const m = src.match(/^\$\$([\s\S]*)\$\$$/) || src.match(/^\\\[([\s\S]*)\\\]$/) || src.match(/^\\begin\{math\}([\s\S]*)\\end\{math\}$/);
  if (m) src = m[1];
  else if (/^\$[\s\S]*\$$/.test(src)) [src, display] = [src.slice(1, -1), false];
  else if (/^\\\([\s\S]*\\\)$/.test(src)) [src, display] = [src.slice(2, -2), false];
  const el = document.createElement("div");
  el.className = "latex-output";
  try {
    katex.render(src, el, { ...katexOptions(display), throwOnError: true });
    return el;
  } catch {
    return null;
  }
}

const MATH_RE = /(\$\$[\s\S]+?\$\$|\\\[[\s\S]+?\\\]|\\\([\s\S]+?\\\)|\$(?!\s)[^$\n]+?(?<!\s)\$)/g;

/** Typeset \( \), \[ \], $ $ and $$ $$ found in the text nodes of an element (as JupyterLab does for HTML). */
export function typesetMath(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) =>
      n.parentElement && n.parentElement.closest("code, pre, script, .katex, textarea")
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_ACCEPT,
  });
  const nodes = [];
  while (walker.nextNode()) if (/\$|\\\(|\\\[/.test(walker.currentNode.nodeValue)) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const parts = node.nodeValue.split(MATH_RE);
    if (parts.length === 1) continue;
    const frag = document.createDocumentFragment();
    parts.forEach((part, i) => {
      if (i % 2 === 0) {
        if (part) frag.append(part);
        return;
      }
      const display = part.startsWith("$$") || part.startsWith("\\[");
      const src = display || part.startsWith("\\(") ? part.slice(2, -2) : part.slice(1, -1);
      const span = document.createElement("span");
      katex.render(src, span, katexOptions(display));
      frag.append(span);
    });
    node.replaceWith(frag);
  }
}

/** A <pre> showing text as a terminal would (\r, \b, ANSI colours); the text is never parsed as HTML. */
export function ansiPre(text, className = "") {
  return terminalPre(String(text), className).el;
}

/** Join nbformat multiline strings (lists of lines) into one string. */
export function joinText(value) {
  return Array.isArray(value) ? value.join("") : value == null ? "" : String(value);
}
