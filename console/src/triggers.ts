// The Configuration tab's second half: asynchronous invocation (retries, maximum event age,
// on-success and on-failure destinations, the dead-letter queue) and triggers — the event source
// mappings that feed the function (ListEventSourceMappings, each enabled or disabled here) and
// its function URL (created here with an auth type, or shown).
import {CreateFunctionUrlConfigCommand, DeadLetterConfig, GetFunctionCommandOutput, GetFunctionEventInvokeConfigCommand, GetFunctionUrlConfigCommand, ListEventSourceMappingsCommand, PutFunctionEventInvokeConfigCommand, UpdateEventSourceMappingCommand, UpdateFunctionConfigurationCommand,} from "@aws-sdk/client-lambda";

import {act, clientConfig, errorText, lambda, Session} from "./api";
import {h} from "./dom";
import {waitUpdated} from "./function";

export async function renderAsyncAndTriggers(
    panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput): Promise<void> {
  const c = fn.Configuration!;
  const name = c.FunctionName!;
  const client = lambda(s);
  // Asynchronous invocation.
  let current = {retries: "2", age: "21600", onSuccess: "", onFailure: ""};
  try {
    const cfg = await client.send(new GetFunctionEventInvokeConfigCommand({FunctionName: name}));
    current = {
      retries: String(cfg.MaximumRetryAttempts ?? 2),
      age: String(cfg.MaximumEventAgeInSeconds ?? 21600),
      onSuccess: cfg.DestinationConfig?.OnSuccess?.Destination ?? "",
      onFailure: cfg.DestinationConfig?.OnFailure?.Destination ?? ""
    };
  } catch (e) {
    if ((e as {name?: string}).name !== "ResourceNotFoundException") throw e;
  }
  const retries = h("input", {id: "async-retries", type: "number", min: "0", max: "2", value: current.retries});
  const age = h("input", {id: "async-age", type: "number", min: "60", max: "21600", value: current.age});
  const onSuccess = h("input", {
    id: "async-success",
    value: current.onSuccess,
    placeholder: "queue, topic or function ARN",
    spellcheck: "false"
  });
  const onFailure = h("input", {
    id: "async-failure",
    value: current.onFailure,
    placeholder: "queue, topic or function ARN",
    spellcheck: "false"
  });
  const dlq = h("input", {
    id: "async-dlq",
    value: c.DeadLetterConfig?.TargetArn ?? "",
    placeholder: "queue or topic ARN",
    spellcheck: "false"
  });
  const status = h("p", {class: "status", role: "status", id: "async-status"});
  const save = h("button", {type: "submit", id: "async-save"}, "Save asynchronous settings");
  const form = h("form", {class: "form-grid", id: "async-form"}, h("h2", {}, "Asynchronous invocation"), h("label", { for: "async-retries"
                 }, "Retry attempts"), retries, h("label", { for: "async-age"
                 }, "Maximum event age (seconds)"), age, h("label", { for: "async-success"
                 }, "On-success destination"), onSuccess, h("label", { for: "async-failure"
                 }, "On-failure destination"), onFailure, h("label", { for: "async-dlq"
                 }, "Dead-letter queue"), dlq, h("div", {}, save), status);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await act(save, status, async () => {
      const dest = (arn: string) => (arn.trim() ? {Destination: arn.trim()} : undefined);
      await client.send(new PutFunctionEventInvokeConfigCommand({
        FunctionName: name,
        MaximumRetryAttempts: Number(retries.value),
        MaximumEventAgeInSeconds: Number(age.value),
        DestinationConfig: {OnSuccess: dest(onSuccess.value), OnFailure: dest(onFailure.value)},
      }));
      const wanted: DeadLetterConfig = {TargetArn: dlq.value.trim()};
      if ((c.DeadLetterConfig?.TargetArn ?? "") !== wanted.TargetArn) {
        await client.send(new UpdateFunctionConfigurationCommand({FunctionName: name, DeadLetterConfig: wanted}));
        await waitUpdated(s, name, (t) => (status.textContent = "Updating: " + t));
        c.DeadLetterConfig = wanted;
      }
      return "Saved";
    }, "Saving…");
  });

  // Triggers: event source mappings.
  const mappings = h("tbody");
  const loadMappings = async () => {
    const list =
        (await client.send(new ListEventSourceMappingsCommand({FunctionName: name}))).EventSourceMappings ?? [];
    mappings.replaceChildren(...list.map((m) => {
      const toggle =
          h("button", {type: "button", class: "secondary"},
            m.State === "Enabled" || m.State === "Enabling" ? "Disable" : "Enable");
      toggle.addEventListener("click", async () => {
        try {
          await client.send(
              new UpdateEventSourceMappingCommand({UUID: m.UUID, Enabled: toggle.textContent === "Enable"}));
          await loadMappings();
        } catch (e) {
          triggerStatus.className = "error";
          triggerStatus.textContent = errorText(e);
        }
      });
      return h(
          "tr", {"data-uuid": m.UUID ?? ""}, h("td", {}, m.EventSourceArn ?? ""), h("td", {}, m.State ?? ""),
          h("td", {class: "num"}, String(m.BatchSize ?? "")), h("td", {}, toggle));
    }));
  };
  const triggerStatus = h("p", {class: "status", role: "status", id: "trigger-status"});
  // The function URL.
  const urlBox = h("div", {id: "function-url"});
  const loadUrl = async () => {
    try {
      const u = await client.send(new GetFunctionUrlConfigCommand({FunctionName: name}));
      urlBox.replaceChildren(
          h("p", {}, "Function URL: ", h("a", {href: u.FunctionUrl!, id: "function-url-link"}, u.FunctionUrl!),
            ` (auth ${u.AuthType}, ${u.InvokeMode ?? "BUFFERED"})`));
    } catch (e) {
      if ((e as {name?: string}).name !== "ResourceNotFoundException") throw e;
      const auth = h(
          "select", {id: "url-auth"}, h("option", {value: "AWS_IAM"}, "AWS_IAM"), h("option", {value: "NONE"}, "NONE"));
      const create = h("button", {type: "button", id: "url-create", class: "secondary"}, "Create function URL");
      create.addEventListener("click", async () => {
        try {
          await client.send(
              new CreateFunctionUrlConfigCommand({FunctionName: name, AuthType: auth.value as "AWS_IAM" | "NONE"}));
          await loadUrl();
        } catch (err) {
          triggerStatus.className = "error";
          triggerStatus.textContent = errorText(err);
        }
      });
      urlBox.replaceChildren(h("div", {class: "row"}, h("label", { for: "url-auth"
                               }, "Function URL auth type"), auth, create));
    }
  };
  // Triggers elsewhere: topics subscribing the function, rules targeting it, bucket notifications
  // naming it — each service asked with the user's key; one it refuses says so in its line.
  const others = h("ul", {id: "other-triggers"});
  const fnArn = c.FunctionArn!;
  const isThis = (arn?: string) => !!arn && (arn === fnArn || arn.startsWith(fnArn + ":"));
  const line = (text: string) => h("li", {}, text);
  const common = clientConfig(s);
  const findOthers = async () => {
    const found: HTMLElement[] = [];
    const sections = [
      async () => {
        const sns = await import("@aws-sdk/client-sns");
        const client = new sns.SNSClient(common);
        let token: string|undefined;
        do {
          const r = await client.send(new sns.ListSubscriptionsCommand({NextToken: token}));
          for (const sub of r.Subscriptions ?? []) {
            if (sub.Protocol === "lambda" && isThis(sub.Endpoint)) found.push(line(`SNS topic ${sub.TopicArn}`));
          }
          token = r.NextToken;
        } while (token);
      },
      async () => {
        const eb = await import("@aws-sdk/client-eventbridge");
        const client = new eb.EventBridgeClient(common);
        const buses = (await client.send(new eb.ListEventBusesCommand({}))).EventBuses ?? [];
        for (const bus of buses) {
          const r = await client.send(new eb.ListRuleNamesByTargetCommand({TargetArn: fnArn, EventBusName: bus.Name}));
          for (const rule of r.RuleNames ?? []) found.push(line(`EventBridge rule ${rule} (bus ${bus.Name})`));
        }
      },
      async () => {
        const s3 = await import("@aws-sdk/client-s3");
        const client = new s3.S3Client({...common, forcePathStyle: true});
        for (const b of (await client.send(new s3.ListBucketsCommand({}))).Buckets ?? []) {
          const n = await client.send(new s3.GetBucketNotificationConfigurationCommand({Bucket: b.Name}));
          for (const cfg of n.LambdaFunctionConfigurations ?? []) {
            if (!isThis(cfg.LambdaFunctionArn)) continue;
            const rules =
                (cfg.Filter?.Key?.FilterRules ?? []).map((r) => `${r.Name?.toLowerCase()} ${r.Value}`).join(", ");
            found.push(line(`S3 bucket ${b.Name}: ${(cfg.Events ?? []).join(", ")}${rules ? ` (${rules})` : ""}`));
          }
        }
      },
    ];
    const names = ["SNS", "EventBridge", "S3"];
    await Promise.all(
        sections.map((run, i) => run().catch((e) => found.push(line(`${names[i]}: not visible (${errorText(e)})`)))));
    others.replaceChildren(...(found.length ? found : [line("none")]));
    others.dataset.loaded = "true";
  };
  panel.append(
      form, h("h2", {}, "Triggers"),
      h("table", {id: "mappings"},
        h("thead", {},
          h("tr", {}, h("th", {scope: "col"}, "Event source"), h("th", {scope: "col"}, "State"),
            h("th", {scope: "col", class: "num"}, "Batch size"), h("th", {scope: "col"}, ""))),
        mappings),
      urlBox, h("h3", {}, "Topics, rules and buckets"), others, triggerStatus);
  await Promise.all([loadMappings(), loadUrl(), findOthers()]);
}
