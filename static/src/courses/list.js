// /courses: the courses this person teaches and the ones they are enrolled in; a teacher
// (or an admin) creates a course here, which makes its course project.
import "../style.css";
import "../pages.css";
import "./courses.css";
import { topbar } from "../chrome.js";
import { h, toast } from "../dom.js";
import { me, isTeacher } from "../accounts/api.js";
import { courses, courseUrl, folderUrl } from "./api.js";

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A course as a card: title (to its page), counts, teacher, the course project's files. */
function card(c, teaching) {
  return h(
    "article",
    { class: "course-card", dataset: { id: c.id } },
    h("a", { class: "course-title", href: courseUrl(c.id) }, c.title),
    h(
      "div",
      { class: "course-meta" },
      teaching ? `${plural(c.students ?? 0, "student")} · ${plural(c.assignments ?? 0, "assignment")}` : `Teacher: ${c.teacher}`,
    ),
    teaching && c.project_id ? h("a", { class: "course-files", href: folderUrl(c.project_id, ""), title: "The course project: assignment sources" }, "Course files") : null,
  );
}

class CoursesPage {
  async start() {
    this.teaching = h("div", { class: "course-list teaching-list" });
    this.enrolled = h("div", { class: "course-list enrolled-list" });
    this.main = h("main", { class: "account-page courses-page" }, h("h1", {}, "Courses"), h("p", { class: "muted" }, "Loading…"));
    document.body.replaceChildren(topbar({}), h("div", { class: "workspace" }, this.main));
    let info;
    try {
      info = await me();
    } catch (err) {
      return toast(err.message, 8000);
    }
    if (info.mode !== "multi") {
      this.main.replaceChildren(
        h("h1", {}, "Courses"),
        h("section", { class: "panel refusal" }, h("p", {}, "Courses need accounts: start the server with salvus-local --lan (or --multi-user); students then sign in and you hand out assignments here.")),
      );
      return;
    }
    this.teacher = isTeacher(info.user);
    const cols = [h("section", { class: "courses-col" }, this.teacher ? h("h2", {}, "Teaching") : null, this.teacher ? this.teaching : null, (this.enrolledHead = h("h2", {}, "Enrolled")), this.enrolled)];
    if (this.teacher) cols.push(this.createForm());
    this.main.replaceChildren(h("h1", {}, "Courses"), h("div", { class: "courses-grid" }, ...cols));
    await this.refresh();
  }

  createForm() {
    const title = h("input", { name: "title", placeholder: "Linear algebra, spring term", "aria-label": "Title of a new course", required: true, maxLength: 200 });
    const button = h("button", { class: "primary" }, "Create course");
    const form = h(
      "form",
      {
        class: "inline-form create-course",
        onsubmit: async (ev) => {
          ev.preventDefault();
          button.disabled = true;
          let made;
          try {
            made = await courses.create(title.value.trim());
          } catch (err) {
            button.disabled = false;
            return toast(`Could not create the course: ${err.message}`, 8000);
          }
          location.href = courseUrl(made.id);
        },
      },
      title,
      button,
    );
    return h(
      "aside",
      { class: "panel new-course" },
      h("h2", {}, "New course"),
      h("p", { class: "hint" }, "A course gets a course project for the assignment sources; each student gets a project of their own, shared with you."),
      form,
    );
  }

  async refresh() {
    let list;
    try {
      list = await courses.list();
    } catch (err) {
      this.enrolled.replaceChildren(h("p", { class: "muted" }, `Cannot list courses: ${err.message}`));
      return;
    }
    const teaching = list.teaching || [];
    const enrolled = list.enrolled || [];
    this.teaching.replaceChildren(...(teaching.length ? teaching.map((c) => card(c, true)) : [h("p", { class: "muted empty" }, "You teach no course yet: create one.")]));
    // A teacher enrolled nowhere does not need to read so.
    for (const el of [this.enrolled, this.enrolledHead]) el.hidden = this.teacher && !enrolled.length;
    this.enrolled.replaceChildren(...(enrolled.length ? enrolled.map((c) => card(c, false)) : [h("p", { class: "muted empty" }, "You are not enrolled in a course. Your teacher adds you.")]));
  }
}

new CoursesPage().start();
