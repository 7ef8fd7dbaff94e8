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

const CHUNK = 8 * 1024 * 1024; // bytes per request: any size uploads, memory stays small

/** Read one slice of a file as base64. */
function readBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error("could not read the file"));
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.readAsDataURL(blob);
  });
}

/** PUT one chunk (XHR: fetch cannot report upload progress); resolves with an error message or null. */
function putChunk(path, body, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", contents.url(path));
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("X-XSRFToken", cookie("_xsrf"));
    xhr.upload.onprogress = (ev) => ev.lengthComputable && onProgress(ev.loaded / ev.total);
    xhr.onload = () => resolve(xhr.status < 300 ? null : (safeJson(xhr.responseText).message || `${xhr.status} ${xhr.statusText}`));
    xhr.onerror = () => resolve("the connection failed");
    xhr.send(JSON.stringify(body));
  });
}

/** Upload a file in chunks (JupyterLab's protocol: chunk 1, 2, …, -1 for the last); the server
 * puts it in place only after the last one, so a broken upload leaves the old file as it was. */
export async function uploadFile(file, path, box) {
  const bar = h("progress", { max: 1, value: 0 });
  const row = h("div", { class: "upload-row" }, h("span", {}, `Uploading ${file.name} (${formatSize(file.size)})`), bar);
  box.append(row);
  const count = Math.max(1, Math.ceil(file.size / CHUNK));
  let error = null;
  for (let i = 0; i < count && !error; i++) {
    try {
      const content = await readBase64(file.slice(i * CHUNK, (i + 1) * CHUNK));
      const body = { type: "file", format: "base64", content, ...(count > 1 ? { chunk: i === count - 1 ? -1 : i + 1 } : {}) };
      error = await putChunk(path, body, (f) => (bar.value = (i + f) / count));
    } catch (err) {
      error = err.message;
    }
  }
  row.remove();
  toast(error ? `Upload of ${file.name} failed: ${error}` : `Uploaded ${file.name}`, error ? 8000 : 3000);
}

function safeJson(text) {
  try {
    return JSON.parse(text) || {};
  } catch {
    return {};
  }
}

