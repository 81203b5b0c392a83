"""Real journald peers for tests and benchmarks.

- Journal files without a daemon: entries in the journal export format, turned into a
  journal file by the real `systemd-journal-remote`.
- A private `systemd-journald`: started in its own mount namespace (`unshare --mount`)
  with a tmpfs on /run, a private directory on /var/log/journal and its own
  journald.conf (Storage=volatile), so that nothing reaches the host's journal. Other
  commands join that namespace with `nsenter --mount` to log to it or read it.

As a script it writes benchmark journals:
    python3 tests/harness/journald.py generate DIR ENTRIES
"""
from __future__ import annotations

import os
import pathlib
import shlex
import struct
import subprocess
import sys
import tempfile
import time
from typing import Iterable, Iterator, Sequence

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
JOURNALD = "/lib/systemd/systemd-journald"


def export_entry(fields: Sequence[tuple[str, "str | bytes"]], realtime: int | None = None,
                 monotonic: int | None = None, boot_id: str | None = None) -> bytes:
    """One entry in the journal export format. Values holding a newline or bytes that are
    not UTF-8 text use the binary form (name, newline, 64-bit little-endian size, bytes)."""
    out = bytearray()
    if realtime is not None:
        out += b"__REALTIME_TIMESTAMP=%d\n" % realtime
    if monotonic is not None:
        out += b"__MONOTONIC_TIMESTAMP=%d\n" % monotonic
    if boot_id is not None:
        out += b"_BOOT_ID=%s\n" % boot_id.encode()
    for name, value in fields:
        data = value.encode() if isinstance(value, str) else value
        if b"\n" in data or b"\0" in data or not _is_utf8(data):
            out += name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += name.encode() + b"=" + data + b"\n"
    out += b"\n"
    return bytes(out)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def write_journal(path: str | os.PathLike, entries: Iterable[bytes]) -> None:
    """Writes (or appends) `entries` (export format) to the journal file `path` (*.journal)."""
    with subprocess.Popen([JOURNAL_REMOTE, f"--output={path}", "--split-mode=none", "-"],
                          stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stderr is not None
        chunk = bytearray()
        for entry in entries:
            chunk += entry
            if len(chunk) > 1 << 20:
                proc.stdin.write(chunk)
                chunk.clear()
        proc.stdin.write(chunk)
        proc.stdin.close()
        error = proc.stderr.read()
        if proc.wait() != 0:
            raise RuntimeError(f"systemd-journal-remote failed for {path}: {error.decode(errors='replace')}")


def benchmark_entries(count: int, base_realtime: int = 1_700_000_000_000_000) -> Iterator[bytes]:
    """Entries shaped like a busy host's journal: the fields journald adds to a service's
    stdout line (transport, process, unit, cgroup, host), a syslog identifier and priority,
    and a message of 60-250 bytes, every fifth one a JSON object."""
    boot = "6b1c2c1e5a4f4f0e9d3c2b1a00112233"
    machine = "3d1219c7c4c5404aaa1f6d2a48adfda4"
    units = ["orders", "billing", "legacy", "nginx", "cron"]
    for i in range(count):
        unit = units[i % len(units)]
        pid = 1000 + (i % 97)
        if i % 5 == 0:
            message = ('{"level":"info","action":"create","order":{"id":%d,"total":%d.%02d},'
                       '"user":{"id":"u-%d"},"ts":"2023-11-14T22:13:%02d.%06dZ"}'
                       % (i, i % 1000, i % 100, i % 5000, (i // 1_000_000) % 60, i % 1_000_000))
        else:
            message = (f"{unit}[{pid}]: handled request {i} for client 10.0.{i % 256}.{(i * 7) % 256} "
                       f"in {i % 900} ms " + "x" * (i % 120))
        fields = [
            ("_TRANSPORT", "stdout"), ("PRIORITY", str(3 + i % 5)), ("SYSLOG_FACILITY", "3"),
            ("SYSLOG_IDENTIFIER", unit), ("_PID", str(pid)), ("_UID", "998"), ("_GID", "998"),
            ("_COMM", unit), ("_EXE", f"/usr/bin/{unit}"), ("_CMDLINE", f"/usr/bin/{unit} --config /etc/{unit}.conf"),
            ("_SYSTEMD_CGROUP", f"/system.slice/{unit}.service"), ("_SYSTEMD_UNIT", f"{unit}.service"),
            ("_SYSTEMD_SLICE", "system.slice"), ("_HOSTNAME", "host-12"), ("_MACHINE_ID", machine),
            ("_STREAM_ID", "%032x" % (i % 13)), ("MESSAGE", message),
        ]
        yield export_entry(fields, realtime=base_realtime + i * 1000, monotonic=5_000_000 + i * 1000, boot_id=boot)


class PrivateJournald:
    """A real systemd-journald in a private mount namespace, for tests that need journald
    itself (systemd-cat, logger --journald). Use as a context manager; `run` and `popen`
    execute commands inside its namespace, where the journal socket and /run/log/journal
    are the private ones."""

    def __init__(self, workdir: str | os.PathLike | None = None):
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="lk-journald-")
        self.workdir = pathlib.Path(workdir or self._tmp.name)
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "PrivateJournald":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> None:
        journal_dir = self.workdir / "var-log-journal"
        journal_dir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "journald.conf"
        conf.write_text("[Journal]\nStorage=volatile\nReadKMSG=no\nRateLimitBurst=0\nRateLimitIntervalSec=0\n"
                        "ForwardToSyslog=no\nForwardToWall=no\nForwardToConsole=no\nForwardToKMsg=no\n")
        # `set -e`: journald starts only once /run is the private tmpfs, so it can never
        # write to the host's socket or files.
        script = "\n".join([
            "set -e",
            "mount --make-rprivate /",
            "mount -t tmpfs -o mode=0755 lk-private-run /run",
            f"mount --bind {shlex.quote(str(journal_dir))} /var/log/journal",
            f"mount --bind {shlex.quote(str(conf))} /etc/systemd/journald.conf",
            f"exec {JOURNALD}",
        ])
        self.log = open(self.workdir / "journald.log", "wb")
        self.proc = subprocess.Popen(["unshare", "--mount", "sh", "-c", script],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        socket = pathlib.Path(f"/proc/{self.proc.pid}/root/run/systemd/journal/socket")
        deadline = time.monotonic() + timeout
        while not socket.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"private journald exited with {self.proc.returncode}: "
                                   f"{(self.workdir / 'journald.log').read_text(errors='replace')}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("private journald did not create its socket in time")
            time.sleep(0.02)
        mounts = self.run(["findmnt", "-n", "-o", "FSTYPE", "/run"], capture_output=True, text=True, check=True)
        if mounts.stdout.strip() != "tmpfs":
            self.stop()
            raise RuntimeError("the private namespace's /run is not the private tmpfs")

    def _enter(self, argv: Sequence[str]) -> list[str]:
        assert self.proc is not None and self.proc.poll() is None, "private journald is not running"
        return ["nsenter", f"--target={self.proc.pid}", "--mount", "--", *argv]

    def run(self, argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
        """Runs a command inside the private namespace."""
        return subprocess.run(self._enter(argv), **kwargs)

    def popen(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        """Starts a command inside the private namespace."""
        return subprocess.Popen(self._enter(argv), **kwargs)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "generate":
        print(__doc__, file=sys.stderr)
        return 2
    directory = pathlib.Path(argv[1])
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    write_journal(directory / "bench.journal", benchmark_entries(int(argv[2])))
    print(f"wrote {argv[2]} entries to {directory} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
