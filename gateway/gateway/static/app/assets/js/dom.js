// Small DOM helpers: build elements without innerHTML (no injection, no inline style).

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h("button", {class: "x", onclick: f}, "text", child...) */
export function h(tag, attrs, ...children) {
  return append(apply(document.createElement(tag), attrs), children);
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  return append(apply(document.createElementNS(SVG_NS, tag), attrs), children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function newId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: returns {field, input}. */
export function field(label, input, hint) {
  if (!input.id) input.id = newId("f");
  const parts = [h("label", {for: input.id}, label), input];
  if (hint) {
    const hintId = newId("hint");
    input.setAttribute("aria-describedby", hintId);
    parts.push(h("p", {class: "hint", id: hintId}, hint));
  }
  return {field: h("div", {class: "field"}, parts), input};
}

export function select(options, value, attrs = {}) {
  const el = h("select", attrs, options.map(([v, label]) => h("option", {value: v, selected: String(v) === String(value)}, label)));
  return el;
}
