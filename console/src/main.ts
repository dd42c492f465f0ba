// Lambent's web console: sign in with an access key, then the pages over Lambent's AWS APIs,
// routed by the URL's fragment (#/functions, #/create, #/functions/<name>/<tab>).
import "./style.css";
import "uplot/dist/uPlot.min.css";

import {loadSession, saveSession, Session} from "./api";
import {h, mount} from "./dom";
import {renderFunction, Tab} from "./function";
import {renderFunctions} from "./functions";
import {renderSignIn} from "./signin";

const root = document.getElementById("app") as HTMLElement;
const region = document.querySelector<HTMLMetaElement>("meta[name=\"lambent-region\"]")?.content || "us-east-1";

// The function page's tabs; the editor (CodeMirror) and the other tabs load when first shown.
const TABS: Tab[] = [
  {id: "code", title: "Code", render: async (p, s, fn) => (await import("./code")).renderCode(p, s, fn)},
  {id: "test", title: "Test", render: async (p, s, fn) => (await import("./testtab")).renderTest(p, s, fn)},
  {
    id: "configuration",
    title: "Configuration",
    render: async (p, s, fn, reload) => (await import("./configtab")).renderConfig(p, s, fn, reload)
  },
  {
    id: "versions",
    title: "Versions and aliases",
    render: async (p, s, fn) => (await import("./versions")).renderVersions(p, s, fn)
  },
  {
    id: "monitoring",
    title: "Monitoring",
    render: async (p, s, fn) => (await import("./monitoring")).renderMonitoring(p, s, fn)
  },
  {id: "logs", title: "Logs", render: async (p, s, fn) => (await import("./logs")).renderLogs(p, s, fn)},
];

let session: Session|null = null;
let content: HTMLElement|null = null;

function route(): void {
  if (!session || !content) return;
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "topics") {
    void import("./topics")
        .then((m) => parts[1] ? m.renderTopic(content!, session!, parts[1]) : m.renderTopics(content!, session!));
  } else if (parts[0] === "rules") {
    void import("./rules").then(
        (m) => parts[1] ? m.renderRule(content!, session!, parts[1]) : m.renderRules(content!, session!));
  } else if (parts[0] === "buckets") {
    void import("./buckets")
        .then(
            (m) => parts[1] ? m.renderBucket(content!, session!, parts[1], parts.slice(2).join("/")) :
                              m.renderBuckets(content!, session!));
  } else if (parts[0] === "queues") {
    void import("./queues")
        .then((m) => parts[1] ? m.renderQueue(content!, session!, parts[1]) : m.renderQueues(content!, session!));
  } else if (parts[0] === "create") {
    void import("./create").then((m) => m.renderCreate(content!, session!));
  } else if (parts[0] === "functions" && parts[1]) {
    void renderFunction(content, session, parts[1], TABS, parts[2] ?? "code");
  } else {
    void renderFunctions(content, session);
  }
}

function signedIn(s: Session): void {
  session = s;
  content = h("div", {id: "content"});
  const signOut = h("button", {type: "button", id: "sign-out"}, "Sign out");
  signOut.addEventListener("click", () => {
    saveSession(null);
    session = null;
    start();
  });
  mount(
      root,
      h("header", {}, h("span", {class: "brand"}, "Lambent"),
        h("nav", {"aria-label": "Main"}, h("a", {href: "#/functions"}, "Functions"),
          h("a", {href: "#/create"}, "Create function"), h("a", {href: "#/queues"}, "Queues"),
          h("a", {href: "#/buckets"}, "Buckets"), h("a", {href: "#/topics"}, "Topics"),
          h("a", {href: "#/rules"}, "Rules")),
        h("span", {class: "who", id: "who"}, s.arn ?? s.accessKeyId), signOut),
      h("main", {}, content),
  );
  route();
}

function start(): void {
  const s = loadSession();
  if (s)
    signedIn(s);
  else
    renderSignIn(root, region, signedIn);
}

window.addEventListener("hashchange", route);
start();
