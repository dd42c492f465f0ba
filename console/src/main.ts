// Lambent's web console: sign in with an access key, then the pages over Lambent's AWS APIs.
import "./style.css";

import {loadSession, saveSession, Session} from "./api";
import {h, mount} from "./dom";
import {renderFunctions} from "./functions";
import {renderSignIn} from "./signin";

const root = document.getElementById("app") as HTMLElement;
const region = document.querySelector<HTMLMetaElement>("meta[name=\"lambent-region\"]")?.content || "us-east-1";

function signedIn(s: Session): void {
  const content = h("div", {id: "content"});
  const signOut = h("button", {type: "button", id: "sign-out"}, "Sign out");
  signOut.addEventListener("click", () => {
    saveSession(null);
    start();
  });
  mount(
      root,
      h("header", {}, h("span", {class: "brand"}, "Lambent"),
        h("nav", {"aria-label": "Main"}, h("a", {href: "#/functions", "aria-current": "page"}, "Functions")),
        h("span", {class: "who", id: "who"}, s.arn ?? s.accessKeyId), signOut),
      h("main", {}, content),
  );
  void renderFunctions(content, s);
}

function start(): void {
  const s = loadSession();
  if (s)
    signedIn(s);
  else
    renderSignIn(root, region, signedIn);
}

start();
