// The chat websocket: JSON events from the server (hello, message, edited, deleted, unread,
// mention, pong), reconnecting with a growing delay when the connection drops. onOpen runs
// after every (re)connect, so the panel can reload what it missed. A tab hidden for a minute
// lets go of its socket (chat/toggle.js) and reconnects when shown again.
import { socketUrl } from "./api.js";

const PING_MS = 25_000;
const MAX_DELAY_MS = 15_000;

export class ChatSocket {
  constructor(onEvent, onOpen = () => {}) {
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.delay = 500;
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch {
      return this.retry();
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delay = 500;
      ws.ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), PING_MS);
      this.onOpen();
    });
    ws.addEventListener("message", (ev) => {
      if (this.ws !== ws) return; // a replaced socket's last words: the new one says it all again
      let event;
      try {
        event = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.onEvent(event);
    });
    ws.addEventListener("close", () => {
      clearInterval(ws.ping);
      if (this.ws !== ws) return; // an older socket (paused, then resumed before it closed): not ours to retry
      this.retry();
    });
  }

  retry() {
    if (this.closed || this.paused) return;
    setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }

  /** Let go of the connection (each one holds a server thread) until resume(). */
  pause() {
    this.paused = true;
    if (this.ws) this.ws.close();
  }

  resume() {
    if (!this.paused) return;
    this.paused = false;
    this.delay = 500;
    this.connect();
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
