// Queues: the list (with their approximate depth), a new queue (standard or FIFO), and a queue's
// page — its attributes, sending a message, polling (ReceiveMessage, each message deletable) and
// purging. The SQS JSON protocol, signed with the user's key, like every page.
import {CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, Message, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient,} from "@aws-sdk/client-sqs";

import {clientConfig, errorText, Session} from "./api";
import {h, mount} from "./dom";

function sqs(s: Session): SQSClient {
  return new SQSClient(clientConfig(s));
}

const nameOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);

export async function renderQueues(root: HTMLElement, s: Session): Promise<void> {
  const client = sqs(s);
  const status = h("p", {class: "status", role: "status", id: "queues-status"}, "Loading queues…");
  const body = h("tbody");
  const name =
      h("input", {id: "queue-name", required: true, spellcheck: "false", pattern: "[A-Za-z0-9_\\-]{1,75}(\\.fifo)?"});
  const fifo = h("input", {id: "queue-fifo", type: "checkbox"});
  const create = h("button", {type: "submit", id: "queue-create"}, "Create queue");
  const form = h("form", {class: "toolbar", id: "queue-form"}, h("label", { for: "queue-name"
                 }, "New queue"), name, h("label", { for: "queue-fifo"
                 }, fifo, " FIFO"), create);
  mount(
      root,
      h("section", {"aria-labelledby": "queues-title"}, h("h1", {id: "queues-title"}, "Queues"), form, status,
        h("table", {id: "queues"},
          h("thead", {},
            h("tr", {}, h("th", {scope: "col"}, "Queue"), h("th", {scope: "col", class: "num"}, "Messages available"),
              h("th", {scope: "col", class: "num"}, "In flight"), h("th", {scope: "col"}, "Type"))),
          body)));
  const load = async () => {
    try {
      const urls: string[] = [];
      let token: string|undefined;
      do {
        const r = await client.send(new ListQueuesCommand({NextToken: token, MaxResults: 1000}));
        urls.push(...(r.QueueUrls ?? []));
        token = r.NextToken;
      } while (token);
      const rows = await Promise.all(urls.sort().map(async (url) => {
        const a =
            (await client.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ["All"]}))).Attributes ??
            {};
        const n = nameOf(url);
        return h(
            "tr", {"data-queue": n}, h("td", {}, h("a", {href: "#/queues/" + encodeURIComponent(n)}, n)),
            h("td", {class: "num"}, a.ApproximateNumberOfMessages ?? ""),
            h("td", {class: "num"}, a.ApproximateNumberOfMessagesNotVisible ?? ""),
            h("td", {}, a.FifoQueue === "true" ? "FIFO" : "Standard"));
      }));
      body.replaceChildren(...rows);
      status.className = "status";
      status.textContent = `${rows.length} queue${rows.length === 1 ? "" : "s"}`;
    } catch (e) {
      status.className = "error";
      status.textContent = errorText(e);
    }
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let n = name.value.trim();
    if (fifo.checked && !n.endsWith(".fifo")) n += ".fifo";
    try {
      await client.send(new CreateQueueCommand({
        QueueName: n,
        Attributes: fifo.checked ? {FifoQueue: "true", ContentBasedDeduplication: "true"} : undefined
      }));
      window.location.hash = "#/queues/" + encodeURIComponent(n);
    } catch (e) {
      status.className = "error";
      status.textContent = errorText(e);
    }
  });
  await load();
}

export async function renderQueue(root: HTMLElement, s: Session, name: string): Promise<void> {
  const client = sqs(s);
  const status = h("p", {class: "status", role: "status", id: "queue-status"});
  const attrs = h("dl", {class: "figures", id: "queue-attributes"});
  const messages = h("ol", {class: "messages", id: "queue-messages"});
  let url = "";
  let isFifo = false;
  const fail = (e: unknown) => {
    status.className = "error";
    status.textContent = errorText(e);
  };
  const loadAttributes = async () => {
    const a: Record<string, string> =
        (await client.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ["All"]}))).Attributes ?? {};
    isFifo = a.FifoQueue === "true";
    attrs.replaceChildren(...Object.keys(a).sort().flatMap((k) => [h("dt", {}, k), h("dd", {}, a[k])]));
    group.hidden = !isFifo;
    groupLabel.hidden = !isFifo;
  };
  const text = h("textarea", {id: "send-body", rows: "4"});
  const groupLabel = h("label", { for: "send-group"
  }, "Message group ID");
  const group = h("input", {id: "send-group", value: "default"});
  const send = h("button", {type: "button", id: "send"}, "Send message");
  const poll = h("button", {type: "button", id: "poll"}, "Poll for messages");
  const purge = h("button", {type: "button", id: "purge", class: "secondary"}, "Purge");
  const show = (m: Message) => {
    const del = h("button", {type: "button", class: "secondary"}, "Delete");
    const item =
        h("li", {"data-id": m.MessageId ?? ""}, h("pre", {}, m.Body ?? ""),
          h("span", {class: "status"},
            `${m.MessageId} · received ${m.Attributes?.ApproximateReceiveCount ?? "?"} time(s)`),
          " ", del);
    del.addEventListener("click", async () => {
      try {
        await client.send(new DeleteMessageCommand({QueueUrl: url, ReceiptHandle: m.ReceiptHandle}));
        item.remove();
        status.className = "status";
        status.textContent = "Deleted " + m.MessageId;
      } catch (e) {
        fail(e);
      }
    });
    return item;
  };
  send.addEventListener("click", async () => {
    try {
      const r = await client.send(new SendMessageCommand(
          {QueueUrl: url, MessageBody: text.value, MessageGroupId: isFifo ? group.value : undefined}));
      status.className = "status";
      status.textContent = "Sent " + r.MessageId;
      text.value = "";
      await loadAttributes();
    } catch (e) {
      fail(e);
    }
  });
  poll.addEventListener("click", async () => {
    poll.disabled = true;
    try {
      const r = await client.send(new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        AttributeNames: ["All"],
        MessageAttributeNames: ["All"]
      }));
      const got = r.Messages ?? [];
      messages.replaceChildren(...got.map(show));
      status.className = "status";
      status.textContent = `Received ${got.length} message${got.length === 1 ? "" : "s"}`;
      await loadAttributes();
    } catch (e) {
      fail(e);
    } finally {
      poll.disabled = false;
    }
  });
  purge.addEventListener("click", async () => {
    if (!window.confirm(`Delete every message of ${name}?`)) return;
    try {
      await client.send(new PurgeQueueCommand({QueueUrl: url}));
      messages.replaceChildren();
      status.className = "status";
      status.textContent = "Purged";
      await loadAttributes();
    } catch (e) {
      fail(e);
    }
  });
  mount(
      root, h("h1", {}, h("a", {href: "#/queues"}, "Queues"), " / ", name), status,
      h("section", {"aria-label": "Send"},
        h("label",
          { for: "send-body"
          },
          "Message body"),
        text, h("div", {class: "row"}, groupLabel, group, send)),
      h("div", {class: "toolbar"}, poll, purge), messages, h("h2", {}, "Attributes"), attrs);
  try {
    url = (await client.send(new GetQueueUrlCommand({QueueName: name}))).QueueUrl ?? "";
    await loadAttributes();
  } catch (e) {
    fail(e);
  }
}
