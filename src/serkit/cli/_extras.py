"""Which ``pip install 'serkit[EXTRA]'`` a verb needs (standard library only).

``pip install serkit`` is prediction; the other verbs need an extra (pyproject.toml's
``[project.optional-dependencies]``). A verb names its extras in ``EXTRAS``; the CLI
checks them before running it, and maps a module missing later (``serkit demo --data``
evaluates, ``serkit features --set egemaps`` needs openSMILE) to its extra, so that
either way the user reads one line: ``serkit report needs: pip install 'serkit[report]'``.
"""

from __future__ import annotations

import importlib.util

EXTRA_MODULES = {
    "serve": ("fastapi", "fastapi_offline", "uvicorn", "multipart"),
    "train": ("scipy", "librosa", "pandas", "pyarrow", "sklearn", "skops", "torch", "audiomentations", "pooch"),
    "report": ("matplotlib", "jinja2"),
    "egemaps": ("opensmile",),
    "ssl": ("transformers",),
    "dask": ("dask",),
    "loudness": ("pyloudnorm",),
    "ctranslate2": ("ctranslate2",),
    "cnn": ("onnx",),
}
"""The top-level modules each extra installs (tests/test_extras.py checks them against pyproject.toml)."""


def missing_extras(extras) -> list[str]:
    """The extras among ``extras`` with a module that cannot be imported.

    Looks the modules up without importing them, so the check costs milliseconds.

    >>> missing_extras([])
    []
    """
    return [extra for extra in extras if not all(_importable(module) for module in EXTRA_MODULES[extra])]


def extra_providing(module_name: str | None) -> str | None:
    """The extra whose install brings ``module_name`` (a dotted name is looked up by its
    top-level package), or None for a module no extra provides.

    >>> extra_providing("sklearn.metrics")
    'train'
    """
    top_level = (module_name or "").split(".")[0]
    return next((extra for extra, modules in EXTRA_MODULES.items() if top_level in modules), None)


def install_hint(verb: str, extras) -> str:
    """The line the CLI prints for a verb run without its extras.

    >>> install_hint("report", ["train", "report"])
    "serkit report needs: pip install 'serkit[train,report]'"
    """
    return f"serkit {verb} needs: pip install 'serkit[{','.join(extras)}]'"


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
