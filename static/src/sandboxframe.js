// HTML outputs that carry their own page in <iframe srcdoc> (Sage's three.js 3D viewer, Jmol)
// run in a sandboxed frame: /sandbox/frame.html is served with `CSP: sandbox allow-scripts`
// (an opaque origin: no cookies, no storage, no API), and the iframe also has
// sandbox="allow-scripts". The frame says "ready"; we post it the HTML, which it writes into
// itself. Its scripts can load only from /nbextensions/ (three.js), so it works offline.
import "./sage.css";
import { rootUrl } from "./api.js";

const pending = new WeakMap(); // frame window -> html to send once it is ready

window.addEventListener("message", (ev) => {
  if (!ev.data || ev.data.salvusSandbox !== "ready" || !pending.has(ev.source)) return;
  const html = pending.get(ev.source);
  pending.delete(ev.source);
  ev.source.postMessage({ html }, "*"); // an opaque origin can only be addressed as "*"
});

const size = (value, fallback) => (!value ? fallback : /^\d+$/.test(value) ? `${value}px` : value);

/** A sandboxed iframe that shows a whole HTML document. */
export function sandboxFrame(html, width, height) {
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.className = "sandbox-frame";
  frame.title = "Interactive output";
  frame.style.width = size(width, "100%");
  frame.style.height = size(height, "400px");
  frame.src = `${rootUrl()}sandbox/frame.html`;
  // The frame's window exists once the iframe is in the document: register it then.
  queueMicrotask(function waitAttached() {
    if (frame.contentWindow) pending.set(frame.contentWindow, html);
    else requestAnimationFrame(waitAttached);
  });
  return frame;
}

const isFrame = (n) => n.nodeType === Node.ELEMENT_NODE && n.tagName === "IFRAME" && n.hasAttribute("srcdoc");
const isBlank = (n) => n.nodeType === Node.TEXT_NODE && !n.nodeValue.trim();

/** An output node for HTML that is only <iframe srcdoc> documents (as Sage writes), else null. */
export function sandboxedFrames(html) {
  if (!/^\s*<iframe[\s>]/i.test(html)) return null;
  const t = document.createElement("template");
  t.innerHTML = html; // inert: a <template> loads and runs nothing
  const nodes = [...t.content.childNodes];
  // Anything else around the frames goes through the sanitizer, which drops iframes.
  if (!nodes.every((n) => isFrame(n) || isBlank(n))) return null;
  const frames = nodes.filter(isFrame);
  if (!frames.length) return null;
  const div = document.createElement("div");
  div.className = "html-output sandboxed-output";
  for (const f of frames) div.append(sandboxFrame(f.getAttribute("srcdoc"), f.getAttribute("width"), f.getAttribute("height")));
  return div;
}
