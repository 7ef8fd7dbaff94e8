// A chat message's text → DOM: the client's markdown renderer (markdown-it + KaTeX, sanitized by
// DOMPurify, never trusted), then @mentions of members marked up. Times and author colours too.
import { renderMarkdown } from "../render.js";
import { h } from "../dom.js";

const MENTION = /(^|[^\w@/.])@([A-Za-z][A-Za-z0-9._-]{0,31})/g;

/** Rendered message body; mentions of known members become <span class="mention">, mine also "me". */
export function renderBody(text, memberNames, myName) {
  const wrap = h("div", { class: "chat-body markdown" });
  wrap.append(renderMarkdown(text, false));
  const walker = document.createTreeWalker(wrap, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.parentElement.closest("code, pre, a, .katex") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const nodes = [];
  while (walker.nextNode()) if (walker.currentNode.nodeValue.includes("@")) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue;
    const frag = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(MENTION)) {
      const name = m[2].replace(/[._-]+$/, "").toLowerCase();
      if (!memberNames.has(name)) continue;
      const start = m.index + m[1].length;
      frag.append(text.slice(last, start), h("span", { class: name === myName ? "mention me" : "mention" }, `@${name}`));
      last = start + 1 + name.length;
    }
    if (last === 0) continue;
    frag.append(text.slice(last));
    node.replaceWith(frag);
  }
  return wrap;
}

/** A stable colour per person (hue from the name). */
export function colorOf(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 42%)`;
}

/** "14:05" today, "Tue 14:05" this week, else "3 Nov 2026, 14:05". */
export function when(iso) {
  const d = new Date(iso);
  const now = new Date();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (d.toDateString() === now.toDateString()) return time;
  if (now - d < 6 * 86400_000) return `${d.toLocaleDateString([], { weekday: "short" })} ${time}`;
  return `${d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" })}, ${time}`;
}
