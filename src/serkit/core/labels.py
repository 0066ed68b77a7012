"""The emotion vocabulary: RAVDESS's eight emotions, in its code order."""

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
"""Emotion names in RAVDESS code order (code 01 is ``neutral`` … 08 is ``surprised``)."""

RAVDESS_EMOTION_CODES = {f"{i:02d}": name for i, name in enumerate(EMOTIONS, start=1)}
"""RAVDESS filename emotion field → emotion name, e.g. ``"05" → "angry"``."""

EXTRA_EMOTIONS = ("bored",)
"""Labels a corpus reader gives beyond :data:`EMOTIONS`: EmoDB's boredom (``L``,
Langeweile), which none of the eight names fits and which is kept rather than
dropped (cross-corpus evaluation leaves it out unless both corpora have it)."""
