// Topics: the list and a new topic; a topic's subscriptions (protocol, endpoint, confirmed or
// pending), a new subscription (lambda, sqs, http, https), and publishing a message with a
// subject. SNS's query protocol, signed with the user's key.
import {CreateTopicCommand, ListSubscriptionsByTopicCommand, ListTopicsCommand, PublishCommand, SNSClient, SubscribeCommand, UnsubscribeCommand,} from "@aws-sdk/client-sns";

import {clientConfig, errorText, Session} from "./api";
import {h, mount} from "./dom";

function sns(s: Session): SNSClient {
  return new SNSClient(clientConfig(s));
}

const topicName = (arn: string) => arn.slice(arn.lastIndexOf(":") + 1);

async function allTopics(client: SNSClient): Promise<string[]> {
  const out: string[] = [];
  let token: string|undefined;
  do {
    const r = await client.send(new ListTopicsCommand({NextToken: token}));
    out.push(...(r.Topics ?? []).map((t) => t.TopicArn!));
    token = r.NextToken;
  } while (token);
  return out.sort();
}

export async function renderTopics(root: HTMLElement, s: Session): Promise<void> {
  const client = sns(s);
  const status = h("p", {class: "status", role: "status", id: "topics-status"}, "Loading topics…");
  const body = h("tbody");
  const name = h("input", {id: "topic-name", required: true, spellcheck: "false"});
  const form = h("form", {class: "toolbar", id: "topic-form"}, h("label", { for: "topic-name"
                 }, "New topic"), name, h("button", {type: "submit", id: "topic-create"}, "Create topic"));
  mount(
      root,
      h("section", {"aria-labelledby": "topics-title"}, h("h1", {id: "topics-title"}, "Topics"), form, status,
        h("table", {id: "topics"},
          h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "Topic"), h("th", {scope: "col"}, "ARN"))), body)));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await client.send(new CreateTopicCommand({Name: name.value.trim()}));
      window.location.hash = "#/topics/" + encodeURIComponent(name.value.trim());
    } catch (e) {
      status.className = "error";
      status.textContent = errorText(e);
    }
  });
  try {
    const arns = await allTopics(client);
    body.replaceChildren(...arns.map(
        (arn) =>
            h("tr", {"data-topic": topicName(arn)},
              h("td", {}, h("a", {href: "#/topics/" + encodeURIComponent(topicName(arn))}, topicName(arn))),
              h("td", {}, arn))));
    status.textContent = `${arns.length} topic${arns.length === 1 ? "" : "s"}`;
  } catch (e) {
    status.className = "error";
    status.textContent = errorText(e);
  }
}

export async function renderTopic(root: HTMLElement, s: Session, name: string): Promise<void> {
  const client = sns(s);
  const status = h("p", {class: "status", role: "status", id: "topic-status"});
  const subs = h("tbody");
  const fail = (e: unknown) => {
    status.className = "error";
    status.textContent = errorText(e);
  };
  let arn = "";
  const protocol =
      h("select", {id: "sub-protocol"}, ...["lambda", "sqs", "https", "http"].map((p) => h("option", {value: p}, p)));
  const endpoint = h(
      "input", {id: "sub-endpoint", required: true, spellcheck: "false", placeholder: "function or queue ARN, or URL"});
  const subForm = h("form", {class: "toolbar", id: "sub-form"}, h("label", { for: "sub-protocol"
                    }, "Protocol"), protocol, h("label", { for: "sub-endpoint"
                    }, "Endpoint"), endpoint, h("button", {type: "submit"}, "Subscribe"));
  const subject = h("input", {id: "pub-subject"});
  const message = h("textarea", {id: "pub-message", rows: "4", required: true});
  const pubForm =
      h("form", {class: "form-grid", id: "pub-form"}, h("label", { for: "pub-subject"
        }, "Subject"), subject, h("label", { for: "pub-message"
        }, "Message"), message, h("div", {}, h("button", {type: "submit", id: "publish-message"}, "Publish message")));
  const load = async () => {
    const list = (await client.send(new ListSubscriptionsByTopicCommand({TopicArn: arn}))).Subscriptions ?? [];
    subs.replaceChildren(...list.map((sub) => {
      const un = h("button", {type: "button", class: "secondary"}, "Unsubscribe");
      un.addEventListener("click", async () => {
        try {
          await client.send(new UnsubscribeCommand({SubscriptionArn: sub.SubscriptionArn}));
          await load();
        } catch (e) {
          fail(e);
        }
      });
      const pending = !sub.SubscriptionArn?.startsWith("arn:");
      return h(
          "tr", {"data-endpoint": sub.Endpoint ?? ""}, h("td", {}, sub.Protocol ?? ""), h("td", {}, sub.Endpoint ?? ""),
          h("td", {}, pending ? "pending confirmation" : "confirmed"), h("td", {}, pending ? "" : un));
    }));
  };
  subForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await client.send(new SubscribeCommand(
          {TopicArn: arn, Protocol: protocol.value, Endpoint: endpoint.value.trim(), ReturnSubscriptionArn: true}));
      endpoint.value = "";
      status.className = "status";
      status.textContent = "Subscribed";
      await load();
    } catch (e) {
      fail(e);
    }
  });
  pubForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await client.send(
          new PublishCommand({TopicArn: arn, Message: message.value, Subject: subject.value || undefined}));
      status.className = "status";
      status.textContent = "Published " + r.MessageId;
    } catch (e) {
      fail(e);
    }
  });
  mount(
      root, h("h1", {}, h("a", {href: "#/topics"}, "Topics"), " / ", name), status, h("h2", {}, "Subscriptions"),
      h("table", {id: "subscriptions"},
        h("thead", {},
          h("tr", {}, h("th", {scope: "col"}, "Protocol"), h("th", {scope: "col"}, "Endpoint"),
            h("th", {scope: "col"}, "Status"), h("th", {scope: "col"}, ""))),
        subs),
      subForm, h("h2", {}, "Publish"), pubForm);
  try {
    arn = (await allTopics(client)).find((a) => topicName(a) === name) ?? "";
    if (!arn) throw new Error(`The topic ${name} does not exist.`);
    await load();
  } catch (e) {
    fail(e);
  }
}
