// REST calls to the Jupyter Server API (same shapes as jupyter_server).
//
// Auth is the HttpOnly session cookie the server set when the token URL was opened;
// mutating requests must echo the `_xsrf` cookie in the X-XSRFToken header.

/** Base URL of the app ("/" or "/p/<project>/"), given by the page's <body data-base-url>. */
export function baseUrl() {
  const base = document.body.dataset.baseUrl || "/";
  return base.endsWith("/") ? base : base + "/";
}

/** The server's root ("/"): projects, search and history live there whatever the project. */
export function rootUrl() {
  const root = document.body.dataset.root || "/";
  return root.endsWith("/") ? root : root + "/";
}

/** The id of the page's project ("default" for the unprefixed URLs). */
export function projectId() {
  return document.body.dataset.project || "default";
}

/** Base URL of a project's pages and Jupyter API. */
export function projectBase(id) {
  return id && id !== "default" ? `${rootUrl()}p/${encodeURIComponent(id)}/` : rootUrl();
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
export function api(method, path, body, extra = {}) {
  return request(baseUrl() + path, method, body, extra);
}

/** Like api(), relative to the server's root (the projects, search and history APIs). */
export function rootApi(method, path, body, extra = {}) {
  return request(rootUrl() + path, method, body, extra);
}

// A GET (or a request marked {retry: true}) that meets a 5xx is tried once more after a
// moment: the first requests to a fresh server can race while it sets up a project.
async function request(url, method, body, extra) {
  const { retry, ...rest } = extra;
  try {
    return await requestOnce(url, method, body, rest);
  } catch (err) {
    if (!(err instanceof ApiError && err.status >= 500 && (method === "GET" || retry))) throw err;
    await new Promise((r) => setTimeout(r, 300));
    return requestOnce(url, method, body, rest);
  }
}

async function requestOnce(url, method, body, extra) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-XSRFToken"] = cookie("_xsrf");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    // API answers carry no Cache-Control: never let the browser reuse one (back/forward would show stale lists).
    cache: "no-store",
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
  /** GET a file's text (format=text), or base64 when it is binary. */
  getText: (path) => api("GET", `${contentsUrl(path)}?type=file&format=text`),
  /** The model without content but with its hash: tells whether a file changed. */
  stat: (path) => api("GET", `${contentsUrl(path)}?content=0&hash=1`),
  /** Copy a file into a directory (the server names it "<name>-Copy1<ext>"). */
  copy: (fromPath, toDir) => api("POST", contentsUrl(toDir), { copy_from: fromPath }),
  /** URL of a file's raw bytes (the files handler), for downloads. */
  url: (path) => `${baseUrl()}${contentsUrl(path)}`,
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

/** A project's Jupyter-style API base ("api/..." under /p/<id>/), for pages of another project. */
const P = (id) => `api/projects/${encodeURIComponent(id)}`;

export const projects = {
  list: (query = "") => rootApi("GET", `api/projects${query}`),
  get: (id) => rootApi("GET", P(id)),
  create: (body) => rootApi("POST", "api/projects", body),
  job: (jobId) => rootApi("GET", `api/projects/jobs/${encodeURIComponent(jobId)}`),
  update: (id, body) => rootApi("PATCH", P(id), body),
  remove: (id) => rootApi("DELETE", P(id)),
  restore: (id) => rootApi("POST", `${P(id)}/restore`),
  events: (id, since, timeout, signal) => rootApi("GET", `${P(id)}/events?since=${since}&timeout=${timeout}`, undefined, { signal }),
  trash: (id) => rootApi("GET", `${P(id)}/trash`),
  untrash: (id, trashId, path) => rootApi("POST", `${P(id)}/trash/${encodeURIComponent(trashId)}/restore`, path ? { path } : {}),
};

/** Snapshots of a project's files: versions, content at a version, diff, restore. */
export const versions = {
  list: (id, path) => rootApi("GET", `${P(id)}/versions?path=${encodeURIComponent(path)}`),
  read: (id, version, path) => rootApi("GET", `${P(id)}/versions/${version}?path=${encodeURIComponent(path)}`),
  diff: (id, from, to, path) => rootApi("GET", `${P(id)}/diff?from=${from}&to=${to}&path=${encodeURIComponent(path)}`),
  restore: (id, version, path) => rootApi("POST", `${P(id)}/versions/${version}/restore`, { path }),
  snapshot: (id, message) => rootApi("POST", `${P(id)}/snapshots`, { message }),
};

export const terminals = {
  list: () => api("GET", "api/terminals"),
  get: (name) => api("GET", `api/terminals/${encodeURIComponent(name)}`),
  create: (cwd) => api("POST", "api/terminals", cwd ? { cwd } : {}, { retry: true }),
  close: (name) => api("DELETE", `api/terminals/${encodeURIComponent(name)}`),
};

/** Full-text search over past computations and chat messages of every project (or of one). */
export const search = (q, limit = 30, project = null) =>
  rootApi("GET", `api/search?q=${encodeURIComponent(q)}&limit=${limit}${project ? `&project=${encodeURIComponent(project)}` : ""}`);

let titles = null;
/** id -> title of every project (archived too); fetched once per page. */
export function projectTitles() {
  titles ||= projects.list("?archived=1").then(
    (list) => new Map(list.map((p) => [p.id, p.title])),
    () => new Map(),
  );
  return titles;
}

/** POST a text body (not JSON); JSON answer; throws ApiError like the other calls. */
export async function postText(path, text, type) {
  const resp = await fetch(rootUrl() + path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": type, "X-XSRFToken": cookie("_xsrf") },
    credentials: "same-origin",
    cache: "no-store",
    body: text,
  });
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) throw new ApiError(resp.status, (data && (data.message || data.reason)) || `${resp.status} ${resp.statusText}`);
  return data;
}
