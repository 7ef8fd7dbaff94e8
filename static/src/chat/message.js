// One chat message on screen: avatar, author, time, the rendered body, and (mine) Edit/Delete;
// my message being edited shows an inline editor instead, kept across re-renders by live updates.
import { h, toast } from "../dom.js";
import { chatApi } from "./api.js";
import { colorOf, renderBody, when } from "./body.js";

const MAX_BODY = 20_000;
const GROUP_MS = 5 * 60_000; // messages of one author this close together share one header

/** The <article> of message m (prev: the one above it, for grouping). */
export function messageItem(panel, m, prev) {
  const mine = panel.state.me && m.author.name === panel.state.me.name;
  const grouped = prev && prev.author.name === m.author.name && new Date(m.time) - new Date(prev.time) < GROUP_MS;
  const names = new Set(panel.state.members.map((p) => p.name.toLowerCase()));
  const me = panel.state.me ? panel.state.me.name.toLowerCase() : "";
  const tools = mine
    ? h(
        "span",
        { class: "chat-tools" },
        h("button", { type: "button", class: "chat-tool", title: "Edit", onclick: () => panel.edit(m) }, "Edit"),
        h("button", { type: "button", class: "chat-tool", title: "Delete", onclick: () => panel.remove(m) }, "Delete"),
      )
    : null;
  return h(
    "article",
    {
      class: `chat-msg${mine ? " mine" : ""}${grouped ? " grouped" : ""}${m.mentions.includes(me) ? " mentions-me" : ""}${panel.found === m.id ? " found" : ""}`,
      "data-id": String(m.id),
    },
    h("div", { class: "chat-avatar", style: `background:${colorOf(m.author.name)}`, "aria-hidden": "true" }, (m.author.display_name || m.author.name).slice(0, 1).toUpperCase()),
    h(
      "div",
      { class: "chat-main" },
      h(
        "div",
        { class: "chat-meta" },
        h("strong", { class: "chat-author" }, m.author.display_name),
        h("time", { datetime: m.time, title: new Date(m.time).toLocaleString() }, when(m.time)),
        m.edited && !grouped ? h("span", { class: "chat-edited", title: `Edited ${new Date(m.edited).toLocaleString()}` }, "edited") : null,
      ),
      panel.editing === m.id ? editor(panel, m) : renderBody(m.body, names, me),
      grouped && m.edited ? h("span", { class: "chat-edited", title: `Edited ${new Date(m.edited).toLocaleString()}` }, "edited") : null,
    ),
    panel.editing === m.id ? null : tools,
  );
}

/** Inline editor of one of my messages (kept across re-renders by live updates). */
function editor(panel, m) {
  const area = h("textarea", { class: "chat-input chat-edit-input", "aria-label": "Edit the message", maxLength: MAX_BODY });
  area.value = panel.draft ?? m.body;
  area.addEventListener("input", () => (panel.draft = area.value));
  const done = () => {
    panel.editing = null;
    panel.draft = null;
    panel.render();
  };
  const save = async () => {
    if (!area.value.trim()) return toast("A message cannot be empty; delete it instead.");
    try {
      if (area.value !== m.body) await chatApi.edit(m.id, area.value);
      done();
    } catch (err) {
      toast(`Not saved: ${err.message}`, 6000);
    }
  };
  area.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) (ev.preventDefault(), save());
    if (ev.key === "Escape") (ev.preventDefault(), ev.stopPropagation(), done());
  });
  requestAnimationFrame(() => {
    area.style.height = `${Math.min(area.scrollHeight + 2, 220)}px`;
    area.focus();
  });
  return h(
    "div",
    { class: "chat-edit" },
    area,
    h("div", { class: "chat-edit-buttons" }, h("button", { type: "button", class: "tool", onclick: done }, "Cancel"), h("button", { type: "button", class: "primary", onclick: save }, "Save")),
  );
}
