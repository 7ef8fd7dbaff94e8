// A bulk action's progress (distribute, collect, autograde, return): a bar that follows the
// job until it ends, then what failed, student by student. The server keeps going if the
// page is closed; this only watches.
import { h } from "../dom.js";
import { courses } from "./api.js";

const POLL_MS = 600;
const VERB = { distribute: "Distributing", collect: "Collecting", autograde: "Autograding", return: "Returning", "peer/assign": "Assigning peer review of", "peer/collect": "Collecting peer reviews of" };
const DONE = { distribute: "Distributed", collect: "Collected", autograde: "Autograded", return: "Returned", "peer/assign": "Assigned peer review of", "peer/collect": "Collected peer reviews of" };

export class JobView {
  /** cid, the job's id, its action and assignment name; onChange() after every poll (to refresh the table). */
  constructor(cid, jobId, action, name, onChange) {
    Object.assign(this, { cid, jobId, action, name, onChange });
    this.bar = h("progress", { class: "job-bar", max: 1, value: 0, "aria-label": `${VERB[action] || action} ${name}` });
    this.label = h("span", { class: "job-label" }, `${VERB[action] || action} ${name}…`);
    this.count = h("span", { class: "job-count" });
    this.failures = h("ul", { class: "job-failures" });
    this.close = h("button", { type: "button", class: "icon-button job-close", title: "Dismiss", hidden: true, onclick: () => this.el.remove() }, "×");
    this.el = h(
      "div",
      { class: "job", role: "status", dataset: { job: jobId, action, state: "running" } },
      h("div", { class: "job-head" }, this.label, this.count, this.close),
      this.bar,
      this.failures,
    );
    this.stopped = false;
  }

  /** Poll until the job ends; resolves with its last state. */
  async follow() {
    for (;;) {
      let job;
      try {
        job = await courses.job(this.cid, this.jobId);
      } catch (err) {
        this.show({ state: "failed", done: 0, total: 0, results: [{ username: "", status: "failed", message: err.message }] });
        return null;
      }
      this.show(job);
      if (this.onChange) this.onChange(job);
      if (job.state !== "running" || this.stopped) return job;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  show(job) {
    const total = job.total || 0;
    const done = job.done || 0;
    this.bar.max = Math.max(total, 1);
    this.bar.value = job.state === "running" ? done : Math.max(done, total, 1);
    this.count.textContent = total ? `${done} of ${total}` : "";
    this.el.dataset.state = job.state;
    const results = job.results || [];
    const failed = results.filter((r) => r.status === "failed");
    const skipped = results.filter((r) => r.status === "skipped");
    if (job.state !== "running") {
      const ok = results.filter((r) => r.status === "ok").length;
      const bits = [`${DONE[this.action] || this.action} ${this.name}: ${ok} ok`];
      if (failed.length) bits.push(`${failed.length} failed`);
      if (skipped.length) bits.push(`${skipped.length} skipped`);
      this.label.textContent = job.state === "failed" && !results.length ? `${VERB[this.action] || this.action} ${this.name} failed` : bits.join(", ");
      this.count.textContent = "";
      this.close.hidden = false;
    }
    this.failures.replaceChildren(
      ...failed.map((r) => h("li", { class: "job-failure" }, r.username ? h("strong", {}, `${r.username}: `) : null, r.message || "failed")),
      ...skipped.filter((r) => r.message).map((r) => h("li", { class: "job-skipped" }, h("strong", {}, `${r.username}: `), `skipped, ${r.message}`)),
      // Distributing again keeps what students changed: say so, it is what a teacher worries about.
      ...results.filter((r) => r.status === "ok" && /kept/.test(r.message || "")).map((r) => h("li", { class: "job-kept" }, h("strong", {}, `${r.username}: `), r.message)),
    );
  }
}
