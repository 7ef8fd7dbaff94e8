// What a page in a room shows about the room: a connection indicator ("live · 3 people",
// "offline — edits kept, will merge"), the avatars of who is in the file, and the save state
// the server reports in the document's "state" map (it saves; the page never PUTs).
import { h } from "../dom.js";
import "./collab.css";

const initials = (name) => {
  const parts = String(name || "?").split(/[\s._@-]+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[1][0] : String(name || "?").slice(0, 2);
  return letters.toUpperCase();
};

/** One person's round badge (initials on their colour). */
export function avatar(person, extra = "") {
  return h("span", { class: `avatar ${extra}`, title: person.self ? `${person.name} (you)` : person.name, style: `--who:${person.color}` }, initials(person.name));
}

/** People deduplicated by name (two tabs of one person count once), you first. */
export function distinctPeople(list) {
  const byName = new Map();
  for (const p of list) {
    const seen = byName.get(p.name);
    if (!seen || p.self) byName.set(p.name, { ...p, self: p.self || (seen && seen.self) });
  }
  return [...byName.values()].sort((a, b) => (b.self - a.self) || a.name.localeCompare(b.name));
}

const STATE_TEXT = {
  connecting: "connecting…",
  offline: "offline — edits kept, will merge",
};

/**
 * The indicator and avatars for a room. Call .attach(room) again after a reset.
 * Shows the save state when given a save-state element (the page's existing one).
 */
export class Presence {
  constructor({ saveState = null, readOnly = false } = {}) {
    this.saveState = saveState;
    this.readOnly = readOnly;
    this.dot = h("span", { class: "collab-dot" });
    this.text = h("span", { class: "collab-text" });
    this.indicator = h("span", { class: "collab-indicator", role: "status", "aria-live": "polite", dataset: { state: "connecting" } }, this.dot, this.text);
    this.avatars = h("span", { class: "collab-avatars", "aria-label": "People in this file" });
    this.el = h("span", { class: "collab-presence" }, this.indicator, this.avatars);
  }

  attach(room) {
    this.room = room;
    room.addEventListener("status", () => this.render());
    room.addEventListener("people", () => this.render());
    room.addEventListener("closed", (ev) => {
      this.closed = ev.detail.reason || `closed (${ev.detail.code})`;
      this.render();
    });
    this.watchSaving(room.doc);
    this.render();
  }

  /** Follow state.dirty of the document (set by the server). */
  watchSaving(doc) {
    const state = doc.getMap("state");
    const show = () => {
      if (!this.saveState) return;
      const room = this.room.state;
      let text;
      let key;
      if (this.readOnly) [key, text] = ["saved", ""]; // the top bar says "Read only" (accounts/ui.js)
      // Short words: the multi-user top bar is full, and the file name must keep its room.
      else if (room === "offline") [key, text] = ["dirty", "Offline"];
      else if (state.get("dirty")) [key, text] = ["saving", "Saving…"];
      else [key, text] = ["saved", "Saved"];
      this.saveState.title = { dirty: "Your edits are kept in this browser and saved once the connection is back", saving: "The server saves everyone's changes about a second after the last one", saved: "Everyone's changes are saved in the file" }[key] || "";
      this.saveState.textContent = text;
      this.saveState.dataset.state = key;
    };
    state.observe(show);
    this.showSaving = show;
    show();
  }

  render() {
    const room = this.room;
    const people = distinctPeople(room.people());
    let state = room.state;
    let text = STATE_TEXT[state];
    if (this.closed) [state, text] = ["offline", `disconnected: ${this.closed}`];
    else if (state === "live") {
      const n = people.length;
      text = `live · ${n <= 1 ? "only you" : `${n} people`}`;
    }
    this.indicator.dataset.state = state;
    this.text.textContent = text;
    this.indicator.title = state === "offline"
      ? "No connection to the server. You can keep working: your edits are kept in this browser and merge when the connection is back."
      : people.map((p) => (p.self ? `${p.name} (you)` : p.name)).join(", ");
    const shown = people.slice(0, 5);
    this.avatars.replaceChildren(...shown.map((p) => avatar(p, p.self ? "self" : "")));
    if (people.length > shown.length) this.avatars.append(h("span", { class: "avatar more", title: people.slice(5).map((p) => p.name).join(", ") }, `+${people.length - shown.length}`));
    if (this.showSaving) this.showSaving();
  }
}
