"""Issue #13's targets, each printed as met or missed with the figures behind it.

Every ratio compares medians measured in one run, the engines timed in turns.
"""

from __future__ import annotations

import math
from typing import Iterator

Target = tuple[str, "bool | None"]  # the line, met (None: not measured or information)


def targets(f: dict[str, float]) -> Iterator[Target]:
    """The lines of the targets section, from the figures the sections returned."""
    yield from _per_node(f)
    if "fresh micrograd, gc on" in f:
        speedup = f["fresh micrograd, gc on"] / f["fresh ours, gc on"]
        yield (f"2. two-moons step as a micrograd user writes it: {speedup:.1f}x micrograd (target >= 30x; "
               f"each in its own processes, gc on; with gc off {f['fresh micrograd, gc off'] / f['fresh ours, gc off']:.1f}x)",
               speedup >= 30)
    yield from _compiled(f)
    if "nn.fit (default)" in f:
        scalar = f.get("nn.fit(compiled=False)", f["nn.fit (default)"])
        speedup = scalar / f["nn.fit (default)"]
        yield (f"5. nn.fit on the two-moons example: {speedup:.1f}x faster than with the scalar engine "
               f"({f['nn.fit (default)'] * 1e3:.1f} ms an epoch; target >= 20x)", speedup >= 20)
    xla, fused = f.get("JAX, 100 steps in one lax.fori_loop"), f.get("ours, compiled (numba) + nn.SGD")
    if xla is not None and fused is not None:
        yield (f"6. numba backend + nn.SGD: {fused / xla:.2f}x XLA's loop ({_us(fused)} vs {_us(xla)} a step; "
               "target <= 2x)", fused <= 2 * xla)
    if "numba compile" in f:
        seconds = f["numba compile"]
        yield (f"6. numba backend, compiling two-moons (first step included, fresh process): {seconds:.2f} s "
               "(target < 2 s)", seconds < 2)
    else:
        yield ("6. numba backend within 2x of XLA's loop: not measured (needs numba and jax installed)", None)


def _per_node(f: dict[str, float]) -> Iterator[Target]:
    for shape, title in (("dag", "random DAG"), ("chain", "chain")):
        sizes = [str(n) for n in sorted(int(key.split()[2]) for key in f
                                        if key.startswith(f"{shape} ours ") and key.split()[2].isdigit())]
        if not sizes:
            continue
        ratios = [f[f"{shape} ours {s}"] / f[f"{shape} micrograd {s}"] for s in sizes if f"{shape} micrograd {s}" in f]
        missing = len(sizes) - len(ratios)
        if ratios:
            shown = ", ".join(f"{r:.2f}" for r in ratios) + (f", micrograd fails at {missing} size(s)" if missing else "")
            yield (f"1. per node, {title}: ours / micrograd at {', '.join(_short(s) for s in sizes)} nodes: "
                   f"{shown} (target <= 0.7 at every size)", max(ratios) <= 0.7)
        growth = f[f"{shape} ours {sizes[-1]}"] / f[f"{shape} ours {sizes[0]}"]
        yield (f"1. per node, {title}: ours at {_short(sizes[-1])} / ours at {_short(sizes[0])} nodes: {growth:.2f}x "
               "(target <= 1.5x, at 1e6 / 1e3)", growth <= 1.5 if (sizes[0], sizes[-1]) == ("1000", "1000000") else None)
        first, last = f.get(f"{shape} ours without gc {sizes[0]}"), f.get(f"{shape} ours without gc {sizes[-1]}")
        if first and last:
            yield (f"1. per node, {title}: the same without the time the garbage collector ran: {last / first:.2f}x "
                   f"(it ran {f[f'{shape} ours gc {sizes[0]}']:,.0f} ns/node at {_short(sizes[0])}, "
                   f"{f[f'{shape} ours gc {sizes[-1]}']:,.0f} at {_short(sizes[-1])})", None)
        first, last = f.get(f"{shape} ours cpu {sizes[0]}"), f.get(f"{shape} ours cpu {sizes[-1]}")
        if first and last:
            yield (f"1. per node, {title}: the same in the process's CPU time (no waiting for a core): "
                   f"{last / first:.2f}x ({first:,.0f} and {last:,.0f} ns/node)", None)
        memory = f.get(f"{shape} ours backward bytes")
        if memory is not None:
            yield (f"1. per node, {title}: backward's peak memory above the graph at {_short(sizes[-1])} nodes: "
                   f"{memory:.0f} B/node (target <= 200, at 1e6)", memory <= 200 if sizes[-1] == "1000000" else None)
        tape = ", ".join(f"{f[f'{shape} tape {s}']:,.0f}" for s in sizes)
        yield (f"1. anchor, {title}: an index-based tape in pure Python, ns per node at each size: {tape} "
               "(about 1 us expected)", None)


def _compiled(f: dict[str, float]) -> Iterator[Target]:
    if "digits ours, compiled + nn.SGD" in f:
        ours, hand = f["digits ours, compiled + nn.SGD"], f["digits numpy by hand (no loss)"]
        yield (f"3. digits compiled + nn.SGD: {ours / hand:.2f}x numpy by hand ({_us(ours)} vs {_us(hand)}; "
               "target <= 1.5x)", ours / hand <= 1.5)
    if "ours, compiled + nn.SGD" not in f:
        return
    sgd, numpy = f["ours, compiled + nn.SGD"], f["numpy by hand (no loss)"]
    yield (f"3. two-moons compiled + nn.SGD: {sgd / numpy:.2f}x numpy by hand ({_us(sgd)} vs {_us(numpy)}; "
           "target <= 1.3x)", sgd / numpy <= 1.3)
    if "JAX jit, loss read each step" in f:
        jax = f["JAX jit, loss read each step"]
        yield (f"3. two-moons compiled + nn.SGD: {sgd / jax:.2f}x jax.jit with the loss read each step "
               f"({_us(jax)}; target < 1x; jax.jit without the read: {_us(f['JAX jit, loss not read'])})", sgd < jax)
    else:
        yield ("3. two-moons compiled vs jax.jit: not measured, JAX is not installed", None)
    loop = f["ours, compiled + Python loop"]
    yield (f"3. two-moons compiled, Python loop over parameters: {loop / sgd:.2f}x the optimizer's step "
           f"({_us(loop)}; target <= 1.3x)", loop / sgd <= 1.3)
    yield (f"3. compiling two-moons: {f['compile'] * 1e3:.2f} ms (target < 10 ms)", f["compile"] < 0.010)


def _short(size: str) -> str:
    exponent = math.log10(int(size))
    return f"1e{exponent:.0f}" if exponent.is_integer() else f"{int(size):,}"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} us"


def print_targets(figures: dict[str, float]) -> None:
    print("\ntargets (issue #13; medians of engines timed in turns, in this run)")
    for line, met in targets(figures):
        mark = {True: "met    ", False: "MISSED ", None: "info   "}[met]
        print(f"  {mark} {line}")
