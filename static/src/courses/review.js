// /courses/<cid>/review/<aid>: a student's peer reviews. The teacher's grading guide, then one card
// per anonymous submission given to them: a link to its copy in their own project, points for each
// question and one comment, saved on change with a visible saved state. Nothing here names an author,
// and the API only ever answers this student's own reviews.
import "katex/dist/katex.min.css";
import "../style.css";
import "../pages.css";
import "../accounts/accounts.css";
import "./courses.css";
import { topbar } from "../chrome.js";
import { h } from "../dom.js";
import { renderMarkdown, typesetMath } from "../render.js";
import { courses, urlParts, courseUrl, folderUrl, shortDate, score } from "./api.js";

const COMMENT_SAVE_MS = 800;
const letter = (i) => String.fromCharCode(65 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26)) : "");

class ReviewPage {
  constructor() {
    [this.cid, , this.aid] = urlParts();
    this.main = h("main", { class: "account-page review-page" });
  }

  frame(project) {
    if (project) document.body.dataset.project = project; // the top bar's Files: the student's own project
    const back = h("a", { class: "navlink courses-link", href: courseUrl(this.cid) }, "Back to the course");
    document.body.replaceChildren(topbar({ left: [back] }), h("div", { class: "workspace" }, this.main));
  }

  async start() {
    let course;
    try {
      [course, this.data] = await Promise.all([courses.get(this.cid), courses.peer(this.cid, this.aid)]);
    } catch (err) {
      this.frame();
      this.main.replaceChildren(h("h1", {}, "Peer review"), h("section", { class: "panel refusal" }, h("p", {}, err.message)));
      return;
    }
    this.pid = course.project_id;
    this.frame(this.pid);
    if (this.data.submissions) {
      // A teacher: the reviews are on each student's grading page, with the reviewers named.
      this.main.replaceChildren(h("h1", {}, "Peer review"), h("p", { class: "panel" }, "Teachers see each submission's reviews on its grading page (from the course table)."));
      return;
    }
    this.draw(course.course);
  }

  draw(course) {
    const d = this.data;
    document.title = `Peer review: ${d.assignment.name} · ${course.title}`;
    const closed = d.state === "closed";
    const past = d.due && new Date(d.due) < new Date();
    this.locked = closed || past;
    const done = d.reviews.filter((r) => r.done).length;
    this.progress = h("span", { class: "review-progress" }, `${done} of ${d.reviews.length} done`);
    const head = h(
      "div",
      { class: "course-head" },
      h(
        "div",
        { class: "course-heading" },
        h("h1", {}, "Peer review · ", d.assignment.name),
        h("div", { class: "muted course-sub" }, course.title, " · ", this.progress, " · ", closed ? "closed by your teacher" : d.due ? `due ${shortDate(d.due)}` : "no due date"),
      ),
    );
    const note = this.locked
      ? h("p", { class: "panel hint review-locked", role: "note" }, closed ? "Your teacher has collected the reviews: they can no longer change." : "The reviews were due: ask your teacher to reopen them.")
      : h("p", { class: "hint" }, "Each submission is a copy in your project, without its author's name. Open it, read it against the guide, then give points for each question and a comment. Everything saves as you go; the author sees your points and comment but not your name.");
    const guide = d.guide.trim()
      ? h("details", { class: "panel review-guide", open: true }, h("summary", {}, "Grading guide"), h("div", { class: "markdown-rendered" }, renderMarkdown(d.guide, false)))
      : null;
    const cards = d.reviews.map((r, i) => this.card(r, i));
    this.main.replaceChildren(head, note, ...(guide ? [guide] : []), ...(cards.length ? cards : [h("p", { class: "panel muted" }, "No submission was given to you to review (your own work was not collected in time).")]));
    typesetMath(this.main);
  }

  card(r, i) {
    const state = h("span", { class: "saved-state", dataset: { state: "idle" }, "aria-live": "polite" });
    const setState = (s, text) => ((state.dataset.state = s), (state.textContent = text), (state.title = s === "error" ? text : ""));
    const badge = h("span", { class: `step ${r.done ? "step-returned" : "step-distributed"} review-done` }, r.done ? "done" : "to do");
    let saving = Promise.resolve();
    let timer = 0;
    const save = (body) => {
      clearTimeout(timer);
      setState("saving", "Saving…");
      saving = saving.then(async () => {
        try {
          const updated = await courses.review(this.cid, this.aid, r.id, body);
          Object.assign(r, updated);
          badge.textContent = r.done ? "done" : "to do";
          badge.className = `step ${r.done ? "step-returned" : "step-distributed"} review-done`;
          this.progress.textContent = `${this.data.reviews.filter((x) => x.done).length} of ${this.data.reviews.length} done`;
          setState("saved", "Saved");
        } catch (err) {
          setState("error", `Not saved: ${err.message}`);
        }
      });
    };
    const rows = this.data.questions.map((q) => {
      const input = h("input", { type: "number", class: "points-input", min: 0, max: q.max_points, step: "any", inputMode: "decimal", value: r.points[q.grade_id] ?? "", disabled: this.locked, dataset: { gradeId: q.grade_id }, "aria-label": `Points for ${q.grade_id} of submission ${letter(i)}` });
      input.addEventListener("change", () => {
        const raw = input.value.trim();
        if (raw !== "" && !input.checkValidity()) return setState("error", `Not saved: give 0 to ${q.max_points} points for ${q.grade_id}`);
        save({ points: { [q.grade_id]: raw === "" ? null : Number(raw) } });
      });
      return h("label", { class: "points-row review-question" }, h("code", { class: "grade-id" }, q.grade_id), h("span", { class: "muted q-notebook" }, q.notebook), input, h("span", { class: "muted max-points" }, `/ ${score(q.max_points)}`));
    });
    const comment = h("textarea", { class: "comment-input", rows: 4, value: r.comment, disabled: this.locked, placeholder: "What is good, what is missing, what to do next", "aria-label": `Comment on submission ${letter(i)}` });
    comment.addEventListener("input", () => {
      setState("dirty", "Editing…");
      clearTimeout(timer);
      timer = setTimeout(() => save({ comment: comment.value }), COMMENT_SAVE_MS);
    });
    comment.addEventListener("change", () => (comment.value !== r.comment ? save({ comment: comment.value }) : null));
    return h(
      "article",
      { class: "panel review-card", dataset: { review: r.id } },
      h("header", { class: "review-card-head" }, h("h2", {}, `Submission ${letter(i)}`), badge, h("span", { class: "spacer" }), this.pid ? h("a", { class: "tool button-link open-review", href: folderUrl(this.pid, r.folder), title: r.folder }, "Open the files") : null),
      h("div", { class: "review-questions" }, ...rows),
      h("label", { class: "comment-row" }, h("span", {}, "Comment"), comment),
      state,
    );
  }
}

new ReviewPage().start();
