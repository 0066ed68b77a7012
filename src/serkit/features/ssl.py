"""``ssl``: one vector per clip from a pretrained self-supervised speech encoder.

wav2vec 2.0, HuBERT and WavLM (any ``transformers`` model that takes 16 kHz
``input_values`` and returns ``hidden_states``) turn speech into frame embeddings
that carry far more about the voice than hand-made statistics. Frozen and pooled
over time, they feed the classical or dense models; published speaker-independent
results on RAVDESS with such encoders are around 75–85 % (large models, often with
fine-tuning), against about 60 % for models trained from scratch.

``model`` is a Hugging Face id (downloaded once into the Hugging Face cache, if the
machine can reach the hub) or a local directory written by ``save_pretrained``.
``layer`` picks which hidden states are pooled, three choices:

- an index: one hidden state (0 is the input of the first transformer layer, -1 the
  last layer's output), ``hidden_size`` values;
- ``"mean"`` (the default): the average over all transformer layers, ``hidden_size``
  values (middle layers carry the most paralinguistic information, so the average
  is a robust choice without tuning);
- ``"all"``: every hidden state's time mean, stacked layer after layer,
  ``n_states * hidden_size`` values (``n_states`` = transformer layers + 1: 13 for
  base-size encoders, 25 for large ones). The ``layer-weighted`` model
  (:mod:`serkit.models.layers`) then learns a softmax weighting of the layers on
  the training data only, as in the SUPERB benchmark, instead of fixing one here.

Needs the optional dependency ``transformers`` (``pip install serkit[ssl]``).

Examples
--------
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("ssl", model="facebook/wav2vec2-base", layer=6)
>>> fs.params()["layer"], fs.kind
(6, 'vector')
>>> get_feature_set("ssl", layer="all").params()["layer"]
'all'
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from serkit.core.audio import resample
from serkit.core.exceptions import AudioError, ParameterError, error_reason, short_repr
from serkit.core.files import is_directory
from serkit.features.base import FeatureSet, register_feature_set
from serkit.features.spectral import check_range
from serkit.core.level import DEFAULT_LEVEL, check_level

SSL_SR = 16000
"""The rate every wav2vec 2.0 / HuBERT / WavLM checkpoint was trained at."""

LAYER_CHOICES = ("mean", "all")
"""The named ``layer`` values besides an integer index."""


def is_local_encoder(model) -> bool:
    """Whether ``model`` names a directory on this machine (written by ``save_pretrained``)."""
    return isinstance(model, str) and bool(model) and is_directory(model)


def check_layer(layer) -> None:
    """:class:`ParameterError` unless ``layer`` is an integer index, ``"mean"`` or ``"all"``."""
    named = isinstance(layer, str) and layer in LAYER_CHOICES
    index = isinstance(layer, (int, np.integer)) and not isinstance(layer, bool)
    if not (named or index):
        raise ParameterError(f"layer={layer!r} must be an integer index, 'mean' or 'all'")


def select_hidden_states(hidden_states, layer, *, model: str):
    """The chosen states of a (single-clip) encoder output, as torch tensors.

    ``hidden_states`` is the ``output_hidden_states`` tuple, each ``(1, frames,
    hidden)``. Returns ``(frames, hidden)``, or ``(n_states, frames, hidden)`` with
    ``layer="all"``; ``model`` names the encoder in an out-of-range error.
    """
    import torch

    if layer == "all":
        return torch.stack(hidden_states)[:, 0]
    if layer == "mean":
        # hidden_states[0] is the pre-transformer embedding; average the layers' outputs.
        return torch.stack(hidden_states[1:]).mean(dim=0)[0]
    n_states = len(hidden_states)
    if not -n_states <= layer < n_states:
        raise ParameterError(
            f"layer={layer} is out of range for {model} "
            f"({n_states} hidden states: 0 … {n_states - 1}, or negative from the end)"
        )
    return hidden_states[layer][0]


def layer_columns(prefix: str, *, n_states: int, names: list[str]) -> list[str]:
    """Column names ``{prefix}_{name}``; for ``n_states > 1`` (``layer="all"``),
    ``{prefix}_l{k}_{name}`` for each hidden state ``k``, layer-major.

    >>> layer_columns("ssl", n_states=2, names=["0", "1"])
    ['ssl_l0_0', 'ssl_l0_1', 'ssl_l1_0', 'ssl_l1_1']
    """
    if n_states == 1:
        return [f"{prefix}_{name}" for name in names]
    return [f"{prefix}_l{k}_{name}" for k in range(n_states) for name in names]


@lru_cache(maxsize=2)
def load_encoder(model: str):
    """``(encoder, normalize)`` for a model id or directory, loaded once per process.

    ``normalize`` says whether the checkpoint expects zero-mean, unit-variance
    input (its feature extractor's ``do_normalize``; True when it has none). A
    local directory is read with ``local_files_only`` (never the hub), and no
    checkpoint's own code is ever run (``trust_remote_code=False``).

    Raises
    ------
    ParameterError
        ``transformers`` missing, or the model cannot be found or loaded.
    """
    try:
        import transformers
    except ModuleNotFoundError:
        raise ParameterError(
            "the 'ssl' feature set needs transformers: pip install 'serkit[ssl]'"
        ) from None
    options = {"local_files_only": is_local_encoder(model), "trust_remote_code": False}
    try:
        encoder = transformers.AutoModel.from_pretrained(model, **options)
    except Exception as error:  # a crafted checkpoint makes the libraries raise any kind (a refused pickle: UnpicklingError)
        raise ParameterError(
            f"{model}: cannot load a speech encoder ({error_reason(error)}); give a Hugging Face id the "
            "machine can download, or a directory written by save_pretrained"
        ) from None
    try:
        extractor = transformers.AutoFeatureExtractor.from_pretrained(model, **options)
        normalize = bool(getattr(extractor, "do_normalize", True))
    except (OSError, ValueError):
        normalize = True
    return encoder.eval(), normalize


@register_feature_set
class SSLEmbedding(FeatureSet):
    """Time-averaged hidden states of a self-supervised speech encoder.

    Parameters
    ----------
    model : str
        Hugging Face model id (e.g. ``"facebook/wav2vec2-base"``,
        ``"microsoft/wavlm-base-plus"``, ``"facebook/hubert-base-ls960"``) or a local
        directory written by ``save_pretrained``.
    layer : int, "mean" or "all"
        Index into the encoder's hidden states (0 = before the first transformer
        layer, -1 = last layer), ``"mean"`` to average all transformer layers, or
        ``"all"`` to keep every hidden state (state 0 included), stacked
        layer-major, for :class:`serkit.models.layers.LayerWeighting`.
    max_duration_s : float in [0.1, 120]
        Audio beyond this many seconds is cut (attention cost grows with length²).
    level : {"active-rms", "bs1770"} or None
        Level normalisation of the clip before any feature (:mod:`serkit.core.level`);
        ``None`` works on the clip as recorded.

    Raises
    ------
    ParameterError
        A parameter of the wrong type or out of its range.

    Examples
    --------
    ``from_audio`` and ``columns`` need a real or saved encoder; building the set does not:

    >>> fs = SSLEmbedding(model="facebook/wav2vec2-base", layer="all")
    >>> fs.params()["layer"]
    'all'

    With a base-size encoder (13 hidden states of 768 values), ``fs.columns`` runs
    ``ssl_l0_0`` … ``ssl_l12_767`` and ``from_audio`` gives 9984 values.
    """

    name = "ssl"
    kind = "vector"
    sr = SSL_SR

    def __init__(self, *, model: str = "facebook/wav2vec2-base", layer="mean", max_duration_s: float = 20.0,
                 level: str | None = DEFAULT_LEVEL):
        self.model = model
        self.layer = layer
        self.max_duration_s = max_duration_s
        self.level = check_level(level)
        if not isinstance(model, str) or not model:
            raise ParameterError(f"model={model!r} must be a Hugging Face id or a directory")
        check_layer(layer)
        check_range(0.1, 120.0, integer=False, max_duration_s=max_duration_s)

    def require_local(self) -> None:
        """:class:`ParameterError` unless :attr:`model` is a directory here: a Hugging
        Face id would be downloaded."""
        if not is_local_encoder(self.model):
            raise ParameterError(
                f"ssl encoder {short_repr(self.model)} is not a local directory; serkit does not download "
                "encoders named by a model directory (save it with save_pretrained and retrain "
                "with that path)"
            )

    def _encoder(self):
        return load_encoder(self.model)

    @property
    def columns(self) -> list[str]:
        """``ssl_0`` … ``ssl_{hidden_size - 1}``; with ``layer="all"``, ``ssl_l{k}_{i}``
        for hidden state ``k`` and dimension ``i``, layer-major (loads the encoder)."""
        encoder, _ = self._encoder()
        # With layer="all": the embedding output plus one state per transformer layer.
        n_states = encoder.config.num_hidden_layers + 1 if self.layer == "all" else 1
        return layer_columns("ssl", n_states=n_states, names=[str(i) for i in range(encoder.config.hidden_size)])

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Mean over time of the chosen hidden states: ``(hidden_size,)`` float32, or
        ``(n_states * hidden_size,)`` with ``layer="all"`` (state 0's values first)."""
        import torch

        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or not np.all(np.isfinite(y)):
            raise AudioError(f"<audio>: expected finite mono audio of shape (n,), got shape {y.shape}")
        y = resample(y, orig_sr=int(sr), target_sr=SSL_SR)[: int(self.max_duration_s * SSL_SR)]
        encoder, normalize = self._encoder()
        if y.size < 400:
            raise AudioError(f"<audio>: too short for the encoder ({y.size} samples < 400 at 16 kHz)")
        if normalize:
            y = (y - y.mean()) / np.sqrt(y.var() + 1e-7)
        with torch.no_grad():
            output = encoder(torch.from_numpy(y)[None], output_hidden_states=True)
        frames = select_hidden_states(output.hidden_states, self.layer, model=self.model)
        # Pool over frames; "all" flattens (n_states, hidden) layer-major.
        return frames.mean(dim=-2).reshape(-1).numpy().astype(np.float32)
