"""What the benchmark scripts share: bench_load runs and the no-op provided (C++) function."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from harness import ROLE, cpp_bootstrap, make_zip, sign_request  # noqa: E402

LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bin", "bench_load")


def load(port, path, concurrency, seconds, baseline=False, body="{}", headers=(), expect=200,
         sign=True):
    """One closed-loop bench_load run (keep-alive connections, one per worker); its JSON line.
    `baseline` measures the loopback floor instead (an in-process server answering at once).
    Requests carry a SigV4 signature of the root key (made once per run: the server still
    verifies every request in full), unless `sign` is False (a server started --auth open)."""
    cmd = [LOAD, "--target", "127.0.0.1:%d" % port, "--path", path, "--body", body,
           "--concurrency", str(concurrency), "--seconds", str(seconds), "--expect", str(expect)]
    if sign and not baseline:
        extra = dict(h.split(": ", 1) for h in headers)
        signed = sign_request("http://127.0.0.1:%d" % port, "POST", path, body.encode(),
                              {"Content-Type": "application/json", **extra})
        headers = list(headers) + ["%s: %s" % (k, signed[k])
                                   for k in ("X-Amz-Date", "Authorization")]
    for h in headers:
        cmd += ["--header", h]
    if baseline:
        cmd.append("--baseline")
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def rpc_load(port, body, content_type, service, concurrency, seconds, target=None, path="/",
             sign=True):
    """A bench_load run of POST `path` with `body` signed for `service` (made once per run: the
    server still verifies every request in full) unless `sign` is False; `target` is the
    X-Amz-Target of JSON protocols."""
    headers = {"Content-Type": content_type}
    if target:
        headers["X-Amz-Target"] = target
    cmd = [LOAD, "--target", "127.0.0.1:%d" % port, "--path", path, "--body", body,
           "--content-type", content_type, "--concurrency", str(concurrency),
           "--seconds", str(seconds), "--expect", "200"]
    if sign:
        signed = sign_request("http://127.0.0.1:%d" % port, "POST", path, body.encode(), headers,
                              service=service)
        cmd += ["--header", "X-Amz-Date: " + signed["X-Amz-Date"],
                "--header", "Authorization: " + signed["Authorization"]]
    if target:
        cmd += ["--header", "X-Amz-Target: " + target]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def start_nginx(work, www, port, workers="auto", http_extra=""):
    """Debian's nginx on 127.0.0.1:`port` serving the directory `www` (prefix and pid in `work`;
    sendfile, no access log, keep-alive without a request limit): the Popen, to terminate."""
    import socket
    import time
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off; user root; worker_processes %s; pid %s/nginx.pid; "
                "error_log %s/err.log;\nevents { worker_connections 1024; }\n"
                "http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; %s\n"
                "  server { listen 127.0.0.1:%d; root %s; } }\n"
                % (workers, work, work, http_extra, port, www))
    proc = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", work], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("nginx did not start")


def create_noop(client, name, memory=1769):
    """The no-op `provided` (C++) function every throughput benchmark drives."""
    client.create_function(FunctionName=name, Runtime="provided.al2023", Handler="noop",
                           Role=ROLE, MemorySize=memory, Timeout=30,
                           Code={"ZipFile": make_zip({"bootstrap": cpp_bootstrap()},
                                                     executable={"bootstrap"})},
                           Environment={"Variables": {"ECHO_MODE": "noop"}})
