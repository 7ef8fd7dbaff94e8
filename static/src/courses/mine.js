// A student's view of a course: their assignments with due dates (their extension counts),
// where each one is at, their score once returned, links to open their copy in their own
// project and to the returned feedback. They see nothing of other students.
import { projects } from "../api.js";
import { h } from "../dom.js";
import { dueFor, shortDate, folderUrl, score, reviewUrl } from "./api.js";

// A student's words for where their copy is (grading shows only once the work is returned).
const MY_STATE = {
  none: ["not handed out", "none"],
  distributed: ["to do", "distributed"],
  collected: ["handed in", "collected"],
  graded: ["handed in", "collected"],
  returned: ["returned", "returned"],
  failed: ["problem: ask your teacher", "failed"],
};

/** The badge of a student's own step: late and the failure message on hover. */
function myBadge(step, overdue, handout) {
  const [text, cls] = handout && step.state === "distributed" ? ["handed out", "distributed"] : MY_STATE[step.state] || [step.state, step.state];
  const late = step.late && step.state !== "distributed" && step.state !== "none";
  const label = overdue ? "past due" : late ? `${text} (late)` : text;
  return h("span", { class: `step step-${cls}${late || overdue ? " late" : ""}`, dataset: { state: step.state }, title: step.message || "" }, label);
}

/** The id of this student's project of the course: from the API, else found among their projects. */
async function myProject(data, username) {
  const id = data.project_id || (data.me && data.me.project_id) || (data.student && data.student.project_id);
  if (id) return id;
  let list = [];
  try {
    list = await projects.list();
  } catch {
    return null;
  }
  const c = data.course;
  const own = list.filter((p) => p.owner === username);
  const hit = own.find((p) => p.course_id === c.id) || own.find((p) => p.title === c.title) || own.find((p) => p.title.startsWith(c.title));
  return hit ? hit.id : null;
}

/** "Peer review: 1 of 2 done, due …" with a link to the review page, when this student has reviews to do. */
function peerLine(cid, a, step) {
  const p = a.peer;
  if (!p || p.state === "set" || !step.peer || !step.peer.to_review) return null;
  const { reviewed, to_review: all } = step.peer;
  const closed = p.state === "closed";
  const text = `Peer review: ${reviewed} of ${all} done${closed ? " (closed)" : p.due ? `, due ${shortDate(p.due)}` : ""}`;
  return h(
    "div",
    { class: "my-peer" },
    h("span", { class: `peer-state${reviewed === all ? " all-done" : ""}` }, text),
    h("a", { class: `${reviewed === all || closed ? "tool" : "primary"} button-link review-link`, href: reviewUrl(cid, a.id) }, closed ? "See my reviews" : "Review"),
  );
}

export async function studentView(data, main, user) {
  const c = data.course;
  document.title = `${c.title} · Salvus Local`;
  const pid = await myProject(data, user.name);
  const mine = data.mine || {};
  const now = new Date();
  const rows = data.assignments.map((a) => {
    const step = mine[a.id] || { state: "none" };
    const due = dueFor(a, user.name);
    const extended = a.extensions && a.extensions[user.name];
    const overdue = due && new Date(due) < now && step.state === "distributed";
    const has = step.state !== "none";
    const returned = step.state === "returned";
    return h(
      "article",
      { class: `my-assignment state-${step.state}`, dataset: { aid: a.id, name: a.name, state: step.state } },
      h(
        "div",
        { class: "my-main" },
        h("h2", {}, a.name, a.kind === "handout" ? h("span", { class: "kind-badge" }, "handout") : null),
        h(
          "div",
          { class: `my-due${overdue ? " overdue" : ""}` },
          a.kind === "handout" ? "" : due ? `Due ${shortDate(due)}` : "No due date",
          extended ? h("span", { class: "extension-note" }, " (your extension)") : null,
        ),
      ),
      h("div", { class: "my-state" }, myBadge(step, overdue, a.kind === "handout"), returned && step.score != null ? h("div", { class: "my-score" }, score(step.score, step.max_score ?? a.max_score)) : null),
      h(
        "div",
        { class: "my-links" },
        // Once returned, the feedback is what to open first.
        returned && pid ? h("a", { class: "primary button-link feedback-link", href: folderUrl(pid, `${a.name}/feedback`) }, "Feedback") : null,
        has && pid ? h("a", { class: `${returned ? "tool" : "primary"} button-link open-files`, href: folderUrl(pid, a.name) }, "Open my files") : has ? h("span", { class: "muted" }, "Your project is not listed") : null,
      ),
      peerLine(data.course.id, a, step),
    );
  });
  const parts = [
    h("div", { class: "course-head" }, h("div", { class: "course-heading" }, h("h1", {}, c.title), h("div", { class: "muted course-sub" }, `Teacher: ${c.teacher}`))),
    rows.length ? h("div", { class: "my-assignments" }, ...rows) : h("p", { class: "muted" }, "Your teacher has not handed out anything yet."),
    pid ? h("p", { class: "hint" }, "Your work is saved in ", h("a", { href: folderUrl(pid, "") }, "your project of this course"), "; your teacher collects it at the due date. Keep working in the same files.") : null,
  ];
  main.replaceChildren(...parts.filter(Boolean));
}
