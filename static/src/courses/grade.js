// /courses/<cid>/grade/<aid>/<username>: grade one student's submission by hand. Each graded
// question shows the student's answer (markdown rendered, code highlighted, outputs through the
// notebook's own output renderers, untrusted: sanitized), its automatic points, a points box and
// a comment that save on change with a visible saved state; previous / next student, the next
// one still needing grading, and the total.
import "katex/dist/katex.min.css";
import "../style.css";
import "../pages.css";
import "../accounts/accounts.css";
import "./courses.css";
import { rootApi, encodePath } from "../api.js";
import { topbar } from "../chrome.js";
import { h, toast } from "../dom.js";
import { renderMarkdown, joinText, typesetMath } from "../render.js";
import { OutputArea } from "../outputarea.js";
import { courses, urlParts, courseUrl, gradeUrl, score, shortDate } from "./api.js";
import { codeBlock } from "./code.js";

const KIND = { autograded: "autograded", manual: "graded by hand", task: "task" };
const COMMENT_SAVE_MS = 800;

/** The points a cell counts with: the teacher's when given, else the tests'. */
const pointsOf = (c) => (c.manual_points != null ? c.manual_points : c.auto_points != null ? c.auto_points : null);

class GradePage {
  constructor() {
    [this.cid, , this.aid, this.username] = urlParts();
  }

  async start() {
    this.main = h("main", { class: "account-page grade-page" });
    const frame = (project) => {
      if (project) document.body.dataset.project = project; // the top bar's Files: the course project
      const back = h("a", { class: "navlink courses-link", href: courseUrl(this.cid) }, "Back to the course");
      document.body.replaceChildren(topbar({ left: [back] }), h("div", { class: "workspace" }, this.main));
    };
    let sub;
    try {
      [sub, this.course] = await Promise.all([courses.submission(this.cid, this.aid, this.username), courses.get(this.cid)]);
      frame(this.course.course.project_id);
    } catch (err) {
      frame();
      this.main.replaceChildren(h("h1", {}, "Grading"), h("section", { class: "panel refusal" }, h("p", {}, err.message)));
      return;
    }
    this.sub = sub;
    this.context = await this.readNotebooks();
    this.draw();
  }

  /**
   * The whole graded notebooks (path -> nbformat JSON) from the course project, so each question shows
   * with its instructions and the student's solution cells around it; {} when they cannot be read.
   */
  async readNotebooks() {
    const pid = this.course.course.project_id;
    const name = this.assignment.name;
    const out = {};
    await Promise.all(
      (this.sub.notebooks || []).map(async (nb) => {
        for (const folder of ["autograded", "collected"]) {
          try {
            const model = await rootApi("GET", `p/${encodeURIComponent(pid)}/api/contents/${encodePath(`${folder}/${name}/${this.username}/${nb.path}`)}?type=notebook`);
            if (model && model.content && Array.isArray(model.content.cells)) {
              out[nb.path] = model.content;
              return;
            }
          } catch {
            // Not there (not autograded yet): try the collected copy, else show the graded cells alone.
          }
        }
      }),
    );
    return out;
  }

  get assignment() {
    return this.course.assignments.find((a) => String(a.id) === String(this.aid)) || { name: this.aid };
  }

  /** The next student after this one (wrapping) whose submission still needs grading by hand. */
  nextUngraded() {
    const students = this.course.students || [];
    const at = students.findIndex((s) => s.username === this.username);
    for (let i = 1; i < students.length; i++) {
      const s = students[(at + i) % students.length];
      const step = ((this.course.status || {})[s.username] || {})[this.aid];
      if (step && step.needs_manual && ["collected", "graded", "returned"].includes(step.state)) return s.username;
    }
    return null;
  }

  draw() {
    const sub = this.sub;
    const a = this.assignment;
    const student = (this.course.students || []).find((s) => s.username === this.username) || { username: this.username };
    const nav = (label, who, cls, title) =>
      who ? h("a", { class: `tool button-link ${cls}`, href: gradeUrl(this.cid, this.aid, who), title }, label) : h("button", { class: `tool ${cls}`, disabled: true, title }, label);
    this.total = h("strong", { class: "grade-total", "aria-live": "polite" }, score(sub.total, sub.max_score));
    const ungraded = this.nextUngraded();
    const head = h(
      "div",
      { class: "grade-head" },
      h(
        "div",
        { class: "grade-who" },
        h("h1", {}, h("a", { href: courseUrl(this.cid), class: "crumb" }, a.name), " · ", student.name || this.username, student.name && student.name !== this.username ? h("span", { class: "muted" }, ` (${this.username})`) : null),
        h(
          "div",
          { class: "muted grade-sub" },
          sub.collected_at ? `Collected ${shortDate(sub.collected_at)}` : "Not collected",
          sub.late ? h("span", { class: "step step-late late" }, "late") : null,
        ),
      ),
      h("div", { class: "grade-score" }, h("span", { class: "muted" }, "Total "), this.total),
      h(
        "nav",
        { class: "grade-nav", "aria-label": "Students" },
        nav("← Previous", sub.prev, "prev-student", "The previous student"),
        nav("Next →", sub.next, "next-student", "The next student"),
        nav("Next ungraded", ungraded, "next-ungraded", ungraded ? `${ungraded} still needs grading by hand` : "Nobody else needs grading by hand"),
      ),
    );
    const warnings = (sub.warnings || []).length ? h("div", { class: "panel grade-warnings", role: "note" }, h("strong", {}, "Warnings"), h("ul", {}, ...sub.warnings.map((w) => h("li", {}, w)))) : null;
    const peer = (sub.peer_reviews || []).length ? this.peerView(sub.peer_reviews) : null;
    const books = (sub.notebooks || []).map((nb) => h("section", { class: "grade-notebook" }, h("h2", {}, nb.path), ...this.notebookView(nb)));
    this.main.replaceChildren(...[head, warnings, peer].filter(Boolean), ...(books.length ? books : [h("p", { class: "panel muted" }, "Nothing was collected from this student.")]));
    typesetMath(this.main);
  }

  /** The peer reviews of this submission, reviewers named (the author never sees the names). */
  peerView(reviews) {
    const done = reviews.filter((r) => r.done).length;
    const points = (r) => Object.entries(r.points).map(([gid, p]) => `${gid} ${score(p)}`).join(" · ") || "no points yet";
    return h(
      "details",
      { class: "panel grade-peer", open: true },
      h("summary", {}, `Peer reviews: ${done} of ${reviews.length} done`),
      h(
        "ul",
        { class: "peer-list" },
        ...reviews.map((r) =>
          h(
            "li",
            { class: "peer-review", dataset: { reviewer: r.reviewer } },
            h("strong", {}, r.reviewer_name), r.reviewer_name !== r.reviewer ? h("span", { class: "muted" }, ` (${r.reviewer})`) : null, ": ", h("span", { class: "peer-points" }, points(r)),
            r.comment ? h("div", { class: "peer-comment" }, r.comment) : null,
          ),
        ),
      ),
    );
  }

  /** The graded cells of a notebook in the order of the whole notebook, with the other cells as context. */
  notebookView(nb) {
    const full = this.context[nb.path];
    if (!nb.cells.length) return [h("p", { class: "muted" }, "No graded cells in this notebook.")];
    if (!full) return nb.cells.map((c) => this.cellView(nb, c));
    const graded = new Map(nb.cells.map((c) => [c.grade_id, c]));
    const shown = new Set();
    const views = [];
    for (const cell of full.cells) {
      const meta = (cell.metadata && cell.metadata.nbgrader) || {};
      const c = graded.get(meta.grade_id);
      if (c && !shown.has(c.grade_id)) {
        shown.add(c.grade_id);
        views.push(this.cellView(nb, c));
      } else views.push(this.contextView(cell, meta));
    }
    // A graded cell the notebook lacks still gets its grade box.
    for (const c of nb.cells) if (!shown.has(c.grade_id)) views.push(this.cellView(nb, c));
    return views;
  }

  /** A cell that is not graded: instructions, or (solution cells) the student's answer that tests check. */
  contextView(cell, meta) {
    const body = h("div", { class: "answer" });
    const source = joinText(cell.source);
    if (cell.cell_type === "markdown") body.append(h("div", { class: "markdown-rendered" }, renderMarkdown(source, false)));
    else if (cell.cell_type === "code") {
      if (!source.trim() && !(cell.outputs || []).length) return h("div", { class: "context-cell empty-cell" });
      body.append(codeBlock(source));
      if (cell.outputs && cell.outputs.length) {
        const out = new OutputArea({ trusted: false });
        out.set(cell.outputs);
        body.append(out.el);
      }
    } else body.append(h("pre", { class: "code-source" }, source));
    const solution = meta.solution && !meta.grade;
    return h(
      "div",
      { class: `context-cell${solution ? " solution-cell" : ""}`, dataset: meta.grade_id ? { gradeId: meta.grade_id } : {} },
      solution ? h("div", { class: "cell-head" }, h("code", { class: "grade-id" }, meta.grade_id), h("span", { class: "kind-badge solution-badge" }, "student's answer")) : null,
      body,
    );
  }

  cellView(nb, c) {
    const answer = h("div", { class: "answer" });
    if (c.cell_type === "markdown") {
      answer.append(h("div", { class: "markdown-rendered" }, renderMarkdown(joinText(c.source), false)));
    } else {
      answer.append(codeBlock(joinText(c.source)));
      if (c.outputs && c.outputs.length) {
        const out = new OutputArea({ trusted: false });
        out.set(c.outputs);
        answer.append(out.el);
      }
    }
    return h(
      "article",
      { class: `grade-cell kind-${c.kind}`, dataset: { gradeId: c.grade_id } },
      h("div", { class: "answer-col" }, h("div", { class: "cell-head" }, h("code", { class: "grade-id" }, c.grade_id), h("span", { class: "kind-badge" }, KIND[c.kind] || c.kind)), answer),
      this.gradeBox(nb, c),
    );
  }

  /** Points and comment of one cell; each saves when changed and says so. */
  gradeBox(nb, c) {
    const state = h("span", { class: "saved-state", dataset: { state: "idle" }, "aria-live": "polite" });
    const setState = (s, text) => {
      state.dataset.state = s;
      state.textContent = text;
      state.title = s === "error" ? text : "";
    };
    const auto = c.auto_points != null ? h("div", { class: "auto-points" }, h("span", { class: "muted" }, "Tests: "), h("strong", {}, score(c.auto_points, c.max_points))) : null;
    const peers = (this.sub.peer_reviews || []).filter((r) => r.points[c.grade_id] != null).map((r) => `${r.reviewer} ${score(r.points[c.grade_id])}`);
    const peerLine = peers.length ? h("div", { class: "peer-points-row" }, h("span", { class: "muted" }, "Peers: "), peers.join(", ")) : null;
    const points = h("input", {
      type: "number",
      class: "points-input",
      min: 0,
      max: c.max_points ?? undefined,
      step: "any",
      inputMode: "decimal",
      value: c.manual_points ?? "",
      placeholder: c.auto_points != null ? String(c.auto_points) : "",
      "aria-label": `Points for ${c.grade_id}`,
    });
    const comment = h("textarea", { class: "comment-input", rows: 3, value: c.comment || "", placeholder: "Comment for the student", "aria-label": `Comment on ${c.grade_id}` });
    let timer = 0;
    let saving = Promise.resolve();
    const save = (body) => {
      clearTimeout(timer);
      setState("saving", "Saving…");
      // One save at a time per cell, in order: a quick second change never lands before the first.
      saving = saving.then(async () => {
        try {
          const updated = await courses.grade(this.cid, this.aid, this.username, c.grade_id, body, nb.path);
          Object.assign(c, updated || body);
          setState("saved", "Saved");
          this.updateTotal();
        } catch (err) {
          setState("error", `Not saved: ${err.message}`);
        }
      });
    };
    points.addEventListener("change", () => {
      const raw = points.value.trim();
      if (raw !== "" && !points.checkValidity()) return setState("error", `Not saved: give 0 to ${c.max_points ?? "the maximum"} points`);
      save({ points: raw === "" ? null : Number(raw) });
    });
    comment.addEventListener("input", () => {
      setState("dirty", "Editing…");
      clearTimeout(timer);
      timer = setTimeout(() => save({ comment: comment.value }), COMMENT_SAVE_MS);
    });
    comment.addEventListener("change", () => (comment.value !== (c.comment || "") ? save({ comment: comment.value }) : null));
    return h(
      "div",
      { class: "grade-box" },
      auto,
      peerLine,
      h("label", { class: "points-row" }, h("span", {}, c.auto_points != null ? "Points (override)" : "Points"), points, h("span", { class: "muted max-points" }, c.max_points != null ? `/ ${score(c.max_points)}` : "")),
      h("label", { class: "comment-row" }, h("span", {}, "Comment"), comment),
      state,
    );
  }

  /** The total from the server after a change (it knows how overrides and tests add up). */
  async updateTotal() {
    const seq = (this.totals = (this.totals || 0) + 1); // two quick saves: the later total wins
    try {
      const sub = await courses.submission(this.cid, this.aid, this.username);
      if (seq !== this.totals) return;
      this.total.textContent = score(sub.total, sub.max_score);
    } catch {
      // Keep a local sum: better than a stale number.
      let total = 0;
      for (const nb of this.sub.notebooks) for (const c of nb.cells) total += pointsOf(c) || 0;
      this.total.textContent = score(total, this.sub.max_score);
    }
  }
}

new GradePage().start();
