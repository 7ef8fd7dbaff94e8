// A connection to one kernel over the Jupyter Server websocket (/api/kernels/<id>/channels).
//
// Routes replies and outputs to the request that caused them (by parent msg_id), hands
// comm messages to the widget manager, and reconnects by itself after a drop: the status
// goes to "reconnecting" and comes back once the socket is open again.
import { baseUrl, kernels as kernelsApi, ApiError } from "./api.js";

export const uuid = () =>
  (crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16))).replace(/-/g, "");

/** Jupyter counts cursor positions in Unicode code points; JS strings in UTF-16 units. */
export function toCodePoints(text, index) {
  return Array.from(text.slice(0, index)).length;
}
export function fromCodePoints(text, cp) {
  return Array.from(text).slice(0, cp).join("").length;
}

/** Decode the binary websocket frame of jupyter_server's legacy protocol. */
function decodeBinary(buf) {
  const view = new DataView(buf);
  const n = view.getUint32(0);
  const offsets = [];
  for (let i = 0; i < n; i++) offsets.push(view.getUint32(4 * (i + 1)));
  const msg = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, offsets[0], (offsets[1] ?? buf.byteLength) - offsets[0])));
  msg.buffers = [];
  for (let i = 1; i < n; i++) msg.buffers.push(new DataView(buf.slice(offsets[i], offsets[i + 1] ?? buf.byteLength)));
  return msg;
}

const RECONNECT_DELAYS = [250, 500, 1000, 2000, 3000, 5000];

export class Kernel extends EventTarget {
  constructor(model) {
    super();
    this.id = model.id;
    this.name = model.name;
    this.session = uuid();
    this.status = "starting";
    this.ws = null;
    this.queue = []; // frames sent while the socket was not open
    this.pending = new Map(); // msg_id -> handlers
    this.interceptors = []; // fn(msg) -> true when an Output widget captured it
    this.onComm = null; // widget manager hook
    this.attempt = 0;
    this.disposed = false;
    this.everConnected = false;
    // The execution whose input() waits for an answer ({parentId, handlers}), or null. While
    // one waits, the kernel runs nothing else: a new execution would queue behind it unseen.
    this.pendingInput = null;
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
    if (status === "dead") this.failPending("The kernel died.");
  }

  /** Open the websocket; resolves once it is open (rejects if the kernel is gone). */
  /** The channels websocket URL (embedded cells point it at their own server). */
  channelsUrl() {
    const url = new URL(`${baseUrl()}api/kernels/${this.id}/channels?session_id=${this.session}`, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.channelsUrl());
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.attempt = 0;
        const again = this.everConnected;
        this.everConnected = true;
        for (const frame of this.queue.splice(0)) ws.send(frame);
        this.dispatchEvent(new CustomEvent("connected", { detail: { reconnected: again } }));
        this.request("shell", "kernel_info_request", {}).then(() => {
          if (this.status === "reconnecting" || this.status === "starting") this.setStatus("idle");
        }, () => {});
        resolve(this);
      };
      ws.onmessage = (ev) => this.receive(typeof ev.data === "string" ? JSON.parse(ev.data) : decodeBinary(ev.data));
      ws.onclose = () => {
        if (this.ws !== ws || this.disposed) return;
        this.ws = null;
        if (!opened && !this.everConnected) reject(new Error("could not connect to the kernel"));
        this.scheduleReconnect();
      };
    });
  }

  scheduleReconnect() {
    if (this.disposed || this.status === "dead") return;
    this.setStatus("reconnecting");
    const delay = RECONNECT_DELAYS[Math.min(this.attempt++, RECONNECT_DELAYS.length - 1)];
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reconnect(), delay);
  }

  async reconnect() {
    if (this.disposed || this.ws) return;
    try {
      const model = await kernelsApi.get(this.id);
      if (model.execution_state === "dead") return this.setStatus("dead");
    } catch (err) {
      // 404: the kernel is gone for good; anything else (server down): keep trying.
      if (err instanceof ApiError && err.status === 404) return this.setStatus("dead");
      return this.scheduleReconnect();
    }
    this.connect().catch(() => {});
  }

  /** Drop the socket on purpose (tests, page unload); it reconnects unless disposed. */
  dropConnection() {
    if (this.ws) this.ws.close();
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  receive(msg) {
    const type = msg.header.msg_type;
    const parentId = msg.parent_header && msg.parent_header.msg_id;
    const handlers = parentId ? this.pending.get(parentId) : undefined;
    if (msg.channel === "iopub") {
      if (type === "status") {
        this.setStatus(msg.content.execution_state);
        if (msg.content.execution_state === "idle" && handlers) {
          handlers.idle = true;
          this.maybeDone(parentId, handlers);
        }
        return;
      }
      if (type.startsWith("comm_")) {
        if (this.onComm) this.onComm(msg);
        return;
      }
      if (type === "execute_input") return;
      if (this.interceptors.some((fn) => fn(msg))) return;
      if (handlers && handlers.onOutput) handlers.onOutput(msg);
      return;
    }
    if (msg.channel === "stdin") {
      if (type === "input_request" && handlers && handlers.onInput) {
        this.pendingInput = { parentId, handlers };
        handlers.onInput(msg.content, (value) => {
          if (this.pendingInput && this.pendingInput.parentId === parentId) this.pendingInput = null;
          this.send("stdin", "input_reply", { value }, msg.header);
        });
      }
      return;
    }
    if (msg.channel === "shell" || msg.channel === "control") {
      if (type === "comm_msg" || type === "comm_open" || type === "comm_close") {
        if (this.onComm) this.onComm(msg);
        return;
      }
      if (!handlers) return;
      handlers.reply = msg;
      if (handlers.resolve) handlers.resolve(msg);
      if (handlers.onReply) handlers.onReply(msg);
      this.maybeDone(parentId, handlers);
    }
  }

  maybeDone(id, handlers) {
    // An execution is over when its reply came and the kernel went idle for it.
    if (handlers.reply && (handlers.idle || !handlers.waitIdle)) {
      this.pending.delete(id);
      if (this.pendingInput && this.pendingInput.parentId === id) this.pendingInput = null;
      if (handlers.onDone) handlers.onDone(handlers.reply);
    }
  }

  failPending(reason) {
    this.pendingInput = null;
    for (const [id, handlers] of this.pending) {
      this.pending.delete(id);
      if (handlers.reject) handlers.reject(new Error(reason));
      if (handlers.onDone) handlers.onDone(null, reason);
    }
  }

  /** Build and send a message; returns its msg_id. */
  send(channel, msgType, content, parentHeader = {}, metadata = {}) {
    const header = {
      msg_id: uuid(),
      msg_type: msgType,
      session: this.session,
      username: "",
      date: new Date().toISOString(),
      version: "5.3",
    };
    const frame = JSON.stringify({ channel, header, parent_header: parentHeader, metadata, content, buffers: [] });
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
    else this.queue.push(frame);
    return header.msg_id;
  }

  /** Send a request and resolve with its reply message. */
  request(channel, msgType, content, timeoutMs = 0) {
    return new Promise((resolve, reject) => {
      const id = this.send(channel, msgType, content);
      this.pending.set(id, { resolve, reject });
      if (timeoutMs) setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`${msgType} timed out`));
      }, timeoutMs);
    });
  }

  /** Run code; handlers: onOutput(msg), onInput(content, reply), onReply(msg), onDone(reply|null, error). */
  execute(code, handlers = {}, options = {}) {
    const content = {
      code,
      silent: false,
      store_history: options.storeHistory ?? true,
      user_expressions: {},
      allow_stdin: true,
      stop_on_error: options.stopOnError ?? true,
    };
    // metadata.cellId (as JupyterLab sends it) lets the server's history link a computation to its cell.
    const id = this.send("shell", "execute_request", content, {}, options.metadata || {});
    this.pending.set(id, { ...handlers, waitIdle: true });
    return id;
  }

  /** Register callbacks for a message we sent ourselves (comm messages from widgets). */
  track(msgId, handlers) {
    this.pending.set(msgId, { ...handlers, waitIdle: true });
  }

  complete(code, cursor) {
    return this.request("shell", "complete_request", { code, cursor_pos: toCodePoints(code, cursor) }, 20000);
  }

  inspect(code, cursor, detail = 0) {
    return this.request("shell", "inspect_request", { code, cursor_pos: toCodePoints(code, cursor), detail_level: detail }, 20000);
  }

  async interrupt() {
    await kernelsApi.interrupt(this.id);
  }

  async restart() {
    this.setStatus("restarting");
    this.failPending("The kernel was restarted.");
    await kernelsApi.restart(this.id);
    this.status = "starting";
    this.dispatchEvent(new CustomEvent("restarted"));
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.request("shell", "kernel_info_request", {}, 60000).then(() => this.setStatus("idle"), () => {});
    } else {
      if (this.ws) this.ws.close();
      this.ws = null;
      this.attempt = 0;
      await this.connect();
    }
    this.dispatchEvent(new CustomEvent("status", { detail: this.status }));
  }
}
