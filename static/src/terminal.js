// The terminal page (/terminals/<name>): xterm.js over the terminado websocket
// (["stdin", text], ["set_size", rows, cols] out; ["setup"], ["stdout", text], ["disconnect"] in).
// A dropped connection comes back by itself; the server replays the scrollback.
import "@xterm/xterm/css/xterm.css";
import "./style.css";
import "./pages.css";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { terminals, baseUrl, ApiError } from "./api.js";
import { topbar } from "./chrome.js";
import { h, toast } from "./dom.js";

const RECONNECT_MS = [300, 1000, 2000, 4000, 8000];

class TerminalPage {
  constructor() {
    this.name = document.body.dataset.name || "";
    this.status = h("span", { class: "term-status", role: "status", "aria-live": "polite" });
    this.list = h("ul", { class: "term-list" });
    this.attempt = 0;
    this.typedAhead = ""; // stdin typed while not connected
    this.over = false; // the shell ended: typing goes nowhere
  }

  layout() {
    this.screen = h("div", { class: "term-screen" });
    this.banner = h("div", { class: "banner term-banner", hidden: true });
    const side = h(
      "aside",
      { class: "term-side", "aria-label": "Terminals" },
      h("div", { class: "term-side-head" }, h("strong", {}, "Terminals"), h("button", { class: "primary new-terminal", title: "Start a new terminal in the project folder", onclick: () => this.create() }, "+ New")),
      this.list,
      h("p", { class: "hint" }, "A shell in the project's folder. Terminals keep running when you close this page."),
    );
    const main = h("main", { class: "term-main" }, h("div", { class: "term-bar" }, h("strong", { class: "term-name" }), this.status), this.banner, this.screen);
    document.body.replaceChildren(topbar({ current: "terminal" }), h("div", { class: "workspace term-workspace" }, side, main));
    this.term = new Terminal({
      fontFamily: '"DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace',
      fontSize: 14,
      cursorBlink: true,
      scrollback: 5000,
      theme: { background: "#1e2430", foreground: "#e6e9ef", cursor: "#f5c542", selectionBackground: "#44536a" },
    });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.screen);
    this.term.onData((data) => this.send(["stdin", data]));
    this.term.onResize(({ rows, cols }) => this.send(["set_size", rows, cols]));
    new ResizeObserver(() => this.refit()).observe(this.screen);
    window.salvus = { page: this, term: this.term };
  }

  refit() {
    try {
      this.fit.fit();
    } catch {
      // not laid out yet
    }
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
    // Keys typed while the connection is down (or just closing) reach the shell once it is back,
    // as in ssh after a blip: bounded, and dropped when the page moves to another terminal.
    else if (msg[0] === "stdin" && !this.over && this.typedAhead.length < 4096) this.typedAhead += msg[1];
  }

  setStatus(text, state) {
    this.status.textContent = text;
    this.status.dataset.state = state;
  }

  async refreshList() {
    let all = [];
    try {
      all = await terminals.list();
    } catch (err) {
      toast(`Could not list terminals: ${err.message}`);
    }
    all.sort((a, b) => String(a.name).localeCompare(String(b.name), undefined, { numeric: true }));
    this.list.replaceChildren(
      ...all.map((t) =>
        h(
          "li",
          { class: t.name === this.name ? "current" : "", dataset: { name: t.name } },
          h("a", { href: this.href(t.name), onclick: (ev) => (ev.preventDefault(), this.switchTo(t.name)), ...(t.name === this.name ? { "aria-current": "page" } : {}) }, `Terminal ${t.name}`),
          h("button", { class: "icon-button close-terminal", title: `Close terminal ${t.name} (ends its shell)`, "aria-label": `Close terminal ${t.name}`, onclick: () => this.close(t.name) }, "×"),
        ),
      ),
    );
    return all;
  }

  href(name) {
    return `${baseUrl()}terminals/${encodeURIComponent(name)}`;
  }

  async create() {
    try {
      const t = await terminals.create();
      await this.switchTo(t.name);
    } catch (err) {
      toast(`Could not start a terminal: ${err.message}`, 8000);
    }
  }

  async close(name) {
    try {
      await terminals.close(name);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) return toast(`Could not close: ${err.message}`);
    }
    if (name !== this.name) return this.refreshList();
    const rest = (await this.refreshList()).filter((t) => t.name !== name);
    if (rest.length) this.switchTo(rest[0].name);
    else this.ended("Terminal closed.");
  }

  async switchTo(name) {
    this.disconnect();
    this.typedAhead = "";
    this.over = false;
    this.setStatus("Connecting…", "connecting");
    this.name = name;
    history.replaceState(null, "", this.href(name));
    document.title = `Terminal ${name} · Salvus Local`;
    document.querySelector(".term-name").textContent = `Terminal ${name}`;
    this.banner.hidden = true;
    this.term.reset();
    await this.refreshList();
    this.connect();
    this.term.focus();
  }

  disconnect() {
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }
  }

  connect() {
    const url = new URL(`${baseUrl()}terminals/websocket/${encodeURIComponent(this.name)}`, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url.href);
    this.ws = ws;
    this.setStatus(this.attempt ? "Reconnecting…" : "Connecting…", "connecting");
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus("Connected", "connected");
      this.refit();
      this.send(["set_size", this.term.rows, this.term.cols]);
      if (this.typedAhead) this.send(["stdin", this.typedAhead]);
      this.typedAhead = "";
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg[0] === "setup") this.term.reset(); // the scrollback replay follows
      else if (msg[0] === "stdout") this.term.write(msg[1]);
      else if (msg[0] === "disconnect") {
        this.ws = null;
        this.ended("The shell exited.");
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return; // closed on purpose
      this.ws = null;
      this.reconnect();
    };
  }

  async reconnect() {
    this.setStatus("Connection lost: reconnecting…", "connecting");
    const delay = RECONNECT_MS[Math.min(this.attempt++, RECONNECT_MS.length - 1)];
    this.timer = setTimeout(async () => {
      try {
        await terminals.get(this.name);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return this.ended("This terminal no longer exists (the server restarted or it was closed).");
        return this.reconnect(); // server unreachable: keep trying
      }
      this.connect();
    }, delay);
  }

  ended(message) {
    this.over = true;
    this.typedAhead = "";
    this.setStatus("Ended", "ended");
    this.banner.replaceChildren(h("span", {}, message), h("button", { class: "primary", onclick: () => this.create() }, "Start a new terminal"));
    this.banner.hidden = false;
    this.refreshList();
  }

  async start() {
    this.layout();
    if (!this.name) {
      const all = await this.refreshList();
      if (all.length) return this.switchTo(all[0].name);
      return this.create();
    }
    this.switchTo(this.name);
  }
}

new TerminalPage().start();
