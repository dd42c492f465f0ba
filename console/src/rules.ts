// Rules (EventBridge, the default bus): the list with their pattern or schedule and state, a new
// rule (an event pattern, or a rate/cron schedule), a rule's targets and a new target (a function,
// queue or topic ARN), enabling and disabling, and sending a test event with PutEvents.
import {DisableRuleCommand, EnableRuleCommand, EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand, Rule,} from "@aws-sdk/client-eventbridge";

import {clientConfig, errorText, Session} from "./api";
import {h, mount} from "./dom";

function events(s: Session): EventBridgeClient {
  return new EventBridgeClient(clientConfig(s));
}

export async function renderRules(root: HTMLElement, s: Session): Promise<void> {
  const client = events(s);
  const status = h("p", {class: "status", role: "status", id: "rules-status"}, "Loading rules…");
  const body = h("tbody");
  const name = h("input", {id: "rule-name", required: true, spellcheck: "false"});
  const kind =
      h("select", {id: "rule-kind"}, h("option", {value: "pattern"}, "Event pattern"),
        h("option", {value: "schedule"}, "Schedule"));
  const spec = h("textarea", {id: "rule-spec", rows: "3", spellcheck: "false"});
  spec.value = "{\"source\": [\"my.app\"]}";
  kind.addEventListener(
      "change", () => (spec.value = kind.value === "schedule" ? "rate(5 minutes)" : "{\"source\": [\"my.app\"]}"));
  const form =
      h("form", {class: "form-grid", id: "rule-form"},
        h("label",
          { for: "rule-name"
          },
          "New rule"),
        name,
        h("label",
          { for: "rule-kind"
          },
          "Kind"),
        kind,
        h("label",
          { for: "rule-spec"
          },
          "Pattern or schedule expression"),
        spec, h("div", {}, h("button", {type: "submit", id: "rule-create"}, "Create rule")));
  mount(
      root,
      h("section", {"aria-labelledby": "rules-title"}, h("h1", {id: "rules-title"}, "Rules"), status,
        h("table", {id: "rules"},
          h("thead", {},
            h("tr", {}, h("th", {scope: "col"}, "Rule"), h("th", {scope: "col"}, "Pattern or schedule"),
              h("th", {scope: "col"}, "State"))),
          body),
        form));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await client.send(new PutRuleCommand(
          kind.value === "schedule" ? {Name: name.value.trim(), ScheduleExpression: spec.value.trim()} :
                                      {Name: name.value.trim(), EventPattern: spec.value.trim()}));
      window.location.hash = "#/rules/" + encodeURIComponent(name.value.trim());
    } catch (e) {
      status.className = "error";
      status.textContent = errorText(e);
    }
  });
  try {
    const rules: Rule[] = [];
    let token: string|undefined;
    do {
      const r = await client.send(new ListRulesCommand({NextToken: token}));
      rules.push(...(r.Rules ?? []));
      token = r.NextToken;
    } while (token);
    body.replaceChildren(...rules.map(
        (r) =>
            h("tr", {"data-rule": r.Name ?? ""},
              h("td", {}, h("a", {href: "#/rules/" + encodeURIComponent(r.Name ?? "")}, r.Name ?? "")),
              h("td", {}, h("code", {}, r.ScheduleExpression ?? r.EventPattern ?? "")), h("td", {}, r.State ?? ""))));
    status.textContent = `${rules.length} rule${rules.length === 1 ? "" : "s"} on the default bus`;
  } catch (e) {
    status.className = "error";
    status.textContent = errorText(e);
  }
}

export async function renderRule(root: HTMLElement, s: Session, name: string): Promise<void> {
  const client = events(s);
  const status = h("p", {class: "status", role: "status", id: "rule-status"});
  const targets = h("tbody");
  const state = h("span", {id: "rule-state"});
  const fail = (e: unknown) => {
    status.className = "error";
    status.textContent = errorText(e);
  };
  const toggle = h("button", {type: "button", id: "rule-toggle", class: "secondary"});
  const load = async () => {
    const rule =
        ((await client.send(new ListRulesCommand({NamePrefix: name}))).Rules ?? []).find((r) => r.Name === name);
    if (!rule) throw new Error(`The rule ${name} does not exist.`);
    state.textContent = `${rule.State} · ${rule.ScheduleExpression ?? rule.EventPattern}`;
    toggle.textContent = rule.State === "ENABLED" ? "Disable" : "Enable";
    const list = (await client.send(new ListTargetsByRuleCommand({Rule: name}))).Targets ?? [];
    targets.replaceChildren(
        ...list.map((t) => h("tr", {"data-target": t.Id ?? ""}, h("td", {}, t.Id ?? ""), h("td", {}, t.Arn ?? ""))));
  };
  toggle.addEventListener("click", async () => {
    try {
      await client.send(
          toggle.textContent === "Disable" ? new DisableRuleCommand({Name: name}) :
                                             new EnableRuleCommand({Name: name}));
      await load();
    } catch (e) {
      fail(e);
    }
  });
  const targetId = h("input", {id: "target-id", required: true, value: "target-1"});
  const targetArn =
      h("input", {id: "target-arn", required: true, spellcheck: "false", placeholder: "function, queue or topic ARN"});
  const targetForm = h("form", {class: "toolbar", id: "target-form"}, h("label", { for: "target-id"
                       }, "Target ID"), targetId, h("label", { for: "target-arn"
                       }, "Target ARN"), targetArn, h("button", {type: "submit"}, "Add target"));
  targetForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await client.send(
          new PutTargetsCommand({Rule: name, Targets: [{Id: targetId.value.trim(), Arn: targetArn.value.trim()}]}));
      if (r.FailedEntryCount)
        throw new Error(r.FailedEntries?.map((f) => `${f.ErrorCode}: ${f.ErrorMessage}`).join("; "));
      status.className = "status";
      status.textContent = "Target added";
      await load();
    } catch (e) {
      fail(e);
    }
  });
  const source = h("input", {id: "event-source", value: "my.app"});
  const detailType = h("input", {id: "event-detail-type", value: "Console Test"});
  const detail = h("textarea", {id: "event-detail", rows: "3"});
  detail.value = "{\"hello\": \"from the console\"}";
  const sendForm =
      h("form", {class: "form-grid", id: "event-form"}, h("label", { for: "event-source"
        }, "Source"), source, h("label", { for: "event-detail-type"
        }, "Detail type"), detailType, h("label", { for: "event-detail"
        }, "Detail (JSON)"), detail, h("div", {}, h("button", {type: "submit", id: "event-send"}, "Send event")));
  sendForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await client.send(new PutEventsCommand(
          {Entries: [{Source: source.value, DetailType: detailType.value, Detail: detail.value}]}));
      const entry = r.Entries?.[0];
      if (!entry?.EventId) throw new Error(`${entry?.ErrorCode}: ${entry?.ErrorMessage}`);
      status.className = "status";
      status.textContent = "Sent event " + entry.EventId;
    } catch (e) {
      fail(e);
    }
  });
  mount(
      root, h("h1", {}, h("a", {href: "#/rules"}, "Rules"), " / ", name),
      h("p", {class: "summary"}, state, " ", toggle), status, h("h2", {}, "Targets"),
      h("table", {id: "targets"},
        h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "ID"), h("th", {scope: "col"}, "ARN"))), targets),
      targetForm, h("h2", {}, "Send a test event (default bus)"), sendForm);
  try {
    await load();
  } catch (e) {
    fail(e);
  }
}
