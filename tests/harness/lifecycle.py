"""How the harness's standalone servers stop: on SIGTERM or SIGINT, or at end of file on
stdin when their parent asks for it (the Swift tests close the pipe when they are done,
and a child whose parent died sees the same end of file)."""
from __future__ import annotations

import signal
import sys
import threading


def stop_on_signals(until_stdin_closes: bool = False) -> threading.Event:
    """An event set by SIGTERM or SIGINT (and by end of file on stdin if asked). The
    signals are unblocked first: a parent may have spawned this process with them blocked."""
    stopping = threading.Event()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    if until_stdin_closes:
        threading.Thread(target=lambda: (sys.stdin.read(), stopping.set()), daemon=True).start()
    return stopping
