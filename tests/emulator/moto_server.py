"""Start the moto AWS emulator on 127.0.0.1 and an ephemeral port.

Prints "PORT <n>" on its first stdout line once it accepts connections, so the
test harness never races for a port. Exits when its parent closes stdin (the
harness holds the pipe), so an aborted test run leaves no emulator behind.

It also counts the AWS calls it serves, by service and operation, so tests and
benchmarks can assert how many calls a tick costs: `GET /__calls` answers the
counts as JSON and `DELETE /__calls` resets them.

One fidelity fix: real S3 evaluates a conditional PutObject (If-Match /
If-None-Match) atomically, but moto checks and then writes without a lock, so two
concurrent conditional writes could both win. A lock around PutObject restores
S3's documented behaviour, which the autoscaler's claim protocol relies on.
"""

import collections
import json
import re
import sys
import threading

from moto.s3.responses import S3Response
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

_put_lock = threading.Lock()
_original_put_object = S3Response.put_object


def _atomic_put_object(self):
    with _put_lock:
        return _original_put_object(self)


S3Response.put_object = _atomic_put_object


_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


class CallCounter:
    """WSGI middleware counting calls as "service:Operation"."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.counts = collections.Counter()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/__calls":
            with self.lock:
                if environ["REQUEST_METHOD"] == "DELETE":
                    self.counts.clear()
                body = json.dumps(dict(self.counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with self.lock:
            self.counts[self.operation(environ)] += 1
        return self.app(environ, start_response)

    @staticmethod
    def operation(environ) -> str:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(1) if scope else "unknown"
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return f"{service}:{target.rsplit('.', 1)[-1]}"
        method = environ.get("REQUEST_METHOD", "?")
        if service == "s3" and environ.get("PATH_INFO", "/").strip("/").count("/") == 0:
            return f"s3:{method} bucket"
        if service == "s3":
            # One S3 object call per request; name it after the REST verb.
            return f"s3:{ {'GET': 'GetObject', 'PUT': 'PutObject', 'HEAD': 'HeadObject'}.get(method, method)}"
        return f"{service}:{method}"


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    app = CallCounter(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Block until the harness goes away.
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
