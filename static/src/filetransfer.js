// The file browser's transfers and small pieces: sizes, icons, upload with progress, download.
import { contents, cookie } from "./api.js";
import { h, toast } from "./dom.js";

export function formatSize(n) {
  if (n == null) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${units[i]}`;
}

// Small line icons (emoji fonts are missing on many Linux desktops).
const ICONS = {
  directory: "M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h7A1.5 1.5 0 0 1 19 8.5v8a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 3 16.5z",
  notebook: "M6 3h10a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6zM9 3v18M11.5 8h4M11.5 11h4",
  file: "M6 3h8l4 4v14H6zM14 3v4h4M9 12h6M9 15h6M9 18h4",
  binary: "M6 3h8l4 4v14H6zM14 3v4h4M9.5 11v4M12 11v4M14.5 11v4",
};
export function icon(kind) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 22 22");
  svg.setAttribute("class", `file-icon icon-${kind}`);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[kind]);
  svg.append(path);
  return svg;
}

/** Download a file: its bytes through the Contents API (base64), saved by the browser. */
export async function downloadFile(item) {
  try {
    const resp = await fetch(`${contents.url(item.path)}?type=file&format=base64`, { credentials: "same-origin", cache: "no-store" });
    if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
    const model = await resp.json();
    const bytes = Uint8Array.from(atob(model.content.replace(/\s/g, "")), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: model.mimetype || "application/octet-stream" }));
    const a = h("a", { href: url, download: item.name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    toast(`Could not download ${item.name}: ${err.message}`, 6000);
  }
}

/** PUT one file as base64 with XHR (fetch cannot report upload progress); shows a bar in ``box``. */
export function uploadFile(file, path, box) {
  const bar = h("progress", { max: 1, value: 0 });
  const row = h("div", { class: "upload-row" }, h("span", {}, `Uploading ${file.name} (${formatSize(file.size)})`), bar);
  box.append(row);
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onerror = () => finish(`could not read the file`);
    reader.onload = () => {
      const content = String(reader.result).replace(/^data:[^,]*,/, "");
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", contents.url(path));
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.setRequestHeader("X-XSRFToken", cookie("_xsrf"));
      xhr.upload.onprogress = (ev) => ev.lengthComputable && (bar.value = ev.loaded / ev.total);
      xhr.onload = () => finish(xhr.status < 300 ? null : (safeJson(xhr.responseText).message || `${xhr.status} ${xhr.statusText}`));
      xhr.onerror = () => finish("the connection failed");
      xhr.send(JSON.stringify({ type: "file", format: "base64", content }));
    };
    reader.readAsDataURL(file);
    const finish = (error) => {
      row.remove();
      toast(error ? `Upload of ${file.name} failed: ${error}` : `Uploaded ${file.name}`, error ? 8000 : 3000);
      resolve();
    };
  });
}

function safeJson(text) {
  try {
    return JSON.parse(text) || {};
  } catch {
    return {};
  }
}

