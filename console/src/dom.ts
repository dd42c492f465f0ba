// A few helpers to build the DOM without innerHTML (the CSP allows no inline script; text from
// the APIs is never parsed as markup).
type Attrs = Record<string, string|boolean|EventListener>;
type Child = Node|string|null|undefined|false;

export function h<K extends keyof HTMLElementTagNameMap>(
    tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function")
      el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true)
      el.setAttribute(k, "");
    else if (v !== false)
      el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

export function mount(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren();
  for (const c of children)
    if (c) root.append(c);
}
