// Build the notebook client into ../salvus_local/_static with esbuild.
//
// Output names carry a content hash (so the server can cache them for a year) and
// manifest.json maps each entry point ("starter", "notebook", "files", …) to its JS and CSS files;
// the Flask pages blueprint reads it to write the <script>/<link> tags.
import * as esbuild from "esbuild";
import { readFile, readdir, rm, mkdir, writeFile, cp } from "node:fs/promises";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(here, "../salvus_local/_static");
const watch = process.argv.includes("--watch");

// KaTeX's CSS lists woff2, woff and ttf for every font; every browser we target reads
// woff2, so drop the other two and ship a third of the font bytes.
const katexWoff2Only = {
  name: "katex-woff2-only",
  setup(build) {
    build.onLoad({ filter: /katex(\.min)?\.css$/ }, async (args) => {
      let css = await readFile(args.path, "utf8");
      css = css.replace(/,\s*url\([^)]*\.woff\)\s*format\("woff"\)/g, "");
      css = css.replace(/,\s*url\([^)]*\.ttf\)\s*format\("truetype"\)/g, "");
      return { contents: css, loader: "css", resolveDir: path.dirname(args.path) };
    });
  },
};

// markdown-it-katex require()s KaTeX (its CommonJS build) while our code imports the ES
// build: point both at one file so KaTeX is bundled once.
const oneKatex = {
  name: "one-katex",
  setup(build) {
    build.onResolve({ filter: /^katex$/ }, () => ({ path: path.join(here, "node_modules/katex/dist/katex.mjs") }));
  },
};

const options = {
  entryPoints: {
    starter: "src/starter.js",
    notebook: "src/notebook.js",
    projects: "src/projects.js",
    files: "src/files.js",
    edit: "src/textedit.js",
    terminal: "src/terminal.js",
    signup: "src/accounts/signup.js",
    password: "src/accounts/password.js",
    settings: "src/accounts/settings.js",
    teacher: "src/accounts/teacher.js",
    slips: "src/accounts/slips.js",
    join: "src/accounts/join.js",
    share: "src/share/share.js",
    courses: "src/courses/list.js",
    course: "src/courses/course.js",
    grade: "src/courses/grade.js",
    review: "src/courses/review.js",
    syncdevice: "src/sync/device.js",
  },
  absWorkingDir: here,
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["chrome105", "firefox105", "safari16"],
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  legalComments: "linked",
  outdir,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "assets/[name]-[hash]",
  loader: { ".woff2": "file", ".woff": "file", ".ttf": "file", ".svg": "file" },
  metafile: true,
  plugins: [katexWoff2Only, oneKatex],
  logLevel: "info",
};

// What the client is built from. setup.py hashes the same files the same way (CLIENT_INPUTS) to
// decide whether salvus_local/_static is stale when a wheel or sdist is built: keep both in step.
const SOURCE_INPUTS = ["package.json", "package-lock.json", "build.mjs", "src", "public"];

/** sha256 hex over the sources: for each file, sorted by relative path, "path\0size\0" then its bytes. */
async function sourceHash() {
  const files = [];
  for (const name of SOURCE_INPUTS) {
    const entries = await readdir(path.join(here, name), { recursive: true, withFileTypes: true }).catch(() => null);
    if (entries === null) files.push(name);
    else for (const e of entries) if (e.isFile()) files.push(path.relative(here, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join("/"));
  }
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash("sha256");
  for (const rel of files) {
    const data = await readFile(path.join(here, rel)).catch(() => null);
    if (data === null) continue; // an optional input that does not exist
    hash.update(`${rel}\0${data.length}\0`);
    hash.update(data);
  }
  return hash.digest("hex");
}

/** Gzipped bytes a page loads before it runs: its entry, the chunks it imports statically, its CSS. */
async function pageBytes(metafile, entry) {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const out = metafile.outputs[file];
    if (out.cssBundle) seen.add(out.cssBundle);
    for (const imp of out.imports) if (imp.kind === "import-statement" && metafile.outputs[imp.path]) walk(imp.path);
  };
  walk(entry);
  let total = 0;
  for (const file of seen) total += gzipSync(await readFile(path.resolve(here, file))).length;
  return total;
}

/** Write manifest.json: entry name -> {js, css, gzip_bytes} relative to the output dir. */
async function writeManifest(metafile) {
  const manifest = { entries: {}, source_hash: await sourceHash() };
  let totalRaw = 0;
  let totalGzip = 0;
  for (const [file, info] of Object.entries(metafile.outputs)) {
    const rel = path.relative(outdir, path.resolve(here, file));
    if (/\.(js|css)$/.test(rel)) {
      const bytes = await readFile(path.resolve(here, file));
      totalRaw += bytes.length;
      totalGzip += gzipSync(bytes).length;
    }
    if (!info.entryPoint) continue;
    const name = Object.entries(options.entryPoints).find(([, src]) => info.entryPoint.endsWith(src))?.[0];
    if (!name) continue;
    manifest.entries[name] = { js: rel, css: info.cssBundle ? path.relative(outdir, path.resolve(here, info.cssBundle)) : null, gzip_bytes: await pageBytes(metafile, file) };
  }
  manifest.size = { js_css_bytes: totalRaw, js_css_gzip_bytes: totalGzip };
  await writeFile(path.join(outdir, "manifest.json"), JSON.stringify(manifest, null, 1));
  console.log(`bundle: ${(totalRaw / 1024).toFixed(0)} KB, ${(totalGzip / 1024).toFixed(0)} KB gzip (JS + CSS, fonts excluded)`);
  for (const [name, e] of Object.entries(manifest.entries)) console.log(`  page ${name}: ${(e.gzip_bytes / 1024).toFixed(0)} KB gzip at load`);
}

// embed.js is a classic script (other sites include it with <script src>): one IIFE with a
// fixed name, and the notebook's style sheet scoped under .salvus-embed so it cannot restyle
// the host page (CSS nesting, flattened by esbuild; :root variables move onto the cell).
const scopedStyle = {
  name: "salvus-scoped-style",
  setup(build) {
    build.onResolve({ filter: /^salvus-scoped-style$/ }, () => ({ path: path.join(here, "src/style.css"), namespace: "scoped" }));
    build.onLoad({ filter: /.*/, namespace: "scoped" }, async (args) => {
      let css = await readFile(args.path, "utf8");
      const keyframes = css.match(/@keyframes[^{]+\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}/g) || [];
      for (const k of keyframes) css = css.replace(k, "");
      css = css.replace(/(^|\n)\s*html,\s*body\s*\{[^}]*\}/g, "\n").replace(/(^|\n)body\s*\{[^}]*\}/g, "\n");
      css = css.replace(/:root/g, "&");
      return { contents: `${keyframes.join("\n")}\n.salvus-embed {\n${css}\n}\n`, loader: "css", resolveDir: path.join(here, "src") };
    });
  },
};
const embedOptions = {
  ...options,
  entryPoints: { embed: "src/embed/embed.js" },
  format: "iife",
  splitting: false,
  entryNames: "[name]",
  metafile: false,
  plugins: [...options.plugins, scopedStyle],
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
// Files with fixed names (favicon) are copied as they are.
await cp(path.join(here, "public"), outdir, { recursive: true });
if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [...options.plugins, { name: "manifest", setup: (b) => b.onEnd((r) => r.metafile && writeManifest(r.metafile)) }],
  });
  await ctx.watch();
} else {
  const result = await esbuild.build(options);
  await writeManifest(result.metafile);
  await esbuild.build(embedOptions);
}
