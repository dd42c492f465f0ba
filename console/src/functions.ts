// The function list: every page of ListFunctions, searchable by name, with runtime, memory and
// last modification.
import {FunctionConfiguration, ListFunctionsCommand} from "@aws-sdk/client-lambda";

import {errorText, lambda, Session} from "./api";
import {h, mount} from "./dom";

export async function listAll(s: Session): Promise<FunctionConfiguration[]> {
  const client = lambda(s);
  const out: FunctionConfiguration[] = [];
  let marker: string|undefined;
  do {
    const page = await client.send(new ListFunctionsCommand({Marker: marker, MaxItems: 50}));
    out.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  return out.sort((a, b) => (a.FunctionName ?? "").localeCompare(b.FunctionName ?? ""));
}

function row(f: FunctionConfiguration): HTMLTableRowElement {
  const modified = f.LastModified ? new Date(f.LastModified) : null;
  return h(
      "tr",
      {"data-name": f.FunctionName ?? ""},
      h("td", {}, h("a", {href: "#/functions/" + encodeURIComponent(f.FunctionName ?? "")}, f.FunctionName ?? "")),
      h("td", {}, f.Runtime ?? (f.PackageType === "Image" ? "container image" : "")),
      h("td", {class: "num"}, String(f.MemorySize ?? "")),
      h("td", {},
        modified && !isNaN(modified.getTime()) ? modified.toISOString().replace("T", " ").slice(0, 19) + " UTC" :
                                                 f.LastModified ?? ""),
  );
}

export async function renderFunctions(root: HTMLElement, s: Session): Promise<void> {
  const status = h("p", {class: "status", role: "status", id: "functions-status"}, "Loading functions…");
  const search = h("input", {id: "function-search", type: "search", placeholder: "Find functions by name"});
  const body = h("tbody");
  const table = h(
      "table",
      {id: "functions", "aria-describedby": "functions-status"},
      h("thead", {},
        h("tr", {}, h("th", {scope: "col"}, "Function name"), h("th", {scope: "col"}, "Runtime"),
          h("th", {scope: "col", class: "num"}, "Memory (MB)"), h("th", {scope: "col"}, "Last modified"))),
      body,
  );
  mount(
    root,
    h("section", { "aria-labelledby": "functions-title" }, h("h1", { id: "functions-title" }, "Functions"), h("label", { for: "function-search", class: "visually-hidden" }, "Find functions by name"), search, status, table),
  );
    const started = performance.now();
    let all: FunctionConfiguration[];
    try {
      all = await listAll(s);
    } catch (e) {
      status.textContent = errorText(e);
      status.className = "error";
      status.setAttribute("role", "alert");
      return;
    }
    const render = () => {
      const q = search.value.trim().toLowerCase();
      const shown = q ? all.filter((f) => (f.FunctionName ?? "").toLowerCase().includes(q)) : all;
      body.replaceChildren(...shown.map(row));
      status.textContent = `${shown.length} of ${all.length} functions`;
    };
    search.addEventListener("input", render);
    render();
    // For the browser test's report: how long the list took to appear.
    table.dataset.renderedMs = String(Math.round(performance.now() - started));
}
