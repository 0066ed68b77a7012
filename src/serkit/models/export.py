"""Fitted models as an inference export: plain arrays, a JSON tree, ONNX networks.

:func:`export_model` walks a fitted model from :func:`serkit.models.make_model` and
describes it in the steps :mod:`serkit.inference.runtime` runs with numpy: clipping, scaling,
logistic regression and linear discriminant analysis, multilayer perceptrons (scikit-learn's and the PyTorch ``dense``
net, whose weights are numpy arrays already), temperature scaling, soft votes, the two
heads of a dual-path model (:mod:`serkit.models.dualpath`) and
frame networks (the CNN and the Whisper frame head, as the ONNX they already carry).
Tuned models export the estimator they refitted. A model with a part the runtime
cannot run (forests, boosting, SVMs, k-means, layer weighting) raises
:class:`NotExportable`; it still saves and loads through skops.

Examples
--------
>>> import numpy as np
>>> from serkit.models import make_model
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-1, 1, (20, 3)), rng.normal(1, 1, (20, 3))]
>>> model = make_model("logreg").fit(X, ["sad"] * 20 + ["happy"] * 20)
>>> export = export_model(model)
>>> export.graph["op"], [step["op"] for step in export.graph["steps"]]
('pipeline', ['clip', 'standardize', 'logistic'])
>>> from serkit.inference.runtime import ExportedModel, build_step
>>> exported = ExportedModel(build_step(export.graph, export.arrays, networks=export.networks))
>>> bool(np.allclose(exported.predict_proba(X), model.predict_proba(X)))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from serkit.core.exceptions import ParameterError
from serkit.inference.runtime import network_file


class NotExportable(ParameterError):
    """A model with a part :mod:`serkit.inference.runtime` cannot run."""


@dataclass
class Export:
    """What :func:`export_model` gives: the step tree, its arrays and its networks."""

    graph: dict
    arrays: dict = field(default_factory=dict)
    networks: dict = field(default_factory=dict)

    def add_array(self, value) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = np.ascontiguousarray(value, dtype=np.float64)
        return name

    def add_network(self, data: bytes) -> str:
        name = network_file(len(self.networks))
        self.networks[name] = bytes(data)
        return name


def export_model(model) -> Export:
    """The inference export of a fitted ``model`` (see the module docstring).

    Raises
    ------
    NotExportable
        A part the runtime cannot run, named.
    """
    export = Export(graph={})
    export.graph = _step(model, export)
    return export


def _classes(model) -> list[str]:
    return [str(label) for label in model.classes_]


def _step(model, export: Export) -> dict:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from serkit.models.calibration import TemperatureScaled
    from serkit.models.cnn import CNNClassifier
    from serkit.models.dense import DenseNetClassifier
    from serkit.models.dualpath import DualPathClassifier
    from serkit.models.ensemble import SoftVoteClassifier
    from serkit.models.preprocessing import QuantileClipper
    from serkit.models.tuned import InnerCVTuned

    if isinstance(model, Pipeline):
        steps = [step for _, step in model.steps if step not in (None, "passthrough")]
        return {"op": "pipeline", "steps": [_step(step, export) for step in steps]}
    if isinstance(model, QuantileClipper):
        return {"op": "clip", "lower": export.add_array(model.lower_), "upper": export.add_array(model.upper_)}
    if isinstance(model, StandardScaler):
        mean = None if model.mean_ is None else export.add_array(model.mean_)
        scale = None if model.scale_ is None else export.add_array(model.scale_)
        return {"op": "standardize", "mean": mean, "scale": scale}
    if isinstance(model, LogisticRegression):
        if model.coef_.shape[0] != (1 if len(model.classes_) == 2 else len(model.classes_)):
            raise NotExportable("a one-vs-rest logistic regression")
        return {"op": "logistic", "coef": export.add_array(model.coef_),
                "intercept": export.add_array(model.intercept_), "classes": _classes(model)}
    if isinstance(model, LinearDiscriminantAnalysis):
        # predict_proba is the softmax (two classes: the sigmoid) of decision_function = X @ coef_.T + intercept_.
        return {"op": "logistic", "coef": export.add_array(model.coef_),
                "intercept": export.add_array(model.intercept_), "classes": _classes(model)}
    if isinstance(model, MLPClassifier):
        return _perceptron(model, model.coefs_, model.intercepts_, model.activation, export)
    if isinstance(model, DenseNetClassifier):
        n_layers = len(model.state_) // 2
        # torch's (out, in) weights, transposed to scikit-learn's (in, out)
        weights = [np.asarray(model.state_[f"weight{index}"]).T for index in range(n_layers)]
        biases = [model.state_[f"bias{index}"] for index in range(n_layers)]
        return _perceptron(model, weights, biases, "relu", export)
    if isinstance(model, InnerCVTuned):
        return _step(model.best_estimator_, export)
    if isinstance(model, DualPathClassifier):
        return _dual_path(model, export)
    if isinstance(model, TemperatureScaled):
        return {"op": "temperature", "temperature": float(model.temperature_),
                "model": _step(model.estimator_, export), "classes": _classes(model)}
    if isinstance(model, SoftVoteClassifier):
        from serkit.models.registry import model_spec

        takes_bundle = _takes_bundle(model)
        members = [
            {"input": model_spec(name).input_kinds[0] if takes_bundle else None, "model": _step(member, export)}
            for name, member in model.members_
        ]
        return {"op": "soft-vote", "members": members, "weights": [float(w) for w in model.weights_],
                "classes": _classes(model)}
    if isinstance(model, CNNClassifier):
        network = getattr(model, "onnx_model_", None)
        network = model.to_onnx() if network is None else network.tobytes()
        return {"op": "frame-network", "file": export.add_network(network),
                "band_mean": export.add_array(model.state_["band_mean"]),
                "band_std": export.add_array(model.state_["band_std"]),
                "min_frames": int(model.min_frames), "classes": _classes(model)}
    raise NotExportable(f"{type(model).__name__} has no inference export; it loads through skops")


def _dual_path(model, export: Export) -> dict:
    """A ``dual-path`` step: each head (under a ``temperature`` step where its temperature is not 1)
    and the one a clip without source statistics gets."""
    from serkit.models.dualpath import HEADS

    step = {"op": "dual-path", "default": model.default_, "classes": _classes(model)}
    for name in HEADS:
        head, temperature = _step(getattr(model, f"{name}_"), export), model.temperatures_[name]
        step[name] = head if temperature == 1.0 else {"op": "temperature", "temperature": float(temperature),
                                                      "model": head, "classes": _classes(model)}
    return step


def _perceptron(model, weights, biases, activation: str, export: Export) -> dict:
    """A ``perceptron`` step: layers ``a @ weight + bias`` (``(in, out)`` weights), ``activation`` between."""
    step = {"op": "perceptron", "layers": len(weights), "activation": activation, "classes": _classes(model)}
    for index, (weight, bias) in enumerate(zip(weights, biases)):
        step[f"weight{index}"], step[f"bias{index}"] = export.add_array(weight), export.add_array(bias)
    return step


def _takes_bundle(vote) -> bool:
    """Whether an ensemble's members each took their part of a bundle: recorded at fit
    since serkit 0.2; before, a bundle is what members of mixed kinds took."""
    from serkit.models.registry import model_spec

    if hasattr(vote, "input_kind_"):
        return vote.input_kind_ == "bundle"
    return len({model_spec(name).input_kinds[0] for name, _ in vote.members_}) > 1
