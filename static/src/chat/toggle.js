// The chat button of the top bar (chrome.js adds it): unread badge, the socket, and the panel,
// loaded on first open (markdown, KaTeX and the sanitizer stay out of pages until then).
// On a notebook or editor page the panel shows the file's chat and the project's; elsewhere the
// project's. A search result links here with #chat=<message id>, which opens the panel at it.
import "katex/dist/katex.min.css";
import "./chat.css";
import { h, toast } from "../dom.js";
import { ChatSocket } from "./socket.js";
import { chatApi } from "./api.js";

const PAGES = new Set(["starter", "files", "notebook", "edit", "terminal"]);
const FILE_PAGES = new Set(["notebook", "edit"]);
const OPEN_KEY = "salvus.chat.open";
const HIDDEN_MS = 60_000;

const ICON = () => {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.innerHTML = '<path d="M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4A1.5 1.5 0 0 1 4 14.5z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/>';
  return svg;
};

/** Shared state of the page's chat: who I am, members, unread counts per chat, the socket, the panel. */
export class ChatState {
  constructor(file) {
    this.file = file; // this page's file (null on project pages)
    this.me = null;
    this.members = [];
    this.counts = new Map(); // chat key ("" = project) → {count, mentions}
    this.mentionsUnread = 0; // unread messages mentioning me, in every project
    this.listeners = new Set();
    this.panel = null;
    this.socket = new ChatSocket((ev) => this.event(ev), () => this.emit({ type: "reconnected" }));
    // Every open socket holds one of the server's threads: background tabs give theirs back.
    document.addEventListener("visibilitychange", () => {
      clearTimeout(this.idle);
      if (document.hidden) this.idle = setTimeout(() => this.socket.pause(), HIDDEN_MS);
      else this.socket.resume();
    });
  }

  /** Chats this page shows: the file's (if any), then the project's. */
  chats() {
    return this.file ? [this.file, null] : [null];
  }

  unread(path) {
    return this.counts.get(path || "") || { count: 0, mentions: 0 };
  }

  /** Whether there are other people to talk to (accounts), so mentions mean something. */
  multiUser() {
    return Boolean(this.me && this.me.name !== "you");
  }

  setMentions(n) {
    this.mentionsUnread = n;
    this.emit({ type: "mentions" });
  }

  /** Unread mentions in every project (for the panel's "@" tab). */
  refreshMentions() {
    if (this.multiUser()) chatApi.notifications().then((n) => this.setMentions(n.unread_mentions || 0), () => {});
  }

  setCounts(chats) {
    this.counts = new Map(chats.map((c) => [c.path || "", { count: c.count, mentions: c.mentions }]));
    this.emit({ type: "counts" });
  }

  event(ev) {
    if (ev.type === "hello") {
      this.projectId = ev.project_id; // the real id, also when the URL is the home project's short form
      this.me = ev.me;
      this.members = ev.members || [];
    }
    if (ev.type === "hello" || ev.type === "unread") this.setCounts(ev.chats || []);
    // Reading a chat may read mentions too; a new mention adds one.
    if (ev.type === "hello" || ev.type === "mention" || (ev.type === "unread" && this.mentionsUnread)) this.refreshMentions();
    if (ev.type === "mention" && !this.shows(ev.message)) {
      const who = ev.message.author.display_name;
      toast(`${who} mentioned you in ${ev.message.path || "a project chat"}`, 6000);
    }
    this.emit(ev);
  }

  /** Whether a message belongs to a chat this page shows. */
  shows(message) {
    return message.project_id === this.projectId && this.chats().includes(message.path);
  }

  on(fn) {
    this.listeners.add(fn);
  }

  emit(ev) {
    for (const fn of this.listeners) fn(ev);
  }

  async open(jumpTo = null) {
    if (!this.panel) {
      const { ChatPanel } = await import("./panel.js");
      this.panel = this.panel || new ChatPanel(this);
    }
    this.panel.open(jumpTo);
    sessionStorage.setItem(OPEN_KEY, "1");
    this.emit({ type: "panel", open: true });
  }

  close() {
    if (this.panel) this.panel.close();
    sessionStorage.removeItem(OPEN_KEY);
    this.emit({ type: "panel", open: false });
  }

  isOpen() {
    return Boolean(this.panel && this.panel.isOpen());
  }
}

/** The top bar's chat button (null on pages without a project). */
export function chatToggle() {
  const page = document.body.dataset.page;
  if (!PAGES.has(page)) return null;
  const state = new ChatState(FILE_PAGES.has(page) ? document.body.dataset.path || null : null);
  const badge = h("span", { class: "chat-badge", hidden: true });
  const button = h(
    "button",
    { type: "button", class: "tool chat-toggle", title: "Chat about this project and file", "aria-label": "Chat", "aria-expanded": "false" },
    ICON(),
    h("span", { class: "chat-toggle-label" }, "Chat"),
    badge,
  );
  button.addEventListener("click", () => (state.isOpen() ? state.close() : state.open()));
  state.on((ev) => {
    if (ev.type === "panel") button.setAttribute("aria-expanded", String(ev.open));
    const totals = state.chats().map((p) => state.unread(p));
    const count = totals.reduce((n, c) => n + c.count, 0);
    const mentions = totals.reduce((n, c) => n + c.mentions, 0);
    badge.hidden = count === 0;
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.classList.toggle("mention", mentions > 0);
    button.title = count ? `Chat: ${count} unread${mentions ? `, ${mentions} mentioning you` : ""}` : "Chat about this project and file";
  });
  const jumpOf = () => new URLSearchParams(location.hash.slice(1)).get("chat");
  window.addEventListener("hashchange", () => /^\d+$/.test(jumpOf() || "") && state.open(Number(jumpOf())));
  const jump = jumpOf();
  if (jump && /^\d+$/.test(jump)) state.open(Number(jump));
  // Open again after a navigation, on screens where the panel does not cover the page.
  else if (sessionStorage.getItem(OPEN_KEY) && matchMedia("(min-width: 601px)").matches) state.open();
  return button;
}
