"""The lean prediction path: numpy, soundfile, soxr, safetensors and ONNX Runtime only.

- :mod:`serkit.inference.runtime`: runs a model's inference export, and the arithmetic
  that the estimators and the export share (``softmax``, ``align_probabilities``, …);
- :mod:`serkit.inference.predictor`: :class:`~serkit.inference.predictor.Predictor`,
  a model and its feature set applied to audio (windows, segments, speakers).

Neither imports the estimators (:mod:`serkit.models`), which sit above them.
``serkit.inference.Predictor`` loads the predictor on first use, so that the estimators
can import the runtime without it.

>>> import numpy as np
>>> from serkit.inference.runtime import softmax
>>> softmax(np.zeros((1, 2))).tolist()
[[0.5, 0.5]]
"""


def __getattr__(name: str):
    if name == "Predictor":
        from serkit.inference.predictor import Predictor

        return Predictor
    raise AttributeError(f"module 'serkit.inference' has no attribute {name!r}")
