// Buckets: the list, a new bucket, and a bucket's objects browsed by prefix (folders from the
// "/" delimiter), uploads with progress (a presigned PUT sent with XMLHttpRequest, whose upload
// events fetch() does not give), downloads (a presigned GET), and deletes. Path-style requests to
// this origin, signed with the user's key.
import {CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client,} from "@aws-sdk/client-s3";
import {getSignedUrl} from "@aws-sdk/s3-request-presigner";

import {clientConfig, errorText, Session} from "./api";
import {h, mount} from "./dom";

function s3(s: Session): S3Client {
  return new S3Client({...clientConfig(s), forcePathStyle: true});
}

export async function renderBuckets(root: HTMLElement, s: Session): Promise<void> {
  const client = s3(s);
  const status = h("p", {class: "status", role: "status", id: "buckets-status"}, "Loading buckets…");
  const body = h("tbody");
  const name = h(
      "input", {id: "bucket-name", required: true, spellcheck: "false", pattern: "[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]"});
  const form = h("form", {class: "toolbar", id: "bucket-form"}, h("label", { for: "bucket-name"
                 }, "New bucket"), name, h("button", {type: "submit", id: "bucket-create"}, "Create bucket"));
  mount(
      root,
      h("section", {"aria-labelledby": "buckets-title"}, h("h1", {id: "buckets-title"}, "Buckets"), form, status,
        h("table", {id: "buckets"},
          h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "Bucket"), h("th", {scope: "col"}, "Created"))), body)));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await client.send(new CreateBucketCommand({Bucket: name.value.trim()}));
      window.location.hash = "#/buckets/" + encodeURIComponent(name.value.trim());
    } catch (e) {
      status.className = "error";
      status.textContent = errorText(e);
    }
  });
  try {
    const buckets = (await client.send(new ListBucketsCommand({}))).Buckets ?? [];
    body.replaceChildren(...buckets.map(
        (b) => h(
            "tr", {"data-bucket": b.Name ?? ""},
            h("td", {}, h("a", {href: "#/buckets/" + encodeURIComponent(b.Name ?? "")}, b.Name ?? "")),
            h("td", {}, b.CreationDate ? b.CreationDate.toISOString().replace("T", " ").slice(0, 19) + " UTC" : ""))));
    status.textContent = `${buckets.length} bucket${buckets.length === 1 ? "" : "s"}`;
  } catch (e) {
    status.className = "error";
    status.textContent = errorText(e);
  }
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export async function renderBucket(root: HTMLElement, s: Session, bucket: string, prefix: string): Promise<void> {
  const client = s3(s);
  const status = h("p", {class: "status", role: "status", id: "objects-status"});
  const body = h("tbody");
  const file = h("input", {type: "file", id: "object-upload", multiple: true});
  const progress = h("progress", {id: "upload-progress", max: "100", value: "0", hidden: true});
  const fail = (e: unknown) => {
    status.className = "error";
    status.textContent = errorText(e);
  };
  const crumbs = h("span", {}, h("a", {href: "#/buckets/" + encodeURIComponent(bucket)}, bucket));
  let path = "";
  for (const part of prefix.split("/").filter(Boolean)) {
    path += part + "/";
    crumbs.append(" / ", h("a", {href: `#/buckets/${encodeURIComponent(bucket)}/${encodeURIComponent(path)}`}, part));
  }
  mount(
      root, h("h1", {}, h("a", {href: "#/buckets"}, "Buckets"), " / ", crumbs), status,
      h("div", {class: "toolbar"},
        h("label",
          { for: "object-upload"
          },
          "Upload files"),
        file, progress),
      h("table", {id: "objects"},
        h("thead", {},
          h("tr", {}, h("th", {scope: "col"}, "Name"), h("th", {scope: "col", class: "num"}, "Size"),
            h("th", {scope: "col"}, "Last modified"), h("th", {scope: "col"}, ""))),
        body));
  const load = async () => {
    try {
      const rows: HTMLElement[] = [];
      let token: string|undefined;
      do {
        const r = await client.send(new ListObjectsV2Command(
            {Bucket: bucket, Prefix: prefix || undefined, Delimiter: "/", ContinuationToken: token}));
        for (const p of r.CommonPrefixes ?? []) {
          const name = p.Prefix!.slice(prefix.length);
          rows.push(
              h("tr", {"data-key": p.Prefix!},
                h("td", {},
                  h("a", {href: `#/buckets/${encodeURIComponent(bucket)}/${encodeURIComponent(p.Prefix!)}`}, name)),
                h("td", {}, ""), h("td", {}, "folder"), h("td", {}, "")));
        }
        for (const o of r.Contents ?? []) {
          const key = o.Key!;
          const download = h("button", {type: "button", class: "secondary"}, "Download");
          download.addEventListener("click", async () => {
            try {
              const url =
                  await getSignedUrl(client, new GetObjectCommand({Bucket: bucket, Key: key}), {expiresIn: 300});
              const a = h("a", {href: url, download: key.slice(key.lastIndexOf("/") + 1)});
              a.click();
            } catch (e) {
              fail(e);
            }
          });
          const del = h("button", {type: "button", class: "secondary"}, "Delete");
          del.addEventListener("click", async () => {
            if (!window.confirm(`Delete ${key}?`)) return;
            try {
              await client.send(new DeleteObjectCommand({Bucket: bucket, Key: key}));
              await load();
            } catch (e) {
              fail(e);
            }
          });
          rows.push(
              h("tr", {"data-key": key}, h("td", {}, key.slice(prefix.length)),
                h("td", {class: "num"}, size(o.Size ?? 0)),
                h("td", {}, o.LastModified ? o.LastModified.toISOString().replace("T", " ").slice(0, 19) + " UTC" : ""),
                h("td", {}, h("span", {class: "row"}, download, del))));
        }
        token = r.NextContinuationToken;
      } while (token);
      body.replaceChildren(...rows);
      status.className = "status";
      status.textContent = `${rows.length} item${rows.length === 1 ? "" : "s"}`;
    } catch (e) {
      fail(e);
    }
  };
  const put = (url: string, f: File, done: number, total: number) => new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    if (f.type) xhr.setRequestHeader("Content-Type", f.type);
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) progress.value = Math.round(((done + ev.loaded) / total) * 100);
    });
    xhr.addEventListener(
        "load",
        () =>
            (xhr.status < 300 ?
                 resolve() :
                 reject(new Error(`Upload of ${f.name} failed: ${xhr.status} ${xhr.responseText.slice(0, 300)}`))));
    xhr.addEventListener("error", () => reject(new Error(`Upload of ${f.name} failed`)));
    xhr.send(f);
  });
  file.addEventListener("change", async () => {
    const files = [...(file.files ?? [])];
    if (!files.length) return;
    const total = files.reduce((n, f) => n + f.size, 0) || 1;
    progress.hidden = false;
    progress.value = 0;
    let done = 0;
    try {
      for (const f of files) {
        status.className = "status";
        status.textContent = `Uploading ${f.name}…`;
        const url = await getSignedUrl(
            client, new PutObjectCommand({Bucket: bucket, Key: prefix + f.name, ContentType: f.type || undefined}),
            {expiresIn: 300});
        await put(url, f, done, total);
        done += f.size;
      }
      progress.value = 100;
      await load();
      status.textContent = `Uploaded ${files.length} file${files.length === 1 ? "" : "s"}`;
    } catch (e) {
      fail(e);
    }
    file.value = "";
  });
  await load();
}
