"""Feature sets behind one registry, and batch extraction with a cache.

The registry (:mod:`serkit.features.base`) loads at once; batch extraction
(:mod:`serkit.features.batch`, which needs pandas) only when one of its names is
first used, so that predicting from a saved model never imports pandas.

>>> from serkit.features import available_feature_sets
>>> "seed26" in available_feature_sets()
True
"""

from serkit.features.base import FeatureSet, available_feature_sets, register_feature_set
from serkit.features.bundle import get_feature_set

_BATCH_NAMES = ("Extraction", "default_cache_dir", "extract", "extract_corpus", "extract_files")

__all__ = ["FeatureSet", "available_feature_sets", "get_feature_set", "register_feature_set", *_BATCH_NAMES]


def __getattr__(name: str):
    if name in _BATCH_NAMES:
        from serkit.features import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'serkit.features' has no attribute {name!r}")
