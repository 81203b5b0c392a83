"""The file input as a real process, killed with SIGKILL at random while a writer writes
and a rotator renames and copies-and-truncates: every line is printed at least once over
the restarts, except those copytruncate itself lost (which the rotator accounts for), and
the checkpoint file is whole after every kill.

`lk-bench file-follow` prints each line it is handed, then commits it (checkpoints are
written every 10 ms), so a kill at any instant loses nothing it has not printed.
"""
import json
import os
import random
import re
import signal
import subprocess
import threading
import time

LINE = re.compile(rb'^\{"n":(\d+),"pad":"(x*)"\}$')


def line(number: int) -> bytes:
    return b'{"n":%d,"pad":"%s"}\n' % (number, b"x" * (40 + number % 50))


def number_of(raw: bytes):
    match = LINE.match(raw)
    if match and line(int(match.group(1))) == raw + b"\n":
        return int(match.group(1))
    return None


class Scribe:
    """A writer (O_APPEND, reopening after a rename) and a rotator, on two threads. The
    writer records each line's inode and end offset; the rotator each copy's size, so that
    the lines copytruncate lost (written after the copy, before the truncation) are known."""

    def __init__(self, path: str, seed: int):
        self.path = path
        self.random = random.Random(seed)
        self.records = []  # (number, inode, end offset)
        self.copies = {}  # inode -> [copy size, ...]
        self.reopen = threading.Event()
        self.stop = threading.Event()
        self.rotations = 0

    def writer(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        after_rename = -1
        number = 0
        while not self.stop.is_set():
            number += 1
            os.write(fd, line(number))
            self.records.append((number, os.fstat(fd).st_ino, os.lseek(fd, 0, os.SEEK_CUR)))
            if after_rename < 0 and self.reopen.is_set():
                after_rename = 3
            if after_rename == 0:
                os.close(fd)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                self.reopen.clear()
            if after_rename >= 0:
                after_rename -= 1
            if number % 20 == 0:
                time.sleep(0.001)
        os.close(fd)

    def rotator(self, rotations: int):
        for index in range(rotations):
            time.sleep(self.random.uniform(0.05, 0.15))
            target = f"{self.path}.{index + 1}"
            if index % 3 == 0:
                while self.reopen.is_set():
                    time.sleep(0.001)
                os.rename(self.path, target)
                self.reopen.set()
            else:
                with open(self.path, "r+b") as source:
                    size = os.fstat(source.fileno()).st_size
                    if size == 0:
                        continue
                    data = source.read()
                    with open(target, "xb") as copy:
                        copy.write(data)
                    time.sleep(self.random.uniform(0, 0.003))
                    os.ftruncate(source.fileno(), 0)
                    self.copies.setdefault(os.fstat(source.fileno()).st_ino, []).append(len(data))
            self.rotations += 1

    def lost_by_rotator(self) -> set:
        lost = set()
        by_inode = {}
        for record in self.records:
            by_inode.setdefault(record[1], []).append(record)
        for inode, records in by_inode.items():
            copies = self.copies.get(inode, [])
            generation, previous = 0, 0
            for number, _, end in records:
                if end <= previous:
                    generation += 1
                previous = end
                if generation < len(copies) and end > copies[generation]:
                    lost.add(number)
        return lost


class Follower:
    """One run of `lk-bench file-follow`, its stdout collected on a thread."""

    def __init__(self, lk_bench: str, directory: str):
        self.process = subprocess.Popen(
            [lk_bench, "file-follow", "--path", f"{directory}/a.log*", "--state", f"{directory}/state",
             "--rotate-wait-ms", "200", "--flush-ms", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.numbers = []
        self.stderr = b""
        self.reader = threading.Thread(target=self._read)
        self.reader.start()
        self.err_reader = threading.Thread(target=self._read_stderr)
        self.err_reader.start()

    def _read(self):
        for raw in self.process.stdout:
            number = number_of(raw.rstrip(b"\n"))
            if number is not None:
                self.numbers.append(number)

    def _read_stderr(self):
        self.stderr = self.process.stderr.read()

    def end(self, sig: int) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=20)
        self.reader.join(timeout=20)
        self.err_reader.join(timeout=20)
        return code


def checkpoints(directory: str) -> dict:
    path = os.path.join(directory, "state", "follow.checkpoints.json")
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as handle:
        return json.load(handle)


def test_sigkill_at_random_loses_nothing_the_rotator_kept(lk_bench, tmp_path):
    directory = str(tmp_path)
    chooser = random.Random(21)
    scribe = Scribe(os.path.join(directory, "a.log"), seed=21)
    writer = threading.Thread(target=scribe.writer)
    rotator = threading.Thread(target=scribe.rotator, args=(12,))
    writer.start()
    rotator.start()
    seen = []
    kills = terms = 0
    try:
        while rotator.is_alive() or kills + terms < 8:
            follower = Follower(lk_bench, directory)
            time.sleep(chooser.uniform(0.15, 0.6))
            if (kills + terms) % 3 != 2:
                assert follower.end(signal.SIGKILL) == -signal.SIGKILL
                kills += 1
            else:
                assert follower.end(signal.SIGTERM) == 0, follower.stderr.decode(errors="replace")
                terms += 1
            seen.extend(follower.numbers)
            # Whatever instant the kill hit, the checkpoint file is whole.
            state = checkpoints(directory)
            assert state == {} or state["input"] == "follow"
            time.sleep(chooser.uniform(0, 0.05))
    finally:
        scribe.stop.set()
        writer.join()
        rotator.join()

    lost = scribe.lost_by_rotator()
    written = [record[0] for record in scribe.records]
    expected = set(written) - lost
    follower = Follower(lk_bench, directory)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not expected <= set(seen) | set(follower.numbers):
        time.sleep(0.05)
    assert follower.end(signal.SIGTERM) == 0, follower.stderr.decode(errors="replace")
    seen.extend(follower.numbers)

    missing = sorted(expected - set(seen))
    print(f"{len(written)} lines, {scribe.rotations} rotations, {kills} SIGKILLs, {terms} SIGTERMs, "
          f"{len(lost)} lost by copytruncate, {len(seen) - len(set(seen))} repeats")
    assert scribe.rotations == 12
    assert kills >= 5 and terms >= 2
    assert not missing, f"{len(missing)} lines missing, first {missing[:10]}"

    # The rotator's account is honest: what it calls lost is in no file.
    in_files = set()
    for name in os.listdir(directory):
        if name.startswith("a.log"):
            with open(os.path.join(directory, name), "rb") as handle:
                for raw in handle.read().split(b"\n"):
                    number = number_of(raw)
                    if number is not None:
                        in_files.add(number)
    assert lost.isdisjoint(in_files)
    assert in_files | lost == set(written)
