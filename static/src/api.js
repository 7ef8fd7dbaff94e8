// REST calls to the Jupyter Server API (same shapes as jupyter_server).
//
// Auth is the HttpOnly session cookie the server set when the token URL was opened;
// mutating requests must echo the `_xsrf` cookie in the X-XSRFToken header.

/** Base URL of the app ("/" or "/p/<project>/"), given by the page's <body data-base-url>. */
export function baseUrl() {
  const base = document.body.dataset.baseUrl || "/";
  return base.endsWith("/") ? base : base + "/";
}

/** Value of a cookie by name, or "". */
export function cookie(name) {
  const hit = document.cookie.split(/;\s*/).find((c) => c.startsWith(name + "="));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

/** Encode a contents path ("a b/c.ipynb") for a URL, keeping the slashes. */
export function encodePath(path) {
  return path.split("/").filter(Boolean).map(encodeURIComponent).join("/");
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** fetch() an API path relative to the base URL; JSON in and out; throws ApiError. */
export async function api(method, path, body, extra = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-XSRFToken"] = cookie("_xsrf");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(baseUrl() + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
    ...extra,
  });
  if (resp.status === 204) return null;
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const message = (data && (data.message || data.reason)) || `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, message);
  }
  return data;
}

// The root is "api/contents" (no trailing slash), which every Jupyter server accepts.
const contentsUrl = (path) => (encodePath(path) ? `api/contents/${encodePath(path)}` : "api/contents");

export const contents = {
  /** GET a file or directory model. */
  get: (path, content = true) => api("GET", `${contentsUrl(path)}?content=${content ? 1 : 0}`),
  /** PUT a full model (save). */
  save: (path, model, extra) => api("PUT", contentsUrl(path), model, extra),
  /** POST: create an untitled notebook (or file) in a directory. */
  create: (dir, type = "notebook", ext = ".ipynb") => api("POST", contentsUrl(dir), { type, ext }),
  rename: (path, newPath) => api("PATCH", contentsUrl(path), { path: newPath }),
  remove: (path) => api("DELETE", contentsUrl(path)),
};

export const kernels = {
  list: () => api("GET", "api/kernels"),
  get: (id) => api("GET", `api/kernels/${id}`),
  start: (name) => api("POST", "api/kernels", name ? { name } : {}),
  interrupt: (id) => api("POST", `api/kernels/${id}/interrupt`),
  restart: (id) => api("POST", `api/kernels/${id}/restart`),
  shutdown: (id) => api("DELETE", `api/kernels/${id}`),
};

export const sessions = {
  list: () => api("GET", "api/sessions"),
  /** Create (or get, when one exists for that path) the session of a notebook. */
  create: (path, kernelName) =>
    api("POST", "api/sessions", { path, name: path.split("/").pop(), type: "notebook", kernel: { name: kernelName } }),
};

export const kernelspecs = () => api("GET", "api/kernelspecs");
