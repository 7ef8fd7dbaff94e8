// REST calls of the chat (server/chat/handlers.py) and its websocket's URL. Paths are chat keys:
// null for the project's own chat, else the file's path in the project.
import { api, baseUrl, rootApi } from "../api.js";

const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
};

export const chatApi = {
  /** {messages (oldest first), more, read_up_to} of one chat; before: a message id for older ones. */
  list: (path, before = null, limit = 50) => api("GET", `api/chat${query({ path, before, limit })}`),
  post: (path, body) => api("POST", "api/chat", { path, body }),
  edit: (id, body) => api("PATCH", `api/chat/${id}`, { body }),
  remove: (id) => api("DELETE", `api/chat/${id}`),
  /** Mark read up to a message id; answers the project's unread counts. */
  read: (path, upTo) => api("POST", "api/chat/read", { path, up_to: upTo }),
  members: () => api("GET", "api/chat/members"),
  /** Unread chats and mentions of every project the person is in. */
  notifications: () => rootApi("GET", "api/notifications"),
};

/** ws(s):// URL of this project's chat websocket. */
export function socketUrl() {
  const url = new URL(`${baseUrl()}api/chat/ws`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
