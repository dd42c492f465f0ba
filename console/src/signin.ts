// Sign-in with an access key (an IAM user's, or the root key): checked with STS
// GetCallerIdentity, kept in this tab's sessionStorage only.
import {GetCallerIdentityCommand} from "@aws-sdk/client-sts";

import {errorText, saveSession, Session, sts} from "./api";
import {h, mount} from "./dom";

export function renderSignIn(root: HTMLElement, region: string, onSignedIn: (s: Session) => void): void {
  const keyId =
      h("input",
        {id: "access-key-id", name: "accessKeyId", autocomplete: "username", required: true, spellcheck: "false"});
  const secret = h("input", {
    id: "secret-access-key",
    name: "secretAccessKey",
    type: "password",
    autocomplete: "current-password",
    required: true
  });
  const token = h("input", {id: "session-token", name: "sessionToken", autocomplete: "off"});
  const regionInput = h("input", {id: "region", name: "region", value: region, required: true});
  const error = h("p", {class: "error", role: "alert", id: "signin-error"});
  const submit = h("button", {type: "submit"}, "Sign in");
  const form = h(
      "form",
      {class: "signin", "aria-labelledby": "signin-title"},
      h("h1", {id: "signin-title"}, "Sign in to Lambent"),
      h("label",
        { for: "access-key-id"
        },
        "Access key ID"),
      keyId,
      h("label",
        { for: "secret-access-key"
        },
        "Secret access key"),
      secret,
      h("label",
        { for: "session-token"
        },
        "Session token (temporary credentials only)"),
      token,
      h("label",
        { for: "region"
        },
        "Region"),
      regionInput,
      submit,
      error,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    const s: Session = {
      accessKeyId: keyId.value.trim(),
      secretAccessKey: secret.value,
      sessionToken: token.value.trim() || undefined,
      region: regionInput.value.trim(),
    };
    try {
      const who = await sts(s).send(new GetCallerIdentityCommand({}));
      s.arn = who.Arn;
      saveSession(s);
      onSignedIn(s);
    } catch (e) {
      error.textContent = errorText(e);
    } finally {
      submit.disabled = false;
    }
  });
  mount(root, h("main", {class: "centered"}, form));
  keyId.focus();
}
