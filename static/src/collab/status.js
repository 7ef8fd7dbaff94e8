// Is collaboration on for this page? A tiny module (no Yjs): every notebook and editor page asks
// first, and loads the collaboration client only when the answer is yes.
import { api, ApiError } from "../api.js";

/** GET [/p/<project>]/api/collab/status → {enabled, user: {name, color}}; {enabled: false} when absent or failing. */
export async function collabStatus() {
  try {
    const status = await api("GET", "api/collab/status");
    return status && status.enabled && status.user ? status : { enabled: false };
  } catch (err) {
    if (!(err instanceof ApiError)) console.warn("collaboration status:", err);
    return { enabled: false }; // a server without rooms: the single-user page, as ever
  }
}
