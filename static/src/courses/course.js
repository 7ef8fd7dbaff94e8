// /courses/<cid>: the teacher's table (table.js) or a student's own assignments (mine.js),
// chosen by what the API answers: a teacher gets every student's status, a student only theirs.
import "../style.css";
import "../pages.css";
import "../accounts/accounts.css";
import "./courses.css";
import { rootUrl } from "../api.js";
import { topbar } from "../chrome.js";
import { h, toast } from "../dom.js";
import { me } from "../accounts/api.js";
import { courses, urlParts } from "./api.js";
import { TeacherView } from "./table.js";
import { studentView } from "./mine.js";

/** The page's frame: the top bar (its Files and Terminal lead to project, when given) and the main area. */
function frame(main, project) {
  // The top bar's project links follow <body data-project>: the course project for the teacher, the
  // student's own project of the course for a student.
  if (project) document.body.dataset.project = project;
  const back = h("a", { class: "navlink courses-link", href: `${rootUrl()}courses` }, "All courses");
  document.body.replaceChildren(topbar({ left: [back] }), h("div", { class: "workspace" }, main));
}

async function start() {
  const [cid] = urlParts();
  const main = h("main", { class: "account-page course-page" });
  let info, data;
  try {
    [info, data] = await Promise.all([me(), courses.get(cid)]);
  } catch (err) {
    frame(main);
    main.replaceChildren(h("h1", {}, "Course"), h("section", { class: "panel refusal" }, h("p", {}, err.status === 404 ? `No course ${cid} here: ${err.message}` : err.message)));
    if (err.status !== 404 && err.status !== 403) toast(err.message, 8000);
    return;
  }
  if (data.status && data.students) {
    frame(main, data.course.project_id);
    main.classList.add("teacher-course");
    await new TeacherView(cid, main).start(data);
  } else {
    frame(main, data.project_id);
    main.classList.add("student-course");
    await studentView(data, main, info.user);
  }
}

start();
