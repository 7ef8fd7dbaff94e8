// The collaborators dialog of the projects page: the owner (or an admin) adds people as
// editor (read and write, run code) or viewer (read files and outputs only), changes a
// role, or removes someone. Changes apply at once.
import { h, toast } from "../dom.js";
import { collaborators } from "./api.js";

const ROLES = [["editor", "Editor: can change files and run code"], ["viewer", "Viewer: can only read"]];

const roleSelect = (value, onchange) =>
  h("select", { class: "role-select", "aria-label": "Role", onchange }, ...ROLES.map(([v, title]) => h("option", { value: v, title, selected: v === value }, v === "editor" ? "Editor" : "Viewer")));

/** Open the dialog for project p ({id, title}); resolves when it closes. */
export function collaboratorsDialog(p) {
  return new Promise((resolve) => {
    const list = h("ul", { class: "collab-list", "aria-live": "polite" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const fail = (err) => ((error.textContent = err.message), (error.hidden = false));
    let loads = 0;
    const refresh = async () => {
      const seq = ++loads; // two quick changes refresh twice: the later list wins
      let people;
      try {
        people = await collaborators.list(p.id);
      } catch (err) {
        return seq === loads ? fail(err) : undefined;
      }
      if (seq !== loads) return;
      const others = people.filter((c) => c.role !== "owner");
      list.replaceChildren(
        ...people.map((c) =>
              h(
                "li",
                { class: "collab-row", dataset: { name: c.name } },
                h("span", { class: "collab-name" }, h("strong", {}, c.name), c.display_name && c.display_name !== c.name ? h("span", { class: "muted" }, ` · ${c.display_name}`) : null),
                // The owner is listed first, and stays.
                ...(c.role === "owner"
                  ? [h("span", { class: "owner-label" }, "Owner")]
                  : [
                      roleSelect(c.role, (ev) => change(c.name, ev.target.value)),
                      h("button", { type: "button", class: "icon-button remove-collab", title: `Remove ${c.name}`, "aria-label": `Remove ${c.name}`, onclick: () => removeOne(c.name) }, "×"),
                    ]),
              ),
        ),
        ...(others.length ? [] : [h("li", { class: "muted collab-empty" }, "Nobody else yet: add someone below.")]),
      );
    };
    const change = async (name, role) => {
      error.hidden = true;
      try {
        await collaborators.set(p.id, name, role);
        toast(`${name} is now ${role === "editor" ? "an editor" : "a viewer"} of ${p.title}.`);
      } catch (err) {
        fail(err);
      }
      refresh();
    };
    const removeOne = async (name) => {
      error.hidden = true;
      try {
        await collaborators.remove(p.id, name);
        toast(`${name} no longer has access to ${p.title}.`);
      } catch (err) {
        fail(err);
      }
      refresh();
    };
    const who = h("input", { name: "username", class: "collab-user", placeholder: "username", "aria-label": "Username to add", required: true, autocapitalize: "none", spellcheck: false });
    const role = roleSelect("editor");
    const add = h(
      "form",
      {
        class: "inline-form add-collab",
        onsubmit: async (ev) => {
          ev.preventDefault();
          error.hidden = true;
          const name = who.value.trim();
          try {
            await collaborators.set(p.id, name, role.value);
          } catch (err) {
            return fail(err);
          }
          who.value = "";
          toast(`Added ${name} as ${role.value} of ${p.title}.`);
          refresh();
        },
      },
      who,
      role,
      h("button", { class: "primary" }, "Add"),
    );
    const close = () => (overlay.remove(), resolve());
    const overlay = h(
      "div",
      { class: "overlay", onclick: (ev) => ev.target === overlay && close(), onkeydown: (ev) => ev.key === "Escape" && close() },
      h(
        "div",
        { class: "dialog collab-dialog", role: "dialog", "aria-label": `Collaborators of ${p.title}` },
        h("header", {}, h("strong", {}, `Who can open ${p.title}`), h("button", { type: "button", class: "icon-button", title: "Close (Esc)", onclick: close }, "×")),
        list,
        h("h3", {}, "Add someone"),
        add,
        error,
        h("p", { class: "hint" }, "Editors change files and run code; viewers read files and outputs but cannot change them, run code or open terminals."),
      ),
    );
    document.body.append(overlay);
    who.focus();
    refresh();
  });
}
