// Phones: a Run button within the thumb's reach on notebooks, and the cell being edited kept
// in view above the on-screen keyboard. Styles in phone.css; nothing here runs on wide screens.
import "./phone.css";

const PHONE = window.matchMedia("(max-width: 600px)");

/** Let the on-screen keyboard shrink the layout (Chrome): fixed buttons then sit above it. */
function resizeWithKeyboard() {
  const meta = document.querySelector('meta[name="viewport"]');
  if (meta && !meta.content.includes("interactive-widget")) meta.content += ", interactive-widget=resizes-content";
}

/** The element being edited: a notebook cell, the scratch box or the text editor. */
function activeBox() {
  const el = document.activeElement;
  return el && el.closest ? el.closest(".cell, .scratch-box, .cm-editor") : null;
}

/** Scroll the caret's line (or the edited box) into the visible part of the screen. */
function keepActiveVisible() {
  if (!PHONE.matches) return;
  const vv = window.visualViewport;
  const top = vv ? vv.offsetTop : 0;
  const visibleBottom = vv ? vv.offsetTop + vv.height : innerHeight;
  const inset = vv ? Math.max(0, innerHeight - visibleBottom) : 0;
  document.documentElement.style.setProperty("--keyboard-inset", `${inset}px`);
  const box = activeBox();
  if (!box) return;
  const target = box.querySelector(".cm-focused .cm-activeLine, .cm-focused .cm-cursor") || box;
  const rect = target.getBoundingClientRect();
  const reserve = 84; // the Run button's height and some air
  // scrollIntoView moves every scrolling ancestor, whichever of them scrolls on this page.
  if (rect.bottom > visibleBottom - reserve || rect.top < top) target.scrollIntoView({ block: "center" });
}

function addRunButton() {
  const run = document.createElement("button");
  run.type = "button";
  run.className = "phone-run";
  run.setAttribute("aria-label", "Run cell");
  run.title = "Run cell, select below";
  run.textContent = "▶ Run";
  // Keep the editor focused (and the keyboard up) while the button is pressed.
  run.addEventListener("pointerdown", (ev) => ev.preventDefault());
  run.addEventListener("click", () => {
    const tool = document.querySelector(".toolbar .tool.run");
    if (tool) tool.click();
    requestAnimationFrame(keepActiveVisible);
  });
  document.body.append(run);
}

function setup() {
  resizeWithKeyboard();
  if (document.body.dataset.page === "notebook") {
    // The page builds its DOM after load (replaceChildren): add the button once it has.
    const ensure = () => document.querySelector(".phone-run") || addRunButton();
    new MutationObserver(ensure).observe(document.body, { childList: true });
    ensure();
  }
  if (window.visualViewport) window.visualViewport.addEventListener("resize", keepActiveVisible);
  window.addEventListener("resize", keepActiveVisible);
  document.addEventListener("focusin", () => setTimeout(keepActiveVisible, 250));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
else setup();
