// Builds the console into dist/ (run by make build through CMake): type-checks with tsc, bundles
// and minifies with esbuild into content-hashed files (cached forever by browsers), and writes
// dist/index.html naming them. The server fills {{region}} when it serves the page.
import * as esbuild from "esbuild";
import {execFileSync} from "node:child_process";
import {mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {basename, dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

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
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((o) => o.endsWith(".js"));
const css = outputs.find((o) => o.endsWith(".css"));
if (!js || !css) throw new Error("esbuild gave no app js/css: " + outputs.join(", "));
const html = readFileSync(join(here, "src/index.html"), "utf8").replace("{{js}}", js).replace("{{css}}", css);
writeFileSync(join(tmp, "index.html"), html);
rmSync(join(here, "dist"), {recursive: true, force: true});
renameSync(tmp, join(here, "dist"));
console.log(`console: dist/${js}, dist/${css}`);
