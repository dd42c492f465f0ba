#!/usr/bin/env python3
"""Authentication's cost on the hot path: warm invokes of the no-op provided (C++) function at
c=1 and c=16 on two servers in one run — one with authentication on (every request SigV4-verified
with the root key, then authorized) and one started --auth open — measured alternately, so the
machine's drift hits both alike. Prints a markdown table for docs/benchmarks.md.

    /usr/bin/python3 bench/run_auth_bench.py [--pairs 4] [--rounds 5] [--seconds 2] [--aa]
        [--restarts N | --interleave]

--interleave: at c=1 one bench_load client sends to both servers in turn, request by request, so
that drift cannot fall on one server's measurement and not the other's (at c=16 they are loaded
one after the other); --pin also holds still where the servers' threads and environments run
(CPU 0, the client on CPU 1), which otherwise differs by tens of µs between two servers (--aa).

Also measures a non-root caller (an IAM user whose identity policy allows the invoke), whose
requests go through policy evaluation, not only the signature check.
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import create_noop, load, LOAD  # noqa: E402
from harness import Server  # noqa: E402
import subprocess  # noqa: E402


def user_load(port, path, c, seconds, key, secret):
    """A bench_load run signed with an IAM user's key."""
    from harness import sign_request
    signed = sign_request("http://127.0.0.1:%d" % port, "POST", path, b"{}",
                          {"Content-Type": "application/json"}, key=key, secret=secret)
    cmd = [LOAD, "--target", "127.0.0.1:%d" % port, "--path", path, "--body", "{}",
           "--concurrency", str(c), "--seconds", str(seconds), "--expect", "200",
           "--header", "X-Amz-Date: " + signed["X-Amz-Date"],
           "--header", "Authorization: " + signed["Authorization"]]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=4, help="fresh server pairs")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per pair")
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--aa", action="store_true",
                    help="both servers --auth open (an A/A run: the noise between two servers)")
    ap.add_argument("--restarts", type=int, default=0,
                    help="instead of server pairs: one data directory, the server restarted in "
                         "each mode alternately this many times (no second server to differ)")
    ap.add_argument("--interleave", action="store_true",
                    help="server pairs measured request by request in turn (bench_load "
                         "--alternate) instead of one after the other")
    ap.add_argument("--pin", action="store_true",
                    help="with --interleave: the servers (and their environments) on CPU 0, "
                         "bench_load on CPU 1")
    args = ap.parse_args()
    path = "/2015-03-31/functions/noop/invocations"
    results = {}
    if args.restarts:
        return restarts(args, path)
    if args.interleave:
        return interleave(args, path)
    # Two servers started side by side differ by several per cent on this machine whatever
    # their settings (where their threads and environments land: see --aa). Several fresh pairs,
    # started in alternating order, average that out.
    for pair in range(args.pairs):
        flags = ("--memory-budget-mb", "200000", "--log-level", "warn")
        open_flags = flags + ("--auth", "open")
        on_flags = open_flags if args.aa else flags
        if pair % 2:
            off = Server().start(*open_flags)
            on = Server().start(*on_flags)
        else:
            on = Server().start(*on_flags)
            off = Server().start(*open_flags)
        try:
            for server in (on, off):
                if args.aa or server is off:
                    server.ensure_role()  # open mode: the role exists, environments get credentials
                create_noop(server.lambda_client(), "noop")
                load(server.port, path, 16, 1)
            iam = on.iam_client()
            iam.create_user(UserName="bench")
            iam.put_user_policy(UserName="bench", PolicyName="invoke", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "lambda:InvokeFunction",
                    "Resource": "arn:aws:lambda:us-east-1:000000000000:function:noop"}]}))
            k = iam.create_access_key(UserName="bench")["AccessKey"]
            runs = {
                # The same signed requests to both: the open server ignores the signature.
                "open": lambda c: load(off.port, path, c, args.seconds),
                "root": lambda c: load(on.port, path, c, args.seconds),
                "user": lambda c: user_load(on.port, path, c, args.seconds, k["AccessKeyId"],
                                            k["SecretAccessKey"]),
            }
            order = ["open", "root", "user"]
            for r in range(args.rounds):
                # The position in a round matters by a few per cent (--aa shows it): rotate.
                rotated = order[r % 3:] + order[:r % 3]
                for c in (1, 16):
                    for key in rotated:
                        results.setdefault((key, c), []).append(runs[key](c))
        finally:
            on.close()
            off.close()
    print_table("Warm no-op invoke (provided, 1,769 MB)", results,
                (("open", "--auth open"), ("root", "auth on, root key"),
                 ("user", "auth on, IAM user (policy evaluated)")))


def print_table(title, results, rows):
    """Medians per row, and each row against the open server's run it was paired with (the same
    round, or the adjacent start): the median of those differences, so drift cancels out."""
    med = statistics.median
    print("| %s | c | p50 µs | p99 µs | req/s | vs open: req/s (paired median) | "
          "vs open: p50 (paired median) |" % title)
    print("|---|---|---|---|---|---|---|")
    for c in (1, 16):
        base = results[("open", c)]
        for key, label in rows:
            rs = results[(key, c)]
            p50, p99 = med([r["p50_us"] for r in rs]), med([r["p99_us"] for r in rs])
            tp = med([r["throughput"] for r in rs])
            errors = sum(r["errors"] for r in rs)
            d_tp = med([r["throughput"] / b["throughput"] - 1 for r, b in zip(rs, base)]) * 100
            d_p50 = med([r["p50_us"] - b["p50_us"] for r, b in zip(rs, base)])
            print("| %s%s | %d | %.1f | %.1f | %.0f | %+.1f %% | %+.1f µs |" % (
                label, " (%d errors)" % errors if errors else "", c, p50, p99, tp, d_tp, d_p50))

def restarts(args, path):
    """One server on one data directory, restarted alternately with authentication on and
    --auth open; each start warms the function, then measures c=1 and c=16 with the same signed
    load. Paired by consecutive (on, open) starts."""
    server = Server().start("--memory-budget-mb", "200000", "--log-level", "warn")
    create_noop(server.lambda_client(), "noop")
    results = {}
    try:
        for i in range(args.restarts * 2):
            mode = ("root", "open")[(i + i // 2) % 2]  # root open open root root open ...
            server.terminate()
            server.start("--memory-budget-mb", "200000", "--log-level", "warn",
                         *(("--auth", "open") if mode == "open" or args.aa else ()))
            load(server.port, path, 16, 1)
            for c in (1, 16):
                results.setdefault((mode, c), []).append(load(server.port, path, c, args.seconds))
    finally:
        server.close()
    print_table("Warm no-op invoke, one server restarted per mode", results,
                (("open", "--auth open"),
                 ("root", "--auth open again (A/A)" if args.aa else "auth on, root key")))


def interleave(args, path):
    """Pairs of servers (started in alternating order). c=1: one bench_load client sending the
    same root-signed request to one server and then the other, request by request; c=16: the
    two loaded one after the other. Which one goes first alternates by round; each round gives
    paired differences (p50, mean latency, and at c=16 throughput)."""
    from harness import sign_request
    flags = ("--memory-budget-mb", "200000", "--log-level", "warn")
    open_flags = flags + ("--auth", "open")
    rows = {1: [], 16: []}
    if args.pin:
        os.sched_setaffinity(0, {0})  # inherited by the servers, their spawners and environments
    for pair in range(args.pairs):
        starts = [("on", open_flags if args.aa else flags), ("open", open_flags)]
        if pair % 2:
            starts.reverse()
        servers = {}
        try:
            for name, f in starts:
                servers[name] = Server().start(*f)
            for name, server in servers.items():
                if args.aa or name == "open":
                    server.ensure_role()
                create_noop(server.lambda_client(), "noop")
                load(server.port, path, 16, 1)
            def cmd(name, c, alternate=None):
                """bench_load against server `name` (signed for its address: the signature
                covers the Host header; the open server ignores it), optionally in turn with
                server `alternate`."""
                target = "127.0.0.1:%d" % servers[name].port
                signed = sign_request("http://" + target, "POST", path, b"{}",
                                      {"Content-Type": "application/json"})
                out = (["taskset", "-c", "1"] if args.pin else []) + [
                    LOAD, "--target", target, "--path", path, "--body", "{}",
                    "--concurrency", str(c), "--seconds", str(args.seconds), "--expect", "200",
                    "--header", "X-Amz-Date: " + signed["X-Amz-Date"],
                    "--header", "Authorization: " + signed["Authorization"]]
                if alternate:
                    out += ["--alternate", "127.0.0.1:%d" % servers[alternate].port]
                return json.loads(subprocess.run(out, check=True, capture_output=True,
                                                 text=True).stdout)

            for r in range(args.rounds):
                a, b = ("on", "open") if r % 2 == 0 else ("open", "on")
                # c=1: request by request in turn. c=16: workers in lockstep would make both
                # servers as slow as the slower one; the two run one after the other instead.
                out = cmd(a, 1, alternate=b)
                rows[1].append({a: out["a"], b: out["b"]})
                row = {name: cmd(name, 16) for name in (a, b)}
                rows[16].append(row)
                for c in (1, 16):
                    print("pair %d round %d c=%d: %s" % (pair, r, c, json.dumps(rows[c][-1])),
                          file=sys.stderr)
        finally:
            for server in servers.values():
                server.close()
    med = statistics.median
    label = "open again (A/A)" if args.aa else "auth on, root key"
    print("| Warm no-op invoke (c=1 interleaved, c=16 in turn) | c | p50 µs | mean µs | req/s | "
          "errors | paired vs open: p50 | paired vs open: mean latency | paired vs open: req/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in (1, 16):
        rs = rows[c]
        for key, name in (("open", "--auth open"), ("on", label)):
            print("| %s | %d | %.1f | %.1f | %.0f | %d | %s | %s | %s |" % (
                name, c, med([x[key]["p50_us"] for x in rs]), med([x[key]["mean_us"] for x in rs]),
                med([x[key]["throughput"] for x in rs]), sum(x[key]["errors"] for x in rs),
                "—" if key == "open" else "%+.1f µs" % med(
                    [x["on"]["p50_us"] - x["open"]["p50_us"] for x in rs]),
                "—" if key == "open" else "%+.1f %%" % (100 * med(
                    [x["on"]["mean_us"] / x["open"]["mean_us"] - 1 for x in rs])),
                "—" if key == "open" or c == 1 else "%+.1f %%" % (100 * med(
                    [x["on"]["throughput"] / x["open"]["throughput"] - 1 for x in rs]))))


if __name__ == "__main__":
    main()
