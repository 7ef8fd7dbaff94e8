// A compact ipywidgets manager speaking the widget message protocol 2.x over comms.
//
// Why our own and not @jupyter-widgets/html-manager: that package pulls in Lumino,
// jQuery UI and Backbone (over 1 MB minified) and its own output renderers; the core
// controls Sage's @interact uses fit in a few hundred lines over the Kernel class here.
import { OutputArea } from "../outputarea.js";
import { VIEWS, UnsupportedView } from "./views.js";

const TARGET = "jupyter.widget";
const MODEL_PREFIX = "IPY_MODEL_";

/** Put binary buffers into a state object at their paths (protocol 2.x buffer_paths). */
function putBuffers(state, paths = [], buffers = []) {
  paths.forEach((path, i) => {
    let obj = state;
    for (const key of path.slice(0, -1)) obj = obj[key];
    obj[path[path.length - 1]] = buffers[i];
  });
  return state;
}

export class WidgetModel extends EventTarget {
  constructor(manager, id, state) {
    super();
    this.manager = manager;
    this.id = id;
    this.state = state;
    this.pendingEcho = new Map(); // key -> value we sent and wait to see echoed
  }

  get(key) {
    return this.state[key];
  }

  /** Apply state that came from the kernel. */
  apply(patch, echo = false) {
    const keys = [];
    for (const [k, v] of Object.entries(patch)) {
      if (echo && this.pendingEcho.has(k)) {
        // Our own change coming back: ignore it unless it is the last value we sent.
        if (JSON.stringify(this.pendingEcho.get(k)) === JSON.stringify(v)) this.pendingEcho.delete(k);
        continue;
      }
      this.state[k] = v;
      keys.push(k);
    }
    if (keys.length) this.dispatchEvent(new CustomEvent("change", { detail: keys }));
  }

  /** Change state from the page and send it to the kernel. */
  save(patch) {
    Object.assign(this.state, patch);
    for (const [k, v] of Object.entries(patch)) this.pendingEcho.set(k, v);
    this.manager.send(this.id, { method: "update", state: patch, buffer_paths: [] });
    this.dispatchEvent(new CustomEvent("change", { detail: Object.keys(patch) }));
  }

  /** Send a custom message (Button clicks, Text submit). */
  custom(content) {
    this.manager.send(this.id, { method: "custom", content });
  }

  close() {
    this.closed = true;
    this.dispatchEvent(new CustomEvent("close"));
  }
}

/** The Output widget: captures outputs whose parent msg_id equals its `msg_id` state. */
class OutputModel extends WidgetModel {
  constructor(manager, id, state) {
    super(manager, id, state);
    this.area = new OutputArea(manager.outputContext());
    this.area.el.classList.add("widget-output");
    this.area.set(state.outputs || []);
    this.capture = (msg) => {
      const parent = msg.parent_header && msg.parent_header.msg_id;
      if (!this.state.msg_id || parent !== this.state.msg_id) return false;
      this.area.handle(msg);
      return true;
    };
    manager.kernel.interceptors.push(this.capture);
  }

  apply(patch, echo) {
    super.apply(patch, echo);
    if ("outputs" in patch) this.area.set(patch.outputs);
  }

  close() {
    const list = this.manager.kernel.interceptors;
    const i = list.indexOf(this.capture);
    if (i >= 0) list.splice(i, 1);
    super.close();
  }
}

export class WidgetManager {
  constructor(kernel, options = {}) {
    this.kernel = kernel;
    this.options = options; // {trusted(): bool}
    this.models = new Map();
    this.waiters = new Map();
    kernel.onComm = (msg) => this.handle(msg);
    kernel.addEventListener("restarted", () => this.clear());
  }

  outputContext() {
    return { trusted: this.options.trusted ? this.options.trusted() : false, widgets: this };
  }

  clear() {
    for (const model of this.models.values()) model.close();
    this.models.clear();
  }

  send(commId, data) {
    const id = this.kernel.send("shell", "comm_msg", { comm_id: commId, data });
    // Outputs of the callback (not captured by an Output widget) are dropped, as in JupyterLab.
    this.kernel.track(id, {});
    return id;
  }

  handle(msg) {
    const c = msg.content;
    const type = msg.header.msg_type;
    if (type === "comm_open") {
      if (c.target_name !== TARGET) return;
      const state = putBuffers(c.data.state || {}, c.data.buffer_paths, msg.buffers);
      return this.create(c.comm_id, state);
    }
    const model = this.models.get(c.comm_id);
    if (type === "comm_close") {
      if (model) model.close();
      this.models.delete(c.comm_id);
      return;
    }
    const data = c.data || {};
    if (data.method === "update" || data.method === "echo_update") {
      const state = putBuffers(data.state || {}, data.buffer_paths, msg.buffers);
      if (model) model.apply(state, data.method === "echo_update");
      else if (state._model_name) this.create(c.comm_id, state); // answer to request_state
    } else if (data.method === "custom" && model) {
      model.dispatchEvent(new CustomEvent("custom", { detail: data.content }));
    }
  }

  create(id, state) {
    const Model = state._model_name === "OutputModel" ? OutputModel : WidgetModel;
    const model = new Model(this, id, state);
    this.models.set(id, model);
    for (const resolve of this.waiters.get(id) || []) resolve(model);
    this.waiters.delete(id);
    return model;
  }

  /** Resolve with a model, waiting up to `timeout` ms for its comm_open. */
  getModel(id, timeout = 3000) {
    if (typeof id === "string" && id.startsWith(MODEL_PREFIX)) id = id.slice(MODEL_PREFIX.length);
    if (this.models.has(id)) return Promise.resolve(this.models.get(id));
    return new Promise((resolve, reject) => {
      if (!this.waiters.has(id)) this.waiters.set(id, []);
      this.waiters.get(id).push(resolve);
      setTimeout(() => reject(new Error(`widget model ${id} not found`)), timeout);
    });
  }

  /** Ask a live kernel for the widgets it already has (after a reload); resolves when they came. */
  async restore() {
    const waits = [];
    try {
      const reply = await this.kernel.request("shell", "comm_info_request", { target_name: TARGET }, 10000);
      for (const [id, info] of Object.entries(reply.content.comms || {})) {
        if (info.target_name !== TARGET || this.models.has(id)) continue;
        waits.push(this.getModel(id, 5000));
        this.send(id, { method: "request_state" });
      }
    } catch {
      // An old kernel without comm_info: widgets of earlier runs just stay text.
    }
    await Promise.allSettled(waits);
    return waits.length;
  }

  /** A DOM node showing a widget view; `fallback()` builds what to show if the model never comes. */
  viewFor(modelId, fallback) {
    const model = this.models.get(modelId);
    if (model) return this.render(model);
    const holder = document.createElement("div");
    holder.className = "widget-pending";
    this.getModel(modelId).then(
      (m) => holder.replaceWith(this.render(m)),
      () => holder.replaceWith(fallback ? fallback() : document.createTextNode("")),
    );
    return holder;
  }

  /** Build a view element for a model. */
  render(model) {
    const View = VIEWS[model.get("_view_name")] || UnsupportedView;
    const view = new View(model, this);
    view.render();
    view.el.classList.add("widget");
    const onChange = (ev) => {
      if (!view.el.isConnected && view.attached) return model.removeEventListener("change", onChange);
      if (view.el.isConnected) view.attached = true;
      view.update(ev.detail);
      view.updateCommon(ev.detail);
    };
    model.addEventListener("change", onChange);
    model.addEventListener("close", () => view.el.remove());
    view.updateCommon(Object.keys(model.state));
    return view.el;
  }
}
