"""How long the numba backend takes to compile the two-moons program, in a fresh process.

Run by benchmarks/moons.py (one process per run), never imported by it: numba keeps
what it compiled for the rest of a process, so only a new process compiles from
nothing, as a user's script does. The request on stdin holds the data; the answer on
stdout is the seconds to import numba (information) and the seconds from ``compile``
to the end of the first step, forward and backward (numba compiles the passes at their
first call), on the clock and in CPU time (which a busy machine inflates less).
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    request = json.load(sys.stdin)
    start = time.perf_counter()
    import numba  # noqa: F401  (timed apart: importing a library is not compiling)

    imported = time.perf_counter()
    import numpy as np
    from moons import compiled_program

    import nn

    model = nn.MLP(2, [16, 16, 1], seed=0)
    X, y = np.array(request["X"]), np.array(request["y"])
    begin, begin_cpu = time.perf_counter(), time.process_time()
    program = compiled_program(model, backend="numba")
    program(X[:, 0].copy(), X[:, 1].copy(), y)
    program.backward()
    json.dump(
        {"import": imported - start, "compile": time.perf_counter() - begin, "cpu": time.process_time() - begin_cpu},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
