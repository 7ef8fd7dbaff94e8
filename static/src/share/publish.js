// The Publish dialog (notebook page and file browser): publish a file or folder read-only at
// /share/<slug>/, show and copy its link, unpublish; for notebooks, export to HTML or PDF.
import { rootApi, rootUrl } from "../api.js";
import { h, toast } from "../dom.js";
import "./publish.css";

const exportHref = (project, path, to) =>
  `${rootUrl()}api/export?${new URLSearchParams({ project, path, to })}`;

/** Open the dialog for one item: {project, path, name, isNotebook}. */
export async function publishDialog({ project, path, name, isNotebook }) {
  const body = h("div", { class: "publish-body" });
  const close = () => overlay.remove();
  const overlay = h(
    "div",
    { class: "overlay", onclick: (ev) => ev.target === overlay && close() },
    h(
      "div",
      { class: "dialog publish-dialog", role: "dialog", "aria-label": `Publish ${name}` },
      h("header", {}, h("strong", {}, `Publish ${name}`), h("button", { type: "button", class: "icon-button", title: "Close (Esc)", onclick: close }, "×")),
      body,
    ),
  );
  overlay.addEventListener("keydown", (ev) => {
    ev.stopPropagation();
    if (ev.key === "Escape") close();
  });
  document.body.append(overlay);

  const show = (share) => {
    body.replaceChildren();
    if (!share) {
      const publish = h("button", { class: "primary publish-now", onclick: async () => {
        publish.disabled = true;
        try {
          show(await rootApi("POST", "api/shares", { project, path }));
        } catch (err) {
          toast(`Could not publish: ${err.message}`, 6000);
          publish.disabled = false;
        }
      } }, "Publish");
      body.append(h("p", {}, "Anyone with the link can view it read-only, with its outputs and math — no login needed."), h("div", { class: "dialog-buttons" }, publish));
    } else {
      const url = new URL(share.url, location.href).href;
      const field = h("input", { class: "dialog-input share-link", value: url, readOnly: true, "aria-label": "Share link", onfocus: (ev) => ev.target.select() });
      const copy = h("button", { class: "tool", onclick: async () => {
        try {
          await navigator.clipboard.writeText(url);
          toast("Link copied");
        } catch {
          field.select();
          toast("Press Ctrl+C to copy the link");
        }
      } }, "Copy link");
      const unpublish = h("button", { class: "tool danger unpublish", onclick: async () => {
        try {
          await rootApi("DELETE", `api/shares/${encodeURIComponent(share.slug)}`);
          toast(`${name} is no longer published`);
          show(null);
        } catch (err) {
          toast(`Could not unpublish: ${err.message}`, 6000);
        }
      } }, "Unpublish");
      body.append(
        h("p", {}, "Published read-only. Anyone with this link can view it:"),
        h("div", { class: "share-link-row" }, field, copy),
        h("div", { class: "dialog-buttons" }, unpublish, h("a", { class: "tool", href: share.url, target: "_blank", rel: "noopener" }, "Open")),
      );
    }
    if (isNotebook) {
      body.append(h("div", { class: "export-row" }, h("span", { class: "muted" }, "Export: "),
        h("a", { class: "tool export-html", href: exportHref(project, path, "html"), download: "" }, "HTML"),
        h("a", { class: "tool export-pdf", href: exportHref(project, path, "pdf"), download: "", title: "Printed by headless Chromium (or LaTeX when that is what is installed)" }, "PDF")));
    }
  };
  try {
    const found = await rootApi("GET", `api/shares?${new URLSearchParams({ project, path })}`);
    show(found[0] || null);
  } catch (err) {
    body.append(h("p", {}, `Could not read the shares: ${err.message}`));
  }
}
