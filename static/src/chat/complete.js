// @mention completion in the composer: typing "@" and letters lists the project's members;
// arrows move, Enter or Tab inserts "@name ", Esc closes.
import { h } from "../dom.js";

const BEFORE_CARET = /(^|[^\w@/.])@([\w.-]*)$/;

export class MentionComplete {
  /** input: the textarea; people: () => [{name, display_name}] to offer. */
  constructor(input, people) {
    this.input = input;
    this.people = people;
    this.list = h("ul", { class: "chat-complete", role: "listbox", "aria-label": "Members", hidden: true });
    this.items = [];
    this.active = 0;
    input.addEventListener("input", () => this.update());
    input.addEventListener("blur", () => setTimeout(() => this.hide(), 150));
  }

  isOpen() {
    return !this.list.hidden;
  }

  /** The "@frag" just before the caret, or null. */
  fragment() {
    const caret = this.input.selectionStart;
    const m = this.input.value.slice(0, caret).match(BEFORE_CARET);
    return m ? { text: m[2].toLowerCase(), start: caret - m[2].length - 1, end: caret } : null;
  }

  update() {
    const frag = this.fragment();
    if (!frag) return this.hide();
    const found = this.people().filter(
      (p) => p.name.toLowerCase().startsWith(frag.text) || p.display_name.toLowerCase().split(/\s+/).some((w) => w.startsWith(frag.text)),
    );
    if (!found.length) return this.hide();
    this.items = found.slice(0, 8).map((p, i) =>
      h(
        "li",
        { role: "option", class: "chat-complete-item", "data-name": p.name, onmousedown: (ev) => (ev.preventDefault(), this.pick(i)) },
        h("strong", {}, `@${p.name}`),
        p.display_name !== p.name ? h("span", { class: "chat-complete-display" }, p.display_name) : null,
      ),
    );
    this.list.replaceChildren(...this.items);
    this.list.hidden = false;
    this.select(0);
  }

  select(i) {
    this.active = i;
    this.items.forEach((el, j) => el.setAttribute("aria-selected", String(i === j)));
  }

  pick(i) {
    const frag = this.fragment();
    const item = this.items[i];
    if (!frag || !item) return this.hide();
    const insert = `@${item.dataset.name} `;
    const v = this.input.value;
    this.input.value = v.slice(0, frag.start) + insert + v.slice(frag.end);
    const caret = frag.start + insert.length;
    this.input.setSelectionRange(caret, caret);
    this.hide();
    this.input.dispatchEvent(new Event("input"));
    this.input.focus();
  }

  hide() {
    this.list.hidden = true;
    this.items = [];
  }

  /** Handle a keydown in the input; true when it was the completion's. */
  key(ev) {
    if (!this.isOpen()) return false;
    const n = this.items.length;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      this.select((this.active + (ev.key === "ArrowDown" ? 1 : -1) + n) % n);
    } else if (ev.key === "Enter" || ev.key === "Tab") {
      this.pick(this.active);
    } else if (ev.key === "Escape") {
      this.hide();
    } else {
      return false;
    }
    ev.preventDefault();
    return true;
  }
}
