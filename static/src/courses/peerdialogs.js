// The teacher's peer review dialogs: set it up for an assignment (reviews per submission, a due
// date, the grading guide in markdown), and collect the reviews (optionally taking the peers'
// median or mean as the grade of the questions graded by hand).
import { h, toast } from "../dom.js";
import { courses, fromLocalInput, toLocalInput } from "./api.js";
import { dialog } from "./dialogs.js";

const GUIDE_HINT = "## What to look for\n\n- **question id**: full points when …\n";

/** Set up, change or turn off peer review of assignment a; onSaved() after a change. */
export async function peerDialog(cid, a, onSaved) {
  let settings = null;
  if (a.peer) {
    try {
      settings = (await courses.peer(cid, a.id)).settings;
    } catch (err) {
      return toast(err.message, 8000);
    }
  }
  const assigned = settings && settings.state !== "set";
  const per = h("input", { type: "number", class: "peer-per", min: 1, max: 10, step: 1, value: settings ? settings.per_submission : 2, disabled: !!assigned, "aria-label": "Reviews per submission" });
  const due = h("input", { type: "datetime-local", class: "peer-due", value: toLocalInput(settings && settings.due), "aria-label": "Reviews due" });
  const guide = h("textarea", { class: "peer-guide", rows: 8, value: settings ? settings.guide : "", placeholder: GUIDE_HINT, "aria-label": "Grading guide (markdown)" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const fail = (err) => ((error.textContent = err.message), (error.hidden = false));
  const save = h("button", { class: "primary peer-save" }, settings ? "Save" : "Turn on peer review");
  let d;
  const submit = async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const body = { guide: guide.value, due: fromLocalInput(due.value) };
    if (!assigned) body.per_submission = Number(per.value);
    save.disabled = true;
    try {
      await courses.setPeer(cid, a.id, body);
    } catch (err) {
      save.disabled = false;
      return fail(err);
    }
    toast(`Peer review of ${a.name} saved.`);
    d.close();
    onSaved();
  };
  const off = async () => {
    try {
      await courses.setPeer(cid, a.id, { enabled: false });
    } catch (err) {
      return fail(err);
    }
    toast(`Peer review of ${a.name} is off.`);
    d.close();
    onSaved();
  };
  const questions = settings ? settings.questions.map((q) => `${q.grade_id} (${q.max_points} pt)`).join(", ") : "";
  d = dialog(
    `Peer review of ${a.name}`,
    "peer-dialog",
    h("p", { class: "hint" }, "After you collect, each submission goes without its author's name to other students, who score the questions graded by hand and leave a comment. You see who reviewed whom; they do not."),
    assigned ? h("p", { class: "hint peer-assigned" }, `Assigned: the pairs are fixed (${settings.per_submission} reviews per submission).`) : null,
    questions ? h("p", { class: "hint" }, "Reviewers score: ", h("strong", {}, questions)) : null,
    h(
      "form",
      { class: "peer-form", onsubmit: submit },
      h("label", { class: "form-row" }, h("span", {}, "Reviews per submission"), per),
      h("label", { class: "form-row" }, h("span", {}, "Reviews due"), due),
      h("label", { class: "form-row guide-row" }, h("span", {}, "Grading guide (markdown)"), guide),
      error,
      h("div", { class: "dialog-buttons" }, settings && !assigned ? h("button", { type: "button", class: "tool peer-off", onclick: off }, "Turn off") : null, save),
    ),
  );
  return d.done;
}

/** Ask how to collect the reviews of a; resolves to {grade} or null when cancelled. */
export function collectReviewsDialog(a) {
  let choice = null;
  const option = (value, label, checked) => h("label", { class: "radio-row" }, h("input", { type: "radio", name: "peer-grade", value, checked }), h("span", {}, label));
  const form = h(
    "form",
    {
      class: "peer-collect-form",
      onsubmit: (ev) => {
        ev.preventDefault();
        const v = form.querySelector("input[name=peer-grade]:checked").value;
        choice = { grade: v === "none" ? null : v };
        d.close();
      },
    },
    h("p", { class: "hint" }, "Reviewers cannot change their reviews afterwards. The peers' points go into the questions graded by hand of every autograded submission; you can still change any of them on the grading page."),
    option("median", "Grade: the median of the peers' points", true),
    option("mean", "Grade: the mean of the peers' points", false),
    option("none", "Only collect: I grade by hand", false),
    h("div", { class: "dialog-buttons" }, h("button", { class: "primary peer-collect-go" }, "Collect reviews")),
  );
  const d = dialog(`Collect peer reviews of ${a.name}`, "peer-collect-dialog", form);
  return d.done.then(() => choice);
}
