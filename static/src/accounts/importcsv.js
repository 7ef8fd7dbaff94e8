// The class list import of the teacher's page: a CSV of usernames and names makes accounts
// with one-time passwords; the passwords go (in this tab's sessionStorage only, never to the
// server again) to /teacher/slips, a page of login slips to print and cut.
import { rootUrl } from "../api.js";
import { h, toast } from "../dom.js";
import { users, join } from "./api.js";

export const SLIPS_KEY = "salvus.slips";

/** Keep the one-time passwords for the slips page of this tab, with the address students sign in at. */
export async function keepSlips(created) {
  // The teacher may browse at 127.0.0.1: the slips carry the LAN address of the join link.
  let origin = location.href;
  try {
    origin = (await join.get()).url;
  } catch {
    // The page's own address, then.
  }
  const old = readSlips();
  sessionStorage.setItem(SLIPS_KEY, JSON.stringify({ made: new Date().toISOString(), login: new URL(`${rootUrl()}login`, origin).href, slips: [...old.slips, ...created] }));
}

/** {made, login, slips: [{username, display_name, one_time_password}]} of this tab. */
export function readSlips() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SLIPS_KEY) || "null");
    if (s && Array.isArray(s.slips)) return s;
  } catch {
    // A broken entry is dropped.
  }
  return { slips: [] };
}

/** The import panel; onDone() runs after accounts were made. */
export function importSection(onDone) {
  const text = h("textarea", { class: "csv-input", name: "csv", rows: 6, spellcheck: false, "aria-label": "Class list (CSV)", placeholder: "username,display_name[,role]\nada,Ada Lovelace\nalan,Alan Turing" });
  const file = h("input", { type: "file", accept: ".csv,text/csv,text/plain", "aria-label": "CSV file", onchange: async () => file.files[0] && (text.value = await file.files[0].text()) });
  const result = h("div", { class: "import-result", "aria-live": "polite" });
  const submit = h("button", { class: "primary import-button" }, "Make accounts");
  const slipsLink = () => h("a", { class: "primary button-link print-slips", href: `${rootUrl()}teacher/slips` }, "Print login slips");
  const form = h(
    "form",
    {
      class: "import-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (!text.value.trim()) return toast("Paste a class list or choose a CSV file first.");
        submit.disabled = true;
        let r;
        try {
          r = await users.importCsv(text.value);
        } catch (err) {
          submit.disabled = false;
          result.replaceChildren(h("p", { class: "form-error" }, `Nothing was imported: ${err.message}`));
          return;
        }
        submit.disabled = false;
        if (r.created.length) await keepSlips(r.created);
        result.replaceChildren(
          ...[
          h("p", { class: "import-summary" }, `${r.created.length} account${r.created.length === 1 ? "" : "s"} made.`, r.errors.length ? ` ${r.errors.length} line${r.errors.length === 1 ? "" : "s"} skipped:` : ""),
          r.errors.length ? h("ul", { class: "import-errors" }, ...r.errors.map((e) => h("li", {}, `Line ${e.line}: ${e.message}`))) : null,
          r.created.length ? slipsLink() : null,
          r.created.length ? h("p", { class: "hint" }, "The one-time passwords are kept in this tab only, for the slips: print them before you close it.") : null,
          ].filter(Boolean),
        );
        if (r.created.length) text.value = "";
        onDone();
      },
    },
    text,
    h("div", { class: "import-tools" }, h("label", { class: "file-pick" }, "or a file: ", file), h("span", { class: "spacer" }), submit),
  );
  const earlier = readSlips().slips.length ? h("p", { class: "hint" }, "Slips made earlier in this tab: ", h("a", { href: `${rootUrl()}teacher/slips` }, "print them")) : null;
  return h(
    "section",
    { class: "panel import-section" },
    h("h2", {}, "Import a class list"),
    h("p", { class: "hint" }, "One line per student: ", h("code", {}, "username,display name"), h("span", { class: "admin-only" }, " (a third column may say ", h("code", {}, "teacher"), ")"), ". Each gets a one-time password and chooses their own at the first sign-in."),
    form,
    earlier,
    result,
  );
}
