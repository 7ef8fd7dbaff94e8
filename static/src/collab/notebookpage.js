// The notebook page in a room: a SharedNotebook bound to the room's document, the presence
// (indicator, avatars) in the top bar, the save state from the server, the kernel as usual.
// notebook.js calls openSharedNotebook() when /api/collab/status says collaboration is on.
import { projects, projectId } from "../api.js";
import { toast } from "../ui.js";
import { Room } from "./room.js";
import { SharedNotebook } from "./notebook.js";
import { Presence } from "./presence.js";
import { notebookJSON } from "./schema.js";

/** The requester's role in this page's project ("viewer", "editor", "owner", "admin"); null if unknown. */
export async function projectRole(status) {
  if (status && status.role) return status.role;
  try {
    return (await projects.get(projectId())).role || null;
  } catch {
    return null; // the server drops what a viewer sends anyway
  }
}

/**
 * Turn page (notebook.js's NotebookPage) into a room's page: a SharedNotebook, the layout, the
 * presence. Returns open(spec, jump), which shows the document and starts the kernel.
 */
export async function sharedNotebookPage(page, status) {
  const readOnly = (await projectRole(status)) === "viewer";
  const room = new Room({ path: page.path, user: status.user, readOnly });
  const nb = new SharedNotebook(page.cellsEl, page.nb.options, room, { readOnly });
  page.nb = nb;
  page.shared = { room, readOnly };
  Object.assign(window.salvus, { nb, room });
  page.layout();
  document.body.classList.add("shared-file");
  const presence = new Presence({ saveState: page.saveState, readOnly });
  document.querySelector("nav.toolbar .spacer").after(presence.el);
  presence.attach(room);
  room.addEventListener("closed", (ev) => toast(`The server closed this notebook's room: ${ev.detail.reason || ev.detail.code}`, 8000));
  room.addEventListener("reset", (ev) => {
    const before = JSON.stringify(notebookJSON(ev.detail.old).cells.map((c) => c.source));
    nb.bind(ev.detail.doc);
    presence.watchSaving(ev.detail.doc);
    room.whenReady().then((doc) => {
      if (JSON.stringify(notebookJSON(doc).cells.map((c) => c.source)) !== before)
        toast("The server's copy of this notebook was rebuilt from the file: this page now shows it.", 8000);
    });
  });
  nb.addEventListener("trust", () => page.updateTrust());
  // The cells show as soon as the room has the document (when "live" shows), not after the
  // kernel specs the page asks for meanwhile.
  const bound = room.whenReady().then((doc) => {
    nb.bind(doc);
    document.title = `${page.path.split("/").pop()} · Salvus Local`;
    page.updateTrust();
    return doc;
  });

  return async (spec, jump) => {
    const doc = await bound;
    page.jumpToCell(jump);
    if (readOnly) return; // a viewer reads: no kernel of theirs in someone else's project
    const meta = notebookJSON(doc).metadata;
    await page.startKernel(meta && meta.kernelspec, spec);
  };
}
