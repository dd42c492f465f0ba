// The Configuration tab: memory, timeout, ephemeral storage, role, environment variables and
// layers and reserved concurrency, saved with UpdateFunctionConfiguration and Put/DeleteFunctionConcurrency.
import {DeleteFunctionConcurrencyCommand, GetFunctionCommandOutput, ListLayersCommand, PutFunctionConcurrencyCommand, UpdateFunctionConfigurationCommand,} from "@aws-sdk/client-lambda";

import {act, lambda, Session} from "./api";
import {h} from "./dom";
import {waitUpdated} from "./function";

export async function renderConfig(
    panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput,
    reload: () => Promise<GetFunctionCommandOutput>): Promise<void> {
  const c = fn.Configuration!;
  const num = (id: string, value: number|undefined, min: number, max: number) =>
      h("input", {id, type: "number", min: String(min), max: String(max), required: true, value: String(value ?? "")});
  const memory = num("cfg-memory", c.MemorySize, 128, 10240);
  const timeout = num("cfg-timeout", c.Timeout, 1, 900);
  const storage = num("cfg-storage", c.EphemeralStorage?.Size ?? 512, 512, 10240);
  const role = h("input", {id: "cfg-role", value: c.Role ?? "", required: true, spellcheck: "false"});
  const reserved = h("input", {
    id: "cfg-reserved",
    type: "number",
    min: "0",
    placeholder: "unreserved",
    value: fn.Concurrency?.ReservedConcurrentExecutions !== undefined ?
        String(fn.Concurrency.ReservedConcurrentExecutions) :
        ""
  });
  const envRows = h("div", {id: "cfg-env"});
  const addRow = (k = "", v = "") => {
    const key = h("input", {class: "env-key", value: k, "aria-label": "Variable name", spellcheck: "false"});
    const val = h("input", {class: "env-value", value: v, "aria-label": "Variable value", spellcheck: "false"});
    const del = h("button", {type: "button", class: "secondary"}, "Remove");
    const row = h("div", {class: "row env"}, key, val, del);
    del.addEventListener("click", () => row.remove());
    envRows.append(row);
  };
  for (const [k, v] of Object.entries(c.Environment?.Variables ?? {})) addRow(k, v);
  const addEnv = h("button", {type: "button", id: "cfg-env-add", class: "secondary"}, "Add variable");
  addEnv.addEventListener("click", () => addRow());
  // Layers: the function's, in order (each removable), and one more picked from ListLayers.
  const layerRows = h("ol", {id: "cfg-layers", class: "layers"});
  const addLayerRow = (arn: string) => {
    const del = h("button", {type: "button", class: "secondary"}, "Remove");
    const row = h("li", {class: "layer", "data-arn": arn}, arn, " ", del);
    del.addEventListener("click", () => row.remove());
    layerRows.append(row);
  };
  for (const l of c.Layers ?? []) addLayerRow(l.Arn!);
  const layerPick = h("select", {id: "cfg-layer-pick"}, h("option", {value: ""}, "Layer…"));
  const addLayer = h("button", {type: "button", id: "cfg-layer-add", class: "secondary"}, "Add layer");
  addLayer.addEventListener("click", () => {
    if (layerPick.value) addLayerRow(layerPick.value);
  });
  void lambda(s)
      .send(new ListLayersCommand({}))
      .then((r) => {
        layerPick.append(...(r.Layers ?? [])
                             .map(
                                 (l) =>
                                     h("option", {value: l.LatestMatchingVersion?.LayerVersionArn ?? ""},
                                       `${l.LayerName} (version ${l.LatestMatchingVersion?.Version})`)));
      })
      .catch(() => undefined);
  const status = h("p", {class: "status", role: "status", id: "cfg-status"});
  const save = h("button", {type: "submit", id: "cfg-save"}, "Save");
  const form = h(
      "form",
      {class: "form-grid", id: "cfg-form"},
      h("label",
        { for: "cfg-memory"
        },
        "Memory (MB)"),
      memory,
      h("label",
        { for: "cfg-timeout"
        },
        "Timeout (seconds)"),
      timeout,
      h("label",
        { for: "cfg-storage"
        },
        "Ephemeral storage /tmp (MB)"),
      storage,
      h("label",
        { for: "cfg-role"
        },
        "Execution role ARN"),
      role,
      h("label",
        { for: "cfg-reserved"
        },
        "Reserved concurrency"),
      reserved,
      h("fieldset", {}, h("legend", {}, "Environment variables"), envRows, addEnv),
      h("fieldset", {}, h("legend", {}, "Layers (in order)"), layerRows,
        h("div", {class: "row"}, h("label", {for: "cfg-layer-pick", class: "visually-hidden"}, "Layer to add"), layerPick,
          addLayer)),
      h("div", {}, save),
      status,
  );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await act(save, status, async () => {
        const variables: Record<string, string> = {};
        for (const row of envRows.querySelectorAll<HTMLDivElement>(".env")) {
          const k = row.querySelector<HTMLInputElement>(".env-key")!.value.trim();
          if (k) variables[k] = row.querySelector<HTMLInputElement>(".env-value")!.value;
        }
        await lambda(s).send(new UpdateFunctionConfigurationCommand({
          FunctionName: c.FunctionName,
          MemorySize: Number(memory.value),
          Timeout: Number(timeout.value),
          EphemeralStorage: {Size: Number(storage.value)},
          Role: role.value.trim(),
          Environment: {Variables: variables},
          Layers: [...layerRows.querySelectorAll<HTMLElement>(".layer")].map((r) => r.dataset.arn!),
        }));
        await waitUpdated(s, c.FunctionName!, (t) => (status.textContent = "Updating: " + t));
        if (reserved.value.trim() === "") {
          if (fn.Concurrency?.ReservedConcurrentExecutions !== undefined) {
            await lambda(s).send(new DeleteFunctionConcurrencyCommand({FunctionName: c.FunctionName}));
          }
        } else {
          await lambda(s).send(new PutFunctionConcurrencyCommand(
              {FunctionName: c.FunctionName, ReservedConcurrentExecutions: Number(reserved.value)}));
        }
        fn = await reload();
        return "Saved";
      }, "Saving…");
    });
    panel.replaceChildren(form);
    await (await import("./triggers")).renderAsyncAndTriggers(panel, s, fn);
}
