"""``whisper-head``: a small trained head over precomputed encoder frames.

:class:`FrameHeadClassifier` takes a sequence of ``(n_features, n_frames)`` arrays
(the ``whisper-frames`` set: 384 values per 20 ms frame of Whisper tiny.en) and
learns an optional 1-D convolution (kernel 3, ReLU) over time, the CNN's masked
attentive statistics pooling (:func:`serkit.models.cnn.attentive_statistics`),
dropout and a linear layer. It is a :class:`~serkit.models.cnn.CNNClassifier` with
another network: the same training recipe (per-feature standardisation on the
training part, random crops, AdamW with a one-cycle schedule, label smoothing, class
weights, the epoch chosen on held-out *training speakers*), the same ``state_``
weights that skops saves, the same ONNX prediction. The only augmentation is time
masking: the CNN's gain, noise, vocal-tract warping and band masks act on a
spectrogram, not on encoder states.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(0, 1, (16, int(rng.integers(30, 50)))).astype(np.float32) for _ in range(8)]
>>> X[4:] = [x + 1 for x in X[4:]]
>>> y = ["sad"] * 4 + ["angry"] * 4
>>> clf = FrameHeadClassifier(conv_channels=8, max_epochs=2, validation_size=0).fit(X, y)
>>> clf.predict_proba(X).shape
(8, 2)
"""

from __future__ import annotations

import numpy as np

from serkit.core.exceptions import ParameterError
from serkit.models.cnn import CNNClassifier, _torch, attention_scorer, attentive_statistics


def build_head_module(n_features: int, conv_channels: int, n_classes: int, dropout: float = 0.0):
    """The torch network of :class:`FrameHeadClassifier`: ``forward(x, mask)`` on
    ``x [shape=(batch, n_features, n_frames)]`` and ``mask [shape=(batch, n_frames)]``
    gives logits ``(batch, n_classes)``; ``conv_channels=0`` pools the frames directly."""
    torch = _torch()
    nn = torch.nn

    class FrameHead(nn.Module):
        def __init__(self):
            super().__init__()
            width = conv_channels or n_features
            self.conv = (
                nn.Sequential(nn.Conv1d(n_features, conv_channels, kernel_size=3, padding=1), nn.ReLU())
                if conv_channels else nn.Identity()
            )
            self.attention = attention_scorer(width)
            self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * width, n_classes))

        def forward(self, x, mask):
            # Padding is zeroed before and after the conv, so a clip's output does not
            # depend on the clips padded beside it (its last frame sees a zero, as alone).
            h = self.conv(x * mask[:, None, :]) * mask[:, None, :]
            return self.classifier(attentive_statistics(h, mask, self.attention))

    return FrameHead()


class FrameHeadClassifier(CNNClassifier):
    """Conv + attentive statistics pooling + linear layer on encoder frames, scikit-learn style.

    Parameters
    ----------
    conv_channels : int >= 0
        Channels of the 1-D convolution (kernel 3) before pooling; 0 leaves it out.
    dropout : float in [0, 1)
        Dropout before the linear layer.
    crop_frames : int > 0
        Training crop in frames (150 = 3 s of 20 ms frames); prediction uses whole clips.
    max_epochs, patience, batch_size, learning_rate, weight_decay, label_smoothing, validation_size
        As in :class:`~serkit.models.cnn.CNNClassifier`.
    augment : bool
        Time masking of training batches (``augment_config.n_time_masks`` spans of up
        to ``augment_config.max_time_frames`` frames, at most 20 % of a clip); the
        config's other transforms do not apply to encoder frames and are not used.
    augment_config : AugmentConfig or None
    backend, device, n_threads, random_state, verbose
        As in :class:`~serkit.models.cnn.CNNClassifier`.

    Attributes
    ----------
    classes_, state_, n_mels_ (features per frame), history_, best_epoch_, onnx_model_
        As in :class:`~serkit.models.cnn.CNNClassifier`.

    Examples
    --------
    See the module docstring.
    """

    registry_name = "whisper-head"

    def __init__(
        self,
        *,
        conv_channels=128,
        dropout=0.3,
        crop_frames=150,
        max_epochs=40,
        patience=None,
        batch_size=32,
        learning_rate=1e-3,
        weight_decay=1e-2,
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
        self.conv_channels = conv_channels
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

    def _validate_architecture(self) -> None:
        if not isinstance(self.conv_channels, (int, np.integer)) or self.conv_channels < 0:
            raise ParameterError(f"conv_channels={self.conv_channels!r} must be an integer >= 0")

    def _check_input_rows(self) -> None:
        """Any number of features per frame will do."""

    def _build_module(self, dropout: float = 0.0):
        return build_head_module(self.n_mels_, int(self.conv_channels), len(self.classes_), dropout)

    @property
    def min_frames(self) -> int:
        return 1

    def _augment(self, S, mask, targets, config, generator):
        from serkit.models.augment import spec_augment

        x = spec_augment(
            self._standardise(S, mask), mask, n_time_masks=config.n_time_masks,
            max_time_frames=config.max_time_frames, n_freq_masks=0, max_freq_bands=0, generator=generator,
        )
        return x, mask, targets


def _register() -> None:
    from serkit.models.registry import register_model

    @register_model("whisper-head", input_kind="frames", default_set="whisper-frames",
                    description="conv + attentive pooling + linear head on Whisper encoder frames (PyTorch)")
    def build(*, random_state=0, **params):
        return FrameHeadClassifier(random_state=random_state, **params)


_register()
