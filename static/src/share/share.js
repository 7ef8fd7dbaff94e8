// The read-only page of a published file or folder (/share/<slug>/<path>): no login needed.
//
// Everything shown is treated as untrusted, whatever the owner's trust setting: outputs go
// through the same OutputArea as the notebook (DOMPurify, SVG as <img>), under the app's
// strict CSP.  "Copy into my project" appears only for a signed-in viewer.
import "katex/dist/katex.min.css";
import "../style.css";
import "./share.css";
import { createEditor } from "../editor.js";
import { OutputArea } from "../outputarea.js";
import { joinText, renderMarkdown } from "../render.js";
import { encodePath, projectBase, projects, rootApi } from "../api.js";
import { h, toast } from "../dom.js";

const slug = document.body.dataset.name;
const rest = document.body.dataset.path || "";
const shareUrl = (path) => `/share/${encodeURIComponent(slug)}/${encodePath(path || "")}`;
const rawUrl = (path, download) => `/api/shares/${encodeURIComponent(slug)}/raw/${encodePath(path || "")}${download ? "?download=1" : ""}`;

function renderNotebook(nb) {
  const cells = h("div", { class: "cells share-cells" });
  for (const cell of nb.cells || []) {
    const source = joinText(cell.source);
    const row = h("div", { class: `cell ${cell.cell_type}-cell share-cell is-rendered` });
    const prompt = h("div", { class: "prompt" });
    const body = h("div", { class: "cell-body" });
    if (cell.cell_type === "markdown") {
      body.append(h("div", { class: "markdown-rendered" }, renderMarkdown(source, false)));
    } else if (cell.cell_type === "code") {
      prompt.textContent = `[${cell.execution_count ?? " "}]:`;
      const input = h("div", { class: "cell-input" });
      createEditor({ parent: input, doc: source, mode: "code", readOnly: true });
      const outputs = new OutputArea({ trusted: false });
      outputs.set(cell.outputs || []);
      body.append(input, outputs.el);
    } else {
      body.append(h("pre", { class: "raw-source" }, source));
    }
    row.append(prompt, body);
    cells.append(row);
  }
  return cells;
}

function renderDirectory(item) {
  const entries = [...(item.content || [])].sort((a, b) => (a.type === "directory") === (b.type === "directory") ? a.name.localeCompare(b.name) : a.type === "directory" ? -1 : 1);
  const list = h("ul", { class: "share-list" });
  if (item.path) list.append(h("li", {}, h("a", { href: shareUrl(item.path.split("/").slice(0, -1).join("/")) }, "⬑ ..")));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const icon = e.type === "directory" ? "📁" : e.type === "notebook" ? "📓" : "📄";
    list.append(h("li", {}, h("a", { href: shareUrl(e.path) + (e.type === "directory" ? "/" : "") }, `${icon} ${e.name}`)));
  }
  if (!entries.length) list.append(h("li", { class: "muted" }, "This folder is empty."));
  return list;
}

function renderFile(item) {
  if (item.format === "base64" && /^image\//.test(item.mimetype || "")) return h("img", { class: "share-image", src: rawUrl(rest), alt: item.name });
  if (item.format === "text") return h("pre", { class: "share-text" }, item.content);
  return h("p", {}, "This file cannot be shown here: ", h("a", { href: rawUrl(rest, true) }, "download it"), ".");
}

/** The "Copy into my project" control, shown only when the viewer is signed in to this server. */
async function copyControl(item) {
  let list;
  try {
    list = await projects.list();
  } catch {
    return null; // not signed in: a public viewer only reads
  }
  // The user's own main project first: the default one, or the home project in multi-user mode.
  const home = (p) => p.id === "default" || /\(home\)$/.test(p.title || "");
  const ordered = [...list.filter(home), ...list.filter((p) => !home(p) && !p.archived)];
  const select = h("select", { class: "share-project", "aria-label": "Project to copy into" },
    ...ordered.map((p) => h("option", { value: p.id }, p.title || p.id)));
  const button = h("button", { class: "primary", onclick: async () => {
    button.disabled = true;
    try {
      const model = await rootApi("POST", `api/shares/${encodeURIComponent(slug)}/copy`, { path: rest, project: select.value });
      const where = projectBase(select.value) + (model.type === "notebook" ? "notebooks/" : "edit/") + encodePath(model.path);
      toast(`Copied to ${model.path}`);
      const open = h("a", { class: "tool", href: where }, `Open ${model.name}`);
      button.after(open);
    } catch (err) {
      toast(`Copy failed: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  } }, "Copy into my project");
  return h("span", { class: "share-copy" }, select, button);
}

async function main() {
  document.querySelector(".loading")?.remove();
  const head = h("header", { class: "share-head" });
  const main = h("main", { class: "share-main notebook" });
  document.body.append(head, main);
  let data;
  try {
    data = await rootApi("GET", `api/shares/${encodeURIComponent(slug)}/contents/${encodePath(rest)}`);
  } catch (err) {
    main.append(h("div", { class: "error-page" }, h("h1", {}, "Not available"), h("p", {}, err.message)));
    return;
  }
  const { share, item } = data;
  const name = item.name || share.title;
  document.title = `${name} · shared`;
  const crumbs = h("span", { class: "share-title" }, h("span", { class: "logo" }, "S"), h("a", { href: shareUrl("") }, share.title));
  if (share.kind === "directory" && item.path) crumbs.append(" / ", item.path);
  const tools = h("span", { class: "share-tools" }, h("span", { class: "badge" }, "Read-only"));
  if (item.type !== "directory") tools.append(h("a", { class: "tool", href: rawUrl(rest, true), download: name }, "Download"));
  head.append(crumbs, h("span", { class: "spacer" }), tools);
  if (item.type === "notebook") main.append(renderNotebook(item.content));
  else if (item.type === "directory") main.append(renderDirectory(item));
  else main.append(renderFile(item));
  if (item.type !== "directory") {
    const copy = await copyControl(item);
    if (copy) tools.append(copy);
  }
  document.body.dataset.ready = "1";
}

main();
