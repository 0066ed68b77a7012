"""``dense``: the reference analysis's dense neural network, in PyTorch.

Dense layers with ReLU and dropout, Adam, cross-entropy, like the reference's Keras
model. The validation curve comes from an inner split of the *training* data (by
speaker when the speakers are known), so early stopping never sees a test fold.
Fitted weights are kept as numpy arrays (``state_``), so the fitted model saves with
skops (no pickle) and predicts with numpy alone (no torch import at prediction).
"""

from __future__ import annotations

import contextlib

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit, ShuffleSplit
from sklearn.utils.validation import check_is_fitted, validate_data

from serkit.core.exceptions import ParameterError
from serkit.inference.runtime import softmax


def inner_validation_split(y, groups, validation_fraction, random_state):
    """Indices ``(train, validation)`` inside a training set, and what was held out:
    ``"speakers"`` or ``"clips"``.

    Grouped by speaker when ``groups`` names at least ``1 / validation_fraction``
    speakers (no speaker on both sides, as in the outer evaluation), else a random
    part of the clips, stratified by label.
    """
    n_samples = len(y)
    n_splits = max(2, int(round(1.0 / validation_fraction)))
    if groups is not None and len(np.unique(groups)) >= n_splits:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        return (*next(splitter.split(np.zeros(n_samples), y, groups)), "speakers")
    _, counts = np.unique(y, return_counts=True)
    splitter_class = StratifiedShuffleSplit if counts.min() >= 2 else ShuffleSplit
    splitter = splitter_class(
        n_splits=1, test_size=validation_fraction, random_state=random_state
    )
    return (*next(splitter.split(np.zeros(n_samples), y)), "clips")


@contextlib.contextmanager
def _torch_session(seed: int):
    """Seeded, single-threaded torch for one fit; the caller's RNG and threads are restored."""
    import torch

    threads = torch.get_num_threads()
    # Tiny matrices: extra threads only add overhead (and the machine is shared).
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield torch
    finally:
        torch.set_num_threads(threads)


class DenseNetClassifier(ClassifierMixin, BaseEstimator):
    """A dense neural network (ReLU + dropout, Adam, cross-entropy) with early stopping.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int > 0
        Width of each hidden layer.
    dropout : float in [0, 1)
        Dropout rate after each hidden layer.
    learning_rate : float > 0
        Adam's step size.
    weight_decay : float >= 0
        Adam's L2 penalty.
    batch_size : int > 0
    max_epochs : int > 0
    early_stopping : bool
        Stop when the inner validation loss has not improved for ``patience`` epochs
        and keep the weights of the best epoch. Needs ``validation_fraction > 0``.
    patience : int > 0
    validation_fraction : float in [0, 0.5]
        Share of the training data held out for the validation curve (0: none).
    random_state : int
        Seeds the initialisation, dropout, batch order and the inner split.

    Attributes
    ----------
    classes_ : np.ndarray of str
    state_ : dict of str to np.ndarray
        Weights (``"weight0"``, ``"bias0"``, ...) of each linear layer.
    history_ : list of dict
        Per epoch: ``epoch``, ``loss``, ``accuracy`` (training, dropout on) and
        ``val_loss``, ``val_accuracy`` (inner validation; ``None`` without one) and
        ``val_held_out``: ``"speakers"`` or, below ``1 / validation_fraction`` training
        speakers, ``"clips"`` (a random part, the same speakers on both sides).
    best_epoch_ : int
        The epoch whose weights were kept.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-2, 1, (40, 3)), rng.normal(2, 1, (40, 3))]
    >>> y = np.array(["sad"] * 40 + ["happy"] * 40)
    >>> model = DenseNetClassifier(hidden_layer_sizes=(8,), max_epochs=30).fit(X, y)
    >>> model.predict([[-2.0, -2.0, -2.0], [2.0, 2.0, 2.0]]).tolist()
    ['sad', 'happy']
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes=(256, 128, 64),
        dropout=0.3,
        learning_rate=1e-3,
        weight_decay=1e-4,
        batch_size=32,
        max_epochs=150,
        early_stopping=True,
        patience=20,
        validation_fraction=0.2,
        random_state=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _validate_params(self) -> None:
        if not all(int(width) > 0 for width in self.hidden_layer_sizes):
            raise ParameterError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} must be positive integers"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"dropout={self.dropout!r} must be in [0, 1)")
        for name in ("learning_rate", "batch_size", "max_epochs", "patience"):
            if not getattr(self, name) > 0:
                raise ParameterError(f"{name}={getattr(self, name)!r} must be positive")
        if not 0.0 <= self.validation_fraction <= 0.5:
            raise ParameterError(
                f"validation_fraction={self.validation_fraction!r} must be in [0, 0.5]"
            )
        if self.early_stopping and self.validation_fraction == 0:
            raise ParameterError("early_stopping=True needs validation_fraction > 0")

    def fit(self, X, y, groups=None):
        """Train on ``X`` (n_clips, n_features) and labels ``y``; ``groups`` (speakers)
        make the inner validation split speaker-independent."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ParameterError(f"need at least two classes to train, got {self.classes_.tolist()}")
        if self.validation_fraction > 0:
            groups_array = None if groups is None else np.asarray(groups)
            train_idx, val_idx, held_out = inner_validation_split(
                y_index, groups_array, self.validation_fraction, self.random_state
            )
        else:
            train_idx, val_idx, held_out = np.arange(len(y_index)), np.array([], dtype=int), None
        with _torch_session(self.random_state) as torch:
            self._train(torch, X, y_index, train_idx, val_idx, held_out)
        return self

    def _train(self, torch, X, y_index, train_idx, val_idx, held_out) -> None:
        from torch import nn

        layers, width = [], X.shape[1]
        for hidden in self.hidden_layer_sizes:
            layers += [nn.Linear(width, int(hidden)), nn.ReLU(), nn.Dropout(self.dropout)]
            width = int(hidden)
        layers.append(nn.Linear(width, len(self.classes_)))
        network = nn.Sequential(*layers)
        optimizer = torch.optim.Adam(
            network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        loss_function = nn.CrossEntropyLoss()
        X_train, y_train = torch.from_numpy(X[train_idx]), torch.from_numpy(y_index[train_idx])
        X_val, y_val = torch.from_numpy(X[val_idx]), torch.from_numpy(y_index[val_idx])
        generator = torch.Generator().manual_seed(int(self.random_state))

        def snapshot():
            linears = [layer for layer in network if isinstance(layer, nn.Linear)]
            state = {}
            for i, linear in enumerate(linears):
                state[f"weight{i}"] = linear.weight.detach().numpy().copy()
                state[f"bias{i}"] = linear.bias.detach().numpy().copy()
            return state

        self.history_, best_loss, best_state, best_epoch = [], np.inf, None, 0
        for epoch in range(1, int(self.max_epochs) + 1):
            network.train()
            order = torch.randperm(len(X_train), generator=generator)
            total_loss, correct = 0.0, 0
            for start in range(0, len(order), int(self.batch_size)):
                batch = order[start:start + int(self.batch_size)]
                optimizer.zero_grad()
                logits = network(X_train[batch])
                loss = loss_function(logits, y_train[batch])
                loss.backward()
                optimizer.step()
                total_loss += loss.item() * len(batch)
                correct += int((logits.detach().argmax(1) == y_train[batch]).sum())
            record = {
                "epoch": epoch,
                "loss": total_loss / len(X_train),
                "accuracy": correct / len(X_train),
                "val_loss": None,
                "val_accuracy": None,
                "val_held_out": held_out,  # the report's caption says which
            }
            if len(X_val):
                network.eval()
                with torch.no_grad():
                    logits = network(X_val)
                    record["val_loss"] = float(loss_function(logits, y_val))
                    record["val_accuracy"] = float((logits.argmax(1) == y_val).float().mean())
            self.history_.append(record)
            if not self.early_stopping:
                continue
            if record["val_loss"] < best_loss:
                best_loss, best_state, best_epoch = record["val_loss"], snapshot(), epoch
            elif epoch - best_epoch >= self.patience:
                break
        if best_state is None:
            best_state, best_epoch = snapshot(), len(self.history_)
        self.state_, self.best_epoch_ = best_state, best_epoch

    def _logits(self, X) -> np.ndarray:
        check_is_fitted(self, "state_")
        activations = validate_data(self, X, dtype=np.float32, reset=False)
        n_layers = len(self.state_) // 2
        for i in range(n_layers):
            activations = activations @ self.state_[f"weight{i}"].T + self.state_[f"bias{i}"]
            if i < n_layers - 1:
                activations = np.maximum(activations, 0.0)
        return activations

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_clips, n_classes), columns in ``classes_`` order."""
        return softmax(self._logits(X).astype(np.float64))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self._logits(X), axis=1)]
