// A collaboration room in the browser: one Y.Doc per (project, path), synced with the server's
// room over y-websocket, kept in IndexedDB so editing goes on while offline and merges on
// reconnect, and an awareness (who is here, their cursor and active cell).
//
// The server speaks the y-websocket wire format at [/p/<project>]/api/collab/rooms/<path>
// (docs/internals.md, "Collaboration"). One guard is ours: a local copy whose history the
// server no longer has (its update store was deleted, the room rebuilt from the file) must not
// be merged into it, or every cell would appear twice. Such a copy is dropped and the page is
// bound to a fresh document ("reset" event); see divergedFrom().
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { IndexeddbPersistence } from "y-indexeddb";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";
import { baseUrl, encodePath, projectId } from "../api.js";

const SYNC = 0; // y-websocket message type of sync messages

/** The websocket base of the rooms: ws(s)://host[/p/<project>]/api/collab/rooms. */
export function roomsUrl() {
  const url = new URL(`${baseUrl()}api/collab/rooms`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** Client ids in local's state vector that the server (stateVector) lacks and that are not ours. */
export function divergedFrom(localDoc, serverStateVector, ownClients) {
  const local = Y.encodeStateVector(localDoc);
  const server = Y.decodeStateVector(serverStateVector);
  const strangers = [];
  for (const [client, clock] of Y.decodeStateVector(local)) {
    if (clock > 0 && !server.has(client) && !ownClients.has(client)) strangers.push(client);
  }
  return strangers;
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
    this.setup(new Y.Doc());
  }

  /** Attach a document: IndexedDB first (offline edits of an earlier visit), then the socket. */
  setup(doc) {
    this.doc = doc;
    this.ownClients = new Set([doc.clientID]);
    this.local = typeof indexedDB === "undefined" ? null : new IndexeddbPersistence(this.storeName, doc);
    this.localReady = this.local
      ? Promise.race([
          this.local.whenSynced.then(async () => {
            const known = (await this.local.get("clients").catch(() => null)) || [];
            for (const c of known) this.ownClients.add(c);
            this.rememberClient();
          }),
          new Promise((r) => setTimeout(r, 3000)), // a broken IndexedDB must not keep the page empty
        ])
      : Promise.resolve();
    // A page re-made by Yjs (client id clash) edits under a new id: remember every id we used.
    doc.on("update", (update, origin) => {
      if (origin !== this.provider && !this.ownClients.has(doc.clientID)) this.rememberClient();
    });
    this.makeProvider(doc);
    // The socket opens once the local copy is in: its sync then sends our offline edits too.
    this.localReady.then(() => doc === this.doc && this.provider.connect());
  }

  rememberClient() {
    this.ownClients.add(this.doc.clientID);
    if (this.local && !this.local._destroyed) this.local.set("clients", [...this.ownClients].slice(-50)).catch(() => {});
  }

  makeProvider(doc) {
    const provider = new WebsocketProvider(roomsUrl(), encodePath(this.path), doc, { connect: false, disableBc: true, maxBackoffTime: 5000 });
    this.provider = provider;
    this.awareness = provider.awareness;
    this.awareness.setLocalState({ user: { name: this.user.name, color: this.user.color, colorLight: `${this.user.color}33` }, cursor: null, cell: null });
    this.guardSync(provider);
    provider.on("status", ({ status }) => {
      if (status === "connected") provider.checked = false;
      this.setState(status === "connected" ? "connecting" : status === "disconnected" ? "offline" : this.state === "offline" ? "offline" : "connecting");
    });
    provider.on("sync", (synced) => {
      if (!synced) return;
      this.everSynced = true;
      this.setState("live");
    });
    provider.on("closed", ({ code, reason }) => this.dispatchEvent(new CustomEvent("closed", { detail: { code, reason } })));
    provider.on("connection-close", (ev) => {
      // A refused upgrade (403/404) closes before any frame: say so instead of retrying forever in silence.
      if (ev && ev.code === 1006 && !provider.wsconnected && !this.everSynced) this.setState("offline");
    });
    this.awareness.on("change", () => this.dispatchEvent(new Event("people")));
  }

  /** Check the server's first sync step 1 on every connection before answering it (see divergedFrom). */
  guardSync(provider) {
    const handle = provider.messageHandlers[SYNC];
    provider.messageHandlers[SYNC] = (encoder, decoder, prov, emitSynced, type) => {
      if (prov.diverged) return; // this document is being replaced: apply nothing more to it
      if (!prov.checked) {
        const peek = decoding.clone(decoder);
        if (decoding.readVarUint(peek) === syncProtocol.messageYjsSyncStep1) {
          prov.checked = true;
          const strangers = divergedFrom(this.doc, decoding.readVarUint8Array(peek), this.ownClients);
          if (strangers.length) {
            prov.diverged = true;
            setTimeout(() => this.reset(), 0);
            return;
          }
        }
      }
      handle(encoder, decoder, prov, emitSynced, type);
    };
  }

  /** Drop this document (its history is not the server's) and start again from the server's. */
  async reset() {
    const old = this.doc;
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
    if (this.provider) this.provider.destroy();
    if (this.awareness) this.awareness.destroy();
    if (this.local) this.local.destroy();
  }
}
