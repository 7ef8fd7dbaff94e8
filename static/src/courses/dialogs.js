// The teacher's dialogs on a course page: add students (pick accounts, or a CSV class list),
// add an assignment (a folder of the course project, a due date), and one student's cell
// (an extension of the due date, the actions for that student alone).
import { contents, projectBase } from "../api.js";
import { h, toast } from "../dom.js";
import { users } from "../accounts/api.js";
import { courses, dueFor, fromLocalInput, toLocalInput, shortDate } from "./api.js";

/** A modal dialog; returns {el, close, done}: done resolves when it closes. */
export function dialog(title, cls, ...children) {
  let resolve;
  const done = new Promise((r) => (resolve = r));
  // Escape closes it wherever the focus is (a button that was disabled while it worked drops the focus).
  const onKey = (ev) => ev.key === "Escape" && close();
  const close = () => (overlay.remove(), document.removeEventListener("keydown", onKey), resolve());
  document.addEventListener("keydown", onKey);
  const overlay = h(
    "div",
    { class: "overlay", onclick: (ev) => ev.target === overlay && close() },
    h(
      "div",
      { class: `dialog course-dialog ${cls}`, role: "dialog", "aria-label": title },
      h("header", {}, h("strong", {}, title), h("button", { type: "button", class: "icon-button", title: "Close (Esc)", onclick: close }, "×")),
      ...children,
    ),
  );
  document.body.append(overlay);
  // Focus inside, so Escape closes it at once.
  (overlay.querySelector("input, select, textarea") || overlay.querySelector("button")).focus();
  return { el: overlay, close, done };
}

/** What an add-students answer says: who was added, who failed and why. */
function addedReport(r) {
  const failed = r.failed || [];
  return h(
    "div",
    { class: "import-result" },
    h("p", {}, `${(r.added || []).length} added${failed.length ? `, ${failed.length} not added:` : "."}`),
    failed.length ? h("ul", { class: "import-errors" }, ...failed.map((f) => h("li", {}, h("strong", {}, `${f.username}: `), f.message))) : null,
  );
}

/** Add students: tick accounts (filtered by a search box), or paste/upload a CSV. */
export function addStudentsDialog(cid, enrolled, onAdded) {
  const result = h("div", { class: "add-result", "aria-live": "polite" });
  const filter = h("input", { type: "search", class: "pick-filter", placeholder: "Filter by name", "aria-label": "Filter accounts" });
  const list = h("div", { class: "pick-list" }, h("p", { class: "muted" }, "Loading accounts…"));
  const addPicked = h("button", { type: "button", class: "primary add-picked", disabled: true }, "Add selected");
  let boxes = [];
  const picked = () => boxes.filter((b) => b.checked).map((b) => b.value);
  const update = () => {
    const n = picked().length;
    addPicked.disabled = !n;
    addPicked.textContent = n ? `Add ${n} selected` : "Add selected";
  };
  users.list().then(
    (all) => {
      const have = new Set(enrolled);
      const candidates = all.filter((u) => u.role === "student" && u.status !== "pending" && !have.has(u.name));
      boxes = candidates.map((u) => h("input", { type: "checkbox", value: u.name, onchange: update }));
      list.replaceChildren(
        ...(candidates.length
          ? candidates.map((u, i) => h("label", { class: "pick-row", dataset: { name: u.name, search: `${u.name} ${u.display_name || ""}`.toLowerCase() } }, boxes[i], h("span", {}, h("strong", {}, u.name), u.display_name ? h("span", { class: "muted" }, ` ${u.display_name}`) : null)))
          : [h("p", { class: "muted" }, "Every student account is in the course already. Make accounts on the Teacher's page, or use a CSV with passwords below.")]),
      );
    },
    (err) => list.replaceChildren(h("p", { class: "muted" }, `Cannot list accounts: ${err.message}`)),
  );
  filter.addEventListener("input", () => {
    const q = filter.value.trim().toLowerCase();
    for (const row of list.querySelectorAll(".pick-row")) row.hidden = q && !row.dataset.search.includes(q);
  });
  const all = h("button", { type: "button", class: "tool", onclick: () => (boxes.forEach((b) => (b.checked = !b.closest(".pick-row").hidden)), update()) }, "Select all shown");
  const send = async (button, call) => {
    button.disabled = true;
    try {
      const r = await call();
      result.replaceChildren(addedReport(r));
      if ((r.added || []).length) onAdded();
      return r;
    } catch (err) {
      result.replaceChildren(h("p", { class: "form-error" }, err.message));
      return null;
    } finally {
      button.disabled = false;
    }
  };
  addPicked.addEventListener("click", async () => {
    const r = await send(addPicked, () => courses.addStudents(cid, picked()));
    if (r) for (const name of r.added || []) list.querySelector(`.pick-row[data-name="${CSS.escape(name)}"]`)?.remove();
    boxes = boxes.filter((b) => b.isConnected);
    update();
  });
  const csv = h("textarea", { class: "csv-input", rows: 5, spellcheck: false, "aria-label": "Class list (CSV)", placeholder: "username,name,password\nada,Ada Lovelace,\nalan,Alan Turing,s3cret-pass" });
  const file = h("input", { type: "file", accept: ".csv,text/csv,text/plain", "aria-label": "CSV file", onchange: async () => file.files[0] && (csv.value = await file.files[0].text()) });
  const addCsv = h("button", { type: "button", class: "primary add-csv" }, "Add from CSV");
  addCsv.addEventListener("click", () => {
    if (!csv.value.trim()) return toast("Paste a class list or choose a CSV file first.");
    send(addCsv, () => courses.addStudentsCsv(cid, csv.value.endsWith("\n") ? csv.value : `${csv.value}\n`));
  });
  return dialog(
    "Add students",
    "add-students-dialog",
    h("h3", {}, "From the accounts"),
    h("div", { class: "pick-tools" }, filter, all),
    list,
    h("div", { class: "dialog-buttons" }, addPicked),
    h("h3", {}, "From a class list (CSV)"),
    h("p", { class: "hint" }, "A header line username[,name,password]. A username without an account is made one when the line has a password."),
    csv,
    h("div", { class: "import-tools" }, file, h("span", { class: "spacer" }), addCsv),
    result,
  ).done;
}

/** Add an assignment: a folder of the course project (listed), its kind and due date. */
export function addAssignmentDialog(course, existing, onAdded) {
  const name = h("select", { name: "name", class: "folder-select", "aria-label": "Folder of the course project", required: true }, h("option", { value: "" }, "Loading folders…"));
  const kind = h("select", { name: "kind", "aria-label": "Kind" }, h("option", { value: "assignment" }, "Assignment (collected and graded)"), h("option", { value: "handout" }, "Handout (distributed only)"));
  const due = h("input", { type: "datetime-local", name: "due", "aria-label": "Due date" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const filesLink = h("a", { href: `${projectBase(course.project_id)}files/`, target: "_blank" }, "course project");
  // The folder list comes from the course project's Jupyter API.
  const base = projectBase(course.project_id);
  fetch(`${base}api/contents?content=1`, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status}`))))
    .then((model) => {
      // collected/, autograded/ and feedback/ are where the course writes; never assignments.
      const taken = new Set([...existing, "collected", "autograded", "feedback"]);
      const dirs = (model.content || []).filter((e) => e.type === "directory" && !e.name.startsWith(".") && !taken.has(e.name.toLowerCase())).map((e) => e.name).sort();
      name.replaceChildren(
        ...(dirs.length ? [h("option", { value: "" }, "Choose a folder…"), ...dirs.map((d) => h("option", { value: d }, `${d}/`))] : [h("option", { value: "" }, "No new folder in the course project")]),
      );
    })
    .catch((err) => name.replaceChildren(h("option", { value: "" }, `Cannot list folders (${err.message})`)));
  const submit = h("button", { class: "primary" }, "Add assignment");
  let d;
  const form = h(
    "form",
    {
      class: "assignment-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.hidden = true;
        if (!name.value) {
          error.textContent = "Choose the folder that holds the assignment (make one in the course project first).";
          error.hidden = false;
          return;
        }
        const body = { name: name.value, kind: kind.value };
        if (due.value) body.due = fromLocalInput(due.value);
        submit.disabled = true;
        try {
          await courses.addAssignment(course.id, body);
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
          submit.disabled = false;
          return;
        }
        toast(`Added ${body.name}.`);
        d.close();
        onAdded();
      },
    },
    h("label", { class: "form-row" }, h("span", {}, "Folder"), name),
    h("p", { class: "hint" }, "Each assignment is a folder of the ", filesLink, ": write the notebooks there (with nbgrader's cell metadata for graded cells)."),
    h("label", { class: "form-row" }, h("span", {}, "Kind"), kind),
    h("label", { class: "form-row" }, h("span", {}, "Due"), due),
    error,
    h("div", { class: "dialog-buttons" }, submit),
  );
  d = dialog("Add an assignment", "add-assignment-dialog", form);
  return d.done;
}

/** Change an assignment's due date (for everyone). */
export function dueDialog(cid, a, onSaved) {
  const due = h("input", { type: "datetime-local", value: toLocalInput(a.due), "aria-label": "Due date" });
  const save = async (value) => {
    try {
      await courses.updateAssignment(cid, a.id, { due: value });
    } catch (err) {
      return toast(err.message, 8000);
    }
    toast(value ? `${a.name} is due ${shortDate(value)}.` : `${a.name} has no due date now.`);
    d.close();
    onSaved();
  };
  const d = dialog(
    `Due date of ${a.name}`,
    "due-dialog",
    h("form", { onsubmit: (ev) => (ev.preventDefault(), save(fromLocalInput(due.value))) }, due, h("div", { class: "dialog-buttons" }, h("button", { type: "button", class: "tool", onclick: () => save(null) }, "No due date"), h("button", { class: "primary" }, "Save"))),
  );
  due.focus();
  return d.done;
}

/** One student's cell: their extension of the due date, and each action for them alone. */
export function cellDialog(cid, a, student, act, onSaved) {
  const mine = a.extensions && a.extensions[student.username];
  const due = h("input", { type: "datetime-local", class: "extension-input", value: toLocalInput(dueFor(a, student.username)), "aria-label": `Due date for ${student.username}` });
  const saveExt = async (value) => {
    try {
      await courses.updateAssignment(cid, a.id, { extensions: { [student.username]: value } });
    } catch (err) {
      return toast(err.message, 8000);
    }
    toast(value ? `${student.username} may hand in ${a.name} until ${shortDate(value)}.` : `${student.username} has the class's due date again.`);
    d.close();
    onSaved();
  };
  const only = (action, label) => h("button", { type: "button", class: "tool", dataset: { action }, onclick: () => (d.close(), act(a, action, [student.username])) }, label);
  const d = dialog(
    `${a.name} · ${student.name || student.username}`,
    "cell-dialog",
    h("h3", {}, "Extension"),
    h("p", { class: "hint" }, a.due ? `The class's due date is ${shortDate(a.due)}.` : "The assignment has no due date."),
    h(
      "form",
      { class: "extension-form", onsubmit: (ev) => (ev.preventDefault(), saveExt(fromLocalInput(due.value))) },
      due,
      mine ? h("button", { type: "button", class: "tool clear-extension", onclick: () => saveExt(null) }, "Remove extension") : null,
      h("button", { class: "primary save-extension" }, "Give extension"),
    ),
    h("h3", {}, `Only for ${student.username}`),
    h("div", { class: "only-actions" }, only("distribute", "Distribute"), ...(a.kind === "handout" ? [] : [only("collect", "Collect"), only("autograde", "Autograde"), only("return", "Return")])),
  );
  return d.done;
}
