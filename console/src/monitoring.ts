// The Monitoring tab: Invocations, Errors, Duration (average, p50, p99), Throttles and
// ConcurrentExecutions of the function over a chosen range, from the CloudWatch API
// (GetMetricData), drawn with uPlot.
import {CloudWatchClient, GetMetricDataCommand, MetricDataQuery} from "@aws-sdk/client-cloudwatch";
import {GetFunctionCommandOutput} from "@aws-sdk/client-lambda";
import uPlot from "uplot";

import {clientConfig, errorText, Session} from "./api";
import {h} from "./dom";

const RANGES: Record<string, number> = {
  "1 hour": 3600,
  "3 hours": 3 * 3600,
  "12 hours": 12 * 3600,
  "1 day": 86400,
  "1 week": 7 * 86400
};

interface Chart {
  id: string;
  title: string;
  unit: string;
  series: {metric: string; stat: string; label: string; color: string}[];
}

const CHARTS: Chart[] = [
  {
    id: "invocations",
    title: "Invocations",
    unit: "count",
    series: [{metric: "Invocations", stat: "Sum", label: "Invocations", color: "#1f6feb"}]
  },
  {
    id: "errors",
    title: "Errors",
    unit: "count",
    series: [{metric: "Errors", stat: "Sum", label: "Errors", color: "#b42318"}]
  },
  {
    id: "duration",
    title: "Duration",
    unit: "ms",
    series: [
      {metric: "Duration", stat: "Average", label: "average", color: "#1f6feb"},
      {metric: "Duration", stat: "p50", label: "p50", color: "#1a7f37"},
      {metric: "Duration", stat: "p99", label: "p99", color: "#b54708"}
    ]
  },
  {
    id: "throttles",
    title: "Throttles",
    unit: "count",
    series: [{metric: "Throttles", stat: "Sum", label: "Throttles", color: "#b42318"}]
  },
  {
    id: "concurrency",
    title: "Concurrent executions",
    unit: "count",
    series: [{metric: "ConcurrentExecutions", stat: "Maximum", label: "Maximum", color: "#6e40c9"}]
  },
];

export async function renderMonitoring(panel: HTMLElement, s: Session, fn: GetFunctionCommandOutput): Promise<void> {
  const name = fn.Configuration!.FunctionName!;
  const cw = new CloudWatchClient(clientConfig(s));
  const range = h("select", {id: "metrics-range"}, ...Object.keys(RANGES).map((r) => h("option", {value: r}, r)));
  const refresh = h("button", {type: "button", id: "metrics-refresh", class: "secondary"}, "Refresh");
  const status = h("p", {class: "status", role: "status", id: "metrics-status"});
  const grid = h("div", {class: "charts"});
  let plots: uPlot[] = [];
  const draw = async () => {
    status.className = "status";
    status.textContent = "Loading metrics…";
    const seconds = RANGES[range.value];
    const period = seconds <= 3 * 3600 ? 60 : seconds <= 86400 ? 300 : 3600;
    const end = new Date(Math.ceil(Date.now() / 60000) * 60000);
    const start = new Date(end.getTime() - seconds * 1000);
    const queries: MetricDataQuery[] = [];
    CHARTS.forEach((c, ci) => c.series.forEach((sr, si) => queries.push({
      Id: `m${ci}_${si}`,
      ReturnData: true,
      MetricStat: {
        Metric: {Namespace: "AWS/Lambda", MetricName: sr.metric, Dimensions: [{Name: "FunctionName", Value: name}]},
        Period: period,
        Stat: sr.stat
      },
    })));
    let results;
    try {
      results = (await cw.send(new GetMetricDataCommand({StartTime: start, EndTime: end, MetricDataQueries: queries})))
                    .MetricDataResults ??
          [];
    } catch (e) {
      status.className = "error";
      status.textContent = errorText(e);
      return;
    }
    plots.forEach((p) => p.destroy());
    plots = [];
    grid.replaceChildren();
    const xs: number[] = [];
    for (let t = start.getTime() / 1000; t < end.getTime() / 1000; t += period) xs.push(t);
    let total = 0;
    CHARTS.forEach((c, ci) => {
      const data: (number|null)[][] = c.series.map((_, si) => {
        const r = results!.find((x) => x.Id === `m${ci}_${si}`);
        const byTime = new Map<number, number>();
        (r?.Timestamps ??
         []).forEach((ts, i) => byTime.set(Math.floor(new Date(ts).getTime() / 1000 / period) * period, r!.Values![i]));
        return xs.map((x) => byTime.get(Math.floor(x / period) * period) ?? (c.unit === "count" ? 0 : null));
      });
      if (c.id === "invocations") total = (data[0] as number[]).reduce((a, b) => a + (b ?? 0), 0);
      const box = h("figure", {class: "chart", id: "chart-" + c.id}, h("figcaption", {}, `${c.title} (${c.unit})`));
      grid.append(box);
      plots.push(new uPlot(
          {
            width: 560,
            height: 200,
            series: [
              {},
              ...c.series.map(
                  (sr) =>
                      ({label: sr.label, stroke: sr.color, width: 2, spanGaps: false, points: {show: true, size: 4}}))
            ],
            axes: [{}, {size: 50}],
            scales: {
              y: {range: (_u: uPlot, min: number, max: number) => [0, Math.max(max, c.unit === "count" ? 1 : min + 1)]}
            },
          },
          [xs, ...data] as uPlot.AlignedData, box));
      box.dataset.total = String(data[0].reduce((a: number, b) => a + (b ?? 0), 0));
    });
    status.textContent =
        `${total} invocation${total === 1 ? "" : "s"} in the last ${range.value} (one point per ${period / 60} min)`;
  };
  range.addEventListener("change", () => void draw());
  refresh.addEventListener("click", () => void draw());
  panel.replaceChildren(h("div", {class: "toolbar"}, h("label", { for: "metrics-range"
                          }, "Range"), range, refresh), status, grid);
  await draw();
}
