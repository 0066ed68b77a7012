"""The import graph: every module imports only its own layer or those below, and no circle.

Every ``import`` and ``from … import`` in ``src/serkit`` counts, those inside
functions too (a lazy import is still a dependency, only a later one). The layers,
bottom first, are those of docs/architecture.md. A multi-corpus training run, traced
call by call, shows whether the code still climbs back up at run time (a callback
handed down, say).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS = (
    ("core", ("serkit", "serkit.core")),  # the root package holds only __version__ and lazy names
    ("corpora", ("serkit.corpora",)),
    ("features", ("serkit.features",)),
    ("inference", ("serkit.inference",)),
    ("models", ("serkit.models",)),
    ("evaluation", ("serkit.evaluation",)),
    ("training", ("serkit.training",)),
    ("report", ("serkit.report",)),
    ("service", ("serkit.service",)),
    ("cli", ("serkit.cli", "serkit.__main__")),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / "serkit").rglob("*.py"))}


def imported_modules(path: Path, modules) -> set[str]:
    """The serkit modules ``path`` imports anywhere in it: ``from a.b import c`` is the
    module ``a.b.c`` when there is one, else ``a.b``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imported_modules(path, modules) - {name} for name, path in modules.items()}


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the longest prefix that names ``module``'s package."""
    matches = [(len(prefix), index) for index, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1]


def upward_imports(graph) -> list[str]:
    return sorted(
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in graph.items() for target in targets if layer_of(target) > layer_of(module)
    )


def circles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer():
    assert all(layer_of(module) >= 0 for module in all_modules())


def test_no_module_imports_one_above_its_layer():
    assert upward_imports(import_graph()) == []


def test_no_import_circles():
    assert circles(import_graph()) == []


@pytest.mark.parametrize("source, message", [
    ("from serkit.evaluation import evaluate\n", "serkit.models.fake (models) imports serkit.evaluation (evaluation)"),
    ("def f():\n    from serkit.cli import main\n", "serkit.models.fake (models) imports serkit.cli (cli)"),
])
def test_an_upward_import_is_found_also_inside_a_function(tmp_path, source, message):
    fake = tmp_path / "fake.py"
    fake.write_text(source)
    graph = import_graph()
    graph["serkit.models.fake"] = imported_modules(fake, all_modules())
    assert upward_imports(graph) == [message]


def test_a_circle_is_found():
    graph = {"serkit.core.a": {"serkit.core.b"}, "serkit.core.b": {"serkit.core.c"}, "serkit.core.c": {"serkit.core.a"},
             "serkit.core.d": {"serkit.core.a"}}
    assert circles(graph) == [["serkit.core.a", "serkit.core.b", "serkit.core.c"]]


def calls_during(run) -> set[tuple[str, str]]:
    """The (caller, callee) pairs of serkit modules that call each other while ``run()`` runs."""
    calls = set()

    def profile(frame, event, arg):
        if event != "call" or frame.f_back is None:
            return
        callee, caller = frame.f_globals.get("__name__", ""), frame.f_back.f_globals.get("__name__", "")
        if callee != caller and callee.startswith("serkit.") and caller.startswith("serkit."):
            calls.add((caller, callee))

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


def test_a_multi_corpus_training_run_never_climbs_back_up(tmp_path):
    from serkit.evaluation import Dataset
    from serkit.features import get_feature_set
    from serkit.training import train_model

    rng = np.random.default_rng(0)

    def corpus(emotions):
        y = np.repeat(emotions, 12)
        X = rng.normal(size=(len(y), 2)) + np.array([[e == "angry", e == "sad"] for e in y]) * 4
        return Dataset(X, y, np.tile(np.arange(4).astype(str), len(y) // 4), ["x0", "x1"], {"name": "synthetic"})

    datasets = {"a": corpus(["angry", "sad", "calm"]), "b": corpus(["angry", "sad"])}
    calls = calls_during(lambda: train_model("logreg", datasets, get_feature_set("functionals"), tmp_path / "m",
                                             n_splits=2, speaker_norm=True, progress=False))
    assert {("serkit.training", "serkit.evaluation.crosscorpus"), ("serkit.training", "serkit.models.artifacts"),
            ("serkit.models.artifacts", "serkit.models.export")} <= calls
    climbs = {(caller, callee) for caller, callee in calls if layer_of(callee) > layer_of(caller)}
    assert climbs == set()
