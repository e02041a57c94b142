"""What a drawing shows of a graph: every node, or, above a node budget, a summary.

Nodes are grouped by the module that made them, read from the dotted names ``nn`` gives
parameters (``layers.0.neurons.3.w.1`` belongs to ``layers.0.neurons.3``, which belongs
to ``layers.0``). A graph larger than the budget is shrunk in three steps, each only as
far as needed: modules collapse into one summary box each (neurons first, then
layers); long chains of one-input ops keep their two ends around a count of what was
left out; and then only the nodes nearest the output are kept, the rest standing
behind one "more nodes" box. What reaches Graphviz stays small, so it lays out in
seconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from autodiff import Value, topological_order

CHAIN_ENDS = 3  # nodes kept at each end of an elided chain


@dataclass
class Group:
    """A box standing for several nodes: a collapsed module, an elided chain, the rest."""

    key: str
    title: str
    members: list[Value] = field(default_factory=list)


@dataclass
class View:
    """The drawing's content: ``shown[node]`` is the node itself or the Group it is in."""

    order: list[Value]
    module: dict[Value, str]
    shown: dict[Value, Value | Group]
    groups: list[Group]

    def count(self) -> int:
        """How many boxes the drawing has: nodes shown as themselves, and groups."""
        return len({id(item) for item in self.shown.values()})

    def edges(self) -> list[tuple[Value | Group, Value | Group]]:
        """(what an input is shown as, the node or group it flows into): one per input of
        a node shown as itself (``a * a`` has two), one per pair where a group is involved."""
        seen, result = set(), []
        for node in self.order:
            into = self.shown[node]
            for parent in node.parents:
                source = self.shown[parent]
                if source is into:
                    continue
                if isinstance(source, Group) or isinstance(into, Group):
                    if (id(source), id(into)) in seen:
                        continue
                    seen.add((id(source), id(into)))
                result.append((source, into))
        return result


def module_of(label: str) -> str:
    """The module path of a parameter label: ``layers.0.neurons.3.w.1`` -> ``layers.0.neurons.3``."""
    parts = label.split(".")
    if len(parts) < 2:
        return ""
    cut = 2 if parts[-1].isdigit() else 1
    return ".".join(parts[:-cut])


def parent_module(path: str) -> str:
    """``layers.0.neurons.3`` -> ``layers.0`` -> ``""``."""
    parts = path.split(".")
    return ".".join(parts[:-2]) if len(parts) > 2 and parts[-1].isdigit() else ""


def modules(order: list[Value]) -> dict[Value, str]:
    """The module each node belongs to ("" for none).

    A parameter belongs to the module of its name; an op node to the deepest module
    shared by its parameter inputs; an op with no parameter input to the module all its
    inputs are in (an activation; a partial sum of a neuron's products, ``fused=False``).
    """
    module: dict[Value, str] = {}
    for node in order:
        parents = node.parents
        if not parents:
            module[node] = module_of(node.label) if isinstance(node.label, str) and "." in node.label else ""
            continue
        owners = {module[p] for p in parents if not p.parents and module[p]}
        if not owners:
            owners = {module[p] for p in parents}
        module[node] = owners.pop() if len(owners) == 1 else ""
    return module


def build_view(root: Value, budget: int) -> View:
    order = topological_order(root)
    view = View(order, modules(order), {node: node for node in order}, [])
    if view.count() > budget:
        _collapse_modules(view, budget)
    if view.count() > budget:
        _elide_chains(view)
    if view.count() > budget:
        _keep_nearest(view, root, budget)
    view.groups = [g for g in view.groups if g.members and view.shown[g.members[0]] is g]
    return view


def _collapse_modules(view: View, budget: int) -> None:
    """Collapse the deepest modules into one box each, then the next level, while too big."""
    into = dict(view.module)  # the module each node is still to collapse into
    while view.count() > budget:
        paths = {path for path in into.values() if path}
        if not paths:
            return
        deepest = max(path.count(".") for path in paths)
        groups: dict[str, Group] = {}
        for node in view.order:
            path = into[node]
            if path and path.count(".") == deepest:
                group = groups.setdefault(path, Group(f"module {path}", path))
                group.members.append(node)
                view.shown[node] = group
                into[node] = parent_module(path)
        view.groups += groups.values()


def _elide_chains(view: View) -> None:
    """Long runs of ops that each feed only the next keep their ends; the middle goes
    into one box, with the constants that fed only it."""
    children = _child_counts(view.order)

    def link(node: Value) -> bool:  # at most one input that is itself computed
        return (
            view.shown[node] is node
            and children[node] == 1
            and sum(1 for p in node.parents if p.parents) <= 1
            and bool(node.parents)
        )

    # Followed from input to output, not by position: in graph order the constants of a
    # chain (``y * 1.01``) sit between its links.
    chains: list[list[Value]] = []
    ending_at: dict[Value, list[Value]] = {}
    for node in view.order:
        if not link(node):
            continue
        chain = next((ending_at.pop(p) for p in node.parents if p in ending_at), None)
        if chain is None:
            chain = []
            chains.append(chain)
        chain.append(node)
        ending_at[node] = chain
    for chain in chains:
        if len(chain) > 2 * CHAIN_ENDS + 1:
            middle = chain[CHAIN_ENDS:-CHAIN_ENDS]
            group = Group(f"chain {len(view.groups)}", f"⋯ {len(middle):,} ops ⋯")
            for member in middle:
                private = [p for p in member.parents if not p.parents and children[p] == 1]
                for item in (member, *private):
                    view.shown[item] = group
                    group.members.append(item)
            view.groups.append(group)


def _keep_nearest(view: View, root: Value, budget: int) -> None:
    """Keep the items nearest the output (fewest steps back); the rest become one box."""
    inputs: dict[int, list[Value | Group]] = {}
    for source, into in view.edges():
        inputs.setdefault(id(into), []).append(source)
    start = view.shown[root]
    kept, queue = {id(start)}, deque([start])
    while queue and len(kept) < budget - 1:
        for source in inputs.get(id(queue.popleft()), []):
            if id(source) not in kept and len(kept) < budget - 1:
                kept.add(id(source))
                queue.append(source)
    rest = Group("more", "")
    for node in view.order:
        if id(view.shown[node]) not in kept:
            view.shown[node] = rest
            rest.members.append(node)
    rest.title = f"{len(rest.members):,} more nodes"
    view.groups.append(rest)


def _child_counts(order: list[Value]) -> dict[Value, int]:
    children = dict.fromkeys(order, 0)
    for node in order:
        for parent in node.parents:
            children[parent] += 1
    return children
