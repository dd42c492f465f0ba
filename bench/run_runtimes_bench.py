#!/usr/bin/env python3
"""Cold and warm starts per runtime (issue 20): a trivial handler at 1,769 MB in python3.11 (the
baseline), ruby3.2, java17 and the C# runtime (Mono), measured in one run with the runtimes'
order alternating from round to round. Cold: a new function each time (invoke to response from
the client, and the REPORT line's Init Duration), after a pause that lets the spawner refill its
pool of ready sandboxes. Warm: bench_load at c=1 on an already warm function. Prints a markdown
table for docs/benchmarks.md.

    /usr/bin/python3 bench/run_runtimes_bench.py [--rounds 5] [--seconds 3]

Needs root (execution environments), a built tree, a JDK (java17) and Mono's mcs (C#).
"""

import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from benchlib import load  # noqa: E402
from harness import ROLE, Server, make_zip  # noqa: E402
from run_invoke_bench import invoke_once  # noqa: E402
import test_runtimes  # noqa: E402

JAVA = """
package bench;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;
public class Noop implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    return event;
  }
}
"""


def java_code():
    import tempfile, shutil
    work = tempfile.mkdtemp(prefix="bench-java-")
    try:
        os.makedirs(os.path.join(work, "src", "bench"))
        src = os.path.join(work, "src", "bench", "Noop.java")
        with open(src, "w") as f:
            f.write(JAVA)
        out = os.path.join(work, "classes")
        test_runtimes.javac(out, [src], [os.path.join(test_runtimes.JAVA_LIB,
                                                      "aws-lambda-java-core.jar")])
        with open(os.path.join(out, "bench", "Noop.class"), "rb") as f:
            return make_zip({"bench/Noop.class": f.read()})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def runtimes():
    out = {
        "python3.11": dict(Runtime="python3.11", Handler="app.handler",
                           Code=make_zip({"app.py": "def handler(event, context):\n    return event\n"})),
        "ruby3.2": dict(Runtime="ruby3.2", Handler="app.handler",
                        Code=make_zip({"app.rb": "def handler(event:, context:)\n  event\nend\n"})),
        "java17": dict(Runtime="java17", Handler="bench.Noop", Code=java_code()),
    }
    csharp = getattr(test_runtimes, "csharp_bench_package", None)
    if csharp:
        out.update(csharp())
    return out


def slug(label):
    return re.sub(r"[^a-z0-9]", "", label.lower())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    args = ap.parse_args()
    specs = runtimes()
    server = Server().start("--memory-budget-mb", "200000", "--log-level", "warn")
    client = server.lambda_client()
    cold, init, warm = {}, {}, {}
    try:
        for label, spec in specs.items():
            client.create_function(FunctionName="warm-" + slug(label), Role=ROLE,
                                   MemorySize=1769, Timeout=30, Runtime=spec["Runtime"],
                                   Handler=spec["Handler"], Code={"ZipFile": spec["Code"]})
        labels = list(specs)
        for rnd in range(args.rounds):
            order = labels if rnd % 2 == 0 else list(reversed(labels))
            for label in order:
                spec = specs[label]
                name = "cold-%s-%d" % (slug(label), rnd)
                client.create_function(FunctionName=name, Role=ROLE, MemorySize=1769, Timeout=30,
                                       Runtime=spec["Runtime"], Handler=spec["Handler"],
                                       Code={"ZipFile": spec["Code"]})
                time.sleep(0.5)
                elapsed, init_ms, status = invoke_once(server.port, name)
                if status == 200:
                    cold.setdefault(label, []).append(elapsed)
                    if init_ms is not None:
                        init.setdefault(label, []).append(init_ms)
            for label in order:
                path = "/2015-03-31/functions/warm-%s/invocations" % slug(label)
                warm.setdefault(label, []).append(load(server.port, path, 1, args.seconds))
    finally:
        server.close()
    med = statistics.median
    base = med([r["p50_us"] for r in warm["python3.11"]])
    print("| runtime | cold start, invoke to response (median ms) | Init Duration (median ms) "
          "| warm p50 c=1 (µs) | warm p50 / python's | samples |")
    print("|---|---|---|---|---|---|")
    for label in specs:
        p50 = med([r["p50_us"] for r in warm[label]])
        print("| %s | %.1f | %.1f | %.0f | %.2f | %d |" % (
            label, med(cold[label]), med(init[label]) if init.get(label) else float("nan"), p50,
            p50 / base, len(cold[label])))


if __name__ == "__main__":
    main()
