// The chat panel: a drawer on the right (a full-screen sheet on phones) with a tab per chat the
// page shows (this file, the project), the messages of the chosen one (older pages on demand),
// and a composer with @mention completion. Live updates come from the page's ChatState socket;
// what is on screen while the window has focus is marked read.
import { ask, h, toast } from "../dom.js";
import { chatApi } from "./api.js";
import { MentionComplete } from "./complete.js";
import { messageItem } from "./message.js";
import { MentionsView } from "./mentions.js";

export const MAX_BODY = 20_000;

const leaf = (path) => path.split("/").pop();

export class ChatPanel {
  constructor(state) {
    this.state = state;
    this.path = state.chats()[0];
    this.messages = [];
    this.more = false;
    this.tabs = h("div", { class: "chat-tabs", role: "tablist" });
    this.list = h("div", { class: "chat-list", role: "log", "aria-live": "polite", "aria-label": "Messages" });
    this.input = h("textarea", {
      class: "chat-input",
      rows: 1,
      placeholder: matchMedia("(max-width: 600px)").matches ? "Message" : "Message — markdown, $math$, @name",
      "aria-label": "Write a message",
      maxLength: MAX_BODY,
    });
    this.complete = new MentionComplete(this.input, () => this.state.members.filter((m) => !this.state.me || m.name !== this.state.me.name));
    this.counter = h("span", { class: "chat-counter" });
    this.send = h("button", { type: "submit", class: "primary chat-send", title: "Send (Enter)" }, "Send");
    // Why a message was not sent (too fast, too many @mentions…), right above what was typed (which stays).
    this.notice = h("div", { class: "chat-notice", role: "alert", hidden: true });
    const form = (this.form = h(
      "form",
      { class: "chat-compose", onsubmit: (ev) => (ev.preventDefault(), this.post()) },
      this.complete.list,
      this.notice,
      this.input,
      h("div", { class: "chat-compose-foot" }, h("span", { class: "chat-hint" }, "Enter sends · Shift+Enter new line"), this.counter, this.send),
    ));
    this.el = h(
      "aside",
      { class: "chat-panel", "aria-label": "Chat", hidden: true },
      h("header", { class: "chat-head" }, (this.title = h("strong", { class: "chat-title" }, "Chat")), this.tabs, h("button", { type: "button", class: "icon-button chat-close", title: "Close chat (Esc)", "aria-label": "Close chat", onclick: () => this.state.close() }, "×")),
      this.list,
      form,
    );
    this.el.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !this.complete.isOpen()) this.state.close();
      ev.stopPropagation(); // the notebook's command keys must not see typing here
    });
    this.input.addEventListener("keydown", (ev) => {
      if (this.complete.key(ev)) return;
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.post();
      }
    });
    this.input.addEventListener("input", () => this.resize());
    document.body.append(this.el);
    state.on((ev) => this.event(ev));
    window.addEventListener("focus", () => this.markRead());
    document.addEventListener("visibilitychange", () => this.markRead());
    window.addEventListener("resize", () => this.place());
    this.renderTabs();
  }

  isOpen() {
    return !this.el.hidden;
  }

  open(jumpTo = null) {
    if (jumpTo && this.mentions) this.choose(this.path);
    this.el.hidden = false;
    this.place();
    document.body.classList.add("chat-open");
    this.load(jumpTo);
    if (!matchMedia("(pointer: coarse)").matches) this.input.focus();
  }

  close() {
    this.el.hidden = true;
    document.body.classList.remove("chat-open");
  }

  /** Below the top bar (its height changes with the page and the window). */
  place() {
    const bar = document.querySelector(".topbar");
    this.el.style.setProperty("--chat-top", `${bar ? Math.max(0, bar.getBoundingClientRect().bottom) : 0}px`);
  }

  renderTabs() {
    const chats = this.state.chats();
    const mentions = this.state.multiUser();
    this.tabs.hidden = chats.length < 2 && !mentions;
    this.title.textContent = this.tabs.hidden ? "Project chat" : "Chat";
    const unreadMentions = this.state.mentionsUnread;
    this.tabs.replaceChildren(
      ...chats.map((path) => {
        const n = this.state.unread(path).count;
        return h(
          "button",
          {
            type: "button",
            role: "tab",
            class: "chat-tab",
            "aria-selected": String(!this.mentions && path === this.path),
            title: path ? `Chat about ${path}` : "The project's chat",
            onclick: () => this.choose(path),
          },
          path ? leaf(path) : "Project",
          n && (this.mentions || path !== this.path) ? h("span", { class: "chat-tab-count" }, String(n)) : null,
        );
      }),
      mentions
        ? h(
            "button",
            { type: "button", role: "tab", class: "chat-tab chat-tab-mentions", "aria-selected": String(Boolean(this.mentions)), title: "Messages that mention you, in every project", onclick: () => this.showMentions() },
            "@",
            h("span", { class: "chat-tab-label" }, " Mentions"),
            unreadMentions ? h("span", { class: "chat-tab-count mention" }, String(unreadMentions)) : null,
          )
        : null,
    );
  }

  /** The "@" tab: mentions of me in every project; no composer there. */
  showMentions() {
    this.mentions = true;
    this.form.hidden = true;
    this.renderTabs();
    new MentionsView(this.state).render(this.list);
  }

  choose(path) {
    if (path === this.path && !this.mentions) return;
    this.path = path;
    this.found = null;
    this.mentions = false;
    this.form.hidden = false;
    this.renderTabs();
    this.load();
  }

  async load(jumpTo = null) {
    if (this.mentions) return this.showMentions();
    const path = this.path;
    // Only the latest load draws (a reconnect's reload must not land over a search jump), and the
    // message a search pointed at stays marked through every later re-render of this chat.
    const seq = (this.loads = (this.loads || 0) + 1);
    // Messages, edits and deletions that arrive while the page is read are applied on top of it:
    // the page may have been read before they happened.
    const live = (this.live = []);
    if (jumpTo) this.found = jumpTo;
    this.list.replaceChildren(h("div", { class: "chat-empty" }, "Loading…"));
    let page;
    try {
      page = await chatApi.list(path);
      // A search result may point at an older message: fetch earlier pages until it is there.
      const want = jumpTo || this.found;
      for (let i = 0; want && page.more && !page.messages.some((m) => m.id === want) && i < 20; i++) {
        const older = await chatApi.list(path, page.messages[0].id);
        page = { ...older, messages: [...older.messages, ...page.messages] };
      }
    } catch (err) {
      if (seq !== this.loads) return;
      this.live = null;
      this.list.replaceChildren(h("div", { class: "chat-empty" }, `Could not load the chat: ${err.message}`));
      return;
    }
    if (path !== this.path || seq !== this.loads) return; // another tab or a newer load meanwhile
    this.live = null;
    this.messages = page.messages;
    for (const ev of live) this.apply(ev);
    this.more = page.more;
    this.readUpTo = page.read_up_to;
    this.render();
    const target = jumpTo && this.list.querySelector(`[data-id="${jumpTo}"]`);
    if (target) {
      target.scrollIntoView({ block: "center" });
    } else this.scrollDown();
    this.markRead();
  }

  async earlier() {
    if (!this.messages.length) return;
    const path = this.path;
    const page = await chatApi.list(path, this.messages[0].id);
    if (path !== this.path) return;
    const height = this.list.scrollHeight;
    this.messages = [...page.messages, ...this.messages];
    this.more = page.more;
    this.render();
    this.list.scrollTop = this.list.scrollHeight - height; // keep what was on screen in place
  }

  render() {
    const nodes = [];
    if (this.more) nodes.push(h("button", { type: "button", class: "tool chat-earlier", onclick: () => this.earlier() }, "Earlier messages"));
    if (!this.messages.length) {
      nodes.push(h("div", { class: "chat-empty" }, this.path ? `No messages about ${leaf(this.path)} yet. Say something!` : "No messages in this project yet. Say something!"));
    }
    let prev = null;
    for (const m of this.messages) {
      nodes.push(this.item(m, prev));
      prev = m;
    }
    this.list.replaceChildren(...nodes);
  }

  item(m, prev) {
    return messageItem(this, m, prev);
  }

  scrollDown() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  nearBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
  }

  event(ev) {
    if (ev.type === "counts" || ev.type === "hello" || ev.type === "mentions") this.renderTabs();
    if (ev.type === "mention" && this.mentions && this.isOpen()) this.showMentions();
    if (ev.type === "reconnected" && this.isOpen()) this.load();
    if (!["message", "edited", "deleted"].includes(ev.type) || this.mentions) return;
    const path = ev.type === "deleted" ? ev.path : ev.message.path;
    if (path !== this.path) return;
    if (this.live) return void this.live.push(ev); // a load is on its way: applied on top of it
    const stick = this.nearBottom();
    this.apply(ev);
    this.render();
    if (stick) this.scrollDown();
    this.markRead();
  }

  /** Apply one live change (message, edited, deleted) to the messages held. */
  apply(ev) {
    if (ev.type === "message" && !this.messages.some((m) => m.id === ev.message.id)) this.messages.push(ev.message);
    if (ev.type === "edited") this.messages = this.messages.map((m) => (m.id === ev.message.id ? ev.message : m));
    if (ev.type === "deleted") this.messages = this.messages.filter((m) => m.id !== ev.id);
  }

  /** Mark the shown chat read up to its last message, when someone can see it. */
  markRead() {
    if (!this.isOpen() || this.mentions || document.hidden || !this.messages.length) return;
    const last = this.messages[this.messages.length - 1].id;
    if (last <= (this.readUpTo || 0) && !this.state.unread(this.path).count) return;
    this.readUpTo = last;
    chatApi.read(this.path, last).then((r) => this.state.setCounts(r.chats || []), () => {});
  }

  resize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 180)}px`;
    const n = this.input.value.length;
    this.counter.textContent = n > MAX_BODY * 0.9 ? `${n} / ${MAX_BODY}` : "";
  }

  async post() {
    const text = this.input.value;
    if (!text.trim()) return;
    this.send.disabled = true;
    try {
      const m = await chatApi.post(this.path, text);
      this.notice.hidden = true;
      this.input.value = "";
      this.resize();
      if (!this.messages.some((x) => x.id === m.id)) {
        this.messages.push(m);
        this.render();
      }
      this.scrollDown();
    } catch (err) {
      this.notice.textContent = `Not sent: ${err.message}`;
      this.notice.hidden = false;
    } finally {
      this.send.disabled = false;
      this.input.focus();
    }
  }

  edit(m) {
    this.editing = m.id;
    this.draft = null;
    this.render();
  }

  async remove(m) {
    if (!(await ask({ title: "Delete message?", message: "It is removed for everyone.", ok: "Delete", danger: true }))) return;
    try {
      await chatApi.remove(m.id);
    } catch (err) {
      toast(`Not deleted: ${err.message}`, 6000);
    }
  }
}
