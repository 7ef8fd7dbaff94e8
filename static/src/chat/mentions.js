// The panel's "@" view: the latest messages that mention me in any project (GET /api/notifications),
// unread ones marked, each a link to its chat (#chat=<id> opens the panel at it there).
import { h } from "../dom.js";
import { projectTitles } from "../api.js";
import { resultHref } from "../searchbox.js";
import { chatApi } from "./api.js";
import { colorOf, renderBody, when } from "./body.js";

export class MentionsView {
  constructor(state) {
    this.state = state;
  }

  /** Fill list with the mentions (newest first). */
  async render(list) {
    list.replaceChildren(h("div", { class: "chat-empty" }, "Loading…"));
    let notes, titles;
    try {
      [notes, titles] = await Promise.all([chatApi.notifications(), projectTitles()]);
    } catch (err) {
      list.replaceChildren(h("div", { class: "chat-empty" }, `Could not load your mentions: ${err.message}`));
      return;
    }
    this.state.setMentions(notes.unread_mentions || 0);
    if (!notes.mentions.length) {
      list.replaceChildren(h("div", { class: "chat-empty" }, "Nobody has mentioned you yet. When someone writes @" + (this.state.me ? this.state.me.name : "you") + ", it shows here."));
      return;
    }
    const me = this.state.me ? this.state.me.name.toLowerCase() : "";
    list.replaceChildren(
      ...notes.mentions.map((m) => {
        const project = titles.get(m.project_id) || m.project_id;
        const names = new Set([...m.mentions, m.author.name].map((n) => n.toLowerCase()));
        return h(
          "a",
          { class: `chat-mention${m.unread ? " unread" : ""}`, href: resultHref({ kind: "chat", ...m }), title: "Open this chat at the message" },
          h("div", { class: "chat-mention-where" }, h("strong", {}, project), " · ", m.path || "project chat"),
          h(
            "div",
            { class: "chat-msg" },
            h("div", { class: "chat-avatar", style: `background:${colorOf(m.author.name)}`, "aria-hidden": "true" }, m.author.display_name.slice(0, 1).toUpperCase()),
            h(
              "div",
              { class: "chat-main" },
              h("div", { class: "chat-meta" }, h("strong", { class: "chat-author" }, m.author.display_name), h("time", { datetime: m.time }, when(m.time))),
              renderBody(m.body, names, me),
            ),
          ),
        );
      }),
    );
  }
}
