// Change events of one project, by long poll (GET /api/projects/<id>/events?since=&timeout=).
//
// start() resolves once the feed knows the current sequence number, so a page that
// starts the feed before it loads a file cannot miss a change made in between.
import { projects } from "./api.js";

const POLL_SECONDS = 25;
const RETRY_MS = [1000, 2000, 5000, 10000];

export class ChangeFeed extends EventTarget {
  constructor(projectId) {
    super();
    this.projectId = projectId;
    this.since = null;
    this.failures = 0;
    this.stopped = false;
  }

  /** Learn the current position, then poll in the background. */
  async start() {
    try {
      this.since = (await projects.events(this.projectId, 0, 0)).last;
    } catch {
      this.since = 0; // no events API: the page still works, it just hears nothing
    }
    this.loop();
  }

  async loop() {
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        const reply = await projects.events(this.projectId, this.since, POLL_SECONDS, this.abort.signal);
        this.failures = 0;
        // A restarted server counts from 0 again: follow it rather than wait forever.
        if (reply.last < this.since) this.since = 0;
        for (const ev of reply.events || []) if (ev.seq > this.since) this.dispatchEvent(new CustomEvent("change", { detail: ev }));
        this.since = Math.max(this.since, reply.last);
      } catch (err) {
        if (this.stopped) return;
        const delay = RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)];
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  stop() {
    this.stopped = true;
    if (this.abort) this.abort.abort();
  }
}

