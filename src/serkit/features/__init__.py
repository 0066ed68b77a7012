"""Feature sets behind one registry, and batch extraction with a cache.

>>> from serkit.features import available_feature_sets
>>> "seed26" in available_feature_sets()
True
"""

from serkit.features.base import FeatureSet, available_feature_sets, get_feature_set, register_feature_set
from serkit.features.batch import Extraction, default_cache_dir, extract, extract_corpus, extract_files

__all__ = [
    "Extraction",
    "FeatureSet",
    "available_feature_sets",
    "default_cache_dir",
    "extract",
    "extract_corpus",
    "extract_files",
    "get_feature_set",
    "register_feature_set",
]
