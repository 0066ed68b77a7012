"""``layer-weighted``: a learned, softmax-weighted sum of an encoder's layers.

Which layer of a self-supervised speech encoder carries emotion best depends on the
encoder and the corpus; SUPERB (Yang et al., 2021) learns it: a softmax weight per
hidden state, trained jointly with a small probe. :class:`LayerWeighting` does that
on clip vectors from ``get_feature_set("ssl", layer="all")`` (every hidden state's
time mean, stacked): ``fit`` standardises each layer with training statistics,
trains the weights with a linear softmax probe (PyTorch, full batch), then keeps
only the weights and the standardisation, as numpy arrays, so a fitted pipeline
saves with skops and transforms with numpy alone.

The ``layer-weighted`` model is the pipeline ``weight`` (:class:`LayerWeighting`) →
``scale`` (StandardScaler) → a classical head (``logreg`` by default, or any vector
model of :func:`serkit.models.available_models` built from the estimator registry,
``dense`` included). Everything is learned on the training part of a split.

Examples
--------
>>> import numpy as np
>>> from serkit.models import make_model
>>> rng = np.random.default_rng(0)
>>> y = np.repeat(["sad", "happy"], 40)
>>> layers = rng.normal(size=(80, 4, 8))          # 4 hidden states of 8 values
>>> layers[:, 2, :] += np.where(y == "sad", -1.0, 1.0)[:, None]   # state 2 knows
>>> X = layers.reshape(80, -1)                     # layer-major, as layer="all" gives
>>> model = make_model("layer-weighted", n_layers=4).fit(X, y)
>>> int(np.argmax(model.named_steps["weight"].layer_weights_))
2
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from serkit.core.exceptions import ParameterError

BASE_N_STATES = 13
"""Hidden states of a base-size wav2vec 2.0 / HuBERT / WavLM (12 layers + the input
of the first); large models have 25."""


class LayerWeighting(TransformerMixin, BaseEstimator):
    """Softmax-weighted sum of standardised encoder layers, the weights learned with a probe.

    ``X`` holds ``n_layers`` blocks of ``hidden_size`` columns, layer-major (what
    ``get_feature_set("ssl", layer="all")`` gives). ``fit`` standardises every
    column with the training mean and standard deviation, then minimises the
    cross-entropy of a linear softmax probe on ``sum_k w_k * layer_k`` with
    ``w = softmax(logits)``, plus an L2 penalty on the probe's weights, jointly over
    the logits (starting equal) and the probe, by full-batch Adam. ``transform``
    returns that weighted sum; the probe is discarded (the model after this step is
    the classifier).

    Parameters
    ----------
    n_layers : int > 0
        Hidden states per clip: 13 for base-size wav2vec 2.0 / HuBERT / WavLM, 25 for
        large ones (transformer layers + 1).
    max_iter : int > 0
        Full-batch optimisation steps.
    learning_rate : float > 0
        Adam's step size.
    weight_decay : float >= 0
        L2 penalty ``weight_decay * ||probe weights||²`` added to the mean
        cross-entropy (the layer logits are not penalised). It keeps the probe from
        simply separating the training clips, after which the loss, and so the
        pull towards the informative layers, would vanish.
    random_state : int
        Seeds the probe's initialisation; the same seed gives the same weights.

    Attributes
    ----------
    layer_weights_ : np.ndarray, shape (n_layers,)
        Softmax weights, non-negative, summing to 1.
    mean_, scale_ : np.ndarray, shape (n_layers, hidden_size)
        Training mean and standard deviation of each column (1 where constant).
    hidden_size_ : int
    n_iter_ : int
    loss_ : float
        The training objective (cross-entropy + penalty) after the last step.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> layers = rng.normal(size=(60, 3, 5))
    >>> layers[:, 0, :] += 2.0 * y[:, None]
    >>> weighting = LayerWeighting(n_layers=3).fit(layers.reshape(60, -1), y)
    >>> weighting.transform(layers.reshape(60, -1)).shape
    (60, 5)
    >>> bool(weighting.layer_weights_[0] > 0.5), round(float(weighting.layer_weights_.sum()), 6)
    (True, 1.0)
    """

    def __init__(
        self, n_layers=BASE_N_STATES, *, max_iter=300, learning_rate=0.05, weight_decay=0.01, random_state=0
    ):
        self.n_layers = n_layers
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.random_state = random_state

    def _validate_params(self) -> None:
        for name in ("n_layers", "max_iter"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not (isinstance(self.learning_rate, Real) and self.learning_rate > 0):
            raise ParameterError(f"learning_rate={self.learning_rate!r} must be a positive number")
        if not (isinstance(self.weight_decay, Real) and self.weight_decay >= 0):
            raise ParameterError(f"weight_decay={self.weight_decay!r} must be a number >= 0")

    def _layers(self, X) -> np.ndarray:
        """``X (n, n_layers * hidden)`` → ``(n, n_layers, hidden)``, or ParameterError."""
        n_samples, width = X.shape
        if width % self.n_layers:
            raise ParameterError(
                f"X has {width} columns, not a multiple of n_layers={self.n_layers}; give "
                "get_feature_set('ssl', layer='all') vectors and the encoder's hidden-state "
                "count (13 base-size, 25 large)"
            )
        return X.reshape(n_samples, self.n_layers, width // self.n_layers)

    def fit(self, X, y):
        """Learn the standardisation and the layer weights from ``X`` and labels ``y``."""
        from serkit.models.dense import _torch_session

        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        layers = self._layers(X)
        classes, y_index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ParameterError(f"need at least two classes to learn layer weights, got {classes.tolist()}")
        self.hidden_size_ = layers.shape[2]
        self.mean_ = layers.mean(axis=0)
        scale = layers.std(axis=0)
        # A constant column (e.g. a dead dimension) carries nothing: leave it at zero.
        self.scale_ = np.where(scale > 0, scale, 1.0)
        standardised = (layers - self.mean_) / self.scale_
        with _torch_session(int(self.random_state)) as torch:
            logits, self.loss_ = self._train(torch, standardised, y_index, len(classes))
        exponentials = np.exp(logits - logits.max())
        self.layer_weights_ = exponentials / exponentials.sum()
        self.n_iter_ = int(self.max_iter)
        return self

    def _train(self, torch, standardised: np.ndarray, y_index: np.ndarray, n_classes: int):
        """Layer logits (numpy) and final objective after ``max_iter`` full-batch Adam steps."""
        inputs = torch.from_numpy(standardised.astype(np.float32))
        targets = torch.from_numpy(y_index.astype(np.int64))
        layer_logits = torch.nn.Parameter(torch.zeros(self.n_layers))
        probe = torch.nn.Linear(self.hidden_size_, n_classes)
        # A penalty in the loss rather than AdamW's decoupled decay: at these step
        # sizes the decay is too weak to stop the probe from separating the data.
        optimizer = torch.optim.Adam([layer_logits, *probe.parameters()], lr=float(self.learning_rate))
        for _ in range(int(self.max_iter)):
            optimizer.zero_grad()
            mixed = torch.einsum("nlh,l->nh", inputs, torch.softmax(layer_logits, dim=0))
            loss = torch.nn.functional.cross_entropy(probe(mixed), targets)
            loss = loss + float(self.weight_decay) * probe.weight.pow(2).sum()
            loss.backward()
            optimizer.step()
        return layer_logits.detach().numpy().astype(np.float64), float(loss.detach())

    def transform(self, X) -> np.ndarray:
        """``(n, hidden_size)``: the layer-weighted sum of the standardised layers."""
        check_is_fitted(self, "layer_weights_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        standardised = (self._layers(X) - self.mean_) / self.scale_
        return np.einsum("nlh,l->nh", standardised, self.layer_weights_)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``layer_weighted_0`` … ``layer_weighted_{hidden_size - 1}``."""
        check_is_fitted(self, "layer_weights_")
        return np.array([f"layer_weighted_{i}" for i in range(self.hidden_size_)], dtype=object)


def make_layer_weighted(
    *, random_state=0, n_layers=BASE_N_STATES, head="logreg", head_params=None, **weighting_params
):
    """The ``layer-weighted`` pipeline: ``weight`` → ``scale`` → ``head`` (named ``layer-weighted``).

    Parameters
    ----------
    random_state : int
        Seeds the layer weighting and the head.
    n_layers : int > 0
        Hidden states per clip (13 base-size encoders, 25 large).
    head : str
        A vector model of the estimator registry (``logreg``, ``svm``, ``dense``, …).
    head_params : dict or None
        Parameters for the head (e.g. ``{"C": 3.0}`` for ``svm``).
    **weighting_params
        ``max_iter``, ``learning_rate``, ``weight_decay`` of :class:`LayerWeighting`.

    Raises
    ------
    ParameterError
        Unknown head or parameter, or a bad value.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from serkit.models.registry import _ESTIMATORS, build_estimator

    if not isinstance(head, str) or head not in _ESTIMATORS:
        raise ParameterError(
            f"model 'layer-weighted': head={head!r} is unknown; choose from {', '.join(_ESTIMATORS)}"
        )
    if head_params is not None and not isinstance(head_params, dict):
        raise ParameterError(f"model 'layer-weighted': head_params={head_params!r} must be a dict")
    weighting = LayerWeighting(n_layers, random_state=random_state, **weighting_params)
    weighting._validate_params()  # fail at make_model, not in the first fold
    estimator = build_estimator(head, random_state, dict(head_params or {}))
    return Pipeline([("weight", weighting), ("scale", StandardScaler()), ("layer-weighted", estimator)])


def _register() -> None:
    from serkit.models.registry import register_model

    register_model(
        "layer-weighted",
        input_kind="vector",
        in_all=False,  # it needs the ssl set's layer="all" layout
        description="softmax-weighted encoder layers (ssl layer='all', learned) + logreg or another head",
    )(make_layer_weighted)


_register()
