"""Saved models: a directory that loads only if it is intact and compatible.

A model directory holds

- ``model.skops`` — the fitted pipeline, saved with skops (no pickle);
- ``metadata.json`` — model name, feature set (name, parameters, columns), label
  order, training-time metrics, speaker normalisation, library versions, date;
- ``manifest.json`` — the SHA-256 of every other file.

:func:`load_model` checks the manifest (an altered or missing file is refused), the
serkit major version, that the feature set exists here with the same columns, and
loads the pipeline trusting only scikit-learn, serkit, numpy and builtin types, so a
model file can never run arbitrary code.

Examples
--------
>>> import numpy as np, tempfile
>>> from serkit.features import get_feature_set
>>> from serkit.models import make_model
>>> fs = get_feature_set("seed26")
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(40, len(fs.columns))), np.repeat(["calm", "angry"], 20)
>>> model = make_model("logreg").fit(X, y)
>>> model_dir = save_model(tempfile.mkdtemp(), model, fs)
>>> predictor = load_model(model_dir)
>>> predictor.metadata["model"], predictor.metadata["labels"]
('logreg', ['angry', 'calm'])
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from serkit.exceptions import ArtifactError, ParameterError

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1

TRUSTED_PREFIXES = ("serkit.", "sklearn.")
"""Types a model file may contain beyond skops's own safe defaults (containers, numbers,
numpy arrays); anything else — a function such as ``builtins.eval`` or ``os.system``
included — is refused before loading."""

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "data" / "models" / "default"
"""The bundled default model (``serkit train ... -o src/serkit/data/models/default``)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict:
    import numpy
    import sklearn

    from serkit import __version__

    versions = {"serkit": __version__, "scikit-learn": sklearn.__version__,
                "numpy": numpy.__version__, "python": platform.python_version()}
    try:
        import skops

        versions["skops"] = skops.__version__
    except ImportError:  # pragma: no cover - skops is a dependency
        pass
    import sys

    if "torch" in sys.modules:  # only record torch when the model used it
        versions["torch"] = sys.modules["torch"].__version__
    return versions


def save_model(model_dir, estimator, feature_set, *, metrics=None, speaker_norm=False,
               extra=None) -> Path:
    """Write a fitted estimator and everything needed to trust and use it.

    Parameters
    ----------
    model_dir : str or Path
        Directory to write (created; existing model files in it are replaced).
    estimator : fitted classifier
        Usually a pipeline from :func:`serkit.models.make_model` after ``fit``.
    feature_set : serkit.features.FeatureSet
        The set the estimator was trained on.
    metrics : dict, optional
        Training-time evaluation (e.g. speaker-independent CV summary).
    speaker_norm : bool
        Whether the estimator was trained on per-speaker standardised features
        (prediction then needs several clips per speaker).
    extra : dict, optional
        More metadata (e.g. ``{"corpus": ..., "license": ...}``); its keys win.

    Returns
    -------
    Path
        ``model_dir``.
    """
    import skops.io as sio

    from serkit.models import model_name

    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ParameterError(f"{type(estimator).__name__} is not fitted (no classes_); fit it first")
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    try:
        columns = list(feature_set.columns)
    except NotImplementedError:  # frame sets have no fixed columns
        columns = None
    metadata = {
        "format_version": FORMAT_VERSION,
        "model": model_name(estimator),
        "feature_set": {"name": feature_set.name, "kind": feature_set.kind,
                        "params": feature_set.params(), "columns": columns},
        "labels": [str(label) for label in classes],
        "metrics": metrics,
        "speaker_norm": bool(speaker_norm),
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    manifest_path = model_dir / MANIFEST_FILE
    # An interrupted save must not leave an old manifest vouching for new files.
    manifest_path.unlink(missing_ok=True)
    sio.dump(estimator, model_dir / MODEL_FILE)
    (model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=1) + "\n")
    manifest = {
        "algorithm": "sha256",
        "files": {name: _sha256(model_dir / name) for name in (MODEL_FILE, METADATA_FILE)},
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return model_dir


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing; not a serkit model directory") from None
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{path}: unreadable ({error})") from None


def verify_manifest(model_dir) -> dict:
    """Check every file listed in ``manifest.json`` against its SHA-256; return the manifest."""
    model_dir = Path(model_dir)
    manifest = _read_json(model_dir / MANIFEST_FILE)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or set(files) != {MODEL_FILE, METADATA_FILE}:
        raise ArtifactError(f"{model_dir / MANIFEST_FILE}: malformed manifest")
    for name, expected in files.items():
        path = model_dir / name
        if not path.is_file():
            raise ArtifactError(f"{path}: missing (listed in the manifest)")
        if _sha256(path) != expected:
            raise ArtifactError(f"{path}: checksum mismatch; the file was altered after saving")
    return manifest


def _check_compatible(model_dir: Path, metadata: dict):
    """The feature set named in ``metadata``, rebuilt here, after the version checks."""
    from serkit import __version__
    from serkit.features import get_feature_set

    saved_version = str(metadata.get("versions", {}).get("serkit", ""))
    if saved_version.split(".")[0] != __version__.split(".")[0]:
        raise ArtifactError(
            f"{model_dir}: saved by serkit {saved_version or '?'}, this is serkit "
            f"{__version__} (major versions differ); retrain the model"
        )
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{model_dir}: model format {metadata.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    saved = metadata.get("feature_set") or {}
    try:
        feature_set = get_feature_set(saved.get("name", ""), **(saved.get("params") or {}))
    except (ParameterError, TypeError) as error:
        raise ArtifactError(
            f"{model_dir}: feature set {saved.get('name')!r} with {saved.get('params')} "
            f"is not available here ({error})"
        ) from None
    if saved.get("columns") is not None and list(feature_set.columns) != saved["columns"]:
        raise ArtifactError(
            f"{model_dir}: feature set {feature_set.name!r} here has different columns "
            f"than the model was trained on ({len(feature_set.columns)} vs "
            f"{len(saved['columns'])}); retrain the model"
        )
    return feature_set


def _load_estimator(path: Path):
    import skops.io as sio

    try:
        types = sio.get_untrusted_types(file=path)
        untrusted = [t for t in types if not t.startswith(TRUSTED_PREFIXES)]
        if untrusted:
            raise ArtifactError(f"{path}: refusing untrusted types {untrusted}")
        return sio.load(path, trusted=types)
    except ArtifactError:
        raise
    except Exception as error:  # skops raises many kinds on a broken file
        raise ArtifactError(f"{path}: cannot load the model ({type(error).__name__}: {error})") from None


def load_model(model_dir=None):
    """Load a saved model as a :class:`serkit.inference.Predictor`, after checking it.

    Parameters
    ----------
    model_dir : str or Path or None
        A directory written by :func:`save_model`; ``None`` is the bundled default.

    Raises
    ------
    ArtifactError
        Missing directory or file, altered file (checksum), other serkit major
        version, unknown feature set or different columns, untrusted types.
    """
    from serkit.inference import Predictor

    bundled = model_dir is None
    model_dir = DEFAULT_MODEL_DIR if bundled else Path(model_dir)
    if not model_dir.is_dir():
        hint = (" (the bundled default model is not installed; train one with "
                "'serkit train ... -o src/serkit/data/models/default' or pass --model)"
                if bundled else "")
        raise ArtifactError(f"{model_dir}: no such model directory{hint}")
    verify_manifest(model_dir)
    metadata = _read_json(model_dir / METADATA_FILE)
    feature_set = _check_compatible(model_dir, metadata)
    estimator = _load_estimator(model_dir / MODEL_FILE)
    if [str(c) for c in estimator.classes_] != metadata.get("labels"):
        raise ArtifactError(f"{model_dir}: model labels differ from metadata.json")
    return Predictor(estimator, feature_set, metadata=metadata)


def train_and_save(model, dataset, feature_set, model_dir, *, n_splits=5, random_state=0,
                   speaker_norm=False, cross_validate=True, command=None, progress=True,
                   extra=None):
    """Evaluate ``model`` speaker-independently, fit it on all of ``dataset``, save it.

    Parameters
    ----------
    model : str
        Model name (:func:`serkit.models.available_models`).
    dataset : serkit.evaluation.Dataset
    feature_set : serkit.features.FeatureSet
        The set ``dataset`` was extracted with.
    model_dir : str or Path
    n_splits, random_state, speaker_norm
        As in :func:`serkit.evaluation.evaluate` (protocol ``speaker``).
    cross_validate : bool
        Run the evaluation first and store its figures in the metadata.
    command : str, optional
        Recorded in the metadata.
    extra : dict, optional
        More metadata, see :func:`save_model`.

    Returns
    -------
    (Path, EvaluationResult or None)
    """
    from serkit.evaluation import evaluate
    from serkit.models import fit_model, make_model
    from serkit.normalization import SpeakerNormalizer

    result, metrics = None, None
    if cross_validate:
        result = evaluate(model, dataset.X, dataset.y, dataset.groups, protocol="speaker",
                          n_splits=n_splits, random_state=random_state,
                          speaker_norm=speaker_norm, progress=progress,
                          corpus=dataset.corpus, feature_set=feature_set, command=command)
        run = result.runs[0]
        metrics = {"protocol": f"speaker-grouped {n_splits}-fold CV",
                   "speaker_norm": bool(speaker_norm), "summary": run.summary,
                   "folds": run.folds, "confusion_normalized": run.confusion_normalized,
                   "members": run.members}
    X = dataset.X
    if speaker_norm:
        X = SpeakerNormalizer().fit_transform(X, dataset.groups)
    estimator = fit_model(make_model(model, random_state=random_state), X, dataset.y,
                          dataset.groups)
    # The registry name, also for models that are not pipelines named after it.
    extra = {"model": model, "corpus": dataset.corpus, "n_train": int(len(dataset.y)),
             "command": command, "seed": int(random_state), **(extra or {})}
    path = save_model(model_dir, estimator, feature_set, metrics=metrics,
                      speaker_norm=speaker_norm, extra=extra)
    return path, result
