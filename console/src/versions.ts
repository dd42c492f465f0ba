// Versions and aliases: publish a version, create an alias (optionally weighted between two
// versions), the aliases shown as their traffic split.
import {AliasConfiguration, CreateAliasCommand, DeleteProvisionedConcurrencyConfigCommand, FunctionConfiguration, GetFunctionCommandOutput, GetProvisionedConcurrencyConfigCommand, ListAliasesCommand, ListVersionsByFunctionCommand, PublishVersionCommand, PutProvisionedConcurrencyConfigCommand,} from "@aws-sdk/client-lambda";

import {act, errorText, lambda, Session} from "./api";
import {h} from "./dom";

export function split(a: AliasConfiguration): string {
  const extra = Object.entries(a.RoutingConfig?.AdditionalVersionWeights ?? {});
  const rest = 1 - extra.reduce((sum, [, w]) => sum + w, 0);
  const pct = (w: number) => `${Math.round(w * 1000) / 10}%`;
  return [`version ${a.FunctionVersion} ${pct(rest)}`, ...extra.map(([v, w]) => `version ${v} ${pct(w)}`)].join(", ");
}

export async function renderVersions(panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput): Promise<void> {
  const name = fn.Configuration!.FunctionName!;
  const client = lambda(s);
  const status = h("p", {class: "status", role: "status", id: "versions-status"});
  const versionsBody = h("tbody");
  const aliasesBody = h("tbody");
  const aliasVersion = h("select", {id: "alias-version"});
  const aliasSecond = h("select", {id: "alias-second"});
  const refresh = async () => {
    const versions: FunctionConfiguration[] = [];
    let marker: string|undefined;
    do {
      const page = await client.send(new ListVersionsByFunctionCommand({FunctionName: name, Marker: marker}));
      versions.push(...(page.Versions ?? []));
      marker = page.NextMarker;
    } while (marker);
    const aliases = (await client.send(new ListAliasesCommand({FunctionName: name}))).Aliases ?? [];
    versionsBody.replaceChildren(...versions.map(
        (v) =>
            h("tr", {}, h("td", {}, v.Version ?? ""), h("td", {}, v.Description ?? ""),
              h("td", {}, v.LastModified ?? ""))));
    aliasesBody.replaceChildren(...aliases.map(
        (a) =>
            h("tr", {"data-alias": a.Name ?? ""}, h("td", {}, a.Name ?? ""), h("td", {}, split(a)),
              h("td", {}, provisioned(a.Name!)))));
    const numbered = versions.map((v) => v.Version!).filter((v) => v !== "$LATEST");
    aliasVersion.replaceChildren(...numbered.map((v) => h("option", {value: v}, v)));
    aliasSecond.replaceChildren(h("option", {value: ""}, "none"), ...numbered.map((v) => h("option", {value: v}, v)));
  };
  // Provisioned concurrency of an alias: its status (GetProvisionedConcurrencyConfig), and a
  // number to set (PutProvisionedConcurrencyConfig; 0 removes it).
  const provisioned = (alias: string): HTMLElement => {
    const cell = h("span", {class: "row"});
    const amount =
        h("input", {type: "number", min: "0", class: "pc-amount", "aria-label": `Provisioned concurrency of ${alias}`});
    const set = h("button", {type: "button", class: "secondary"}, "Set");
    const state = h("span", {class: "pc-state"});
    const show = async () => {
      try {
        const c = await client.send(new GetProvisionedConcurrencyConfigCommand({FunctionName: name, Qualifier: alias}));
        state.textContent = `${c.AllocatedProvisionedConcurrentExecutions ?? 0} of ${
            c.RequestedProvisionedConcurrentExecutions} ready (${c.Status})`;
        amount.value = String(c.RequestedProvisionedConcurrentExecutions ?? "");
        if (c.Status === "IN_PROGRESS" && cell.isConnected) setTimeout(() => void show(), 1000);
      } catch (e) {
        state.textContent =
            (e as {name?: string}).name === "ProvisionedConcurrencyConfigNotFoundException" ? "none" : errorText(e);
      }
    };
    set.addEventListener("click", async () => {
      try {
        if (Number(amount.value) > 0) {
          await client.send(new PutProvisionedConcurrencyConfigCommand(
              {FunctionName: name, Qualifier: alias, ProvisionedConcurrentExecutions: Number(amount.value)}));
        } else {
          await client.send(new DeleteProvisionedConcurrencyConfigCommand({FunctionName: name, Qualifier: alias}));
        }
        await show();
      } catch (e) {
        state.textContent = errorText(e);
      }
    });
    cell.append(amount, set, state);
    void show();
    return cell;
  };
  const description = h(
      "input", {id: "publish-description", placeholder: "description (optional)", "aria-label": "Version description"});
  const publish = h("button", {type: "button", id: "publish"}, "Publish new version");
  publish.addEventListener("click", () => act(publish, status, async () => {
                                      const v = await client.send(new PublishVersionCommand(
                                          {FunctionName: name, Description: description.value || undefined}));
                                      description.value = "";
                                      await refresh();
                                      return `Published version ${v.Version}`;
                                    }));
  const aliasName = h("input", {id: "alias-name", required: true, spellcheck: "false"});
  const weight = h("input", {id: "alias-weight", type: "number", min: "0", max: "100", value: "10"});
  const createAlias = h("button", {type: "submit", id: "alias-create"}, "Create alias");
  const aliasForm = h("form", {class: "form-grid", id: "alias-form"}, h("label", { for: "alias-name"
                      }, "Alias name"), aliasName, h("label", { for: "alias-version"
                      }, "Version"), aliasVersion, h("label", { for: "alias-second"
                      }, "Shift traffic to version"), aliasSecond, h("label", { for: "alias-weight"
                      }, "Weight of that version (%)"), weight, h("div", {}, createAlias));
  aliasForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await act(createAlias, status, async () => {
      const second = aliasSecond.value;
      await client.send(new CreateAliasCommand({
        FunctionName: name,
        Name: aliasName.value.trim(),
        FunctionVersion: aliasVersion.value,
        RoutingConfig: second ? {AdditionalVersionWeights: {[second]: Number(weight.value) / 100}} : undefined,
      }));
      const created = aliasName.value.trim();
      aliasName.value = "";
      await refresh();
      return `Created alias ${created}`;
    });
  });
  panel.replaceChildren(
      h("div", {class: "toolbar"}, description, publish),
      status,
      h("h2", {}, "Versions"),
      h("table", {id: "versions"},
        h("thead", {},
          h("tr", {}, h("th", {scope: "col"}, "Version"), h("th", {scope: "col"}, "Description"),
            h("th", {scope: "col"}, "Last modified"))),
        versionsBody),
      h("h2", {}, "Aliases"),
      h("table", {id: "aliases"},
        h("thead", {},
          h("tr", {}, h("th", {scope: "col"}, "Alias"), h("th", {scope: "col"}, "Traffic"),
            h("th", {scope: "col"}, "Provisioned concurrency"))),
        aliasesBody),
      h("h2", {}, "New alias"),
      aliasForm,
  );
  await refresh();
}
