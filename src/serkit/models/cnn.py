"""``cnn``: a compact 2-D CNN over log-mel spectrograms, with masked attentive pooling.

The network (:class:`LogMelCNN`) is a stack of conv–batchnorm–ReLU–maxpool blocks
over (mel band × frame), then attentive statistics pooling over time (an attention-
weighted mean and standard deviation) and a linear layer. Clips of any length go in
one padded batch with a frame mask: after every block the padded frames are set back
to zero and pooling ignores them, so a clip gets the same output alone or padded
beside longer clips.

:class:`CNNClassifier` wraps it as a scikit-learn classifier on a sequence of
``(n_mels, n_frames)`` arrays (the ``logmel`` feature set). ``fit`` standardises each
band with training statistics, trains on random crops with on-the-fly augmentation
(:mod:`serkit.models.augment`), and keeps the weights of the epoch with the best
unweighted accuracy on a validation split of *training speakers* (``groups``), never
on the data the caller evaluates on. Fitted weights live in ``state_`` as numpy
arrays, so skops saves the estimator without pickle; the torch module (or an ONNX
Runtime session, the default ``backend="onnx"``) is rebuilt lazily for prediction.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(-40, 5, (32, int(rng.integers(60, 90)))).astype(np.float32) for _ in range(8)]
>>> X[4:] = [x + 10 for x in X[4:]]
>>> y = ["sad"] * 4 + ["angry"] * 4
>>> clf = CNNClassifier(channels=(4, 8), max_epochs=2, augment=False, validation_size=0).fit(X, y)
>>> clf.predict_proba(X).shape
(8, 2)
"""

from __future__ import annotations

import copy
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from serkit.core.exceptions import ParameterError
from serkit.core.threads import usable_cores
from serkit.inference.runtime import length_batches, network_probabilities, onnx_session, pad_frames

BACKENDS = ("onnx", "torch")
_RUNTIME_CACHES = ("_torch_module", "_onnx_session")


def _torch():
    import torch

    return torch


def build_module(n_mels: int, channels: tuple[int, ...], n_classes: int, dropout: float = 0.0):
    """The torch network for ``n_mels`` input bands: see :class:`LogMelCNN`."""
    torch = _torch()
    nn = torch.nn

    class LogMelCNN(nn.Module):
        """Conv blocks (each halves bands and frames) → masked attentive stats pooling → logits.

        ``forward(x, mask)``: ``x [shape=(batch, n_mels, n_frames)]`` standardised
        log-mel, ``mask [shape=(batch, n_frames)]`` 1.0 on real frames (a prefix of each
        row), 0.0 on padding. Returns logits ``(batch, n_classes)``.
        """

        def __init__(self):
            super().__init__()
            blocks = []
            in_channels = 1
            for out_channels in channels:
                blocks.append(
                    nn.Sequential(
                        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
                        nn.BatchNorm2d(out_channels),
                        nn.ReLU(),
                        nn.MaxPool2d(2),
                    )
                )
                in_channels = out_channels
            self.blocks = nn.ModuleList(blocks)
            width = channels[-1] * (n_mels >> len(channels))
            self.attention = attention_scorer(width)
            self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * width, n_classes))

        def forward(self, x, mask):
            h = (x * mask[:, None, :])[:, None]
            for block in self.blocks:
                h = block(h)
                # Frame i after a 2x pool is real iff input frame 2i + 1 was real
                # (floor(length / 2) frames), matching MaxPool2d's floor on a lone clip.
                mask = mask[:, 1::2]
                h = h * mask[:, None, None, :]
            h = h.flatten(1, 2)  # (batch, channels * bands, frames)
            return self.classifier(attentive_statistics(h, mask, self.attention))

    return LogMelCNN()


def attention_scorer(width: int):
    """The frame scorer of attentive statistics pooling: ``(batch, width, frames)`` →
    ``(batch, 1, frames)`` (1×1 conv, tanh, 1×1 conv)."""
    nn = _torch().nn
    return nn.Sequential(nn.Conv1d(width, 64, kernel_size=1), nn.Tanh(), nn.Conv1d(64, 1, kernel_size=1))


def attentive_statistics(h, mask, attention):
    """Masked attentive statistics pooling: the attention-weighted mean and standard
    deviation of ``h [shape=(batch, width, frames)]`` over its real frames (``mask``
    1.0), ``(batch, 2 * width)``; padded frames get no weight."""
    torch = _torch()
    scores = attention(h) + (mask[:, None, :] - 1.0) * 1e4
    weights = torch.softmax(scores, dim=-1)
    mean = (h * weights).sum(dim=-1)
    variance = (h * h * weights).sum(dim=-1) - mean * mean
    std = torch.sqrt(variance.clamp(min=1e-6))
    return torch.cat([mean, std], dim=1)


def _as_clips(X) -> list[np.ndarray]:
    """Validate a sequence of ``(n_mels, n_frames)`` arrays with one ``n_mels``."""
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 3:
            raise ParameterError(
                f"X must be a sequence of (n_mels, n_frames) arrays or a 3-D array, got shape {X.shape}"
            )
        X = list(X)
    clips = [np.asarray(clip, dtype=np.float32) for clip in X]
    if not clips:
        raise ParameterError("X holds no clips")
    shapes = {clip.shape[0] if clip.ndim == 2 else None for clip in clips}
    if None in shapes or len(shapes) != 1:
        found = sorted({clip.shape for clip in clips}, key=str)[:3]
        raise ParameterError(
            f"X must hold 2-D (n_mels, n_frames) arrays with one n_mels, found shapes {found}"
        )
    for index, clip in enumerate(clips):
        if clip.shape[1] == 0 or not np.all(np.isfinite(clip)):
            raise ParameterError(f"X[{index}] is empty or holds non-finite values")
    return clips


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """Compact CNN on log-mel spectrograms, scikit-learn style.

    Parameters
    ----------
    channels : tuple of int > 0
        Output channels of each conv block; each block halves bands and frames, so
        ``n_mels`` must be at least ``2 ** len(channels)``.
    dropout : float in [0, 1)
        Dropout before the output layer.
    crop_frames : int > 0
        Training crop length in frames (300 = 3 s at a 10 ms hop): each epoch sees a
        random window of every longer clip (random time shift). Prediction uses
        whole clips.
    max_epochs : int > 0
        Training epochs at most.
    patience : int > 0 or None
        Stop after this many epochs without a better validation UA (``None``: run all).
    batch_size : int > 0
    learning_rate : float > 0
        Peak AdamW learning rate (one-cycle schedule over ``max_epochs``).
    weight_decay : float >= 0
    label_smoothing : float in [0, 1)
    validation_size : float in [0, 1)
        Fraction of training *speakers* (``groups`` in :meth:`fit`; of clips,
        stratified, without groups) held out to choose the epoch. 0 trains on all
        clips and keeps the last epoch.
    augment : bool
        Apply :mod:`serkit.models.augment` (gain, noise, VTLP, SpecAugment, mixup)
        to training batches. Never applied in prediction.
    augment_config : AugmentConfig or None
        Strength of each transform (``None``: the defaults).
    backend : {"onnx", "torch"}
        Prediction engine: an ONNX Runtime session built from :meth:`to_onnx` on the
        first prediction (about 2 ms per 4 s clip here, against about 40 ms for
        torch's CPU kernels), or torch without gradients. Both give the same
        probabilities to 1e-4.
    device : {"auto", "cpu", "cuda"}
        Where to train (``"auto"``: CUDA when available). Prediction runs on CPU.
    n_threads : int > 0 or None
        torch CPU threads while training (``None``: the CPUs this process may use).
    random_state : int
        Seeds weights, crops, augmentation, batch order and the validation split.
    verbose : bool
        Print one line per epoch to stderr.

    Attributes
    ----------
    classes_ : np.ndarray of str
    state_ : dict of str → np.ndarray
        Network weights and the band standardisation (``band_mean``, ``band_std``).
    n_mels_ : int
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``validation_loss``, ``validation_ua``,
        ``seconds``.
    best_epoch_ : int
        The epoch whose weights were kept (1-based).
    onnx_model_ : np.ndarray of uint8
        The fitted network as ONNX (:meth:`to_onnx`), exported once so that prediction
        runs on ONNX Runtime without importing torch.

    Examples
    --------
    See the module docstring.
    """

    registry_name = "cnn"

    def __init__(
        self,
        *,
        channels=(16, 32, 64, 64),
        dropout=0.3,
        crop_frames=300,
        max_epochs=60,
        patience=None,
        batch_size=32,
        learning_rate=3e-3,
        weight_decay=1e-3,
        label_smoothing=0.1,
        validation_size=0.15,
        augment=True,
        augment_config=None,
        backend="onnx",
        device="auto",
        n_threads=None,
        random_state=0,
        verbose=False,
    ):
        self.channels = channels
        self.dropout = dropout
        self.crop_frames = crop_frames
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.validation_size = validation_size
        self.augment = augment
        self.augment_config = augment_config
        self.backend = backend
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting ---------------------------------------------------------------

    def _validate_architecture(self) -> None:
        channels = tuple(self.channels)
        if not channels or not all(isinstance(c, (int, np.integer)) and c > 0 for c in channels):
            raise ParameterError(f"channels={self.channels!r} must be a non-empty tuple of positive ints")

    def _check_input_rows(self) -> None:
        if self.n_mels_ < 2 ** len(self.channels):
            raise ParameterError(
                f"n_mels={self.n_mels_} is too few for {len(self.channels)} blocks "
                f"(need >= {2 ** len(self.channels)})"
            )

    def _build_module(self, dropout: float = 0.0):
        """The untrained network for the fitted input size and classes."""
        return build_module(self.n_mels_, tuple(self.channels), len(self.classes_), dropout)

    def _validate_params(self) -> None:
        self._validate_architecture()
        for name in ("crop_frames", "max_epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if self.patience is not None and (not isinstance(self.patience, (int, np.integer)) or self.patience <= 0):
            raise ParameterError(f"patience={self.patience!r} must be a positive integer or None")
        for name in ("dropout", "validation_size", "label_smoothing"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ParameterError(f"{name}={value!r} must be in [0, 1)")
        if self.backend not in BACKENDS:
            raise ParameterError(f"backend={self.backend!r}; choose one of {BACKENDS}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ParameterError(f"device={self.device!r}; choose 'auto', 'cpu' or 'cuda'")

    def _split_validation(self, y_index: np.ndarray, groups) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation clip indices: whole speakers when ``groups`` is given."""
        all_indices = np.arange(len(y_index))
        if self.validation_size == 0:
            return all_indices, all_indices[:0]
        from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit

        if groups is not None and len(np.unique(groups)) >= 3:
            n_groups = len(np.unique(groups))
            n_val = max(1, int(round(self.validation_size * n_groups)))
            splitter = GroupShuffleSplit(n_splits=1, test_size=n_val, random_state=self.random_state)
            return next(splitter.split(all_indices, y_index, groups))
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=self.validation_size, random_state=self.random_state
        )
        try:
            return next(splitter.split(all_indices, y_index))
        except ValueError:
            # Too few clips per class to stratify a validation split: train on all.
            return all_indices, all_indices[:0]

    def fit(self, X, y, groups=None):
        """Train on clips ``X`` (sequence of ``(n_mels, n_frames)``) with labels ``y``.

        Parameters
        ----------
        X : sequence of np.ndarray [shape=(n_mels, n_frames)]
        y : array-like of str [shape=(n_clips,)]
        groups : array-like [shape=(n_clips,)] or None
            Speaker of each clip; the validation split then holds out whole speakers.

        Returns
        -------
        self
        """
        from serkit.models.augment import AugmentConfig

        self._validate_params()
        torch = _torch()
        clips = _as_clips(X)
        y = np.asarray(y)
        if y.shape != (len(clips),):
            raise ParameterError(f"y has shape {y.shape}, expected ({len(clips)},) to match X")
        if groups is not None and len(groups) != len(clips):
            raise ParameterError(f"groups has {len(groups)} entries, expected {len(clips)}")
        self.n_mels_ = clips[0].shape[0]
        self._check_input_rows()
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ParameterError(f"y holds one class ({self.classes_[0]!r}); need at least two")

        if self.n_threads is not None:
            torch.set_num_threads(int(self.n_threads))
        else:
            torch.set_num_threads(usable_cores())
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError("device='cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
        device = torch.device("cuda" if self.device != "cpu" and torch.cuda.is_available() else "cpu")
        torch.manual_seed(self.random_state)
        generator = torch.Generator().manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        config = self.augment_config if self.augment_config is not None else AugmentConfig()

        train_idx, val_idx = self._split_validation(y_index, None if groups is None else np.asarray(groups))
        frames = np.concatenate([clips[i] for i in train_idx], axis=1)
        band_mean = frames.mean(axis=1).astype(np.float32)
        band_std = np.maximum(frames.std(axis=1), 1e-3).astype(np.float32)
        self.state_ = {"band_mean": band_mean, "band_std": band_std}
        self.__dict__.pop("onnx_model_", None)
        self._clear_runtime()

        module = self._build_module(self.dropout).to(device)
        optimizer = torch.optim.AdamW(module.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        steps_per_epoch = int(np.ceil(len(train_idx) / self.batch_size))
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.learning_rate, total_steps=self.max_epochs * steps_per_epoch
        )
        counts = np.bincount(y_index[train_idx], minlength=len(self.classes_)).astype(np.float32)
        class_weight = torch.tensor(counts.sum() / (len(counts) * np.maximum(counts, 1)), device=device)
        targets_all = torch.nn.functional.one_hot(torch.from_numpy(y_index), len(self.classes_)).float()
        smoothing = self.label_smoothing / len(self.classes_)

        self.history_ = []
        best = (-np.inf, np.inf)
        best_weights, self.best_epoch_ = None, self.max_epochs
        epochs_since_best = 0
        for epoch in range(1, self.max_epochs + 1):
            started = time.perf_counter()
            module.train()
            total_loss = 0.0
            order = rng.permutation(train_idx)
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                x, mask = map(torch.from_numpy, self._pad([self._random_crop(clips[i], rng) for i in batch], standardise=False))
                targets = targets_all[batch] * (1 - self.label_smoothing) + smoothing
                if self.augment:
                    x, mask, targets = self._augment(x, mask, targets, config, generator)
                else:
                    x = self._standardise(x, mask)
                loss = self._step(module, optimizer, scheduler, x, mask, targets, class_weight)
                total_loss += loss * len(batch)
            record = {"epoch": epoch, "train_loss": total_loss / len(train_idx)}
            if len(val_idx):
                val_probs = self._predict_torch(module, [clips[i] for i in val_idx], device)
                record.update(_validation_scores(val_probs, y_index[val_idx], len(self.classes_)))
            record["seconds"] = time.perf_counter() - started
            self.history_.append(record)
            if self.verbose:
                import sys

                print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()), file=sys.stderr)
            if len(val_idx):
                score = (record["validation_ua"], -record["validation_loss"])
                if score > best:
                    best, self.best_epoch_, epochs_since_best = score, epoch, 0
                    best_weights = copy.deepcopy(module.state_dict())
                else:
                    epochs_since_best += 1
                    if self.patience is not None and epochs_since_best >= self.patience:
                        break
        if best_weights is not None:
            module.load_state_dict(best_weights)
        else:
            self.best_epoch_ = len(self.history_)
        self.state_.update({k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()})
        self.onnx_model_ = np.frombuffer(self.to_onnx(), dtype=np.uint8)
        return self

    @staticmethod
    def _step(module, optimizer, scheduler, x, mask, targets, class_weight) -> float:
        """One optimisation step on a batch; returns its (class-weighted, soft-target) loss."""
        torch = _torch()
        device = class_weight.device
        log_probs = torch.log_softmax(module(x.to(device), mask.to(device)), dim=1)
        loss = -(targets.to(device) * log_probs * class_weight).sum(dim=1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        return float(loss.detach())

    def _random_crop(self, clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if clip.shape[1] <= self.crop_frames:
            return clip
        start = int(rng.integers(0, clip.shape[1] - self.crop_frames + 1))
        return clip[:, start : start + self.crop_frames]

    def _augment(self, S_db, mask, targets, config, generator):
        from serkit.models.augment import augment_db, mixup, spec_augment

        S_db = augment_db(S_db, mask, config, generator)
        x = self._standardise(S_db, mask)
        x = spec_augment(
            x,
            mask,
            n_time_masks=config.n_time_masks,
            max_time_frames=config.max_time_frames,
            n_freq_masks=config.n_freq_masks,
            max_freq_bands=config.max_freq_bands,
            generator=generator,
        )
        if config.mixup_alpha > 0:
            x, mask, targets = mixup(x, mask, targets, alpha=config.mixup_alpha, generator=generator)
        return x, mask, targets

    def _standardise(self, S_db, mask):
        """Band standardisation with the training statistics; padded frames set to 0."""
        torch = _torch()
        band_mean = torch.from_numpy(self.state_["band_mean"])[None, :, None]
        band_std = torch.from_numpy(self.state_["band_std"])[None, :, None]
        return (S_db - band_mean) / band_std * mask[:, None, :]

    # -- prediction ----------------------------------------------------------------

    @property
    def min_frames(self) -> int:
        """Shortest clip the network takes; shorter ones are padded with the band means."""
        return 2 ** len(self.channels)

    def _pad(self, clips: list[np.ndarray], *, standardise: bool):
        """Stack clips into a float32 ``(batch, n_mels, max_frames)`` array plus the frame mask
        (:func:`serkit.inference.runtime.pad_frames` with the training band statistics)."""
        return pad_frames(clips, self.state_["band_mean"], self.state_["band_std"], min_frames=self.min_frames,
                          standardise=standardise)

    def _predict_torch(self, module, clips, device) -> np.ndarray:
        torch = _torch()
        module.eval()
        probabilities = np.empty((len(clips), module.classifier[-1].out_features), dtype=np.float32)
        with torch.no_grad():
            for batch in length_batches([clip.shape[1] for clip in clips]):
                x, mask = map(torch.from_numpy, self._pad([clips[i] for i in batch], standardise=True))
                logits = module(x.to(device), mask.to(device))
                probabilities[batch] = torch.softmax(logits, dim=1).cpu().numpy()
        return probabilities

    def _module(self):
        if getattr(self, "_torch_module", None) is None:
            torch = _torch()
            # Built on the meta device the network allocates nothing until it takes the
            # fitted weights, so layer sizes that do not match them (a crafted model
            # file) fail here instead of allocating whatever they claim.
            with torch.device("meta"):
                module = self._build_module()
            weights = {k: torch.from_numpy(np.asarray(v)) for k, v in self.state_.items() if k not in ("band_mean", "band_std")}
            try:
                module.load_state_dict(weights, assign=True)
            except RuntimeError as error:
                reason = str(error).strip().splitlines()[-1].strip()
                raise ParameterError(f"the CNN's layer sizes do not match its weights ({reason})") from None
            self._torch_module = module.eval()
        return self._torch_module

    def _clear_runtime(self) -> None:
        for name in _RUNTIME_CACHES:
            self.__dict__.pop(name, None)

    def __getstate__(self):
        # Runtime caches (torch module, ONNX session) are rebuilt from state_;
        # keeping them out lets skops save the estimator without pickle.
        state = super().__getstate__()
        for name in _RUNTIME_CACHES:
            state.pop(name, None)
        return state

    def to_onnx(self) -> bytes:
        """The fitted network as an ONNX model (bytes), inputs ``x`` (standardised
        log-mel, ``(batch, n_mels, n_frames)``) and ``mask`` ``(batch, n_frames)``,
        output ``logits``; batch and frames are dynamic axes."""
        import io
        import warnings

        check_is_fitted(self, "state_")
        torch = _torch()
        module = self._module()
        x = torch.zeros(2, self.n_mels_, 4 * self.min_frames)
        mask = torch.ones(2, 4 * self.min_frames)
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (x, mask),
                buffer,
                input_names=["x", "mask"],
                output_names=["logits"],
                dynamic_axes={"x": {0: "batch", 2: "frames"}, "mask": {0: "batch", 1: "frames"}, "logits": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        return buffer.getvalue()

    def _predict_onnx(self, clips) -> np.ndarray:
        if getattr(self, "_onnx_session", None) is None:
            # The network exported at the end of fit: prediction needs no torch.
            onnx_model = getattr(self, "onnx_model_", None)
            self._onnx_session = onnx_session(self.to_onnx() if onnx_model is None else onnx_model.tobytes())
        return network_probabilities(self._onnx_session, clips, self.state_["band_mean"], self.state_["band_std"],
                                     min_frames=self.min_frames, n_classes=len(self.classes_))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n_clips, n_classes)`` (columns in ``classes_`` order).

        Deterministic: no augmentation, no dropout, whole clips.
        """
        check_is_fitted(self, "state_")
        clips = _as_clips(X)
        if clips[0].shape[0] != self.n_mels_:
            raise ParameterError(f"X has {clips[0].shape[0]} mel bands; this model was trained on {self.n_mels_}")
        if self.backend == "onnx":
            return self._predict_onnx(clips)
        return self._predict_torch(self._module(), clips, _torch().device("cpu"))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each clip."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _validation_scores(probabilities: np.ndarray, y_index: np.ndarray, n_classes: int) -> dict:
    """Validation cross-entropy and unweighted accuracy (mean per-class recall)."""
    loss = float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y_index)), y_index], 1e-7, 1.0))))
    predicted = probabilities.argmax(axis=1)
    recalls = [np.mean(predicted[y_index == k] == k) for k in range(n_classes) if np.any(y_index == k)]
    return {"validation_loss": loss, "validation_ua": float(np.mean(recalls))}


def _register() -> None:
    from serkit.models.registry import register_model

    @register_model("cnn", input_kind="frames", default_set="logmel",
                    description="compact CNN on log-mel spectrograms (PyTorch)")
    def build(*, random_state=0, **params):
        return CNNClassifier(random_state=random_state, **params)


_register()
