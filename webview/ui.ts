// Small DOM helpers shared by the webviews.

import type { Notice } from "./protocol";

interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export function vscodeApi<S>(): VsCodeApi<S> {
  return acquireVsCodeApi<S>();
}

/** An element with attributes and children (strings become text, never HTML). */
export function el(tag: string, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A link that runs an action in the webview instead of navigating. */
export function actionLink(text: string, attributes: Record<string, string>, action: () => void): HTMLElement {
  const a = el("a", { href: "#", ...attributes }, text);
  a.addEventListener("click", (e) => {
    e.preventDefault();
    action();
  });
  return a;
}

/** A colour from VS Code's theme variables, so charts follow light, dark and high-contrast themes. */
export function themeColor(variable: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
  return value || fallback;
}

/** Shows a notice at the top of the view; errors stay, others can be dismissed. */
export function notice(container: HTMLElement, n: Notice): void {
  const item = el("div", { class: `notice notice-${n.level}`, role: n.level === "error" ? "alert" : "status" }, n.message);
  const close = el("button", { class: "notice-close", "aria-label": "Dismiss" }, "×");
  close.addEventListener("click", () => item.remove());
  item.append(close);
  container.append(item);
}
