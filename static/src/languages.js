// Syntax modes for the text editor, by file extension. Each mode is a dynamic import, so a
// page only downloads the modes of the files it opens.
import { StreamLanguage } from "@codemirror/language";

const legacy = (load) => async () => StreamLanguage.define(await load());

const LOADERS = {
  python: async () => (await import("@codemirror/lang-python")).python(),
  markdown: async () => (await import("@codemirror/lang-markdown")).markdown(),
  json: async () => (await import("@codemirror/lang-json")).json(),
  latex: legacy(async () => (await import("@codemirror/legacy-modes/mode/stex")).stex),
  shell: legacy(async () => (await import("@codemirror/legacy-modes/mode/shell")).shell),
  yaml: legacy(async () => (await import("@codemirror/legacy-modes/mode/yaml")).yaml),
  toml: legacy(async () => (await import("@codemirror/legacy-modes/mode/toml")).toml),
  c: legacy(async () => (await import("@codemirror/legacy-modes/mode/clike")).cpp),
  javascript: legacy(async () => (await import("@codemirror/legacy-modes/mode/javascript")).javascript),
  css: legacy(async () => (await import("@codemirror/legacy-modes/mode/css")).css),
  r: legacy(async () => (await import("@codemirror/legacy-modes/mode/r")).r),
  julia: legacy(async () => (await import("@codemirror/legacy-modes/mode/julia")).julia),
  diff: legacy(async () => (await import("@codemirror/legacy-modes/mode/diff")).diff),
  html: legacy(async () => (await import("@codemirror/legacy-modes/mode/xml")).html),
  xml: legacy(async () => (await import("@codemirror/legacy-modes/mode/xml")).xml),
};

// Sage and Cython files are Python to the highlighter (Sage's preparser only adds a little syntax).
const BY_EXT = {
  py: "python", pyx: "python", pxd: "python", pxi: "python", sage: "python", spyx: "python", pyi: "python",
  md: "markdown", markdown: "markdown",
  json: "json", ipynb: "json", geojson: "json",
  tex: "latex", latex: "latex", sty: "latex", cls: "latex", bib: "latex",
  sh: "shell", bash: "shell", zsh: "shell", bashrc: "shell", profile: "shell",
  yml: "yaml", yaml: "yaml", toml: "toml", cfg: "toml", ini: "toml",
  c: "c", h: "c", cpp: "c", cc: "c", hpp: "c", cxx: "c",
  js: "javascript", mjs: "javascript", cjs: "javascript", ts: "javascript",
  css: "css", r: "r", jl: "julia", diff: "diff", patch: "diff",
  html: "html", htm: "html", xml: "xml", svg: "xml",
};

const LABELS = { python: "Python", markdown: "Markdown", json: "JSON", latex: "LaTeX", shell: "Shell", yaml: "YAML", toml: "TOML", c: "C/C++", javascript: "JavaScript", css: "CSS", r: "R", julia: "Julia", diff: "Diff", html: "HTML", xml: "XML" };

/** The mode name of a file ("python", …), or "" for plain text (.txt, .csv, unknown). */
export function modeOf(path) {
  const name = path.split("/").pop().toLowerCase();
  if (name === "makefile" || name === "dockerfile") return "shell";
  const ext = name.includes(".") ? name.split(".").pop() : "";
  return BY_EXT[ext] || "";
}

export function modeLabel(mode) {
  return LABELS[mode] || "Plain text";
}

/** Load the CodeMirror extension of a mode ([] for plain text). */
export async function loadMode(mode) {
  return LOADERS[mode] ? LOADERS[mode]() : [];
}
