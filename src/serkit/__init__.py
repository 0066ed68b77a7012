"""serkit — speech emotion recognition toolkit.

Heavy modules (numpy, librosa, torch, scikit-learn) load on first use, so
``import serkit`` and ``serkit --help`` stay instant.

>>> import serkit
>>> serkit.EMOTIONS[:3]
('neutral', 'calm', 'happy')
"""

from importlib import import_module

from serkit.core.labels import EMOTIONS

__version__ = "0.2.0"

_LAZY = {
    "load_audio": ("serkit.core.audio", "load_audio"),
    "audio_info": ("serkit.core.audio", "audio_info"),
    "corpora": ("serkit.corpora", None),
    "features": ("serkit.features", None),
    "models": ("serkit.models", None),
    "evaluation": ("serkit.evaluation", None),
    "artifacts": ("serkit.models.artifacts", None),
    "inference": ("serkit.inference", None),
    "report": ("serkit.report", None),
}

__all__ = ["EMOTIONS", "__version__", *_LAZY]


def __getattr__(name):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'serkit' has no attribute {name!r}") from None
    module = import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
