// A function's page: its configuration summary and the tabs (Code, Test, Configuration,
// Versions and aliases, Monitoring, Logs), each loaded when first shown.
import {GetFunctionCommand, GetFunctionCommandOutput} from "@aws-sdk/client-lambda";

import {errorText, lambda, Session} from "./api";
import {h, mount} from "./dom";

export interface Tab {
  id: string;
  title: string;
  render:
      (panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput,
       reload: () => Promise<GetFunctionCommandOutput>) => Promise<void>| void;
}

export async function renderFunction(
    root: HTMLElement, s: Session, name: string, tabs: Tab[], current: string): Promise<void> {
  const status = h("p", {class: "status", role: "status", id: "function-status"}, "Loading…");
  mount(root, status);
  const load = () => lambda(s).send(new GetFunctionCommand({FunctionName: name}));
  let fn: GetFunctionCommandOutput;
  try {
    fn = await load();
  } catch (e) {
    status.textContent = errorText(e);
    status.className = "error";
    status.setAttribute("role", "alert");
    return;
  }
  const c = fn.Configuration!;
  const tabList = h("div", {role: "tablist", "aria-label": "Function"});
  const panel = h("section", {role: "tabpanel", id: "tab-panel", tabindex: "-1"});
  const summary = h(
      "p",
      {class: "summary", id: "function-summary"},
      `${c.Runtime ?? c.PackageType} · ${c.MemorySize} MB · timeout ${c.Timeout} s · handler ${c.Handler ?? "—"}`,
  );
  const active = tabs.find((t) => t.id === current) ?? tabs[0];
  for (const t of tabs) {
    tabList.append(
        h("a", {
          role: "tab",
          id: "tab-" + t.id,
          href: `#/functions/${encodeURIComponent(name)}/${t.id}`,
          "aria-selected": t === active ? "true" : "false",
          "aria-controls": "tab-panel",
        },
          t.title));
  }
  panel.setAttribute("aria-labelledby", "tab-" + active.id);
  mount(
      root, h("h1", {id: "function-title"}, h("a", {href: "#/functions"}, "Functions"), " / ", name), summary, tabList,
      panel);
  const reload = async () => {
    fn = await load();
    const k = fn.Configuration!;
    summary.textContent =
        `${k.Runtime ?? k.PackageType} · ${k.MemorySize} MB · timeout ${k.Timeout} s · handler ${k.Handler ?? "—"}`;
    return fn;
  };
  try {
    await active.render(panel, s, fn, reload);
  } catch (e) {
    panel.replaceChildren(h("p", {class: "error", role: "alert"}, errorText(e)));
  }
}

/** Polls until an update has finished (LastUpdateStatus no longer InProgress). */
export async function waitUpdated(s: Session, name: string, onState: (text: string) => void): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const f = await lambda(s).send(new GetFunctionCommand({FunctionName: name}));
    const c = f.Configuration!;
    onState(`${c.State ?? ""} · last update ${c.LastUpdateStatus ?? ""}`);
    if (c.LastUpdateStatus !== "InProgress" && c.State !== "Pending") {
      if (c.LastUpdateStatus === "Failed") throw new Error(c.LastUpdateStatusReason ?? "the update failed");
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
