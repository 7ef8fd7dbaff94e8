// The teacher's view of a course: students × assignments, each cell the step a student's copy
// is at; each assignment's column header holds its due date and its bulk actions (Distribute,
// Collect, Autograde, Return) whose progress and failures show above the table.
import { projectBase } from "../api.js";
import { h, toast, ask } from "../dom.js";
import { courses, dueFor, shortDate, stepBadge, gradeUrl, folderUrl, score } from "./api.js";
import { JobView } from "./jobs.js";
import { addStudentsDialog, addAssignmentDialog, dueDialog, cellDialog } from "./dialogs.js";
import { peerDialog, collectReviewsDialog } from "./peerdialogs.js";

const POLL_MS = 4000;
const ACTIONS = [
  ["distribute", "Distribute", "Copy the assignment into every student's project (never overwrites a file they changed)"],
  ["collect", "Collect", "Take each student's files as they are now (late work is flagged)"],
  ["autograde", "Autograde", "Run the tests of the collected notebooks"],
  ["return", "Return", "Put the graded copy with feedback into each student's project"],
];
const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;
const GRADABLE = new Set(["collected", "graded", "returned"]);

export class TeacherView {
  constructor(cid, main) {
    this.cid = cid;
    this.main = main;
    this.jobs = h("div", { class: "jobs", "aria-live": "polite" });
    this.running = new Map(); // aid -> JobView
    this.seen = "";
    this.lastRefresh = 0;
  }

  async start(data) {
    this.show(data);
    for (const entry of this.stored) this.follow(entry);
    setInterval(() => document.visibilityState === "visible" && this.refresh(), POLL_MS);
  }

  async refresh() {
    this.lastRefresh = Date.now();
    // The poll, a job's progress and the end of a job all refresh: only the latest answer draws
    // (an older one would show a step going backwards until the next poll).
    const seq = (this.refreshes = (this.refreshes || 0) + 1);
    let data;
    try {
      data = await courses.get(this.cid);
    } catch (err) {
      if (seq !== this.refreshes) return;
      if (err.status === 401) return location.reload();
      if (!this.failed) toast(`Cannot refresh: ${err.message}`, 8000);
      this.failed = true;
      return;
    }
    if (seq !== this.refreshes) return;
    this.failed = false;
    this.show(data);
  }

  /** Re-draw when the data changed (a poll that changed nothing keeps focus and scroll). */
  show(data) {
    const json = JSON.stringify(data);
    if (json === this.seen) return;
    this.seen = json;
    this.data = data;
    const c = data.course;
    document.title = `${c.title} · Salvus Local`;
    const head = h(
      "div",
      { class: "course-head" },
      h("div", { class: "course-heading" }, h("h1", {}, c.title), h("div", { class: "muted course-sub" }, `${plural(data.students.length, "student")} · ${plural(data.assignments.length, "assignment")}`)),
      h(
        "div",
        { class: "course-tools" },
        h("a", { class: "tool button-link course-files", href: `${projectBase(c.project_id)}files/`, title: "The course project: write and edit the assignment sources there" }, "Course files"),
        h("a", { class: "tool button-link gradebook", href: courses.gradebookUrl(this.cid), download: `${c.title}-grades.csv`, title: "Every student's total per assignment, as CSV" }, "Grade book (CSV)"),
        h("button", { class: "tool add-students", onclick: () => addStudentsDialog(this.cid, data.students.map((s) => s.username), () => this.refresh()) }, "Add students"),
        h("button", { class: "primary add-assignment", onclick: () => addAssignmentDialog(c, data.assignments.map((a) => a.name), () => this.refresh()) }, "Add assignment"),
      ),
    );
    const wrap = h("div", { class: "course-table-wrap" }, this.table(data));
    // Keep the horizontal scroll position of the table across re-draws.
    const old = this.main.querySelector(".course-table-wrap");
    const scrollLeft = old ? old.scrollLeft : 0;
    this.main.replaceChildren(head, this.jobs, wrap);
    wrap.scrollLeft = scrollLeft;
  }

  table(data) {
    const { students, assignments, status } = data;
    if (!assignments.length && !students.length) {
      return h("div", { class: "panel empty-course" }, h("p", {}, "This course has no students and no assignments yet."), h("ol", {}, h("li", {}, "Write an assignment in a folder of the ", h("a", { href: `${projectBase(data.course.project_id)}files/` }, "course project"), "."), h("li", {}, "Add it with ", h("strong", {}, "Add assignment"), " and give it a due date."), h("li", {}, h("strong", {}, "Add students"), ", then ", h("strong", {}, "Distribute"), ".")));
    }
    const headRow = h("tr", {}, h("th", { class: "student-col", scope: "col" }, `Student (${students.length})`), ...assignments.map((a) => this.columnHead(a, students, status)));
    if (!assignments.length) headRow.append(h("th", { class: "no-assignments" }, h("span", { class: "muted" }, "No assignments yet: add one from a folder of the course project.")));
    const rows = students.map((s) =>
      h(
        "tr",
        { class: "student-row", dataset: { username: s.username } },
        h(
          "th",
          { class: "student-col", scope: "row" },
          h("div", { class: "student-name" }, s.name || s.username),
          h("div", { class: "student-sub" }, s.name && s.name !== s.username ? h("span", { class: "muted" }, s.username) : null, s.project_id ? h("a", { class: "student-files", href: `${projectBase(s.project_id)}files/`, title: `${s.username}'s project for this course` }, "files") : null),
        ),
        ...assignments.map((a) => this.cell(a, s, (status[s.username] || {})[a.id])),
      ),
    );
    if (!students.length) rows.push(h("tr", {}, h("td", { class: "muted empty", colSpan: assignments.length + 1 }, "No students yet: Add students (from the accounts or a CSV class list).")));
    return h("table", { class: "course-table" }, h("thead", {}, headRow), h("tbody", {}, ...rows));
  }

  columnHead(a, students, status) {
    const steps = students.map((s) => (status[s.username] || {})[a.id] || { state: "none" });
    const count = (pred) => steps.filter(pred).length;
    const manual = students.filter((s) => {
      const st = (status[s.username] || {})[a.id];
      return st && st.needs_manual && GRADABLE.has(st.state);
    });
    const summary = [];
    const n = students.length;
    if (n) {
      const reached = (states) => count((s) => states.includes(s.state));
      summary.push(`${reached(["distributed", "collected", "graded", "returned"])}/${n} distributed`);
      if (a.kind !== "handout") summary.push(`${reached(["collected", "graded", "returned"])} collected`, `${reached(["graded", "returned"])} graded`, `${reached(["returned"])} returned`);
      const failed = count((s) => s.state === "failed");
      if (failed) summary.push(`${failed} failed`);
    }
    const job = this.running.get(a.id);
    const actions = ACTIONS.filter(([act]) => a.kind !== "handout" || act === "distribute");
    return h(
      "th",
      { class: "assignment-col", scope: "col", dataset: { aid: a.id, name: a.name } },
      h("div", { class: "a-name" }, h("a", { href: folderUrl(this.data.course.project_id, a.name), title: "Edit the source in the course project" }, a.name), a.kind === "handout" ? h("span", { class: "kind-badge" }, "handout") : null, a.max_score && a.kind !== "handout" ? h("span", { class: "a-max muted" }, ` /${score(a.max_score)}`) : null),
      h("button", { class: "link-button due-button", title: "Change the due date", onclick: () => dueDialog(this.cid, a, () => this.refresh()) }, a.due ? `Due ${shortDate(a.due)}` : "No due date"),
      h(
        "div",
        { class: "a-actions" },
        ...actions.map(([act, label, title]) => h("button", { class: "tool a-action", dataset: { action: act }, title, disabled: !!(job && job.active) || !n, onclick: () => this.act(a, act) }, label)),
      ),
      job && job.active ? h("progress", { class: "col-progress", max: job.bar.max, value: job.bar.value, "aria-label": `${a.name}: ${job.action}` }) : null,
      h("div", { class: "a-summary muted" }, summary.join(" · ")),
      a.kind !== "handout" ? this.peerHead(a, steps, job) : null,
      manual.length ? h("a", { class: "grade-next", href: gradeUrl(this.cid, a.id, manual[0].username) }, `Grade by hand (${manual.length})`) : null,
    );
  }

  /** The column's peer review line: its settings (a dialog), Assign / Collect reviews, how many reviews are done. */
  peerHead(a, steps, job) {
    const p = a.peer;
    const busy = !!(job && job.active) || !this.data.students.length;
    const label = p ? `Peer review: ${p.per_submission} each${p.due ? `, due ${shortDate(p.due)}` : ""}` : "Peer review…";
    const counts = steps.reduce((acc, st) => (st.peer ? [acc[0] + st.peer.reviewed, acc[1] + st.peer.to_review] : acc), [0, 0]);
    const button = (action, text, title, onclick) => h("button", { class: "tool a-action", dataset: { action }, title, disabled: busy, onclick }, text);
    return h(
      "div",
      { class: "a-peer" },
      h("button", { class: "link-button peer-button", title: "Set up peer review: reviews per submission, due date, grading guide", onclick: () => peerDialog(this.cid, a, () => this.refresh()) }, label),
      p
        ? h(
            "div",
            { class: "a-actions peer-actions" },
            p.state === "closed" ? null : button("peer/assign", p.state === "set" ? "Assign reviews" : "Copy again", p.state === "set" ? "Send each collected submission, without its author's name, to other students" : "The pairs are fixed; copy the submissions to the reviewers again", () => this.act(a, "peer/assign")),
            p.state !== "set" ? button("peer/collect", p.state === "closed" ? "Collect again" : "Collect reviews", "Close the reviews; optionally grade from them", () => this.collectReviews(a)) : null,
          )
        : null,
      p && p.state !== "set" ? h("div", { class: "a-summary muted peer-summary" }, `${counts[0]}/${counts[1]} reviews done${p.state === "closed" ? " · closed" : ""}`) : null,
    );
  }

  async collectReviews(a) {
    const choice = await collectReviewsDialog(a);
    if (choice) await this.act(a, "peer/collect", null, choice);
  }

  cell(a, s, step) {
    const st = (step && step.state) || "none";
    const due = dueFor(a, s.username);
    const extended = a.extensions && a.extensions[s.username];
    return h(
      "td",
      { class: `step-cell state-${st}`, dataset: { aid: a.id, username: s.username, state: st } },
      h(
        "div",
        { class: "cell-line" },
        stepBadge(step),
        GRADABLE.has(st) && a.kind !== "handout" ? h("a", { class: `grade-link${step.needs_manual ? " needs" : ""}`, href: gradeUrl(this.cid, a.id, s.username), title: step.needs_manual ? "Needs grading by hand" : "See and change the grades" }, step.needs_manual ? "Grade" : "✎") : null,
        h("button", { class: "icon-button cell-menu", title: `Extension and actions for ${s.username}`, "aria-label": `${a.name} for ${s.username}: extension and actions`, onclick: () => cellDialog(this.cid, a, s, (aa, act, who) => this.act(aa, act, who), () => this.refresh()) }, "⋯"),
      ),
      extended ? h("div", { class: "extension-note", title: "Extension" }, `ext. ${shortDate(due)}`) : null,
      step && step.peer ? h("div", { class: "peer-note", title: `Reviewed ${step.peer.reviewed} of the ${step.peer.to_review} submissions given to them; ${step.peer.received_done} of ${step.peer.received} reviews of their own work done` }, `reviews ${step.peer.reviewed}/${step.peer.to_review}`) : null,
    );
  }

  /** Start a bulk action (or one for some students) and follow its job. */
  async act(a, action, students, extra) {
    if (action === "collect" && !students) {
      const open = this.data.students.filter((s) => {
        const due = dueFor(a, s.username);
        return due && new Date(due) > new Date();
      });
      if (open.length) {
        const ok = await ask({ title: `Collect ${a.name} now?`, message: `${open.length} of ${this.data.students.length} students still have time (due date or extension not reached). Their work is taken as it is now; collecting again later takes the newer version.`, ok: "Collect now" });
        if (!ok) return;
      }
    }
    let r;
    try {
      r = await courses.act(this.cid, a.id, action, students, extra);
    } catch (err) {
      return toast(`Cannot ${action} ${a.name}: ${err.message}`, 8000);
    }
    await this.follow({ aid: a.id, job: r.job, action, name: students ? `${a.name} (${students.join(", ")})` : a.name });
  }

  // Jobs being followed, kept in this tab's sessionStorage: a reload (or the grading page and back)
  // picks their progress up again.
  get stored() {
    try {
      return JSON.parse(sessionStorage.getItem(`salvus.course-jobs.${this.cid}`) || "[]");
    } catch {
      return [];
    }
  }

  set stored(list) {
    sessionStorage.setItem(`salvus.course-jobs.${this.cid}`, JSON.stringify(list));
  }

  /** Follow a job ({aid, job, action, name}) until it ends, in the jobs list and its column. */
  async follow(entry) {
    const { aid, job, action, name } = entry;
    if (!this.stored.some((e) => e.job === job)) this.stored = [...this.stored, entry];
    const view = new JobView(this.cid, job, action, name, () => {
      // Follow the job in the table too, at most once a second.
      if (Date.now() - this.lastRefresh < 1000) return;
      this.seen = ""; // the column's progress bar moved even when no step did
      this.refresh();
    });
    view.active = true;
    this.running.set(aid, view);
    this.jobs.prepend(view.el);
    this.seen = "";
    this.show(this.data);
    await view.follow();
    view.active = false;
    this.stored = this.stored.filter((e) => e.job !== job);
    this.seen = "";
    await this.refresh();
  }
}
