// The shared notebook document (jupyter_ydoc's YNotebook layout) and nbformat JSON, both ways.
//
// Root "cells": Y.Array of Y.Map {id, cell_type, source: Y.Text, metadata: Y.Map, outputs:
// Y.Array of plain nbformat outputs, execution_count, attachments}; root "meta": Y.Map
// {nbformat, nbformat_minor, metadata}; root "state": Y.Map {path, dirty} written by the server.
// Values may arrive as plain JSON or as Y types (another writer's choice): plain() reads both.
import * as Y from "yjs";

/** Origin of this page's structural edits (insert, delete, move, type change): cell-level undo tracks only these. */
export const STRUCTURE = Symbol("salvus-structure");

// Cell metadata that describes the room, not the notebook (never copied into another cell).
const ROOM_METADATA = ["execution_state"];

/** A Y type as JSON (Y.Text as its string); a plain value as it is. */
export function plain(value) {
  if (value instanceof Y.Text) return value.toString();
  if (value instanceof Y.AbstractType) return value.toJSON();
  return value;
}

/** A fresh cell id (nbformat 4.5: 1-64 letters, digits, - and _). */
export function newCellId() {
  return crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "").slice(0, 16) : Math.random().toString(36).slice(2, 18);
}

/** nbformat JSON of one shared cell (room-only metadata left out). */
export function cellToJSON(ymap) {
  const type = ymap.get("cell_type") || "code";
  const metadata = { ...(plain(ymap.get("metadata")) || {}) };
  for (const key of ROOM_METADATA) delete metadata[key];
  const out = { id: ymap.get("id"), cell_type: type, metadata, source: plain(ymap.get("source")) ?? "" };
  if (type === "code") {
    out.execution_count = ymap.get("execution_count") ?? null;
    out.outputs = (plain(ymap.get("outputs")) || []).map(plain);
  } else if (ymap.has("attachments") && ymap.get("attachments") != null) {
    out.attachments = plain(ymap.get("attachments"));
  }
  return out;
}

/** A new Y.Map cell from nbformat JSON (a missing id gets one). */
export function newYCell(json) {
  const cell = new Y.Map();
  const type = json.cell_type || "code";
  cell.set("id", json.id || newCellId());
  cell.set("cell_type", type);
  const source = Array.isArray(json.source) ? json.source.join("") : json.source || "";
  cell.set("source", new Y.Text(source));
  const metadata = new Y.Map();
  for (const [k, v] of Object.entries(json.metadata || {})) if (!ROOM_METADATA.includes(k)) metadata.set(k, v);
  cell.set("metadata", metadata);
  if (type === "code") {
    cell.set("execution_count", json.execution_count ?? null);
    cell.set("outputs", Y.Array.from(json.outputs || []));
  } else if (json.attachments) {
    cell.set("attachments", json.attachments);
  }
  return cell;
}

/** The notebook's top-level fields from "meta": {nbformat, nbformat_minor, metadata}. */
export function notebookMeta(doc) {
  const meta = doc.getMap("meta");
  return {
    nbformat: meta.get("nbformat") ?? 4,
    nbformat_minor: meta.get("nbformat_minor") ?? 5,
    metadata: plain(meta.get("metadata")) || {},
  };
}

/** The whole notebook as nbformat JSON. */
export function notebookJSON(doc) {
  return { ...notebookMeta(doc), cells: doc.getArray("cells").toArray().map(cellToJSON) };
}

/** Set one key of the notebook metadata (a Y.Map or a plain object, whichever the document holds). */
export function setNotebookMetadata(doc, key, value, origin) {
  const meta = doc.getMap("meta");
  doc.transact(() => {
    const md = meta.get("metadata");
    if (md instanceof Y.Map) {
      if (value === undefined) md.delete(key);
      else md.set(key, value);
    } else {
      const next = { ...(md || {}) };
      if (value === undefined) delete next[key];
      else next[key] = value;
      meta.set("metadata", next);
    }
  }, origin);
}
