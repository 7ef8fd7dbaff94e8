// DOM views of the core ipywidgets controls, keyed by the model's `_view_name`.
// Layout and Style models are accepted but ignored: the controls use our own CSS.
import { sanitize, typesetMath } from "../render.js";

const h = (tag, props = {}, ...children) => {
  const el = document.createElement(tag);
  Object.assign(el, props);
  el.append(...children.filter((c) => c != null));
  return el;
};

let counter = 0;

class View {
  constructor(model, manager) {
    this.model = model;
    this.manager = manager;
    this.el = h("div");
  }
  render() {}
  update() {}
  get(key) {
    return this.model.get(key);
  }
  updateCommon(keys) {
    if (keys.includes("_dom_classes")) this.el.classList.add(...(this.get("_dom_classes") || []));
    if (keys.includes("tooltip") && this.get("tooltip")) this.el.title = this.get("tooltip");
    if (keys.includes("disabled") && this.setDisabled) this.setDisabled(!!this.get("disabled"));
  }
}

/** A control with a description label on its left, like ipywidgets' widget-inline-hbox. */
class LabeledView extends View {
  render() {
    this.el.className = "widget-row";
    this.label = h("label", { className: "widget-label" });
    this.el.append(this.label);
    this.build();
    this.setDescription();
    this.update(Object.keys(this.model.state));
  }
  build() {}
  setDescription() {
    const text = this.get("description") || "";
    if (this.get("description_allow_html")) this.label.replaceChildren(sanitize(text));
    else this.label.textContent = text;
    typesetMath(this.label);
    this.label.hidden = !text;
    if (this.input) {
      this.input.id ||= `widget-${++counter}`;
      this.label.htmlFor = this.input.id;
    }
  }
  updateCommon(keys) {
    super.updateCommon(keys);
    if (keys.includes("description")) this.setDescription();
  }
  setDisabled(off) {
    this.el.querySelectorAll("input, select, button, textarea").forEach((c) => (c.disabled = off));
  }
}

/** Send value changes at most every 80 ms while dragging, and always the last one. */
function throttled(fn, ms = 80) {
  let timer = null;
  let last = null;
  return (value) => {
    last = value;
    if (timer) return;
    fn(last);
    timer = setTimeout(() => {
      timer = null;
      if (last !== value) fn(last);
    }, ms);
  };
}

const formatNumber = (x, format, isInt) => {
  if (isInt) return String(x);
  const m = /\.(\d+)f/.exec(format || ".2f");
  return Number(x).toFixed(m ? Number(m[1]) : 2);
};

class SliderView extends LabeledView {
  toSlider = (v) => v;
  fromSlider = (v) => v;
  build() {
    this.input = h("input", { type: "range", className: "widget-slider" });
    this.readout = h("span", { className: "widget-readout" });
    this.el.append(this.input, this.readout);
    const send = throttled((v) => this.model.save({ value: v }));
    this.input.addEventListener("input", () => {
      const v = this.value();
      this.showReadout(v);
      if (this.get("continuous_update") !== false) send(v);
    });
    this.input.addEventListener("change", () => this.model.save({ value: this.value() }));
  }
  value() {
    const v = this.fromSlider(Number(this.input.value));
    return this.isInt ? Math.round(v) : v;
  }
  get isInt() {
    return this.get("_model_name").startsWith("Int");
  }
  showReadout(v) {
    this.readout.textContent = formatNumber(v, this.get("readout_format"), this.isInt);
    this.readout.hidden = this.get("readout") === false;
  }
  update() {
    this.input.min = this.toSlider(this.get("min"));
    this.input.max = this.toSlider(this.get("max"));
    this.input.step = this.get("_model_name") === "FloatLogSliderModel" ? this.get("step") : this.get("step") || "any";
    this.input.value = this.toSlider(this.get("value"));
    this.showReadout(this.get("value"));
    this.el.classList.toggle("vertical", this.get("orientation") === "vertical");
  }
}

class LogSliderView extends SliderView {
  toSlider = (v) => (v === undefined ? v : Math.log(v) / Math.log(this.get("base") || 10));
  fromSlider = (v) => Math.pow(this.get("base") || 10, v);
  update() {
    super.update();
    this.input.min = this.get("min");
    this.input.max = this.get("max");
  }
}

class RangeSliderView extends LabeledView {
  build() {
    this.inputs = [0, 1].map(() => h("input", { type: "range", className: "widget-slider" }));
    this.readout = h("span", { className: "widget-readout" });
    this.el.append(h("span", { className: "widget-range" }, ...this.inputs), this.readout);
    this.inputs.forEach((input, i) =>
      input.addEventListener("change", () => {
        const value = this.inputs.map((x) => Number(x.value)).sort((a, b) => a - b);
        this.model.save({ value });
      }),
    );
  }
  update() {
    const [lo, hi] = this.get("value") || [0, 0];
    this.inputs.forEach((input, i) => {
      input.min = this.get("min");
      input.max = this.get("max");
      input.step = this.get("step") || "any";
      input.value = i ? hi : lo;
    });
    this.readout.textContent = `${lo} – ${hi}`;
  }
}

class SelectionSliderView extends LabeledView {
  build() {
    this.input = h("input", { type: "range", className: "widget-slider", min: 0, step: 1 });
    this.readout = h("span", { className: "widget-readout" });
    this.el.append(this.input, this.readout);
    const send = throttled((index) => this.model.save({ index }));
    this.input.addEventListener("input", () => {
      const i = Number(this.input.value);
      this.readout.textContent = (this.get("_options_labels") || [])[i] ?? "";
      if (this.get("continuous_update") !== false) send(i);
    });
    this.input.addEventListener("change", () => this.model.save({ index: Number(this.input.value) }));
  }
  update() {
    const labels = this.get("_options_labels") || [];
    this.input.max = Math.max(0, labels.length - 1);
    this.input.value = this.get("index") ?? 0;
    this.readout.textContent = labels[this.get("index")] ?? "";
  }
}

class DropdownView extends LabeledView {
  build() {
    this.input = h("select", { className: "widget-select" });
    this.el.append(this.input);
    this.input.addEventListener("change", () => this.model.save({ index: this.input.selectedIndex }));
  }
  update() {
    const labels = this.get("_options_labels") || [];
    if (this.input.options.length !== labels.length || [...this.input.options].some((o, i) => o.text !== labels[i])) {
      this.input.replaceChildren(...labels.map((l) => h("option", { text: l })));
    }
    if (this.get("rows")) this.input.size = this.get("rows");
    this.input.selectedIndex = this.get("index") ?? -1;
  }
}

class ToggleButtonsView extends LabeledView {
  build() {
    this.group = h("span", { className: "widget-toggle-buttons", role: "group" });
    this.el.append(this.group);
  }
  update() {
    const labels = this.get("_options_labels") || [];
    const tips = this.get("tooltips") || [];
    this.group.replaceChildren(
      ...labels.map((label, i) => {
        const b = h("button", { type: "button", textContent: label, title: tips[i] || "" });
        b.classList.toggle("active", i === this.get("index"));
        b.setAttribute("aria-pressed", String(i === this.get("index")));
        b.addEventListener("click", () => this.model.save({ index: i }));
        return b;
      }),
    );
  }
}

class RadioButtonsView extends LabeledView {
  build() {
    this.group = h("span", { className: "widget-radios", role: "radiogroup" });
    this.name = `radio-${++counter}`;
    this.el.append(this.group);
  }
  update() {
    const labels = this.get("_options_labels") || [];
    this.group.replaceChildren(
      ...labels.map((label, i) => {
        const input = h("input", { type: "radio", name: this.name, checked: i === this.get("index") });
        input.addEventListener("change", () => input.checked && this.model.save({ index: i }));
        return h("label", {}, input, label);
      }),
    );
  }
}

class CheckboxView extends LabeledView {
  build() {
    this.input = h("input", { type: "checkbox" });
    this.el.append(this.input);
    this.input.addEventListener("change", () => this.model.save({ value: this.input.checked }));
  }
  update() {
    this.input.checked = !!this.get("value");
  }
}

class ToggleButtonView extends LabeledView {
  build() {
    this.button = h("button", { type: "button", className: "widget-button" });
    this.el.append(this.button);
    this.button.addEventListener("click", () => this.model.save({ value: !this.get("value") }));
  }
  update() {
    this.button.textContent = this.get("description") || "";
    this.button.classList.toggle("active", !!this.get("value"));
    this.label.hidden = true;
  }
  setDescription() {
    this.label.hidden = true;
  }
}

class TextView extends LabeledView {
  tag = "input";
  build() {
    this.input = h(this.tag, { className: "widget-text" });
    if (this.tag === "input") this.input.type = this.get("_view_name") === "PasswordView" ? "password" : "text";
    this.el.append(this.input);
    this.input.addEventListener("input", () => {
      if (this.get("continuous_update")) this.model.save({ value: this.parse(this.input.value) });
    });
    this.input.addEventListener("change", () => this.model.save({ value: this.parse(this.input.value) }));
    this.input.addEventListener("keydown", (ev) => {
      ev.stopPropagation(); // typing in a widget is not a notebook shortcut
      if (ev.key === "Enter" && this.tag === "input") {
        this.model.save({ value: this.parse(this.input.value) });
        this.model.custom({ event: "submit" });
      }
    });
  }
  parse(v) {
    return v;
  }
  update() {
    const v = this.get("value");
    if (document.activeElement !== this.input || String(v) !== this.input.value) this.input.value = v ?? "";
    this.input.placeholder = this.get("placeholder") || "";
    if (this.get("rows")) this.input.rows = this.get("rows");
  }
}

class TextareaView extends TextView {
  tag = "textarea";
}

class NumberTextView extends TextView {
  build() {
    super.build();
    this.input.type = "number";
  }
  parse(v) {
    const x = this.get("_model_name").includes("Int") ? parseInt(v, 10) : parseFloat(v);
    return Number.isNaN(x) ? this.get("value") : x;
  }
  update() {
    super.update();
    for (const k of ["min", "max", "step"]) if (this.get(k) != null) this.input[k] = this.get(k);
  }
}

class ButtonView extends View {
  render() {
    this.el = h("button", { type: "button", className: "widget-button" });
    this.el.addEventListener("click", () => this.model.custom({ event: "click" }));
    this.update();
  }
  update() {
    this.el.textContent = this.get("description") || "";
    this.el.dataset.style = this.get("button_style") || "";
  }
  setDisabled(off) {
    this.el.disabled = off;
  }
}

/** Any CSS colour name → #rrggbb, for <input type=color>. */
function toHex(color) {
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.fillStyle = color || "#000000";
  return ctx.fillStyle.startsWith("#") ? ctx.fillStyle : "#000000";
}

class ColorPickerView extends LabeledView {
  build() {
    this.input = h("input", { type: "color", className: "widget-color" });
    this.text = h("input", { type: "text", className: "widget-text widget-color-text" });
    this.el.append(this.input, this.text);
    this.input.addEventListener("change", () => this.model.save({ value: this.input.value }));
    this.text.addEventListener("change", () => this.model.save({ value: this.text.value }));
    this.text.addEventListener("keydown", (ev) => ev.stopPropagation());
  }
  update() {
    this.input.value = toHex(this.get("value"));
    this.text.value = this.get("value") || "";
    this.text.hidden = !!this.get("concise");
  }
}

class LabelView extends LabeledView {
  build() {
    this.content = h("span", { className: "widget-label-value" });
    this.el.append(this.content);
  }
  update() {
    this.content.textContent = this.get("value") ?? "";
    typesetMath(this.content);
  }
}

/** HTML and HTMLMath: widget HTML comes from user code, so it is sanitized. */
class HTMLView extends LabelView {
  update() {
    this.content.replaceChildren(sanitize(this.get("value") ?? ""));
    if (this.get("_view_name") === "HTMLMathView") typesetMath(this.content);
  }
}

class ProgressView extends LabeledView {
  build() {
    this.bar = h("progress", { className: "widget-progress" });
    this.el.append(this.bar);
  }
  update() {
    this.bar.max = this.get("max") - this.get("min");
    this.bar.value = this.get("value") - this.get("min");
  }
}

class ValidView extends LabelView {
  update() {
    this.content.textContent = this.get("value") ? "✔" : `✘ ${this.get("readout") || ""}`;
    this.content.className = this.get("value") ? "widget-valid" : "widget-invalid";
  }
}

class BoxView extends View {
  render() {
    this.el.className = `widget-box ${this.get("_view_name").replace("View", "").toLowerCase()}`;
    this.update(["children"]);
  }
  update(keys) {
    if (!keys.includes("children")) return;
    const ids = this.get("children") || [];
    const slots = ids.map(() => h("div", { className: "widget-slot" }));
    this.el.replaceChildren(...slots);
    ids.forEach((ref, i) =>
      this.manager.getModel(ref).then((m) => slots[i].replaceWith(this.manager.render(m)), () => slots[i].remove()),
    );
  }
}

class OutputView extends View {
  render() {
    this.el.append(this.model.area.el);
  }
}

export class UnsupportedView extends View {
  render() {
    this.el.className = "widget-unsupported";
    this.el.textContent = `[${(this.get("_model_name") || "widget").replace(/Model$/, "")} is not supported here]`;
  }
}

class NoView extends View {
  render() {
    this.el.hidden = true;
  }
}

export const VIEWS = {
  IntSliderView: SliderView,
  FloatSliderView: SliderView,
  FloatLogSliderView: LogSliderView,
  IntRangeSliderView: RangeSliderView,
  FloatRangeSliderView: RangeSliderView,
  SelectionSliderView: SelectionSliderView,
  DropdownView,
  SelectView: DropdownView,
  ToggleButtonsView,
  RadioButtonsView,
  CheckboxView,
  ToggleButtonView,
  TextView,
  PasswordView: TextView,
  TextareaView,
  IntTextView: NumberTextView,
  FloatTextView: NumberTextView,
  ButtonView,
  ColorPickerView,
  LabelView,
  HTMLView,
  HTMLMathView: HTMLView,
  ProgressView,
  ValidView,
  BoxView,
  VBoxView: BoxView,
  HBoxView: BoxView,
  GridBoxView: BoxView,
  AccordionView: BoxView,
  TabView: BoxView,
  StackView: BoxView,
  OutputView,
  LayoutView: NoView,
  StyleView: NoView,
};
