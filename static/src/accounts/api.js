// REST calls of accounts (see docs/internals.md, "Accounts"): who am I, users, tokens, the
// class's join link, project collaborators and the teacher's activity view. All under the
// server's root, whatever project the page shows.
import { rootApi, rootUrl, postText, ApiError } from "../api.js";

// What a server without accounts answers: one owner, who may do everything.
const SINGLE = { mode: "single", user: { name: "owner", display_name: "", role: "admin", status: "active", must_change_password: false }, isolation: {} };

let mePromise = null;
/** {mode: single|multi, user: {name, display_name, role, status, must_change_password}, isolation, join_url?}; fetched once per page. */
export function me() {
  mePromise ||= rootApi("GET", "api/me").catch((err) => (err instanceof ApiError && err.status === 404 ? SINGLE : Promise.reject(err)));
  return mePromise;
}

/** Can this user see the teacher's page? */
export const isTeacher = (user) => user && (user.role === "teacher" || user.role === "admin");

const U = (name) => `api/users/${encodeURIComponent(name)}`;

export const users = {
  list: () => rootApi("GET", "api/users").then((r) => r.users),
  /** {username, display_name?, role?, password?} → {user, one_time_password?} */
  create: (body) => rootApi("POST", "api/users", body),
  /** {role?, status?} → {user} */
  update: (name, body) => rootApi("PATCH", U(name), body),
  resetPassword: (name) => rootApi("POST", `${U(name)}/reset-password`),
  remove: (name) => rootApi("DELETE", U(name)),
  /** CSV text (username,display_name[,role]) → {created: [{username, display_name, one_time_password}], errors: [{line, message}]} */
  importCsv: (text) => postText("api/users/import", text, "text/csv"),
};

export const account = {
  /** {username, password, display_name?, class_code} → {user}; works without a login. */
  signup: (body) => rootApi("POST", "api/signup", body),
  changePassword: (oldPassword, newPassword) => rootApi("POST", "api/me/password", { old_password: oldPassword, new_password: newPassword }),
};

export const tokens = {
  list: () => rootApi("GET", "api/tokens").then((r) => r.tokens),
  /** {scope: api|sync, expires_days?, note?} → {id, token, prefix, …}: the only time the token is shown. */
  create: (body) => rootApi("POST", "api/tokens", body),
  revoke: (id) => rootApi("DELETE", `api/tokens/${encodeURIComponent(id)}`),
};

export const join = {
  /** {url, lan_urls, class_code, approval_required, qr_svg} */
  get: () => rootApi("GET", "api/join"),
  update: (body) => rootApi("PATCH", "api/join", body),
};

const C = (id) => `api/projects/${encodeURIComponent(id)}/collaborators`;

export const collaborators = {
  list: (projectId) => rootApi("GET", C(projectId)).then((r) => r.collaborators),
  set: (projectId, name, role) => rootApi("PUT", `${C(projectId)}/${encodeURIComponent(name)}`, { role }),
  remove: (projectId, name) => rootApi("DELETE", `${C(projectId)}/${encodeURIComponent(name)}`),
};

/** {users: [{name, display_name, online, sessions: [{kernel_id, project_id, path, cpu_percent, rss_mb, started}]}]} */
export const activity = () => rootApi("GET", "api/admin/activity").then((r) => r.users);

/** Stop a running session, through its project's API (where a teacher may stop a student's). */
export const stopKernel = (projectId, kernelId) =>
  rootApi("DELETE", `${projectId ? `p/${encodeURIComponent(projectId)}/` : ""}api/kernels/${encodeURIComponent(kernelId)}`);

/** A Date from what the API gives: seconds since the epoch (accounts) or an ISO string (projects). */
export const toDate = (t) => new Date(typeof t === "number" ? t * 1000 : t);

/** A short local date and time, or `fallback` for none. */
export function when(t, fallback = "never") {
  return t ? toDate(t).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : fallback;
}

/** A compact date and time for tables ("Nov 30, 14:05"; the year when it is not this one). */
export function short(t, fallback = "never") {
  if (!t) return fallback;
  const d = toDate(t);
  const year = d.getFullYear() === new Date().getFullYear() ? undefined : "numeric";
  return d.toLocaleString([], { month: "short", day: "numeric", year, hour: "2-digit", minute: "2-digit" });
}

/** The data: URL of an SVG document (so server-made SVG is shown as an image, never as live markup). */
export function svgUrl(svg) {
  // Inline SVG (as segno's svg_inline writes it) lacks the namespace an SVG file needs.
  const doc = /<svg[^>]*\sxmlns=/.test(svg) ? svg : svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(doc)}`;
}
