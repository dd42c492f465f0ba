// Builds the console into dist/ (run by make build through CMake): type-checks with tsc, bundles
// and minifies with esbuild into content-hashed files (cached forever by browsers), and writes
// dist/index.html naming them. The server fills {{region}} when it serves the page.
import * as esbuild from "esbuild";
import {execFileSync} from "node:child_process";
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {basename, dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import {constants, gzipSync} from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
execFileSync(join(here, "node_modules/.bin/tsc"), ["-p", join(here, "tsconfig.json")], {stdio: "inherit"});
const tmp = join(here, "dist.tmp");
rmSync(tmp, {recursive: true, force: true});
mkdirSync(tmp, {recursive: true});
const result = await esbuild.build({
  entryPoints: [join(here, "src/main.ts")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  platform: "browser",
  outdir: tmp,
  entryNames: "app-[hash]",
  chunkNames: "chunk-[hash]",
  splitting: true,
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((o) => o.startsWith("app-") && o.endsWith(".js"));
const css = outputs.find((o) => o.startsWith("app-") && o.endsWith(".css"));
if (!js || !css) throw new Error("esbuild gave no app js/css: " + outputs.join(", "));
// What the first page load fetches: the entry and the chunks it imports statically (the editor and
// the function page's tabs are dynamic imports, fetched when shown). Preloaded from the page, and
// listed in first-load.json for the size check of tests/e2e/test_console.py.
const byName = Object.fromEntries(Object.entries(result.metafile.outputs).map(([p, o]) => [basename(p), o]));
const firstLoad = new Set([js, css]);
const pending = [js];
while (pending.length) {
  for (const imp of byName[pending.pop()].imports) {
    const name = basename(imp.path);
    if (imp.kind === "import-statement" && !firstLoad.has(name)) {
      firstLoad.add(name);
      pending.push(name);
    }
  }
}
const preloads = [...firstLoad]
                     .filter((n) => n !== js && n.endsWith(".js"))
                     .map((n) => `<link rel="modulepreload" href="/_console/${n}">`)
                     .join("\n");
const html = readFileSync(join(here, "src/index.html"), "utf8")
                 .replace("{{js}}", js)
                 .replace("{{css}}", css)
                 .replace("{{preloads}}", preloads);
writeFileSync(join(tmp, "index.html"), html);
writeFileSync(join(tmp, "first-load.json"), JSON.stringify([...firstLoad].sort()) + "\n");
// The content-hashed files compressed here once, not at every server start: <file>.gz where it pays.
for (const name of readdirSync(tmp)) {
  if (name === "index.html") continue;  // the server fills in its region, then compresses it
  const body = readFileSync(join(tmp, name));
  if (body.length <= 512) continue;
  const gz = gzipSync(body, {level: constants.Z_BEST_COMPRESSION});
  if (gz.length < body.length) writeFileSync(join(tmp, name + ".gz"), gz);
}
rmSync(join(here, "dist"), {recursive: true, force: true});
renameSync(tmp, join(here, "dist"));
console.log(`console: dist/${js}, dist/${css}`);
