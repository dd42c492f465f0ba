// The function list's "last hour" column: invocations and errors of each function in 5-minute
// steps from CloudWatch GetMetricData (500 queries per call, as AWS allows), drawn as small SVG
// lines (no markup strings, nothing the page's policy refuses).
import {CloudWatchClient, GetMetricDataCommand, MetricDataQuery} from "@aws-sdk/client-cloudwatch";

import {clientConfig, Session} from "./api";

export interface Activity {
  invocations: number[];
  errors: number[];
}

const STEPS = 12;  // 12 × 5 minutes

export async function lastHour(s: Session, names: string[]): Promise<Map<string, Activity>> {
  const cw = new CloudWatchClient(clientConfig(s));
  const end = new Date(Math.ceil(Date.now() / 300000) * 300000);
  const start = new Date(end.getTime() - STEPS * 300000);
  const out = new Map<string, Activity>();
  for (let i = 0; i < names.length; i += 250) {
    const batch = names.slice(i, i + 250);
    const queries: MetricDataQuery[] = batch.flatMap(
        (name, j) => ["Invocations", "Errors"].map(
            (metric) => ({
              Id: `${metric === "Errors" ? "e" : "i"}${i + j}`,
              ReturnData: true,
              MetricStat: {
                Metric:
                    {Namespace: "AWS/Lambda", MetricName: metric, Dimensions: [{Name: "FunctionName", Value: name}]},
                Period: 300,
                Stat: "Sum"
              },
            })));
    const r = await cw.send(new GetMetricDataCommand({StartTime: start, EndTime: end, MetricDataQueries: queries}));
    for (const res of r.MetricDataResults ?? []) {
      const index = Number(res.Id!.slice(1));
      const name = names[index];
      const series = new Array<number>(STEPS).fill(0);
      (res.Timestamps ?? []).forEach((t, k) => {
        const slot = Math.floor((new Date(t).getTime() - start.getTime()) / 300000);
        if (slot >= 0 && slot < STEPS) series[slot] += res.Values![k];
      });
      const a = out.get(name) ?? {invocations: [], errors: []};
      if (res.Id!.startsWith("e"))
        a.errors = series;
      else
        a.invocations = series;
      out.set(name, a);
    }
  }
  return out;
}

const SVG = "http://www.w3.org/2000/svg";

export function sparkline(a: Activity): Element {
  const wrap = document.createElement("span");
  wrap.className = "spark";
  const total = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const inv = total(a.invocations), err = total(a.errors);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", "96");
  svg.setAttribute("height", "20");
  svg.setAttribute("viewBox", "0 0 96 20");
  svg.setAttribute("aria-hidden", "true");
  const max = Math.max(1, ...a.invocations, ...a.errors);
  for (const [series, cls] of [[a.invocations, "spark-inv"], [a.errors, "spark-err"]] as const) {
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", series.map((v, i) => `${(i * 95) / (STEPS - 1)},${19 - (v / max) * 18}`).join(" "));
    line.setAttribute("class", cls);
    svg.append(line);
  }
  const text = document.createElement("span");
  text.className = "spark-text";
  text.textContent = `${inv} invocation${inv === 1 ? "" : "s"}, ${err} error${err === 1 ? "" : "s"}`;
  wrap.append(svg, text);
  return wrap;
}
