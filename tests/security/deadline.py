"""Bound a test step in time: a hang becomes a clear failure instead of a stuck suite."""

import contextlib
import signal


class Hung(AssertionError):
    pass


@contextlib.contextmanager
def deadline(seconds: float, what: str):
    def expire(_signum, _frame):
        raise Hung(f"{what} still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
