// The Logs tab: the function's log streams (newest first), its events with a CloudWatch Logs
// filter pattern, and a live tail (FilterLogEvents polled every two seconds from the last event).
import {CloudWatchLogsClient, DescribeLogStreamsCommand, FilteredLogEvent, FilterLogEventsCommand} from "@aws-sdk/client-cloudwatch-logs";
import {GetFunctionCommandOutput} from "@aws-sdk/client-lambda";

import {clientConfig, errorText, Session} from "./api";
import {h} from "./dom";

export async function renderLogs(panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput): Promise<void> {
  const c = fn.Configuration!;
  const group = c.LoggingConfig?.LogGroup || `/aws/lambda/${c.FunctionName}`;
  const logs = new CloudWatchLogsClient(clientConfig(s));
  const stream = h("select", {id: "logs-stream"}, h("option", {value: ""}, "All streams"));
  const pattern =
      h("input", {id: "logs-pattern", placeholder: "filter pattern, e.g. ERROR or \"timed out\"", spellcheck: "false"});
  const search = h("button", {type: "submit", id: "logs-search"}, "Search");
  const tail = h("button", {type: "button", id: "logs-tail", class: "secondary", "aria-pressed": "false"}, "Live tail");
  const status = h("p", {class: "status", role: "status", id: "logs-status"});
  const list = h("ol", {class: "log-events", id: "log-events"});
  const line = (e: FilteredLogEvent) =>
      h("li", {}, h("time", {}, new Date(e.timestamp ?? 0).toISOString().replace("T", " ").slice(0, 23)), " ",
        e.message ?? "");
  let timer: number|undefined;
  let lastTime = 0;
  const seen = new Set<string>();
  const query = async (from?: number) => {
    const out: FilteredLogEvent[] = [];
    let token: string|undefined;
    do {
      const r = await logs.send(new FilterLogEventsCommand({
        logGroupName: group,
        logStreamNames: stream.value ? [stream.value] : undefined,
        filterPattern: pattern.value || undefined,
        startTime: from,
        nextToken: token,
        limit: 1000
      }));
      out.push(...(r.events ?? []));
      token = r.nextToken;
    } while (token && out.length < 5000);
    return out;
  };
  const load = async () => {
    status.className = "status";
    status.textContent = "Loading…";
    try {
      const streams = (await logs.send(new DescribeLogStreamsCommand(
                           {logGroupName: group, orderBy: "LastEventTime", descending: true, limit: 50})))
                          .logStreams ??
          [];
      const chosen = stream.value;
      stream.replaceChildren(
          h("option", {value: ""}, "All streams"),
          ...streams.map((st) => h("option", {value: st.logStreamName!}, st.logStreamName!)));
      stream.value = chosen;
      const events = await query();
      seen.clear();
      events.forEach((e) => seen.add(e.eventId ?? ""));
      lastTime = events.reduce((m, e) => Math.max(m, e.timestamp ?? 0), 0);
      list.replaceChildren(...events.map(line));
      status.textContent = `${events.length} events in ${group}`;
    } catch (e) {
      status.className = "error";
      status.textContent = (e as {name?: string}).name === "ResourceNotFoundException" ?
          `No logs yet: ${group} does not exist (the function has not run).` :
          errorText(e);
    }
  };
  const poll = async () => {
    try {
      const fresh = (await query(lastTime || Date.now() - 60000)).filter((e) => !seen.has(e.eventId ?? ""));
      fresh.forEach((e) => {
        seen.add(e.eventId ?? "");
        lastTime = Math.max(lastTime, e.timestamp ?? 0);
        list.append(line(e));
      });
      if (fresh.length) status.textContent = `Live tail: ${fresh.length} new events`;
    } catch (e) {
      status.className = "error";
      status.textContent = errorText(e);
    }
  };
  tail.addEventListener("click", () => {
    if (timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
      tail.setAttribute("aria-pressed", "false");
      tail.textContent = "Live tail";
      return;
    }
    tail.setAttribute("aria-pressed", "true");
    tail.textContent = "Stop live tail";
    status.textContent = "Live tail: waiting for new events…";
    timer = window.setInterval(() => {
      if (!panel.isConnected) {
        clearInterval(timer);
        return;
      }
      void poll();
    }, 2000);
  });
  const form = h("form", { class: "toolbar" }, h("label", { for: "logs-stream", class: "visually-hidden" }, "Log stream"), stream,
    h("label", { for: "logs-pattern", class: "visually-hidden" }, "Filter pattern"), pattern, search, tail);
        form.addEventListener("submit", (ev) => {
          ev.preventDefault();
          void load();
        });
        stream.addEventListener("change", () => void load());
        panel.replaceChildren(form, status, list);
        await load();
      }
