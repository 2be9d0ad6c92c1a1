"""Rasa's model graph run without dask (installed by ``servers.rasa_fixes``).

Rasa builds a dask graph, orders it and runs dask's scheduler for every parse and every action
prediction; for a graph of a dozen nodes run one after the other anyway, that bookkeeping was 7% of
Rasa's CPU per message. Here the same nodes get the same inputs in an order planned once per set of
targets.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError


def graph_plan(schema: Any, targets: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The nodes needed for ``targets``, each after the nodes it needs, with the names it needs."""
    nodes = schema.minimal_graph_schema(list(targets)).nodes
    order: list[tuple[str, tuple[str, ...]]] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed or name not in nodes:
            return  # placed already, or an input of the run
        if name in path:
            raise GraphRunError(f"the graph has a cycle through '{name}'")
        needs = tuple(nodes[name].needs.values())
        for need in needs:
            place(need, (*path, name))
        placed.add(name)
        order.append((name, needs))

    for name in nodes:
        place(name, ())
    return order


def run_graph(self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: the nodes run in a planned order, planned once per targets.

    Rasa builds a dask graph, orders it and runs dask's scheduler for every parse and every action
    prediction (several per message); that bookkeeping cost 7% of Rasa's CPU per message, for a
    graph of a dozen nodes run one after the other anyway. Nodes get their inputs as with dask: the
    (name, value) result of each node they need, and (name, value) for each run input.
    """
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    plans: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = self.__dict__.setdefault("_ordered_plans", {})
    plan = plans.get(run_targets)
    if plan is None:
        plan = plans[run_targets] = graph_plan(self._graph_schema, run_targets)
    results: dict[str, Any] = {}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and input_value in self._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure that none of the input "
                f"names passed to the `run` method are the same as node names in the graph schema."
            )
        results[input_name] = (input_name, input_value)
    nodes = self._instantiated_nodes
    try:
        for name, needs in plan:
            results[name] = nodes[name](*(results.get(need, need) for need in needs))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(results[target] for target in run_targets)
