// The SQLite store's schema: the migrations that build it, in order.
#include "store/sqlite_store.h"

namespace lambent::store {

// Each entry moves the schema one version forward; never edit a shipped entry, append a new one.
extern const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE functions (
      name         TEXT PRIMARY KEY,
      created_ms   INTEGER NOT NULL,
      tags         TEXT NOT NULL,
      policies     TEXT NOT NULL,
      next_version INTEGER NOT NULL
    );
    CREATE TABLE versions (
      function         TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
      version          TEXT NOT NULL,
      seq              INTEGER NOT NULL,
      config           TEXT NOT NULL,
      env              BLOB,
      code_digest      TEXT NOT NULL,
      code_sha256      TEXT NOT NULL,
      code_size        INTEGER NOT NULL,
      revision_id      TEXT NOT NULL,
      last_modified_ms INTEGER NOT NULL,
      state            TEXT NOT NULL,
      update_status    TEXT NOT NULL,
      PRIMARY KEY (function, version)
    ) WITHOUT ROWID;
    CREATE INDEX versions_by_code ON versions(code_digest);
    )sql",
    // 2: aliases, reserved and provisioned concurrency (a JSON column of the function), layers.
    R"sql(
    ALTER TABLE functions ADD COLUMN extras TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE layers (
      name         TEXT PRIMARY KEY,
      next_version INTEGER NOT NULL
    );
    CREATE TABLE layer_versions (
      layer       TEXT NOT NULL REFERENCES layers(name) ON DELETE CASCADE,
      version     INTEGER NOT NULL,
      meta        TEXT NOT NULL,
      code_digest TEXT NOT NULL,
      code_sha256 TEXT NOT NULL,
      code_size   INTEGER NOT NULL,
      created_ms  INTEGER NOT NULL,
      deleted     INTEGER NOT NULL,
      PRIMARY KEY (layer, version)
    ) WITHOUT ROWID;
    )sql",
    // 3: asynchronous invocations waiting to run (or to be retried).
    R"sql(
    CREATE TABLE async_events (
      id          TEXT PRIMARY KEY,
      function    TEXT NOT NULL,
      qualifier   TEXT NOT NULL,
      payload     BLOB NOT NULL,
      received_ms INTEGER NOT NULL,
      attempts    INTEGER NOT NULL,
      throttles   INTEGER NOT NULL,
      due_ms      INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX async_events_due ON async_events(due_ms);
    )sql",
    // 4: built-in queues, their messages, and event source mappings.
    R"sql(
    CREATE TABLE queues (
      name        TEXT PRIMARY KEY,
      created_s   INTEGER NOT NULL,
      modified_s  INTEGER NOT NULL,
      attributes  TEXT NOT NULL,
      tags        TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE queue_messages (
      seq              INTEGER PRIMARY KEY,
      queue            TEXT NOT NULL,
      id               TEXT NOT NULL,
      body             BLOB NOT NULL,
      attributes       TEXT NOT NULL,
      sent_ms          INTEGER NOT NULL,
      first_receive_ms INTEGER NOT NULL,
      receive_count    INTEGER NOT NULL,
      visible_ms       INTEGER NOT NULL
    );
    CREATE INDEX queue_messages_queue ON queue_messages(queue);
    CREATE TABLE event_source_mappings (
      uuid    TEXT PRIMARY KEY,
      config  TEXT NOT NULL
    ) WITHOUT ROWID;
    )sql",
    // 5: a message's latest receipt nonce, so receipt handles stay valid across restarts.
    R"sql(
    ALTER TABLE queue_messages ADD COLUMN receipt TEXT NOT NULL DEFAULT '';
    )sql",
    // 6: IAM users, roles, managed policies and access keys (secrets sealed).
    R"sql(
    CREATE TABLE iam_entities (
      kind  TEXT NOT NULL,
      name  TEXT NOT NULL,
      doc   TEXT NOT NULL,
      PRIMARY KEY (kind, name)
    ) WITHOUT ROWID;
    )sql",
    // 7: buckets, objects, multipart uploads and their parts, and unreferenced data files.
    R"sql(
    CREATE TABLE buckets (
      name       TEXT PRIMARY KEY,
      region     TEXT NOT NULL,
      owner      TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      config     TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE objects (
      bucket      TEXT NOT NULL,
      key         TEXT NOT NULL,
      size        INTEGER NOT NULL,
      etag        TEXT NOT NULL,
      modified_ms INTEGER NOT NULL,
      meta        TEXT NOT NULL,
      inline_data BLOB,
      pieces      TEXT NOT NULL,
      UNIQUE (bucket, key)
    );
    CREATE TABLE uploads (
      id           TEXT PRIMARY KEY,
      bucket       TEXT NOT NULL,
      key          TEXT NOT NULL,
      initiated_ms INTEGER NOT NULL,
      meta         TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX uploads_by_key ON uploads(bucket, key, id);
    CREATE TABLE parts (
      upload      TEXT NOT NULL,
      number      INTEGER NOT NULL,
      data_id     TEXT NOT NULL,
      size        INTEGER NOT NULL,
      etag        TEXT NOT NULL,
      checksum    TEXT NOT NULL,
      modified_ms INTEGER NOT NULL,
      PRIMARY KEY (upload, number)
    ) WITHOUT ROWID;
    CREATE INDEX parts_by_data ON parts(data_id);
    CREATE TABLE object_garbage (id TEXT PRIMARY KEY) WITHOUT ROWID;
    )sql",
    // 8: topics and subscriptions; how an asynchronous event is delivered.
    R"sql(
    CREATE TABLE topics (
      name       TEXT PRIMARY KEY,
      attributes TEXT NOT NULL,
      tags       TEXT NOT NULL,
      created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE subscriptions (
      arn        TEXT PRIMARY KEY,
      topic      TEXT NOT NULL,
      protocol   TEXT NOT NULL,
      endpoint   TEXT NOT NULL,
      owner      TEXT NOT NULL,
      attributes TEXT NOT NULL,
      confirmed  INTEGER NOT NULL,
      token      TEXT NOT NULL,
      created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX subscriptions_by_topic ON subscriptions(topic);
    ALTER TABLE async_events ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
    )sql",
    // 9: event buses and rules.
    R"sql(
    CREATE TABLE event_buses (
      name       TEXT PRIMARY KEY,
      tags       TEXT NOT NULL,
      created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE event_rules (
      bus          TEXT NOT NULL,
      name         TEXT NOT NULL,
      pattern      TEXT NOT NULL,
      schedule     TEXT NOT NULL,
      state        TEXT NOT NULL,
      description  TEXT NOT NULL,
      role_arn     TEXT NOT NULL,
      targets      TEXT NOT NULL,
      tags         TEXT NOT NULL,
      created_ms   INTEGER NOT NULL,
      last_tick_ms INTEGER NOT NULL,
      PRIMARY KEY (bus, name)
    ) WITHOUT ROWID;
    )sql",
    // 10: distributions (the edge) and their invalidations.
    R"sql(
    CREATE TABLE distributions (
      id               TEXT PRIMARY KEY,
      caller_reference TEXT NOT NULL UNIQUE,
      etag             TEXT NOT NULL,
      domain_label     TEXT NOT NULL,
      config           TEXT NOT NULL,
      tags             TEXT NOT NULL,
      created_ms       INTEGER NOT NULL,
      modified_ms      INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE invalidations (
      distribution_id  TEXT NOT NULL,
      id               TEXT NOT NULL,
      caller_reference TEXT NOT NULL,
      paths            TEXT NOT NULL,
      created_ms       INTEGER NOT NULL,
      PRIMARY KEY (distribution_id, id)
    ) WITHOUT ROWID;
    )sql",
    // 11: FIFO queues: messages' system attributes, and deduplication entries.
    R"sql(
    ALTER TABLE queue_messages ADD COLUMN system TEXT NOT NULL DEFAULT '';
    CREATE TABLE queue_dedup (
      queue      TEXT NOT NULL,
      key        TEXT NOT NULL,
      message_id TEXT NOT NULL,
      sequence   TEXT NOT NULL,
      expires_ms INTEGER NOT NULL,
      PRIMARY KEY (queue, key)
    ) WITHOUT ROWID;
    )sql",
};

extern const size_t kMigrationCount = std::size(kMigrations);

}  // namespace lambent::store
