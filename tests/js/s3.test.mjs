// Object storage with the AWS SDK for JavaScript v3: client-s3 (whose uploads are aws-chunked
// bodies with a CRC32 trailer, and whose downloads validate the returned checksums) and
// lib-storage's multipart Upload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { startServer } from "./server.mjs";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  DeleteObjectsCommand,
  CopyObjectCommand,
  NoSuchKey,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const here = path.dirname(fileURLToPath(import.meta.url));
const LAMBENT = process.env.LAMBENT_BIN || path.join(here, "..", "..", "build", "bin", "lambent");
const rootKey = {
  accessKeyId: "AKIA" + crypto.randomBytes(8).toString("hex").toUpperCase(),
  secretAccessKey: crypto.randomBytes(30).toString("base64"),
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lambent-js-s3-"));
const cache = fs.mkdtempSync("/dev/shm/lambent-js-s3-cache-");
let server;
let s3;

before(async () => {
  let port;
  ({ server, port } = await startServer(LAMBENT, tmp, cache, rootKey));
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: rootKey,
    forcePathStyle: true, maxAttempts: 1,
  });
});

after(() => {
  server?.kill("SIGTERM");
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(cache, { recursive: true, force: true });
});

const bodyText = async (r) => Buffer.from(await r.Body.transformToByteArray());

test("client-s3: streamed (aws-chunked) uploads with checksums, reads, listing, copy, delete", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "js-bucket" }));
  // A stream body of unknown length: the SDK sends it aws-chunked with a CRC32 trailer.
  const data = crypto.randomBytes(3 * 1024 * 1024 + 7);
  const put = await s3.send(new PutObjectCommand({
    Bucket: "js-bucket", Key: "stream.bin", Body: Readable.from([data.subarray(0, 1000000), data.subarray(1000000)]),
    ContentLength: data.length, ContentType: "application/x-js", Metadata: { from: "js" },
  }));
  assert.equal(put.ETag, `"${crypto.createHash("md5").update(data).digest("hex")}"`);
  assert.ok(put.ChecksumCRC32, "the checksum the SDK computed is echoed");
  // A buffer body with an explicit SHA256 checksum.
  const small = Buffer.from("hello from js");
  const put2 = await s3.send(new PutObjectCommand({
    Bucket: "js-bucket", Key: "dir/small.txt", Body: small, ChecksumAlgorithm: "SHA256",
  }));
  assert.equal(put2.ChecksumSHA256, crypto.createHash("sha256").update(small).digest("base64"));
  // GetObject: the SDK validates the checksum S3 returns for whole-object reads.
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "stream.bin", ChecksumMode: "ENABLED" }));
  assert.deepEqual(await bodyText(got), data);
  assert.equal(got.ContentType, "application/x-js");
  assert.deepEqual(got.Metadata, { from: "js" });
  const ranged = await s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "stream.bin", Range: "bytes=100-199" }));
  assert.deepEqual(await bodyText(ranged), data.subarray(100, 200));
  const head = await s3.send(new HeadObjectCommand({ Bucket: "js-bucket", Key: "dir/small.txt" }));
  assert.equal(head.ContentLength, small.length);
  await s3.send(new CopyObjectCommand({ Bucket: "js-bucket", Key: "copy.txt", CopySource: "js-bucket/dir/small.txt" }));
  const list = await s3.send(new ListObjectsV2Command({ Bucket: "js-bucket", Delimiter: "/" }));
  assert.deepEqual(list.Contents.map((o) => o.Key), ["copy.txt", "stream.bin"]);
  assert.deepEqual(list.CommonPrefixes.map((p) => p.Prefix), ["dir/"]);
  const del = await s3.send(new DeleteObjectsCommand({ Bucket: "js-bucket", Delete: { Objects: [{ Key: "copy.txt" }] } }));
  assert.deepEqual(del.Deleted.map((d) => d.Key), ["copy.txt"]);
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: "js-bucket", Key: "copy.txt" })), NoSuchKey);
});

test("lib-storage Upload: a multipart upload from a stream", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "js-upload" }));
  const data = crypto.randomBytes(17 * 1024 * 1024 + 3);
  const chunks = [];
  for (let i = 0; i < data.length; i += 1024 * 1024) chunks.push(data.subarray(i, i + 1024 * 1024));
  const upload = new Upload({
    client: s3, queueSize: 3, partSize: 5 * 1024 * 1024,
    params: { Bucket: "js-upload", Key: "big.bin", Body: Readable.from(chunks), ContentType: "x/big" },
  });
  const done = await upload.done();
  assert.match(done.ETag, /-4"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: "js-upload", Key: "big.bin" }));
  assert.equal(got.ContentType, "x/big");
  assert.ok((await bodyText(got)).equals(data));
});
