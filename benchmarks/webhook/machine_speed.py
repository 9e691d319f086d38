"""Print how fast this machine runs Python right now, to read latency results against.

On a shared VM the CPU share changes from hour to hour: the same server made 3,000 admissions/s
at one time and 1,600/s an hour later. A second of pure-Python work (the interpreter loop, as a
server's request handling is) measured just before a run says which kind of hour it was.
"""

from __future__ import annotations

import time


def loops_per_second(seconds: float = 1.0) -> float:
    """Iterations per second of a small pure-Python loop, over ``seconds``."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for i in range(1000):
            count += i & 1
    return count * 2 / (time.perf_counter() - started)


if __name__ == "__main__":
    print(f"machine speed: {loops_per_second() / 1e6:.1f} M Python loop iterations/s")
