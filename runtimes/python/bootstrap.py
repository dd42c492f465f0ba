"""Lambent's runtime interface client for Python (python3.x managed runtimes).

Started as `python3 -B /var/runtime/bootstrap.py` inside the environment. Imports the handler
named by _HANDLER from /var/task (Init), then loops over the Runtime API: GET /next, call the
handler with the event and a context object, POST /response or /error. Behaviour follows AWS's
Python runtime: handler `module.function` (module may be a dotted or slashed path), the context
attributes, `[LEVEL]\\t<time>Z\\t<request id>\\t<message>` log lines, and error bodies with
errorMessage/errorType/requestId/stackTrace.
"""

import _socket
import importlib
import importlib.machinery
import json
import os
import sys
import time

RUNTIME_API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"


class Response:
    __slots__ = ["status", "headers", "body"]

    def getheader(self, name):
        return self.headers.get(name.lower())


class RuntimeClient:
    """A minimal HTTP/1.1 keep-alive client for the Runtime API, over a plain socket: the standard
    library's http.client pulls in the email and ssl packages, which cost ~25 ms of Init, and the
    `socket` module wraps `_socket` in enums built at import time (~1-2 ms more)."""

    def __init__(self, address):
        host, _, port = address.partition(":")
        self.addr = (host, int(port or 80))
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        self.sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        self.sock.connect(self.addr)
        self.buf = b""

    def _read_response(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("runtime api closed the connection")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        resp = Response()
        resp.status = int(lines[0].split(" ", 2)[1])
        resp.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            resp.headers[k.strip().lower()] = v.strip()
        length = int(resp.headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = self.sock.recv(max(65536, length - len(rest)))
            if not chunk:
                raise ConnectionError("runtime api closed the connection")
            rest += chunk
        resp.body, self.buf = rest[:length], rest[length:]
        return resp

    def request(self, method, path, body=b"", headers=None):
        head = "%s %s HTTP/1.1\r\nHost: runtime\r\nContent-Length: %d\r\n" % (method, path, len(body))
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        data = (head + "\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(data)
                resp = self._read_response()
                if resp.headers.get("connection", "").lower() == "close":
                    self.sock.close()
                    self.sock = None
                return resp
            except OSError:
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                if attempt:
                    raise

    def next(self):
        resp = self.request("GET", BASE + "/invocation/next")
        if resp.status != 200:
            sys.exit("runtime api: /next answered %d" % resp.status)
        return resp, resp.body

    def post(self, path, body, error_type=None):
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["Lambda-Runtime-Function-Error-Type"] = error_type
        resp = self.request("POST", BASE + path, body, headers)
        if resp.status >= 500:
            sys.exit("runtime api: %s answered %d" % (path, resp.status))
        return resp.status, resp.body


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name"]


class ClientContext:
    __slots__ = ["client", "custom", "env"]


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_arn, client_context, cognito_identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_arn
        self._deadline_ms = deadline_ms
        self.identity = CognitoIdentity()
        self.identity.cognito_identity_id = None
        self.identity.cognito_identity_pool_id = None
        if cognito_identity:
            ident = json.loads(cognito_identity)
            self.identity.cognito_identity_id = ident.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = ident.get("cognitoIdentityPoolId")
        self.client_context = None
        if client_context:
            cc = json.loads(client_context)
            self.client_context = ClientContext()
            self.client_context.custom = cc.get("custom")
            self.client_context.env = cc.get("env")
            self.client_context.client = None
            if cc.get("client"):
                c = Client()
                for attr in Client.__slots__:
                    setattr(c, attr, cc["client"].get(attr))
                self.client_context.client = c

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
                "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
                "invoked_function_arn=%s])" % (
                    self.aws_request_id, self.log_group_name, self.log_stream_name,
                    self.function_name, self.memory_limit_in_mb, self.function_version,
                    self.invoked_function_arn))


_current_request_id = ""


def setup_logging(logging):
    """Gives the root logger AWS's handler: `[LEVEL]\t<time>Z\t<request id>\t<message>` lines,
    or JSON objects with AWS_LAMBDA_LOG_FORMAT=JSON."""

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _current_request_id
            return True

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            out = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                                + ".%03dZ" % record.msecs,
                   "level": record.levelname, "message": record.getMessage(),
                   "logger": record.name}
            if _current_request_id:
                out["requestId"] = _current_request_id
            if record.exc_info:
                import traceback
                out["errorType"] = record.exc_info[0].__name__
                out["errorMessage"] = str(record.exc_info[1])
                out["stackTrace"] = traceback.format_tb(record.exc_info[2])
            return json.dumps(out, default=str)

    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        handler.setFormatter(JsonFormatter())
        root_level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").replace("TRACE", "DEBUG")
        logging.getLogger().setLevel(root_level.replace("FATAL", "CRITICAL"))
    else:
        fmt = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S")
        fmt.converter = time.gmtime
        handler.setFormatter(fmt)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)


class ConfigureLoggingOnImport:
    """A meta path finder that sets up `logging` (setup_logging) the moment anything imports it:
    the handler's module or any library it uses. The runtime never imports `logging` itself, so
    an Init that does not use it does not pay for its import (~5-8 ms with what it pulls in)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(cls)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_configure(module):
            exec_module(module)
            try:
                setup_logging(module)
            except Exception:  # noqa: BLE001 - a package's own "logging" module shadows the stdlib's
                pass

        spec.loader.exec_module = exec_and_configure
        return spec


def error_body(exc_type, exc, tb, request_id=""):
    import traceback
    frames = traceback.extract_tb(tb)
    return {
        "errorMessage": str(exc),
        "errorType": exc_type.__name__,
        "requestId": request_id,
        "stackTrace": [line for line in traceback.format_list(frames)],
    }


def log_error(body):
    # As AWS's runtime prints it: "[ERROR] Type: message" then the trace.
    out = "[ERROR] %s: %s\nTraceback (most recent call last):\n%s" % (
        body["errorType"], body["errorMessage"], "".join(body.get("stackTrace", [])))
    sys.stdout.write(out.rstrip("\n") + "\n")
    sys.stdout.flush()


def init_failure(client, error_type, message, stack=None):
    body = {"errorMessage": message, "errorType": error_type, "requestId": "",
            "stackTrace": stack or []}
    log_error(body)
    client.post("/init/error", json.dumps(body).encode(), error_type)
    sys.exit(1)


def load_handler(client, handler_name):
    module_path, _, function_name = handler_name.rpartition(".")
    if not module_path or not function_name:
        init_failure(client, "Runtime.MalformedHandlerName",
                     "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % handler_name)
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        init_failure(client, "Runtime.ImportModuleError",
                     "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        import traceback
        init_failure(client, "Runtime.UserCodeSyntaxError",
                     "Syntax error in module '%s': %s" % (module_name, e),
                     traceback.format_list(traceback.extract_tb(e.__traceback__)))
    except Exception as e:  # noqa: BLE001 - the user's module failed during import
        et, ev, tb = sys.exc_info()
        body = error_body(et, ev, tb)
        log_error(body)
        client.post("/init/error", json.dumps(body).encode(), "Runtime.Unknown")
        sys.exit(1)
    handler = getattr(module, function_name, None)
    if handler is None:
        init_failure(client, "Runtime.HandlerNotFound",
                     "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler


def to_json(value):
    def default(o):
        import decimal
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)
    return json.dumps(value, default=default).encode()


def main():
    global _current_request_id
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    version = "%d.%d" % sys.version_info[:2]
    sys.path[:0] = [task_root, "/opt/python/lib/python%s/site-packages" % version, "/opt/python"]
    # Started with -S (no `site`, for start-up time): add the interpreter's package folders, as
    # AWS's image has boto3 and friends on the path.
    sys.path += ["/usr/local/lib/python%s/dist-packages" % version, "/usr/lib/python3/dist-packages"]
    if "logging" in sys.modules:
        setup_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, ConfigureLoggingOnImport)
    client = RuntimeClient(RUNTIME_API)
    handler = load_handler(client, os.environ["_HANDLER"])
    while True:
        resp, event_bytes = client.next()
        request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        _current_request_id = request_id
        trace_id = resp.getheader("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        context = LambdaContext(request_id,
                                int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0),
                                resp.getheader("Lambda-Runtime-Invoked-Function-Arn"),
                                resp.getheader("Lambda-Runtime-Client-Context"),
                                resp.getheader("Lambda-Runtime-Cognito-Identity"))
        try:
            event = json.loads(event_bytes) if event_bytes else {}
            result = handler(event, context)
            try:
                body = to_json(result)
            except (TypeError, ValueError) as e:
                err = {"errorMessage": "Unable to marshal response: %s" % e,
                       "errorType": "Runtime.MarshalError", "requestId": request_id,
                       "stackTrace": []}
                log_error(err)
                client.post("/invocation/%s/error" % request_id, json.dumps(err).encode(),
                            "Runtime.MarshalError")
                continue
            sys.stdout.flush()
            client.post("/invocation/%s/response" % request_id, body)
        except Exception:  # noqa: BLE001 - any error of the user's handler is reported
            et, ev, tb = sys.exc_info()
            body = error_body(et, ev, tb.tb_next if tb else tb, request_id)
            log_error(body)
            client.post("/invocation/%s/error" % request_id, json.dumps(body).encode(),
                        "Unhandled")


if __name__ == "__main__":
    main()
