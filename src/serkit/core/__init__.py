"""The bottom layer: what every other part of serkit may use and which uses nothing of serkit.

- :mod:`serkit.core.exceptions`: the one exception family (``SerkitError`` and its kinds);
- :mod:`serkit.core.labels`: the emotion vocabulary;
- :mod:`serkit.core.audio`: reading, checking and resampling audio;
- :mod:`serkit.core.pyav_audio`: FFmpeg (PyAV) decoding for MP3 and what phones and browsers record;
- :mod:`serkit.core.hum`: a mains hum found and taken out before any feature;
- :mod:`serkit.core.level`: level normalisation before any feature;
- :mod:`serkit.core.files`: file checksums (model manifests, bundled encoders);
- :mod:`serkit.core.once`: loaders cached once per process and argument, safe across threads,
  which a background thread may start early (the encoder and the VAD of a cold ``serkit predict``).

>>> from serkit.core.labels import EMOTIONS
>>> EMOTIONS[0]
'neutral'
"""
