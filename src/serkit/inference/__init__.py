"""The lean prediction path: numpy, soundfile, soxr, safetensors and ONNX Runtime only.

- :mod:`serkit.inference.runtime`: runs a model's inference export, and the arithmetic
  that the estimators and the export share (``softmax``, ``align_probabilities``, …);
- :mod:`serkit.inference.predictor`: :class:`~serkit.inference.predictor.Predictor`,
  a model and its feature set applied to audio (windows, segments, speakers).

Neither imports the estimators (:mod:`serkit.models`), which sit above them.

>>> import numpy as np
>>> from serkit.inference.runtime import softmax
>>> softmax(np.zeros((1, 2))).tolist()
[[0.5, 0.5]]
"""
