// The files a cell wrote (application/vnd.salvus.files+json, sent by the kernel after the
// cell ran): one line of links under the output. Images are also sent as their own image
// outputs, shown inline; here every file is a download link (through the Contents API).
import "./sage.css";
import { downloadFile, formatSize } from "./filetransfer.js";

export const FILES_MIME = "application/vnd.salvus.files+json";

/** The folder the kernel ran in, as a contents path: the notebook's folder ("" elsewhere). */
function kernelFolder() {
  const { page, path } = document.body.dataset;
  if (page !== "notebook" || !path || !path.includes("/")) return "";
  return path.slice(0, path.lastIndexOf("/"));
}

/** Render the list of files a cell wrote. */
export function renderCellFiles(data) {
  const files = (data && Array.isArray(data.files) && data.files) || [];
  if (!files.length) return null;
  const folder = kernelFolder();
  const box = document.createElement("div");
  box.className = "cell-files";
  const label = document.createElement("span");
  label.className = "cell-files-label";
  label.textContent = files.length === 1 ? "File written:" : "Files written:";
  box.append(label);
  for (const f of files) {
    const path = folder ? `${folder}/${f.path}` : f.path;
    const name = f.path.slice(f.path.lastIndexOf("/") + 1);
    const a = document.createElement("a");
    a.href = "#";
    a.className = `cell-file${f.image ? " is-image" : ""}`;
    a.title = `Download ${f.path}`;
    a.textContent = f.path;
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      downloadFile({ path, name });
    });
    const size = document.createElement("span");
    size.className = "cell-file-size";
    size.textContent = typeof f.size === "number" ? formatSize(f.size) : "";
    const item = document.createElement("span");
    item.className = "cell-file-item";
    item.append(a, size);
    box.append(item);
  }
  if (data.more) {
    const more = document.createElement("span");
    more.className = "cell-files-more";
    more.textContent = `and ${data.more} more`;
    box.append(more);
  }
  return box;
}
