// Markdown cell attachments (nbformat's `attachments`: {name: {mime: base64}}), referenced in
// the text as `attachment:NAME`, shown as data: URLs (the page's CSP allows data: images).

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Replace attachment:NAME references by data: URLs of the cell's attachments. */
export function withAttachments(text, attachments) {
  if (!attachments || !text.includes("attachment:")) return text;
  let out = text;
  for (const [name, bundle] of Object.entries(attachments)) {
    const mime = Object.keys(bundle || {}).find((m) => m.startsWith("image/"));
    if (!mime) continue;
    const value = Array.isArray(bundle[mime]) ? bundle[mime].join("") : String(bundle[mime]);
    const url = mime === "image/svg+xml" && !/^[A-Za-z0-9+/=\s]+$/.test(value)
      ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(value)}`
      : `data:${mime};base64,${value.replace(/\s/g, "")}`;
    out = out.replace(new RegExp(`attachment:${escapeRe(name)}(?=[)"'\\s>])`, "g"), url);
  }
  return out;
}
