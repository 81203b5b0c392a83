"""A fault-injecting Kinesis proxy in front of moto.

moto can neither throttle nor fail single records, and its shard append is not safe under
concurrent requests. This proxy sits between the client under test and moto:

* it forwards requests to moto one at a time (a lock), so concurrent senders cannot make
  moto lose records;
* it injects the faults a real stream produces: per-record
  `ProvisionedThroughputExceededException` / `InternalFailure` in a PutRecords answer
  (only the other records are forwarded to moto), whole-request errors (500, 503, 400
  throttling, with JSON, XML or HTML bodies), dropped or reset connections, stalls, and
  outages (listener closed: connection refused);
* it counts every request and record it saw, so tests can prove that only the failed
  records were sent again.

Forwarding a PutRecords without some of its records changes the body, so the request is
signed again: give the proxy the secret of the key the client uses (`credentials=`). The
client's own signature is checked first with that secret, so the proxy does not weaken
moto's signature checking.

In-process (pytest):  proxy = FaultProxy(moto.url, credentials=(key_id, secret)).start()
Standalone process:   python3 tests/harness/fault_proxy.py --upstream URL
                          [--access-key-id ID --secret-access-key SECRET] [--port N] [--control-port N]
                          [--until-stdin-closes]
prints one JSON line {"url": ..., "control_url": ...} and runs until SIGTERM or SIGINT
(or end of file on stdin, with --until-stdin-closes); `RemoteFaultProxy(control_url)`
has the same fault and stats methods as `FaultProxy`, over the control API:
    GET  /stats                     -> stats()
    GET  /records                   -> received and accepted records (base64 data)
    POST /faults/records            {"share", "code", "message", "requests", "seed"}
    POST /faults/requests           {"status", "code", "count", "body"}
    POST /faults/drop               {"count", "reset"}
    POST /faults/stall              {"seconds", "count", "then"}
    POST /faults/outage             {"seconds", "mode"}
    POST /faults/clear
    POST /stats/reset
"""
from __future__ import annotations

import base64
import http.client
import http.server
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

THROTTLED = "ProvisionedThroughputExceededException"
INTERNAL = "InternalFailure"

RECORD_MESSAGES = {
    THROTTLED: "Rate exceeded for shard shardId-000000000000 in stream {stream} under account 123456789012.",
    INTERNAL: "Internal service failure.",
}


@dataclass
class RecordFault:
    """Per-record failures in PutRecords answers."""

    share: float
    code: str
    message: str | None
    requests: int | None  # how many PutRecords requests it applies to; None: until cleared
    rng: random.Random
    select: Callable[[str, bytes], bool] | None = None  # in-process only: which records fail


@dataclass
class RequestFault:
    """A whole-request fault: an error answer, a dropped connection or a stall."""

    kind: str  # "error" | "drop" | "stall"
    count: int | None
    status: int = 500
    code: str = INTERNAL
    body: str = "json"  # json | xml | html | empty
    reset: bool = False
    seconds: float = 0.0
    then: str = "forward"  # after a stall: forward | drop
    targets: tuple[str, ...] = ()


@dataclass
class RequestLogEntry:
    target: str
    records: list[tuple[str, bytes]]
    failed: list[int] = field(default_factory=list)
    status: int | None = None
    fault: str | None = None


class FaultProxy:
    """An HTTP proxy for the Kinesis JSON protocol in front of `upstream` (moto)."""

    def __init__(
        self,
        upstream: str,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: tuple[str, str] | None = None,
    ):
        parsed = urllib.parse.urlparse(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.host = host
        self.port = port
        self.credentials = credentials
        self._state = threading.Lock()
        self._upstream = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._record_faults: list[RecordFault] = []
        self._request_faults: list[RequestFault] = []
        self._outage_until = 0.0
        self._outage_mode = ""
        self._reopen_timer: threading.Timer | None = None
        self._stopped = False
        self.reset_stats()

    # Lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "FaultProxy":
        self._listen()
        return self

    def _listen(self) -> None:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        server = http.server.ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def stop(self) -> None:
        self._stopped = True
        if self._reopen_timer:
            self._reopen_timer.cancel()
        self._close_listener()
        self._close_connections()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()

    def _close_connections(self) -> None:
        with self._state:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # Faults

    def fail_records(
        self,
        share: float = 0.5,
        code: str = THROTTLED,
        message: str | None = None,
        requests: int | None = None,
        seed: int = 0,
        select: Callable[[str, bytes], bool] | None = None,
    ) -> None:
        """Fails `share` of the records of the next `requests` PutRecords (all, if None)
        with `code`; `select(partition_key, data)` picks the records instead of `share`."""
        with self._state:
            self._record_faults.append(RecordFault(share, code, message, requests, random.Random(seed), select))

    def fail_requests(
        self, status: int = 500, code: str = INTERNAL, count: int | None = 1, body: str = "json", targets: tuple[str, ...] = ()
    ) -> None:
        """Answers the next `count` requests (all, if None) with `status` and an error body
        naming `code`, written as `body` (json, xml, html or empty), without forwarding them."""
        with self._state:
            self._request_faults.append(RequestFault("error", count, status=status, code=code, body=body, targets=targets))

    def throttle_requests(self, count: int | None = 1) -> None:
        """Answers 400 ProvisionedThroughputExceededException to the next `count` requests."""
        self.fail_requests(400, THROTTLED, count)

    def drop_connections(self, count: int | None = 1, reset: bool = False) -> None:
        """Reads the next `count` requests, then closes the connection without answering
        (with a TCP reset if `reset`). The request is not forwarded."""
        with self._state:
            self._request_faults.append(RequestFault("drop", count, reset=reset))

    def stall(self, seconds: float, count: int | None = 1, then: str = "forward") -> None:
        """Holds the next `count` requests for `seconds`, then forwards them (`then="forward"`,
        as a slow AWS would) or drops the connection (`then="drop"`)."""
        with self._state:
            self._request_faults.append(RequestFault("stall", count, seconds=seconds, then=then))

    def outage(self, seconds: float, mode: str = "refuse") -> None:
        """For `seconds`: `refuse` closes the listener (connection refused) and open
        connections; `drop` accepts then closes connections; `503` answers ServiceUnavailable."""
        if mode not in ("refuse", "drop", "503"):
            raise ValueError(f"unknown outage mode {mode}")
        with self._state:
            self._outage_until = time.monotonic() + seconds
            self._outage_mode = mode
            self.counters["outages"] += 1
        if mode == "refuse":
            self._close_listener()
            self._close_connections()
            self._reopen_timer = threading.Timer(seconds, self._reopen)
            self._reopen_timer.daemon = True
            self._reopen_timer.start()

    def _reopen(self) -> None:
        if not self._stopped:
            self._listen()

    def clear_faults(self) -> None:
        """Removes every pending fault and ends an outage."""
        with self._state:
            self._record_faults.clear()
            self._request_faults.clear()
            self._outage_until = 0.0
        if self._server is None and not self._stopped:
            if self._reopen_timer:
                self._reopen_timer.cancel()
            self._reopen()

    # Stats

    def reset_stats(self) -> None:
        with self._state:
            self.counters = {
                "requests": 0,
                "put_records_requests": 0,
                "put_record_requests": 0,
                "records_received": 0,
                "records_forwarded": 0,
                "records_accepted": 0,
                "records_failed_injected": 0,
                "requests_failed_injected": 0,
                "connections_dropped": 0,
                "requests_stalled": 0,
                "outages": 0,
                "upstream_errors": 0,
            }
            self.by_target: dict[str, int] = {}
            self.log: list[RequestLogEntry] = []
            self.accepted: list[tuple[str, bytes]] = []

    def stats(self) -> dict:
        """Counters, and requests per X-Amz-Target."""
        with self._state:
            return {**self.counters, "by_target": dict(self.by_target)}

    def received_records(self) -> list[tuple[str, bytes]]:
        """Every record of every PutRecord(s) request, in arrival order: (partition key, data)."""
        with self._state:
            return [record for entry in self.log for record in entry.records]

    def accepted_records(self) -> list[tuple[str, bytes]]:
        """The records moto accepted, in order."""
        with self._state:
            return list(self.accepted)

    def request_log(self) -> list[RequestLogEntry]:
        with self._state:
            return list(self.log)

    # Request handling (called from handler threads)

    def _outage_mode_now(self) -> str | None:
        with self._state:
            if time.monotonic() < self._outage_until:
                return self._outage_mode
        return None

    def _take_request_fault(self, target: str) -> RequestFault | None:
        with self._state:
            for fault in self._request_faults:
                if fault.targets and target not in fault.targets:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._request_faults.remove(fault)
                return fault
        return None

    def _choose_failures(self, records: list[tuple[str, bytes]]) -> tuple[list[int], RecordFault | None]:
        with self._state:
            if not self._record_faults:
                return [], None
            fault = self._record_faults[0]
            if fault.requests is not None:
                fault.requests -= 1
                if fault.requests <= 0:
                    self._record_faults.pop(0)
            if fault.select is not None:
                chosen = [i for i, (key, data) in enumerate(records) if fault.select(key, data)]
            else:
                chosen = [i for i in range(len(records)) if fault.rng.random() < fault.share]
            return chosen, fault

    def _record(self, entry: RequestLogEntry) -> None:
        with self._state:
            self.log.append(entry)

    def _count(self, name: str, amount: int = 1) -> None:
        with self._state:
            self.counters[name] += amount

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Sends a request to moto, one at a time; returns (status, headers, body)."""
        with self._upstream:
            connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=120)
            try:
                connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        connection.putheader(name, value)
                connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                response = connection.getresponse()
                answer = response.read()
                return response.status, response.getheaders(), answer
            finally:
                connection.close()

    def resign(self, method: str, path: str, headers: list[tuple[str, str]], original: bytes, body: bytes) -> list[tuple[str, str]] | str:
        """Checks the client's signature over `original`, then signs `body` in its place.
        Returns the new headers, or a reason why it cannot."""
        if self.credentials is None:
            return "the proxy has no credentials to sign a modified request with (credentials=)"
        names = {name.lower(): value for name, value in headers}
        authorization = names.get("authorization", "")
        try:
            scope = authorization.split("Credential=")[1].split(",")[0].split("/")
            key_id, region, service = scope[0], scope[2], scope[3]
            signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
            signature = authorization.split("Signature=")[1].split(",")[0].strip()
        except IndexError:
            return "the request has no SigV4 Authorization header"
        if key_id != self.credentials[0]:
            return f"the request is signed with {key_id}, the proxy only knows {self.credentials[0]}"
        token = names.get("x-amz-security-token")
        auth = SigV4Auth(Credentials(self.credentials[0], self.credentials[1], token), service, region)
        host = names.get("host", f"{self.host}:{self.port}")
        check = AWSRequest(method=method, url=f"http://{host}{path}", data=original, headers={n: v for n, v in headers if n.lower() in signed})
        check.context["timestamp"] = names.get("x-amz-date", "")
        expected = auth.signature(auth.string_to_sign(check, auth.canonical_request(check)), check)
        if expected != signature:
            return "SignatureDoesNotMatch"
        keep = {n: v for n, v in headers if n.lower() in signed and n.lower() not in ("authorization", "x-amz-date")}
        fresh = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers=keep)
        auth.add_auth(fresh)
        unsigned = [(n, v) for n, v in headers if n.lower() not in signed and n.lower() != "authorization"]
        return unsigned + list(fresh.headers.items())


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    """Handles one client connection for a `FaultProxy`."""

    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):  # keep pytest output clean
        pass

    def setup(self) -> None:
        super().setup()
        with self.owner._state:
            self.owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.owner._state:
            self.owner._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        proxy = self.owner
        target = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1] or "(none)"
        with proxy._state:
            proxy.counters["requests"] += 1
            proxy.by_target[target] = proxy.by_target.get(target, 0) + 1

        records, stream, document = self._records(target, body)
        entry = RequestLogEntry(target, records)
        proxy._record(entry)
        if records:
            proxy._count("records_received", len(records))
            proxy._count("put_records_requests" if target == "PutRecords" else "put_record_requests")

        mode = proxy._outage_mode_now()
        if mode in ("drop", "refuse"):
            entry.fault = "outage"
            self._drop(reset=False)
            return
        if mode == "503":
            entry.fault = "outage"
            self._error(503, "ServiceUnavailable", "json", entry)
            return

        fault = proxy._take_request_fault(target)
        if fault is not None and fault.kind == "stall":
            proxy._count("requests_stalled")
            entry.fault = "stall"
            time.sleep(fault.seconds)
            if fault.then == "drop":
                self._drop(reset=False)
                return
            fault = None
        if fault is not None and fault.kind == "drop":
            proxy._count("connections_dropped")
            entry.fault = "drop"
            self._drop(reset=fault.reset)
            return
        if fault is not None and fault.kind == "error":
            proxy._count("requests_failed_injected")
            entry.fault = f"{fault.status} {fault.code}"
            self._error(fault.status, fault.code, fault.body, entry)
            return

        headers = list(self.headers.items())
        if target == "PutRecords" and document is not None:
            self._put_records(headers, body, records, stream, document, entry)
            return
        status, answer_headers, answer = proxy.forward("POST", self.path, headers, body)
        entry.status = status
        if records and 200 <= status < 300:
            proxy._count("records_forwarded", len(records))
            proxy._count("records_accepted", len(records))
            with proxy._state:
                proxy.accepted.extend(records)
        elif records:
            proxy._count("records_forwarded", len(records))
        self._answer(status, answer_headers, answer)

    def _records(self, target: str, body: bytes) -> tuple[list[tuple[str, bytes]], str, dict | None]:
        if target not in ("PutRecords", "PutRecord"):
            return [], "", None
        try:
            document = json.loads(body)
            stream = document.get("StreamName") or document.get("StreamARN") or ""
            if target == "PutRecord":
                return [(document["PartitionKey"], base64.b64decode(document["Data"]))], stream, document
            return [(r["PartitionKey"], base64.b64decode(r["Data"])) for r in document["Records"]], stream, document
        except (ValueError, KeyError, TypeError):
            return [], "", None

    def _put_records(self, headers, body, records, stream, document, entry) -> None:
        proxy = self.owner
        failed, fault = proxy._choose_failures(records)
        results: list[dict | None] = [None] * len(records)
        if failed:
            assert fault is not None
            message = fault.message or RECORD_MESSAGES.get(fault.code, fault.code).format(stream=stream)
            for index in failed:
                results[index] = {"ErrorCode": fault.code, "ErrorMessage": message}
            entry.failed = list(failed)
            proxy._count("records_failed_injected", len(failed))
        forward_indices = [i for i in range(len(records)) if results[i] is None]
        if forward_indices:
            if failed:
                subset = dict(document)
                subset["Records"] = [document["Records"][i] for i in forward_indices]
                new_body = json.dumps(subset).encode()
                signed = proxy.resign("POST", self.path, headers, body, new_body)
                if isinstance(signed, str):
                    if signed == "SignatureDoesNotMatch":
                        self._error(403, "SignatureDoesNotMatch", "xml", entry)
                    else:
                        self._error(500, "FaultProxyMisconfigured", "json", entry, message=signed)
                    return
                headers, body = signed, new_body
            status, answer_headers, answer = proxy.forward("POST", self.path, headers, body)
            entry.status = status
            proxy._count("records_forwarded", len(forward_indices))
            if not 200 <= status < 300:
                proxy._count("upstream_errors")
                self._answer(status, answer_headers, answer)
                return
            upstream = json.loads(answer)["Records"]
            for index, result in zip(forward_indices, upstream):
                results[index] = result
                if "ErrorCode" not in result:
                    proxy._count("records_accepted")
                    with proxy._state:
                        proxy.accepted.append(records[index])
        else:
            entry.status = 200
        failed_count = sum(1 for r in results if r and "ErrorCode" in r)
        payload = json.dumps({"FailedRecordCount": failed_count, "Records": results, "EncryptionType": "NONE"}).encode()
        self._answer(200, [("Content-Type", "application/x-amz-json-1.1")], payload)

    def _answer(self, status: int, headers, body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, style: str, entry: RequestLogEntry, message: str | None = None) -> None:
        entry.status = status
        message = message or f"{code} injected by the fault proxy"
        if style == "xml":
            body = (
                '<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error>'
                f"<Code>{code}</Code><Message>{message}</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"
            ).encode()
            content_type = "text/html; charset=utf-8"
        elif style == "html":
            body = f"<html><head><title>{status} {code}</title></head><body><h1>{status} {code}</h1></body></html>".encode()
            content_type = "text/html"
        elif style == "empty":
            body, content_type = b"", "text/plain"
        else:
            body = json.dumps({"__type": code, "message": message}).encode()
            content_type = "application/x-amz-json-1.1"
        headers = [("Content-Type", content_type)]
        if style == "json":
            headers.append(("x-amzn-ErrorType", f"{code}:"))
        self._answer(status, headers, body)

    def _drop(self, reset: bool) -> None:
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    """The control API of a standalone proxy."""

    proxy: FaultProxy

    def log_message(self, *_):
        pass

    def _reply(self, value, status: int = 200) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/stats":
            self._reply(self.proxy.stats())
        elif self.path == "/records":
            encode = lambda records: [[key, base64.b64encode(data).decode()] for key, data in records]
            self._reply({"received": encode(self.proxy.received_records()), "accepted": encode(self.proxy.accepted_records())})
        else:
            self._reply({"error": "not found"}, 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            args = json.loads(self.rfile.read(length) or b"{}")
            actions = {
                "/faults/records": lambda: self.proxy.fail_records(**args),
                "/faults/requests": lambda: self.proxy.fail_requests(**args),
                "/faults/drop": lambda: self.proxy.drop_connections(**args),
                "/faults/stall": lambda: self.proxy.stall(**args),
                "/faults/outage": lambda: self.proxy.outage(**args),
                "/faults/clear": self.proxy.clear_faults,
                "/stats/reset": self.proxy.reset_stats,
            }
            action = actions.get(self.path)
            if action is None:
                self._reply({"error": "not found"}, 404)
                return
            action()
            self._reply({"ok": True})
        except (TypeError, ValueError) as error:
            self._reply({"error": str(error)}, 400)


class RemoteFaultProxy:
    """The control API of a standalone `FaultProxy` process, with the same methods."""

    def __init__(self, control_url: str, url: str = ""):
        self.control_url = control_url.rstrip("/")
        self.url = url

    def _call(self, path: str, args: dict | None = None):
        data = None if args is None else json.dumps(args).encode()
        request = urllib.request.Request(self.control_url + path, data=data, method="GET" if data is None else "POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def fail_records(self, share=0.5, code=THROTTLED, message=None, requests=None, seed=0):
        self._call("/faults/records", {"share": share, "code": code, "message": message, "requests": requests, "seed": seed})

    def fail_requests(self, status=500, code=INTERNAL, count=1, body="json"):
        self._call("/faults/requests", {"status": status, "code": code, "count": count, "body": body})

    def throttle_requests(self, count=1):
        self.fail_requests(400, THROTTLED, count)

    def drop_connections(self, count=1, reset=False):
        self._call("/faults/drop", {"count": count, "reset": reset})

    def stall(self, seconds, count=1, then="forward"):
        self._call("/faults/stall", {"seconds": seconds, "count": count, "then": then})

    def outage(self, seconds, mode="refuse"):
        self._call("/faults/outage", {"seconds": seconds, "mode": mode})

    def clear_faults(self):
        self._call("/faults/clear", {})

    def reset_stats(self):
        self._call("/stats/reset", {})

    def stats(self) -> dict:
        return self._call("/stats")

    def received_records(self) -> list[tuple[str, bytes]]:
        return [(key, base64.b64decode(data)) for key, data in self._call("/records")["received"]]

    def accepted_records(self) -> list[tuple[str, bytes]]:
        return [(key, base64.b64decode(data)) for key, data in self._call("/records")["accepted"]]


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Fault-injecting Kinesis proxy in front of moto.")
    parser.add_argument("--upstream", required=True, help="moto's URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--access-key-id")
    parser.add_argument("--secret-access-key")
    parser.add_argument("--until-stdin-closes", action="store_true", help="also stop when stdin reaches end of file")
    args = parser.parse_args(argv)
    if __package__:
        from .lifecycle import stop_on_signals
    else:
        from lifecycle import stop_on_signals

    stopping = stop_on_signals(args.until_stdin_closes)
    credentials = (args.access_key_id, args.secret_access_key) if args.access_key_id else None
    proxy = FaultProxy(args.upstream, host=args.host, port=args.port, credentials=credentials).start()

    class Control(_ControlHandler):
        pass

    Control.proxy = proxy
    control = http.server.ThreadingHTTPServer((args.host, args.control_port), Control)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    print(json.dumps({"url": proxy.url, "control_url": f"http://{args.host}:{control.server_address[1]}"}), flush=True)
    stopping.wait()
    control.shutdown()
    control.server_close()
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
