// REST calls of courses (see docs/internals.md, "Courses"), the ids a course page reads from its
// URL, and the formatting the pages share (due dates, step badges). All under the server's root.
import { rootApi, rootUrl, postText } from "../api.js";
import { h } from "../dom.js";

const C = (cid) => `api/courses/${encodeURIComponent(cid)}`;
const A = (cid, aid) => `${C(cid)}/assignments/${encodeURIComponent(aid)}`;
const U = encodeURIComponent;

export const courses = {
  /** {teaching: [course], enrolled: [course]} */
  list: () => rootApi("GET", "api/courses"),
  /** {title} → course */
  create: (title) => rootApi("POST", "api/courses", { title }),
  /** teacher: {course, students, assignments, status}; student: {course, assignments, mine} */
  get: (cid) => rootApi("GET", C(cid)),
  /** {usernames} → {added, failed: [{username, message}]} */
  addStudents: (cid, usernames) => rootApi("POST", `${C(cid)}/students`, { usernames }),
  /** CSV text (username[,name,password]) → {added, failed} */
  addStudentsCsv: (cid, text) => postText(`${C(cid)}/students`, text, "text/csv"),
  removeStudent: (cid, username) => rootApi("DELETE", `${C(cid)}/students/${U(username)}`),
  /** {name, kind?, due?} → assignment */
  addAssignment: (cid, body) => rootApi("POST", `${C(cid)}/assignments`, body),
  /** {due?, extensions?: {username: due|null}} → assignment */
  updateAssignment: (cid, aid, body) => rootApi("PATCH", A(cid, aid), body),
  /** action: distribute|collect|autograde|return → {job} */
  act: (cid, aid, action, students, extra) => rootApi("POST", `${A(cid, aid)}/${action}`, { ...(students ? { students } : {}), ...(extra || {}) }),
  /** {id, action, state, done, total, results: [{username, status, message}]} */
  job: (cid, job) => rootApi("GET", `${C(cid)}/jobs/${U(job)}`),
  submission: (cid, aid, username) => rootApi("GET", `${A(cid, aid)}/submissions/${U(username)}`),
  /** {points?, comment?} → the updated cell; notebook: its path (a grade id may be in several notebooks) */
  grade: (cid, aid, username, gradeId, body, notebook) =>
    rootApi("PUT", `${A(cid, aid)}/submissions/${U(username)}/grades/${U(gradeId)}${notebook ? `?notebook=${U(notebook)}` : ""}`, body),
  gradebookUrl: (cid) => `${rootUrl()}${C(cid)}/gradebook.csv`,
  /** teacher: {assignment, settings, submissions, left_out}; student: {guide, questions, reviews, due, state, …} */
  peer: (cid, aid) => rootApi("GET", `${A(cid, aid)}/peer`),
  /** {per_submission?, guide?, due?} or {enabled: false} → {enabled, settings} */
  setPeer: (cid, aid, body) => rootApi("PUT", `${A(cid, aid)}/peer`, body),
  /** one of the requester's reviews: {points?: {grade_id: points|null}, comment?} → the review */
  review: (cid, aid, id, body) => rootApi("PUT", `${A(cid, aid)}/peer/reviews/${U(id)}`, body),
};

/** The parts of this page's URL after /courses/: [cid, "grade", aid, username] (decoded). */
export function urlParts() {
  const rest = location.pathname.slice(rootUrl().length).split("/").filter(Boolean);
  return rest.slice(1).map(decodeURIComponent);
}

export const courseUrl = (cid) => `${rootUrl()}courses/${U(cid)}`;
export const reviewUrl = (cid, aid) => `${courseUrl(cid)}/review/${U(aid)}`;
export const gradeUrl = (cid, aid, username) => `${courseUrl(cid)}/grade/${U(aid)}/${U(username)}`;
/** A page of a project ("files/<path>/", "notebooks/<path>"), by the project's id. */
export const projectPage = (pid, rest) => `${rootUrl()}p/${U(pid)}/${rest}`;
export const folderUrl = (pid, path) => projectPage(pid, `files/${path.split("/").filter(Boolean).map(U).join("/")}/`);

/** The due date of an assignment for one student (their extension wins), or null. */
export function dueFor(assignment, username) {
  return (assignment.extensions && assignment.extensions[username]) || assignment.due || null;
}

/** A compact local date and time ("Dec 3, 14:00"; the year when it is not this one). */
export function shortDate(iso, fallback = "no due date") {
  if (!iso) return fallback;
  const d = new Date(iso);
  const year = d.getFullYear() === new Date().getFullYear() ? undefined : "numeric";
  return d.toLocaleString([], { month: "short", day: "numeric", year, hour: "2-digit", minute: "2-digit" });
}

/** The value of an <input type=datetime-local> for an ISO date (local time), or "". */
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** ISO-8601 UTC from an <input type=datetime-local> value (local time), or null when empty. */
export function fromLocalInput(value) {
  return value ? new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z") : null;
}

/** A score "7/10" (whole numbers stay whole, others get one decimal). */
export function score(points, max) {
  const f = (x) => (x == null ? "–" : Number.isInteger(x) ? String(x) : x.toFixed(1));
  return max == null ? f(points) : `${f(points)}/${f(max)}`;
}

// state -> (label of the step, css modifier); "graded" shows the score instead.
const STEP_LABEL = {
  none: "not yet",
  distributed: "distributed",
  collected: "collected",
  graded: "graded",
  returned: "returned",
  failed: "failed",
};

/** The text of a step's badge: "collected (late)", "graded 7/10", "failed". */
export function stepText(step) {
  const st = (step && step.state) || "none";
  let text = STEP_LABEL[st] || st;
  if ((st === "graded" || st === "returned") && step.score != null) text += ` ${score(step.score, step.max_score)}`;
  if (step && step.late && st !== "none" && st !== "distributed") text += " (late)";
  return text;
}

/** What a badge says on hover or tap: the failure message, the collection time, manual grading. */
export function stepDetail(step) {
  if (!step) return "Not distributed yet";
  const parts = [];
  if (step.state === "failed" && step.message) parts.push(step.message);
  else if (step.message && step.message !== "late") parts.push(step.message);
  if (step.collected_at) parts.push(`Collected ${shortDate(step.collected_at)}${step.late ? ", after the due date" : ""}`);
  if (step.needs_manual) parts.push("Needs grading by hand");
  return parts.join(" · ");
}

/** A compact badge for a step; the detail shows on hover (title) and on tap (toggles .open). */
export function stepBadge(step) {
  const st = (step && step.state) || "none";
  const detail = stepDetail(step);
  const badge = h(
    "span",
    { class: `step step-${st}${step && step.late ? " late" : ""}${step && step.needs_manual ? " needs-manual" : ""}`, dataset: { state: st }, title: detail },
    stepText(step),
  );
  if (st === "failed" && detail) {
    // A phone has no hover: a tap shows the message under the badge.
    badge.tabIndex = 0;
    badge.setAttribute("role", "button");
    badge.setAttribute("aria-label", `failed: ${detail}`);
    badge.addEventListener("click", (ev) => {
      ev.stopPropagation();
      const anchor = badge.closest(".cell-line") || badge;
      const open = anchor.parentElement.querySelector(".step-message");
      if (open) open.remove();
      else anchor.after(h("div", { class: "step-message", role: "note" }, detail));
    });
  }
  return badge;
}
