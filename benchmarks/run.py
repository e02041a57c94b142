"""Side-by-side timings of autodiff and its peers, all measured in this one run, then
issue #13's targets, met or missed.

    ./scripts/bench                      (or: .venv/bin/python benchmarks/run.py)
    ./scripts/bench --quick              fewer rounds, graphs up to 1e5 nodes
    ./scripts/bench --only moons digits  some sections only

Every workload first checks that its engines compute the same numbers (losses over a
few steps, or a graph's output and gradient) to 1e-9, then times them in turns and
prints medians with their range. Sections: moons (the two-moons step written four ways,
micrograd, numpy, PyTorch, JAX), per_node (build + backward per node at 1e3..1e6 nodes),
digits (MLP 64-32-10 with cross-entropy), fit (nn.fit on the two-moons example), six
(the six-sample network of the article).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import measure_this_checkout  # noqa: E402

measure_this_checkout()

import numpy as np  # noqa: E402
import autodiff  # noqa: E402

import digits  # noqa: E402
import fit_speed  # noqa: E402
import moons  # noqa: E402
import per_node  # noqa: E402
import six_samples  # noqa: E402
from targets import print_targets  # noqa: E402

SECTIONS = {"moons": moons.run, "per_node": per_node.run, "digits": digits.run, "fit": fit_speed.run,
            "six": six_samples.run}
PREFIX = {"digits": "digits "}  # digits' engine names are the moons' ones: keep them apart


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and graphs up to 1e5 nodes")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check every section runs "
                        "(its timings mean nothing)")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS), metavar="SECTION",
                        help=f"run only these sections ({', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    if moons.torch is not None:
        moons.torch.set_num_threads(1)
    print(f"code: {Path(autodiff.__file__).parent.parent}")
    print(f"machine: {platform.machine()}, CPython {platform.python_version()}, numpy {np.__version__}"
          + (f", torch {moons.torch.__version__}" if moons.torch else "")
          + (f", jax {moons.jax.__version__}" if moons.jax else ", no jax (pip install jax jaxlib to compare)")
          + (", micrograd 0.1.0" if moons.micrograd else ", no micrograd (pip install micrograd==0.1.0)"))
    scale = "smoke" if args.smoke else "quick" if args.quick else "full"
    start = time.perf_counter()
    figures: dict[str, float] = {}
    for name in args.only:
        prefix, section_start = PREFIX.get(name, ""), time.perf_counter()
        figures |= {prefix + key: value for key, value in SECTIONS[name](scale).items()}
        print(f"  ({name}: {time.perf_counter() - section_start:.0f} s)")
    print_targets(figures)
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return figures


if __name__ == "__main__":
    main()
