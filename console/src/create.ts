// Create a function from a blueprint: the code is zipped in the browser and sent with
// CreateFunction; then the function's page opens.
import {CreateFunctionCommand, Runtime} from "@aws-sdk/client-lambda";
import {strToU8, zipSync} from "fflate";

import {errorText, lambda, Session} from "./api";
import {RUNTIMES} from "./blueprints";
import {h, mount} from "./dom";

export function renderCreate(root: HTMLElement, s: Session): void {
  const account = (s.arn ?? "").split(":")[4] || "000000000000";
  const name = h("input", {id: "new-name", required: true, pattern: "[A-Za-z0-9_\\-]{1,64}", spellcheck: "false"});
  const runtime = h("select", {id: "new-runtime"}, ...Object.keys(RUNTIMES).map((r) => h("option", {value: r}, r)));
  const blueprint = h("select", {id: "new-blueprint"});
  const fillBlueprints = () => {
    blueprint.replaceChildren(...RUNTIMES[runtime.value].map((b) => h("option", {value: b.id}, b.title)));
  };
  runtime.addEventListener("change", fillBlueprints);
  fillBlueprints();
  const role =
      h("input",
        {id: "new-role", required: true, value: `arn:aws:iam::${account}:role/lambda-role`, spellcheck: "false"});
  const error = h("p", {class: "error", role: "alert", id: "create-error"});
  const submit = h("button", {type: "submit"}, "Create function");
  const form = h(
      "form",
      {class: "panel form-grid", "aria-labelledby": "create-title"},
      h("h1", {id: "create-title"}, "Create function"),
      h("label",
        { for: "new-name"
        },
        "Function name"),
      name,
      h("label",
        { for: "new-runtime"
        },
        "Runtime"),
      runtime,
      h("label",
        { for: "new-blueprint"
        },
        "Blueprint"),
      blueprint,
      h("label",
        { for: "new-role"
        },
        "Execution role ARN"),
      role,
      h("div", {}, submit, " ", h("a", {href: "#/functions"}, "Cancel")),
      error,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    const bp = RUNTIMES[runtime.value].find((b) => b.id === blueprint.value)!;
    try {
      await lambda(s).send(new CreateFunctionCommand({
        FunctionName: name.value.trim(),
        Runtime: runtime.value as Runtime,
        Handler: bp.handler,
        Role: role.value.trim(),
        Code: {ZipFile: zipSync({[bp.file]: strToU8(bp.code)})},
      }));
      window.location.hash = "#/functions/" + encodeURIComponent(name.value.trim());
    } catch (e) {
      error.textContent = errorText(e);
    } finally {
      submit.disabled = false;
    }
  });
  mount(root, form);
  name.focus();
}
