// The Test tab: test events (templates in the shapes Lambent's event sources deliver, and events
// saved per function in this browser), Invoke (Ctrl+Enter) with the response, status, the
// REPORT line's durations and memory, and the log tail.
import {GetFunctionCommandOutput, InvokeCommand} from "@aws-sdk/client-lambda";

import {errorText, lambda, Session} from "./api";
import {TEST_EVENTS} from "./blueprints";
import {h} from "./dom";

type Saved = Record<string, string>;

function savedKey(arn: string) {
  return "lambent.test-events." + arn;
}

function loadSaved(arn: string): Saved {
  try {
    return JSON.parse(localStorage.getItem(savedKey(arn)) ?? "{}") as Saved;
  } catch {
    return {};
  }
}

/** The REPORT line's figures: Duration, Billed Duration, Memory Size, Max Memory Used, Init Duration. */
export function reportFigures(log: string): Record<string, string> {
  const line = log.split("\n").find((l) => l.startsWith("REPORT ")) ?? "";
  const out: Record<string, string> = {};
  for (const m of line.matchAll(
           /(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): ([\d.]+ \w+)/g)) {
    out[m[1]] = m[2];
  }
  return out;
}

export function renderTest(panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput): void {
  const c = fn.Configuration!;
  const arn = c.FunctionArn!;
  let saved = loadSaved(arn);
  const event = h("textarea", {id: "test-event", rows: "14", spellcheck: "false"});
  event.value = JSON.stringify(TEST_EVENTS["Hello"], null, 2);
  const template = h("select", {id: "test-template"});
  const fillSaved = () => {
    const opts = Object.keys(saved).sort().map((k) => h("option", {value: "s:" + k}, "Saved: " + k));
    template.replaceChildren(
        h("option", {value: ""}, "Template or saved event…"),
        ...Object.keys(TEST_EVENTS).map((k) => h("option", {value: "t:" + k}, k)), ...opts);
  };
  fillSaved();
  template.addEventListener("change", () => {
    const v = template.value;
    if (v.startsWith("t:")) event.value = JSON.stringify(TEST_EVENTS[v.slice(2)], null, 2);
    if (v.startsWith("s:")) event.value = saved[v.slice(2)];
  });
  const saveName = h("input", {id: "test-name", placeholder: "event name", "aria-label": "Name of the test event"});
  const saveEvent = h("button", {type: "button", id: "test-save", class: "secondary"}, "Save event");
  saveEvent.addEventListener("click", () => {
    const n = saveName.value.trim();
    if (!n) return;
    saved = {...saved, [n]: event.value};
    localStorage.setItem(savedKey(arn), JSON.stringify(saved));
    fillSaved();
    saveName.value = "";
  });
  const run = h("button", {type: "button", id: "test-invoke", title: "Ctrl+Enter"}, "Invoke");
  const result = h("div", {id: "test-result", "aria-live": "polite"});
  const invoke = async () => {
    let payload: string;
    try {
      payload = JSON.stringify(JSON.parse(event.value));
    } catch (e) {
      result.replaceChildren(h("p", {class: "error", role: "alert"}, "The event is not valid JSON: " + errorText(e)));
      return;
    }
    run.disabled = true;
    result.replaceChildren(h("p", {class: "status"}, "Invoking…"));
    try {
      const r = await lambda(s).send(new InvokeCommand(
          {FunctionName: c.FunctionName, Payload: new TextEncoder().encode(payload), LogType: "Tail"}));
      const body = r.Payload ? new TextDecoder().decode(r.Payload) : "";
      let shown = body;
      try {
        shown = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        // not JSON: shown as it came
      }
      const log =
          r.LogResult ? new TextDecoder().decode(Uint8Array.from(atob(r.LogResult), (ch) => ch.charCodeAt(0))) : "";
      const figures = reportFigures(log);
      result.replaceChildren(
          h("p", {id: "test-outcome", class: r.FunctionError ? "error" : "ok"},
            r.FunctionError ? `Failed (${r.FunctionError}), status ${r.StatusCode}` :
                              `Succeeded, status ${r.StatusCode}`),
          h("dl", {class: "figures", id: "test-figures"},
            ...Object.entries(figures).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
          h("h2", {}, "Response"),
          h("pre", {id: "test-response"}, shown),
          h("h2", {}, "Log"),
          h("pre", {id: "test-log"}, log),
      );
    } catch (e) {
      result.replaceChildren(h("p", {class: "error", role: "alert"}, errorText(e)));
    } finally {
      run.disabled = false;
    }
  };
  run.addEventListener("click", () => void invoke());
  panel.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
      ev.preventDefault();
      void invoke();
    }
  });
  panel.replaceChildren(
    h("div", { class: "toolbar" }, h("label", { for: "test-template", class: "visually-hidden" }, "Test event template"), template, run),
    h("label", {
        for: "test-event"
      }, "Event (JSON)"),
    event,
    h("div", { class: "row" }, saveName, saveEvent),
    result,
  );
}
