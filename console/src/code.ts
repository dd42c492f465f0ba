// The Code tab: the package's files in CodeMirror 6 (the language by extension), create, rename
// and delete files, Save (Ctrl+S) zips them in the browser and calls UpdateFunctionCode, showing
// the update until it is done; upload a zip; download the package.
import {GetFunctionCommandOutput, UpdateFunctionCodeCommand} from "@aws-sdk/client-lambda";
import {java} from "@codemirror/lang-java";
import {javascript} from "@codemirror/lang-javascript";
import {python} from "@codemirror/lang-python";
import {StreamLanguage} from "@codemirror/language";
import {csharp} from "@codemirror/legacy-modes/mode/clike";
import {go} from "@codemirror/legacy-modes/mode/go";
import {ruby} from "@codemirror/legacy-modes/mode/ruby";
import {shell} from "@codemirror/legacy-modes/mode/shell";
import {EditorState} from "@codemirror/state";
import {basicSetup, EditorView} from "codemirror";
import {strFromU8, strToU8, unzipSync, zipSync} from "fflate";

import {act, lambda, Session} from "./api";
import {h} from "./dom";
import {waitUpdated} from "./function";

function language(file: string) {
  const ext = file.slice(file.lastIndexOf(".") + 1).toLowerCase();
  switch (ext) {
    case "py":
      return [python()];
    case "js":
    case "mjs":
    case "cjs":
    case "json":
      return [javascript()];
    case "ts":
    case "mts":
      return [javascript({typescript: true})];
    case "java":
      return [java()];
    case "rb":
      return [StreamLanguage.define(ruby)];
    case "go":
      return [StreamLanguage.define(go)];
    case "cs":
      return [StreamLanguage.define(csharp)];
    case "sh":
      return [StreamLanguage.define(shell)];
    default:
      return file === "bootstrap" ? [StreamLanguage.define(shell)] : [];
  }
}

function isText(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", {fatal: true}).decode(bytes);
    return !bytes.includes(0);
  } catch {
    return false;
  }
}

export async function renderCode(panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput): Promise<void> {
  const name = fn.Configuration!.FunctionName!;
  const files = new Map<string, Uint8Array>();
  const location = fn.Code?.Location;
  if (location) {
    const r = await fetch(location);
    if (!r.ok) throw new Error(`The package could not be downloaded (${r.status})`);
    const unzipped = unzipSync(new Uint8Array(await r.arrayBuffer()));
    for (const [path, bytes] of Object.entries(unzipped))
      if (!path.endsWith("/")) files.set(path, bytes);
  }
  let current = [...files.keys()].sort()[0] ?? "";
  const list = h("ul", {class: "files", id: "file-list", "aria-label": "Files"});
  const status = h("p", {class: "status", role: "status", id: "code-status"});
  // The editor lives in a shadow root: CodeMirror then gives its styles to the root's
  // adoptedStyleSheets instead of <style> elements, which the page's CSP (style-src 'self') refuses.
  const editorHost = h("div", {class: "editor", id: "editor"});
  const shadow = editorHost.attachShadow({mode: "open"});
  const editorParent = document.createElement("div");
  shadow.append(editorParent);
  const view = new EditorView({parent: editorParent, root: shadow});
  const dirty = () => (status.textContent = "Unsaved changes");

  const load = (file: string) => {
    current = file;
    const bytes = files.get(file);
    const text = bytes && isText(bytes) ? strFromU8(bytes) :
        bytes                           ? "(a binary file: replace it by uploading a zip)" :
                                          "";
    view.setState(
        editorState(
            text, file, bytes !== undefined && !isText(bytes),
            () => {
              files.set(current, strToU8(view.state.doc.toString()));
              dirty();
            }),
    );
    renderList();
  };
  // The package as a tree: folders (in path order) with their files indented beneath them.
  const renderList = () => {
    const items: HTMLElement[] = [];
    const shownDirs = new Set<string>();
    for (const f of [...files.keys()].sort()) {
      const parts = f.split("/");
      for (let d = 1; d < parts.length; d++) {
        const dir = parts.slice(0, d).join("/");
        if (shownDirs.has(dir)) continue;
        shownDirs.add(dir);
        items.push(h("li", {class: "dir"}, parts[d - 1] + "/"));
        items[items.length - 1].style.paddingLeft = `${(d - 1) * 0.9}rem`;
      }
      const item =
          h("li", {},
            h("button", {
              type: "button",
              class: f === current ? "file current" : "file",
              "aria-current": f === current ? "true" : "false",
              title: f,
              onclick: (() => load(f)) as EventListener,
            },
              parts[parts.length - 1]));
      item.style.paddingLeft = `${(parts.length - 1) * 0.9}rem`;
      items.push(item);
    }
    list.replaceChildren(...items);
  };
  ;

  const newName =
      h("input", {id: "file-name", placeholder: "path/name.py", spellcheck: "false", "aria-label": "File name"});
  const add = h("button", {type: "button", id: "file-new"}, "New file");
  const rename = h("button", {type: "button", id: "file-rename"}, "Rename");
  const remove = h("button", {type: "button", id: "file-delete", class: "secondary"}, "Delete");
  add.addEventListener("click", () => {
    const n = newName.value.trim();
    if (!n || files.has(n)) return;
    files.set(n, new Uint8Array());
    newName.value = "";
    load(n);
    dirty();
  });
  rename.addEventListener("click", () => {
    const n = newName.value.trim();
    if (!n || !current || files.has(n)) return;
    files.set(n, files.get(current)!);
    files.delete(current);
    newName.value = "";
    load(n);
    dirty();
  });
  remove.addEventListener("click", () => {
    if (!current) return;
    files.delete(current);
    load([...files.keys()].sort()[0] ?? "");
    dirty();
  });

  const save = h("button", {type: "button", id: "code-save", title: "Ctrl+S"}, "Save");
  const deploy = (zip: Uint8Array) => act(save, status, async () => {
    await lambda(s).send(new UpdateFunctionCodeCommand({FunctionName: name, ZipFile: zip}));
    await waitUpdated(s, name, (t) => (status.textContent = "Updating: " + t));
    return "Saved and deployed";
  }, "Saving…");
  const zipAll = () => zipSync(Object.fromEntries(files));
  save.addEventListener("click", () => void deploy(zipAll()));
  panel.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "s") {
      ev.preventDefault();
      void deploy(zipAll());
    }
  });
  const upload = h("input", {type: "file", id: "code-upload", accept: ".zip,.jar,application/zip"});
  upload.addEventListener("change", async () => {
    const file = upload.files?.[0];
    if (file) await deploy(new Uint8Array(await file.arrayBuffer()));
  });
  const download = h("button", {type: "button", id: "code-download", class: "secondary"}, "Download .zip");
  download.addEventListener("click", () => {
    const a =
        h("a", {href: URL.createObjectURL(new Blob([zipAll()], {type: "application/zip"})), download: name + ".zip"});
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  });

  panel.replaceChildren(
      h("div", {class: "toolbar"}, save,
        h("label",
          { for: "code-upload"
          },
          "Upload .zip"),
        upload, download, status),
      h("div", {class: "code"},
        h("div", {class: "filepane"}, list, newName, h("div", {class: "row"}, add, rename, remove)), editorHost),
  );
  load(current);
}

function editorState(text: string, file: string, readOnly: boolean, onChange: () => void): EditorState {
  return EditorState.create({
    doc: text,
    extensions: [
      basicSetup,
      ...language(file),
      EditorState.readOnly.of(readOnly),
      EditorView.theme({"&": {height: "32rem", fontSize: "0.9rem"}, ".cm-scroller": {overflow: "auto"}}),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) onChange();
      }),
      EditorView.contentAttributes.of({"aria-label": `Code of ${file || "the function"}`}),
    ],
  });
}
