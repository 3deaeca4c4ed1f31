"""Start the moto AWS emulator on 127.0.0.1 and an ephemeral port.

Prints "PORT <n>" on its first stdout line once it accepts connections, so the
test harness never races for a port. Exits when its parent closes stdin (the
harness holds the pipe), so an aborted test run leaves no emulator behind.

It also counts the AWS calls it serves, by service and operation, so tests and
benchmarks can assert how many calls a tick costs: `GET /__calls` answers the
counts as JSON and `DELETE /__calls` resets them.

Slow answers, to widen race windows in concurrency tests: `PUT /__delays` with a
JSON object such as {"ecs:UpdateService": 400} holds each such call that many
milliseconds before moto handles it (so its effect lands late too); `{}` clears.

One fidelity fix: real S3 evaluates a conditional PutObject (If-Match /
If-None-Match) atomically, but moto checks and then writes without a lock, so two
concurrent conditional writes could both win. A lock around PutObject restores
S3's documented behaviour, which the autoscaler's claim protocol relies on.

Tasks that start: moto reports every task of a service as running the moment
desiredCount changes. `PUT /__running` with {"region": …, "cluster": …,
"service": …, "running": n} sets a service's runningCount (the rest of
desiredCount pending), so a demo or test can model tasks that take time to start.

Amazon MQ broker ids look like b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9, and the
autoscaler validates that shape; moto's are six hex digits, so the launcher gives
its brokers ids of the real shape.

One speed fix: moto's GetMetricData compares every datapoint with every
period of the range, so 14 days of one-minute periods over a week of datapoints
(what anticipation learns from) takes minutes. For queries that are all
MetricStat, the same answer is computed by putting each datapoint in its period
once; expressions still go to moto's own.

EC2 Auto Scaling's SetDesiredCapacity, as the API reference defines it: a
capacity outside the group's MinSize and MaxSize is refused with a
ValidationError, and so is a group that does not exist; moto 5.2 accepts the
first and fails the second with an internal error.

One protocol adapter: aws-sdk-cloudwatch speaks the Smithy RPCv2 CBOR protocol,
which moto 5.2 does not serve (it serves CloudWatch's query protocol). The
adapter decodes such a request's CBOR body, replays the operation against this
same server with boto3 in the query protocol, and encodes moto's answer, or its
error, back to CBOR. Moto's CloudWatch backend does all the work; the adapter
only changes the encoding, so the Rust SDK client under test is the real one.
"""

import collections
from datetime import timedelta
import gzip
import io
import json
import re
import sys
import threading
import time
import urllib.parse
import uuid

import boto3
import botocore.config
import cbor2
from botocore.exceptions import ClientError
from botocore.session import get_session
from moto.cloudwatch.models import CloudWatchBackend, Dimension, Statistics
from moto.autoscaling.exceptions import ValidationError as AutoScalingValidationError
from moto.autoscaling.responses import AutoScalingResponse
from moto.mq.models import Broker
from moto.s3.responses import S3Response
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

_put_lock = threading.Lock()
_original_put_object = S3Response.put_object


def _atomic_put_object(self):
    with _put_lock:
        return _original_put_object(self)


S3Response.put_object = _atomic_put_object

_original_get_metric_data = CloudWatchBackend.get_metric_data


def _query_matches(md, query_ns, query_name, dimensions, unit):
    # As moto filters: with dimensions, by them and the name (not the namespace).
    if dimensions:
        matches = sorted(md.dimensions) == sorted(dimensions) and md.name == query_name
    else:
        matches = md.namespace == query_ns and md.name == query_name
    return matches and (not unit or md.unit == unit)


def _fast_get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time >= end_time or any("MetricStat" not in q for q in queries):
        return _original_get_metric_data(self, queries, start_time, end_time, scan_by)
    period_data = [md for md in self.get_all_metrics() if start_time <= md.timestamp < end_time]
    results = []
    for query in queries:
        metric_stat = query["MetricStat"]
        delta = timedelta(seconds=int(metric_stat["Period"]))
        dimensions = [
            Dimension(name=d["Name"], value=d["Value"])
            for d in metric_stat["Metric"].get("Dimensions", [])
        ]
        buckets = collections.defaultdict(list)
        for md in period_data:
            if _query_matches(
                md,
                metric_stat["Metric"]["Namespace"],
                metric_stat["Metric"]["MetricName"],
                dimensions,
                metric_stat.get("Unit"),
            ):
                buckets[(md.timestamp - start_time) // delta].append(md)
        values, timestamps = [], []
        for index in sorted(buckets):
            stats = Statistics([metric_stat["Stat"]], start_time + index * delta)
            stats.metric_data = buckets[index]
            values.append(stats.get_statistics_for_type(metric_stat["Stat"]))
            timestamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            values.reverse()
            timestamps.reverse()
        if query.get("ReturnData", True):
            results.append(
                {
                    "id": query["Id"],
                    "label": query.get("Label") or f"{metric_stat['Metric']['MetricName']} {metric_stat['Stat']}",
                    "values": values,
                    "timestamps": timestamps,
                    "status_code": "Complete",
                }
            )
    return results


CloudWatchBackend.get_metric_data = _fast_get_metric_data

_original_broker_init = Broker.__init__


def _broker_with_an_aws_id(self, *args, **kwargs):
    _original_broker_init(self, *args, **kwargs)
    moto_id, self.id = self.id, f"b-{uuid.uuid4()}"
    self.arn = self.arn.replace(f":broker:{moto_id}", f":broker:{self.id}")
    for user in self._users.values():
        user.broker_id = self.id


Broker.__init__ = _broker_with_an_aws_id

_original_set_desired_capacity = AutoScalingResponse.set_desired_capacity


def _bounded_set_desired_capacity(self):
    name = self._get_param("AutoScalingGroupName")
    desired = self._get_int_param("DesiredCapacity")
    group = self.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        raise AutoScalingValidationError("AutoScalingGroup name not found - null")
    if desired is not None and desired > group.max_size:
        raise AutoScalingValidationError(
            f"New SetDesiredCapacity value {desired} is above max value {group.max_size} for the AutoScalingGroup."
        )
    if desired is not None and desired < group.min_size:
        raise AutoScalingValidationError(
            f"New SetDesiredCapacity value {desired} is below min value {group.min_size} for the AutoScalingGroup."
        )
    return _original_set_desired_capacity(self)


AutoScalingResponse.set_desired_capacity = _bounded_set_desired_capacity


def set_running(request):
    """Sets one ECS service's running count; answers the service's counts as JSON."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[request.get("account", DEFAULT_ACCOUNT_ID)][request["region"]]
    service = backend.services[f"{request['cluster']}:{request['service']}"]
    service.running_count = max(0, min(int(request["running"]), service.desired_count))
    service.pending_count = service.desired_count - service.running_count
    return json.dumps({"desired": service.desired_count, "running": service.running_count}).encode()


_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")
_RPCV2_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
# The adapter's own replayed calls carry this header, so they are not counted twice.
_INTERNAL = "X-Moto-Adapter"
# Smithy service shape name -> boto3 service name, for the services that use RPCv2 CBOR.
_RPCV2_SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}


class RpcV2CborAdapter:
    """WSGI middleware serving Smithy RPCv2 CBOR requests through moto's query protocol."""

    def __init__(self, app):
        self.app = app
        self.endpoint = None  # set once the server knows its port
        self.lock = threading.Lock()
        self.clients = {}

    def __call__(self, environ, start_response):
        path = _RPCV2_PATH.match(environ.get("PATH_INFO", ""))
        if not path or environ.get("HTTP_SMITHY_PROTOCOL") != "rpc-v2-cbor":
            return self.app(environ, start_response)
        service_shape, operation = path.groups()
        service = _RPCV2_SERVICES.get(service_shape)
        if service is None:
            return self.answer(start_response, 400, {
                "__type": "UnknownOperationException",
                "message": f"the moto adapter knows RPCv2 CBOR only for {sorted(_RPCV2_SERVICES)}, not {service_shape}",
            })
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if environ.get("HTTP_CONTENT_ENCODING") == "gzip":
            # The SDK compresses large PutMetricData bodies.
            body = gzip.decompress(body)
        params = cbor2.loads(body) if body else {}
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        access_key, region = (scope.group(1), scope.group(2)) if scope else ("testing", "us-east-1")
        client = self.client(service, region, access_key)
        method = getattr(client, botocore.xform_name(operation), None)
        if method is None:
            return self.answer(start_response, 400, {
                "__type": "UnknownOperationException",
                "message": f"{service} has no operation {operation}",
            })
        try:
            result = method(**params)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            return self.answer(start_response, status, {
                "__type": error.response["Error"].get("Code", "InternalFailure"),
                "message": error.response["Error"].get("Message", ""),
            })
        result.pop("ResponseMetadata", None)
        return self.answer(start_response, 200, result)

    def client(self, service, region, access_key):
        key = (service, region, access_key)
        with self.lock:
            if key not in self.clients:
                client = boto3.session.Session(botocore_session=get_session()).client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint,
                    aws_access_key_id=access_key,
                    aws_secret_access_key="testing",
                    config=botocore.config.Config(retries={"max_attempts": 1}),
                )
                client.meta.events.register(
                    "before-send", lambda request, **_: request.headers.__setitem__(_INTERNAL, "1")
                )
                self.clients[key] = client
            return self.clients[key]

    @staticmethod
    def answer(start_response, status, document):
        body = cbor2.dumps(document, datetime_as_timestamp=True)
        reason = "OK" if status == 200 else "Error"
        start_response(f"{status} {reason}", [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(body))),
        ])
        return [body]


class CallCounter:
    """WSGI middleware counting calls as "service:Operation", and delaying some."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.delays_ms = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/__calls":
            with self.lock:
                if environ["REQUEST_METHOD"] == "DELETE":
                    self.counts.clear()
                body = json.dumps(dict(self.counts)).encode()
            return self.json(start_response, body)
        if environ.get("PATH_INFO") == "/__running":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            return self.json(start_response, set_running(json.loads(environ["wsgi.input"].read(length))))
        if environ.get("PATH_INFO") == "/__delays":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            delays = json.loads(environ["wsgi.input"].read(length) or b"{}")
            with self.lock:
                self.delays_ms = {str(k): float(v) for k, v in delays.items()}
                body = json.dumps(self.delays_ms).encode()
            return self.json(start_response, body)
        delay_ms = 0.0
        if "HTTP_X_MOTO_ADAPTER" not in environ:
            operation = self.operation(environ)
            with self.lock:
                self.counts[operation] += 1
                delay_ms = self.delays_ms.get(operation, 0.0)
        if delay_ms > 0:
            time.sleep(delay_ms / 1000.0)
        return self.app(environ, start_response)

    @staticmethod
    def json(start_response, body):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def query_action(environ):
        """The Action of a query-protocol call (EC2 Auto Scaling), from its form
        body, which is put back for moto to read."""
        if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
        return action[0] if action else None

    @staticmethod
    def operation(environ) -> str:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(3) if scope else "unknown"
        rpcv2 = _RPCV2_PATH.match(environ.get("PATH_INFO", ""))
        if rpcv2:
            return f"{service}:{rpcv2.group(2)}"
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return f"{service}:{target.rsplit('.', 1)[-1]}"
        action = CallCounter.query_action(environ)
        if action:
            return f"{service}:{action}"
        method = environ.get("REQUEST_METHOD", "?")
        if service == "s3" and environ.get("PATH_INFO", "/").strip("/").count("/") == 0:
            return f"s3:{method} bucket"
        if service == "s3":
            # One S3 object call per request; name it after the REST verb.
            return f"s3:{ {'GET': 'GetObject', 'PUT': 'PutObject', 'HEAD': 'HeadObject'}.get(method, method)}"
        return f"{service}:{method}"


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    adapter = RpcV2CborAdapter(DomainDispatcherApplication(create_backend_app))
    app = CallCounter(adapter)
    server = make_server(host, 0, app, threaded=True)
    adapter.endpoint = f"http://{host}:{server.server_port}"
    print(f"PORT {server.server_port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Block until the harness goes away.
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
