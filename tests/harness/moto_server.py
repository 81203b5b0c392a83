"""moto's server as a real Kinesis/STS/IAM peer, with SigV4 signature checking switched on.

`MotoServer().start()` runs `python3 -m moto.server -H 127.0.0.1 -p 0` and waits for the
port it took. `enable_auth()` creates, through moto's IAM API, an admin user (policy `*`)
and a forwarder user (policy `kinesis:*`), each with an access key, then posts
`/moto-api/reset-auth` with body `0`: from then on every request must be signed with a
known key, a wrong secret gets 403 SignatureDoesNotMatch and an unknown key 403
InvalidClientTokenId.

AWS serves the two federation calls of STS, AssumeRoleWithWebIdentity and
AssumeRoleWithSAML, unsigned; moto 5.2.1 with auth on answers them 500 (it looks for an
Authorization header). The moto process is therefore started through this module
(`--serve`), which lets those two unsigned calls through before handing over to
`moto.server.main`; every other request is checked as usual.

Run as a script for peers that are not Python (the Swift tests):
    python3 tests/harness/moto_server.py [--no-auth] [--role NAME ...] [--until-stdin-closes]
prints one JSON line {"url", "region", "admin": {...}, "forwarder": {...}, "roles": {...}}
and serves until SIGTERM or SIGINT (or end of file on stdin, with --until-stdin-closes).
"""
from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass

import boto3
import botocore.config

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class AccessKey:
    """An IAM access key created in moto."""

    user: str
    access_key_id: str
    secret_access_key: str

    def as_json(self) -> dict:
        return {"user": self.user, "access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key}


class MotoServer:
    """A moto server process on 127.0.0.1 (a free port unless one is given)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, region: str = REGION):
        self.host = host
        self.requested_port = port
        self.region = region
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.admin: AccessKey | None = None
        self.forwarder: AccessKey | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("moto is not running")
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> "MotoServer":
        env = dict(os.environ)
        # Never let moto or boto3 pick up a developer's real credentials or profile.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        env["PYTHONUNBUFFERED"] = "1"  # moto's tracebacks reach output() as they happen
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", "-H", self.host, "-p", str(self.requested_port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        pattern = re.compile(r"Running on http://[^:]+:(\d+)")
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("moto.server exited before it was ready:\n" + "".join(self._output))
            self._output.append(line)
            match = pattern.search(line)
            if match:
                self.port = int(match.group(1))
                break
        else:
            self.stop()
            raise RuntimeError("moto.server did not report its port in time")
        threading.Thread(target=self._drain, daemon=True).start()
        self._wait_until_answering(deadline)
        return self

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self._output.append(line)

    def _wait_until_answering(self, deadline: float) -> None:
        while True:
            try:
                with urllib.request.urlopen(self.url + "/moto-api/", timeout=2) as answer:
                    answer.read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto.server does not answer")
                time.sleep(0.05)

    def output(self) -> str:
        """The last lines moto printed (its request log), for failure messages."""
        return "".join(self._output)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()

    # Clients and auth

    def client(self, service: str, key: AccessKey | None = None, region: str | None = None):
        """A boto3 client of `service` signed with `key` (default: the admin key once auth is on)."""
        key = key or self.admin
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region or self.region,
            aws_access_key_id=key.access_key_id if key else "AKIDMOTOBOOTSTRAP",
            aws_secret_access_key=key.secret_access_key if key else "bootstrap-secret",
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )

    def create_user(self, name: str, actions: list[str]) -> AccessKey:
        """An IAM user with an inline-equivalent managed policy allowing `actions`, and its key."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        policy = iam.create_policy(
            PolicyName=f"{name}-policy",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
            ),
        )
        iam.attach_user_policy(UserName=name, PolicyArn=policy["Policy"]["Arn"])
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return AccessKey(name, key["AccessKeyId"], key["SecretAccessKey"])

    def enable_auth(self) -> None:
        """Creates the admin and forwarder users, then turns signature checking on."""
        if self.admin is not None:
            return
        self.admin = self.create_user("lk-admin", ["*"])
        self.forwarder = self.create_user("lk-forwarder", ["kinesis:*"])
        # A form content type would make moto's werkzeug parse the body away.
        request = urllib.request.Request(
            self.url + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def create_role(self, name: str, actions: list[str], trust: dict | None = None) -> str:
        """A role allowing `actions`, assumable by anyone in the account (or per `trust`); its ARN."""
        iam = self.client("iam")
        trust = trust or {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"Federated": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"},
            ],
        }
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        policy = iam.create_policy(
            PolicyName=f"{name}-policy",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
            ),
        )
        iam.attach_role_policy(RoleName=name, PolicyArn=policy["Policy"]["Arn"])
        return role["Role"]["Arn"]

    def description(self) -> dict:
        """What a non-Python peer needs: the URL, the region and both keys."""
        return {
            "url": self.url,
            "region": self.region,
            "account_id": ACCOUNT_ID,
            "admin": self.admin.as_json() if self.admin else None,
            "forwarder": self.forwarder.as_json() if self.forwarder else None,
        }


UNSIGNED_STS_ACTIONS = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


def serve(argv: list[str]) -> None:
    """Runs moto's server in this process, with the unsigned STS federation calls allowed."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.server import main as moto_main

    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    checked = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self, iam_request_cls, resource="*"):
        if "Authorization" not in self.headers and self._get_action() in UNSIGNED_STS_ACTIONS:
            return
        checked(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate
    moto_main(argv)


def main(argv: list[str]) -> int:
    import argparse

    if argv[:1] == ["--serve"]:
        serve(argv[1:])
        return 0

    parser = argparse.ArgumentParser(description="Run moto's server with signature checking on.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-auth", action="store_true", help="leave signature checking off")
    parser.add_argument("--role", action="append", default=[], help="create a role NAME allowing kinesis:* (repeatable)")
    parser.add_argument("--until-stdin-closes", action="store_true", help="also stop when stdin reaches end of file")
    args = parser.parse_args(argv)

    if __package__:
        from .lifecycle import stop_on_signals
    else:
        from lifecycle import stop_on_signals

    stopping = stop_on_signals(args.until_stdin_closes)
    server = MotoServer(port=args.port).start()
    try:
        if not args.no_auth:
            server.enable_auth()
        description = server.description()
        description["roles"] = {name: server.create_role(name, ["kinesis:*"]) for name in args.role}
        print(json.dumps(description), flush=True)
        stopping.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
