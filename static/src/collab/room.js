// A collaboration room in the browser: one Y.Doc per (project, path), synced with the server's
// room over y-websocket, kept in IndexedDB so editing goes on while offline and merges on
// reconnect, and an awareness (who is here, their cursor and active cell).
//
// The server speaks the y-websocket wire format at [/p/<project>]/api/collab/rooms/<path>
// (docs/internals.md, "Collaboration"). A local copy whose history the room does not have (its
// update store was lost, the room rebuilt from a changed file) would duplicate every cell if the
// two were merged: the server takes such a copy's content as a diff instead and closes the
// socket with STALE_CLOSE; the page then drops its copy (and IndexedDB's) and binds to a fresh
// document from the server ("reset" event).
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { IndexeddbPersistence } from "y-indexeddb";
import * as encoding from "lib0/encoding";
import { baseUrl, encodePath, projectId } from "../api.js";

const QUERY_AWARENESS = 3; // y-websocket message type: "send me everyone's awareness"
export const STALE_CLOSE = 4409; // the server's close code for a copy from another history
const SLOW_CLOSE = 4408; // we fell too far behind: reconnect and resync
// Refusals (server salvus_local/collab/guard.py): reconnecting would send the same edits again.
const REFUSALS = {
  4400: "The server refused an edit from this page, which would have broken the document. Reload the page to continue from the shared copy.",
  4413: "This file's shared edit history is full (setting collaboration_room_mb): your new edits are kept in this browser only, not shared or saved.",
  4507: "The project is over its disk quota (the edit history counts): your new edits are kept in this browser only. Free some space, then reload.",
};
const KEEPALIVE_MS = 10_000;

/** The websocket base of the rooms: ws(s)://host[/p/<project>]/api/collab/rooms. */
export function roomsUrl() {
  const url = new URL(`${baseUrl()}api/collab/rooms`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * One room. Events (EventTarget): "status" {state: "connecting"|"live"|"offline", synced},
 * "people" (awareness changed), "reset" {doc} (the page must bind to the new document),
 * "closed" {code, reason} (the server refused us for good).
 */
export class Room extends EventTarget {
  /** opts: {path, user: {name, color}, readOnly} */
  constructor(opts) {
    super();
    this.path = opts.path;
    this.user = opts.user;
    this.readOnly = !!opts.readOnly;
    this.state = "connecting";
    this.everSynced = false;
    this.storeName = `salvus-collab:${location.host}:${projectId()}:${opts.user.name}:${this.path}`;
    // The browser knows before the socket does (a dead TCP link takes ~30 s to notice): say
    // "offline" at once, edit on, and sync again as soon as the network is back.
    window.addEventListener("offline", () => {
      this.provider.disconnect();
      this.setState("offline");
    });
    window.addEventListener("online", () => this.provider.connect());
    // Leaving: others see this person go at once, not after the awareness timeout (30 s).
    window.addEventListener("pagehide", () => this.awareness.setLocalState(null));
    this.setup(new Y.Doc());
  }

  /** Attach a document: IndexedDB first (offline edits of an earlier visit), then the socket. */
  setup(doc) {
    this.doc = doc;
    this.local = typeof indexedDB === "undefined" ? null : new IndexeddbPersistence(this.storeName, doc);
    this.localReady = this.local
      ? Promise.race([this.local.whenSynced, new Promise((r) => setTimeout(r, 3000))]) // a broken IndexedDB must not keep the page empty
      : Promise.resolve();
    this.makeProvider(doc);
    // The socket opens once the local copy is in: its sync then sends our offline edits too.
    this.localReady.then(() => {
      if (doc !== this.doc) return;
      if (navigator.onLine === false) this.setState("offline");
      else this.provider.connect();
    });
  }

  makeProvider(doc) {
    const provider = new WebsocketProvider(roomsUrl(), encodePath(this.path), doc, {
      connect: false, disableBc: true, maxBackoffTime: 5000,
      shouldReconnect: (ev) => ev.code === SLOW_CLOSE || !(ev.code >= 4400 && ev.code < 4600),
    });
    this.provider = provider;
    this.awareness = provider.awareness;
    this.awareness.setLocalState({ user: { name: this.user.name, color: this.user.color, colorLight: `${this.user.color}33` }, cursor: null, cell: null });
    provider.on("status", ({ status }) => {
      this.setState(status === "connected" ? "connecting" : status === "disconnected" ? "offline" : this.state === "offline" ? "offline" : "connecting");
    });
    provider.on("sync", (synced) => {
      if (!synced) return;
      this.everSynced = true;
      this.setState("live");
    });
    provider.on("closed", ({ code, reason }) => {
      if (code === STALE_CLOSE) return this.reset(); // the server merged our copy: start again from its document
      this.setState("offline");
      this.dispatchEvent(new CustomEvent("closed", { detail: { code, reason: REFUSALS[code] || reason } }));
    });
    // y-websocket drops a socket that heard nothing for 30 s; alone in a room nobody else's
    // awareness arrives, so ask for it now and then (the server answers with everyone's).
    const ping = encoding.createEncoder();
    encoding.writeVarUint(ping, QUERY_AWARENESS);
    const frame = encoding.toUint8Array(ping);
    provider.keepalive = setInterval(() => provider.wsconnected && provider.ws && provider.ws.send(frame), KEEPALIVE_MS);
    provider.on("connection-close", (ev) => {
      // A refused upgrade (403/404) closes before any frame: say so instead of retrying forever in silence.
      if (ev && ev.code === 1006 && !provider.wsconnected && !this.everSynced) this.setState("offline");
    });
    this.awareness.on("change", () => this.dispatchEvent(new Event("people")));
  }

  /** Drop this document (its history is not the server's) and start again from the server's. */
  async reset() {
    const old = this.doc;
    clearInterval(this.provider.keepalive);
    this.provider.destroy();
    this.awareness.destroy();
    if (this.local) await this.local.clearData().catch(() => {});
    old.destroy();
    this.setState("connecting");
    this.setup(new Y.Doc());
    this.dispatchEvent(new CustomEvent("reset", { detail: { doc: this.doc, old } }));
  }

  setState(state) {
    if (state === this.state && state !== "live") return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state, synced: this.everSynced } }));
  }

  /** Resolves once the document holds something to show: the server's copy, or the local one offline. */
  whenReady(timeoutMs = 4000) {
    return new Promise((resolve) => {
      const done = () => resolve(this.doc);
      if (this.provider && this.provider.synced) return done();
      const onStatus = (ev) => ev.detail.state === "live" && (this.removeEventListener("status", onStatus), done());
      this.addEventListener("status", onStatus);
      // Offline: what IndexedDB kept is shown (and edited) until the server answers.
      this.localReady.then(() => setTimeout(() => {
        this.removeEventListener("status", onStatus);
        done();
      }, timeoutMs));
    });
  }

  /** Set a field of our awareness state (cursor is set by y-codemirror.next). */
  setLocal(field, value) {
    if (this.awareness) this.awareness.setLocalStateField(field, value);
  }

  /** Everyone here: [{clientId, name, color, cell, self}], one entry per client. */
  people() {
    if (!this.awareness) return [];
    const out = [];
    this.awareness.getStates().forEach((state, clientId) => {
      if (!state || !state.user) return;
      out.push({ clientId, name: state.user.name, color: state.user.color, cell: state.cell ?? null, self: clientId === this.doc.clientID });
    });
    return out;
  }

  destroy() {
    if (this.provider) clearInterval(this.provider.keepalive);
    if (this.provider) this.provider.destroy();
    if (this.awareness) this.awareness.destroy();
    if (this.local) this.local.destroy();
  }
}
