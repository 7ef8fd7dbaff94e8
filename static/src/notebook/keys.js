// Command-mode shortcuts, as in JupyterLab. Keys are "Shift-Enter", "a", "d d" (pressed twice).

/** name -> [keys, label, action(ctx)] ; ctx = {nb, page}. Shown by "h". */
export const COMMANDS = {
  edit: [["Enter"], "Edit the cell", ({ nb }) => nb.enterEdit(nb.activeCell, true)],
  runAdvance: [["Shift-Enter"], "Run, select below", ({ nb }) => nb.runAndAdvance()],
  run: [["Ctrl-Enter", "Meta-Enter"], "Run", ({ nb }) => nb.runInPlace()],
  runInsert: [["Alt-Enter"], "Run, insert below", ({ nb }) => nb.runAndInsert()],
  above: [["a"], "Insert cell above", ({ nb }) => nb.insert("above")],
  below: [["b"], "Insert cell below", ({ nb }) => nb.insert("below")],
  del: [["d d"], "Delete cell", ({ nb }) => nb.deleteActive()],
  cut: [["x"], "Cut cell", ({ nb }) => nb.cut()],
  copy: [["c"], "Copy cell", ({ nb }) => nb.copy()],
  paste: [["v"], "Paste below", ({ nb }) => nb.paste("below")],
  pasteAbove: [["Shift-V"], "Paste above", ({ nb }) => nb.paste("above")],
  undo: [["z"], "Undo cell operation", ({ nb }) => nb.undo()],
  redo: [["Shift-Z"], "Redo cell operation", ({ nb }) => nb.redo()],
  markdown: [["m"], "To markdown", ({ nb }) => nb.changeType("markdown")],
  code: [["y"], "To code", ({ nb }) => nb.changeType("code")],
  raw: [["r"], "To raw", ({ nb }) => nb.changeType("raw")],
  up: [["ArrowUp", "k"], "Select above", ({ nb }) => nb.selectRelative(-1)],
  down: [["ArrowDown", "j"], "Select below", ({ nb }) => nb.selectRelative(1)],
  moveUp: [["Ctrl-Shift-ArrowUp"], "Move cell up", ({ nb }) => nb.move(-1)],
  moveDown: [["Ctrl-Shift-ArrowDown"], "Move cell down", ({ nb }) => nb.move(1)],
  interrupt: [["i i"], "Interrupt kernel", ({ page }) => page.interrupt()],
  restart: [["0 0"], "Restart kernel", ({ page }) => page.restart()],
  save: [["s", "Ctrl-s", "Meta-s"], "Save", ({ page }) => page.save()],
  help: [["h"], "Show shortcuts", ({ page }) => page.showShortcuts()],
};

/** "Ctrl-Shift-ArrowUp" style name of a keydown event. */
export function keyName(ev) {
  let key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
  if (key === " ") key = "Space";
  const mods = [ev.ctrlKey && "Ctrl", ev.altKey && "Alt", ev.metaKey && "Meta", ev.shiftKey && "Shift"].filter(Boolean);
  if (ev.key.length === 1 && ev.shiftKey && !ev.ctrlKey && !ev.altKey && !ev.metaKey) return `Shift-${key.toUpperCase()}`;
  return [...mods, key].join("-");
}

/** Build a keydown handler for command mode. */
export function commandKeyHandler(ctx) {
  const table = new Map();
  for (const [keys, , action] of Object.values(COMMANDS)) for (const k of keys) table.set(k, action);
  let last = null; // first key of a two-key chord ("d" of "d d")
  let lastTime = 0;
  return (ev) => {
    if (ctx.nb.mode !== "command") return;
    const target = ev.target;
    if (target.closest && target.closest("input, textarea, select, .cm-editor, [contenteditable]")) return;
    const name = keyName(ev);
    const now = performance.now();
    const chord = last && now - lastTime < 1000 ? `${last} ${name}` : null;
    const action = (chord && table.get(chord)) || table.get(name);
    if (table.has(`${name} ${name}`) && !(chord && table.get(chord))) {
      last = name;
      lastTime = now;
      ev.preventDefault();
      return;
    }
    last = null;
    if (!action) return;
    ev.preventDefault();
    action(ctx);
  };
}
