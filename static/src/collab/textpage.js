// The text editor page in a room: the editor is bound to the document's Y.Text "source"
// (remote cursors with names), the presence sits in the top bar, the server saves.
// textedit.js calls openSharedText() when /api/collab/status says collaboration is on.
import * as Y from "yjs";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { toast } from "../dom.js";
import { Room } from "./room.js";
import { Presence } from "./presence.js";
import { projectRole } from "./notebookpage.js";

/** Bind the page's editor to a document's text (again after a room reset). */
function bindText(page, room, doc, readOnly) {
  const view = page.view;
  const ytext = doc.getText("source");
  view.dispatch({ effects: page.undoConf.reconfigure([]) }); // first unbind: the text swap below must not reach any Y.Text
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: ytext.toString() },
    selection: { anchor: Math.min(view.state.selection.main.head, ytext.length) },
    effects: [
      page.undoConf.reconfigure([yCollab(ytext, room.awareness, { undoManager: new Y.UndoManager(ytext) }), keymap.of(yUndoManagerKeymap)]),
      page.editable.reconfigure(readOnly ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : []),
    ],
  });
}

/** Open page (textedit.js's EditorPage) on a room; returns once the text shows. */
export async function openSharedText(page, status) {
  const readOnly = (await projectRole(status)) === "viewer";
  const room = new Room({ path: page.path, user: status.user, readOnly });
  page.shared = { room, readOnly };
  window.salvus.room = room;
  document.body.classList.add("shared-file");
  const presence = new Presence({ saveState: page.saveState, readOnly });
  document.querySelector("nav.toolbar .spacer").after(presence.el);
  if (page.saveButton) page.saveButton.hidden = true; // nothing to save by hand: the server does
  presence.attach(room);
  room.addEventListener("closed", (ev) => toast(`The server closed this file's room: ${ev.detail.reason || ev.detail.code}`, 8000));
  room.addEventListener("reset", (ev) => {
    const before = ev.detail.old.getText("source").toString();
    bindText(page, room, ev.detail.doc, readOnly);
    presence.watchSaving(ev.detail.doc);
    room.whenReady().then((doc) => {
      if (doc.getText("source").toString() !== before) toast("The server's copy of this file was rebuilt from the file: this page now shows it.", 8000);
    });
  });
  const doc = await room.whenReady();
  bindText(page, room, doc, readOnly);
  page.view.dispatch({ selection: { anchor: 0 }, scrollIntoView: true });
  page.view.focus();
}
