"""An HTTP server playing the EC2 instance metadata service (IMDSv2 only) and the ECS
container credentials endpoint, for the credential providers' tests.

IMDSv2: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` gives a
token; `GET /latest/meta-data/iam/security-credentials/` (the role name) and
`GET /latest/meta-data/iam/security-credentials/<role>` (the credentials) answer 401
without a valid `X-aws-ec2-metadata-token`, as IMDS does when v1 is disabled.
ECS: `GET /ecs/credentials` answers the credentials, 401 unless the `Authorization`
header equals the configured token (when one is configured).

Each credentials answer is a new generation: AccessKeyId `ASIATEST<n>`, secret
`secret-<n>`, token `token-<n>`, Expiration now + `lifetime` seconds (none when `lifetime`
is null), unless fixed
credentials are configured (e.g. a real moto key, so the client can then sign for moto).

Control (JSON): POST /control {"lifetime": s, "fail": n, "delay": s, "ecs_token": str,
"credentials": {"AccessKeyId", "SecretAccessKey", "Token"} | null}; GET /control/stats.

    python3 tests/harness/metadata_server.py [--until-stdin-closes]
prints {"url": ...} and serves until SIGTERM or SIGINT (or end of file on stdin).
"""
from __future__ import annotations

import datetime
import http.server
import json
import secrets
import sys
import threading
import time

ROLE = "lk-forwarder-test-role"


class MetadataServer:
    """The server and its state; `start()` runs it on a thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.lock = threading.Lock()
        self.tokens: set[str] = set()
        self.generation = 0
        self.settings = {"lifetime": 3600.0, "fail": 0, "delay": 0.0, "ecs_token": None, "credentials": None}
        self.stats = {"token_requests": 0, "imds_role_requests": 0, "imds_credentials": 0, "ecs_credentials": 0, "unauthorized": 0, "failed": 0}
        owner = self

        class Handler(_Handler):
            server_state = owner

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"

    def start(self) -> "MetadataServer":
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def configure(self, **settings) -> None:
        with self.lock:
            for key, value in settings.items():
                if key not in self.settings:
                    raise ValueError(f"unknown setting {key}")
                self.settings[key] = value

    def snapshot(self) -> dict:
        with self.lock:
            return {**self.stats, "generation": self.generation}

    def next_credentials(self) -> tuple[int, dict] | None:
        """A fresh credentials document, or None when a failure is due."""
        with self.lock:
            if self.settings["fail"] > 0:
                self.settings["fail"] -= 1
                self.stats["failed"] += 1
                return None
            self.generation += 1
            n = self.generation
            lifetime = self.settings["lifetime"]
            fixed = self.settings["credentials"]
        document = {
            "Code": "Success",
            "LastUpdated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Type": "AWS-HMAC",
            "AccessKeyId": (fixed or {}).get("AccessKeyId", f"ASIATEST{n}"),
            "SecretAccessKey": (fixed or {}).get("SecretAccessKey", f"secret-{n}"),
            "Token": (fixed or {}).get("Token", f"token-{n}"),
            "RoleArn": f"arn:aws:iam::123456789012:role/{ROLE}",
        }
        if lifetime is not None:
            expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)
            document["Expiration"] = expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
        if fixed is not None and fixed.get("Token") is None:
            document.pop("Token")
        return n, document


class _Handler(http.server.BaseHTTPRequestHandler):
    server_state: MetadataServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _count(self, name: str) -> None:
        with self.server_state.lock:
            self.server_state.stats[name] += 1

    def _credentials(self, counter: str) -> None:
        self._count(counter)
        delay = self.server_state.settings["delay"]
        if delay:
            time.sleep(delay)
        issued = self.server_state.next_credentials()
        if issued is None:
            self._reply(500, b"injected failure")
            return
        self._reply(200, json.dumps(issued[1]).encode(), "application/json")

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path != "/latest/api/token":
            self._reply(404, b"not found")
            return
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self._reply(400, b"missing or invalid X-aws-ec2-metadata-token-ttl-seconds")
            return
        token = secrets.token_urlsafe(24)
        with self.server_state.lock:
            self.server_state.tokens.add(token)
            self.server_state.stats["token_requests"] += 1
        self._reply(200, token.encode())

    def do_GET(self) -> None:
        state = self.server_state
        if self.path == "/control/stats":
            self._reply(200, json.dumps(state.snapshot()).encode(), "application/json")
            return
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            token = self.headers.get("X-aws-ec2-metadata-token")
            with state.lock:
                valid = token in state.tokens
            if not valid:
                self._count("unauthorized")
                self._reply(401, b"")
                return
            if self.path == prefix:
                self._count("imds_role_requests")
                self._reply(200, ROLE.encode())
            elif self.path == prefix + ROLE:
                self._credentials("imds_credentials")
            else:
                self._reply(404, b"not found")
            return
        if self.path == "/ecs/credentials":
            expected = state.settings["ecs_token"]
            if expected is not None and self.headers.get("Authorization") != expected:
                self._count("unauthorized")
                self._reply(401, json.dumps({"message": "bad token"}).encode(), "application/json")
                return
            self._credentials("ecs_credentials")
            return
        self._reply(404, b"not found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b"{}"
        if self.path != "/control":
            self._reply(404, b"not found")
            return
        try:
            self.server_state.configure(**json.loads(body))
        except (ValueError, TypeError) as error:
            self._reply(400, str(error).encode())
            return
        self._reply(200, b"{}", "application/json")


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Play IMDSv2 and the ECS credentials endpoint.")
    parser.add_argument("--until-stdin-closes", action="store_true", help="also stop when stdin reaches end of file")
    args = parser.parse_args(argv)
    if __package__:
        from .lifecycle import stop_on_signals
    else:
        from lifecycle import stop_on_signals

    stopping = stop_on_signals(args.until_stdin_closes)
    server = MetadataServer().start()
    print(json.dumps({"url": server.url}), flush=True)
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
