// embed.js: turn every <div class="salvus-cell">code</div> on any page into a live cell.
//
//   <script src="http://HOST:PORT/embed.js"></script>
//   <div class="salvus-cell" data-kernel="sage">factor(2^64-1)</div>
//
// Each cell gets an editor, a Run button (and Shift+Enter) and the notebook's own output and
// widget code, so @interact works.  Runs go to an anonymous, short-lived session on the server
// that served this script (one per kernel kind per page), which only answers pages on its
// embed_origins list.  Outputs are untrusted: sanitized as in an untrusted notebook.
import "katex/dist/katex.min.css";
import "./embed.css";
import { createEditor, getText } from "../editor.js";
import { Kernel } from "../kernel.js";
import { OutputArea } from "../outputarea.js";
import { WidgetManager } from "../widgets/manager.js";

const script = document.currentScript;
const SERVER = new URL(script ? script.src : location.href).origin;
const sessions = new Map(); // kernel kind -> Promise<{kernel, widgets}>
const current = new Map(); // kernel kind -> its connected kernel (for completion)

// The style sheet sits beside the script on the server (its fonts load from there, by CORS).
if (!document.querySelector("link[data-salvus-embed]")) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = `${SERVER}/static/embed.css`;
  link.dataset.salvusEmbed = "1";
  document.head.append(link);
}

/** A kernel reached through /embed/kernels/<id>/channels with its capability key. */
class EmbedKernel extends Kernel {
  constructor(model) {
    super({ id: model.id, name: model.kernel || "" });
    this.key = model.key;
  }

  channelsUrl() {
    const url = new URL(`/embed/kernels/${this.id}/channels?key=${encodeURIComponent(this.key)}&session_id=${this.session}`, SERVER);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  async reconnect() {
    // No REST access to the kernel from here: try the socket again; a gone session stays dead.
    if (this.disposed || this.ws) return;
    this.connect().catch(() => this.setStatus("dead"));
  }

  async interrupt() {
    this.send("control", "interrupt_request", {});
  }
}

async function session(kind) {
  if (!sessions.has(kind)) {
    const started = (async () => {
      const resp = await fetch(`${SERVER}/embed/kernels`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(kind ? { kernel: kind } : {}),
        credentials: "omit",
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(data.message || `the server answered ${resp.status}`);
      const kernel = new EmbedKernel(data);
      const widgets = new WidgetManager(kernel, { trusted: () => false });
      await kernel.connect();
      current.set(kind, kernel);
      kernel.addEventListener("status", (ev) => {
        if (ev.detail === "dead") sessions.delete(kind); // the next Run starts a fresh session
      });
      return { kernel, widgets };
    })();
    sessions.set(kind, started);
    started.catch(() => sessions.delete(kind));
  }
  return sessions.get(kind);
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text) node.textContent = text;
  return node;
}

/** Make one live cell out of a <div class="salvus-cell">. */
function mount(div) {
  if (div.dataset.salvusMounted) return;
  div.dataset.salvusMounted = "1";
  const code = div.textContent.replace(/^\n+|\s+$/g, "");
  const kind = div.dataset.kernel || "";
  div.textContent = "";
  div.classList.add("salvus-embed");
  const editorBox = el("div", "salvus-editor");
  const bar = el("div", "salvus-bar");
  const run = el("button", "salvus-run", "Run");
  run.type = "button";
  const status = el("span", "salvus-status");
  status.setAttribute("role", "status");
  bar.append(run, status);
  let area = new OutputArea({ trusted: false });
  div.append(editorBox, bar, area.el);

  const execute = async () => {
    run.disabled = true;
    status.textContent = "Running…";
    try {
      const { kernel, widgets } = await session(kind);
      const fresh = new OutputArea(widgets.outputContext());
      area.el.replaceWith(fresh.el);
      area = fresh;
      kernel.execute(getText(view), {
        onOutput: (msg) => area.handle(msg),
        onDone: (reply, error) => {
          run.disabled = false;
          status.textContent = error ? error : reply && reply.content.status === "error" ? "Error" : "";
        },
      });
    } catch (err) {
      run.disabled = false;
      status.textContent = `Cannot run: ${err.message}`;
    }
    return true;
  };
  const view = createEditor({
    parent: editorBox,
    doc: code,
    mode: "code",
    getKernel: () => current.get(kind),
    keys: [{ key: "Shift-Enter", run: () => (execute(), true) }],
  });
  run.addEventListener("click", execute);
}

// Leaving the page ends its sessions at once (the server would stop them when idle anyway).
window.addEventListener("pagehide", () => {
  for (const kernel of current.values()) {
    fetch(`${SERVER}/embed/kernels/${kernel.id}?key=${encodeURIComponent(kernel.key)}`, { method: "DELETE", keepalive: true, credentials: "omit" }).catch(() => {});
  }
});

function mountAll() {
  document.querySelectorAll("div.salvus-cell").forEach(mount);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
else mountAll();
window.salvusEmbed = { mountAll, server: SERVER };
