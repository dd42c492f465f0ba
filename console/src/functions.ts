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

type Activity = import("./sparkline").Activity;

function row(
    f: FunctionConfiguration, activity: Map<string, Activity>, draw?: (a: Activity) => Element): HTMLTableRowElement {
  const a = activity.get(f.FunctionName ?? "");
  const modified = f.LastModified ? new Date(f.LastModified) : null;
  return h(
      "tr",
      {"data-name": f.FunctionName ?? ""},
      h("td", {}, h("a", {href: "#/functions/" + encodeURIComponent(f.FunctionName ?? "")}, f.FunctionName ?? "")),
      h("td", {}, f.Runtime ?? (f.PackageType === "Image" ? "container image" : "")),
      h("td", {class: "num"}, String(f.MemorySize ?? "")),
      h("td", {class: "activity"}, a && draw ? draw(a) : ""),
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
          h("th", {scope: "col", class: "num"}, "Memory (MB)"), h("th", {scope: "col"}, "Last hour"),
          h("th", {scope: "col"}, "Last modified"))),
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
    let activity = new Map<string, Activity>();
    let draw: ((a: Activity) => Element)|undefined;
    const render = () => {
      const q = search.value.trim().toLowerCase();
      const shown = q ? all.filter((f) => (f.FunctionName ?? "").toLowerCase().includes(q)) : all;
      body.replaceChildren(...shown.map((f) => row(f, activity, draw)));
      status.textContent = `${shown.length} of ${all.length} functions`;
    };
    search.addEventListener("input", render);
    render();
    // For the browser test's report: how long the list took to appear.
    table.dataset.renderedMs = String(Math.round(performance.now() - started));
    // Then the last hour's activity of each function (the CloudWatch client loads now, not with
    // the page); a user without cloudwatch:GetMetricData simply gets no lines.
    try {
      const spark = await import("./sparkline");
      activity = await spark.lastHour(s, all.map((f) => f.FunctionName ?? ""));
      draw = spark.sparkline;
      render();
      table.dataset.activity = "loaded";
    } catch {
      table.dataset.activity = "unavailable";
    }
}
