"""Saved models: a directory that loads only if it is intact and compatible.

A model directory holds

- ``model.skops`` — the fitted pipeline, saved with skops (no pickle);
- ``metadata.json`` — model name, feature set (name, parameters, columns), label
  order, training-time metrics, speaker normalisation, library versions, date;
- ``inference.json``, ``inference.safetensors`` and any ``inference-<k>.onnx`` —
  the same model as plain arrays, a JSON tree of steps and ONNX networks
  (:mod:`serkit.inference.runtime`), for every model whose parts numpy can run (clipping,
  scaling, logistic regression, perceptrons, temperature, soft votes, frame
  networks): prediction then needs neither scikit-learn, skops nor torch;
- ``manifest.json`` — the SHA-256 of every other file.

:func:`load_model` treats a model directory as untrusted input (see
``docs/trust-model.md``). It checks the manifest (an altered or missing file is
refused), validates ``metadata.json`` against :func:`validate_metadata` (types, the
serkit major version, feature-set parameters within their bounds, an encoder on
this machine), checks the feature set exists here with the same columns, then reads
the inference export where there is one (JSON and tensors, every step and shape
checked), else ``model.skops`` only if every object in it is of a class on
:data:`ALLOWED_CLASSES` (exact names; no function, method or constructor call), so a
model file can never run code of its choosing, reach the network or allocate
without bound.

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

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from serkit.core.exceptions import ArtifactError, ParameterError, short_repr
from serkit.core.files import is_directory, sha256_file
from serkit.inference.runtime import (
    ARRAYS_FILE,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    GRAPH_FILE,
    check_onnx_network,
    frame_network_inputs,
    is_export_file,
    load_export,
    load_familiarity,
)

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1

ALLOWED_CLASSES = frozenset({
    # serkit's estimators and transformers
    "serkit.models.calibration.TemperatureScaled",
    "serkit.models.cnn.CNNClassifier",
    "serkit.models.dense.DenseNetClassifier",
    "serkit.models.discriminant.ResampledDiscriminant",
    "serkit.models.dualpath.DualPathClassifier",
    "serkit.models.ensemble.SoftVoteClassifier",
    "serkit.models.frame_head.FrameHeadClassifier",
    "serkit.models.kmeans.KMeansClassifier",
    "serkit.models.layers.LayerWeighting",
    "serkit.models.preprocessing.QuantileClipper",
    "serkit.models.tuned.InnerCVTuned",
    # the scikit-learn estimators the registry builds, and the parts they keep
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.svm._classes.SVC",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.cluster._kmeans.KMeans",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.Interval",
})
"""The exact classes (``module.Class``) whose instances a model file may hold: what
:func:`serkit.models.make_model` builds, fitted (``tests/test_artifacts_security.py``
saves every registered model and fails, naming the class, when this list misses
one). No prefix, no function: a class outside this list, and any node that would
call or fetch a function or method, refuses the whole file."""

MAX_MODEL_FILE_BYTES = 1 << 30
"""Most bytes ``model.skops`` (on disk and unpacked) or a file of the inference export may take
(the bundled ensemble's ``model.skops``: 1.3 MB)."""

MAX_METADATA_BYTES = 16 << 20
"""Most bytes ``metadata.json`` or ``manifest.json`` may take (the bundled model's: 21 kB)."""

MAX_SCHEMA_BYTES = 64 << 20
"""Most bytes its ``schema.json`` (the object tree) may hold."""

BUNDLED_MODELS_DIR = Path(__file__).resolve().parents[1] / "data" / "models"
"""Models shipped with serkit, one directory each, loadable by name."""

DEFAULT_MODEL_DIR = BUNDLED_MODELS_DIR / "default"
"""The bundled default model (``serkit train ... -o src/serkit/data/models/default``)."""


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
               extra=None, familiarity=None) -> Path:
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
    familiarity : serkit.inference.familiarity.Familiarity, optional
        Statistics of the training features (:func:`serkit.inference.familiarity.fit_familiarity`),
        stored in the inference export: every prediction then carries a familiarity score.

    Returns
    -------
    Path
        ``model_dir``.
    """
    import skops.io as sio

    from serkit.models.registry import model_name

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
        "encoders": feature_set.encoders(),
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    manifest_path = model_dir / MANIFEST_FILE
    # An interrupted save must not leave an old manifest vouching for new files.
    manifest_path.unlink(missing_ok=True)
    for stale in model_dir.glob("inference*"):
        if is_export_file(stale.name):
            stale.unlink()
    sio.dump(estimator, model_dir / MODEL_FILE)
    (model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=1) + "\n")
    files = [MODEL_FILE, METADATA_FILE, *write_export(model_dir, estimator, familiarity=familiarity)]
    write_manifest(model_dir, files)
    return model_dir


def write_export(model_dir, estimator, *, familiarity=None) -> list[str]:
    """Write the inference export of ``estimator`` (and ``familiarity``'s statistics) into
    ``model_dir``; the files written (none for a model with a part the runtime cannot
    run: it loads through skops, without familiarity)."""
    from safetensors.numpy import save_file

    from serkit.models.export import NotExportable, export_model

    try:
        export = export_model(estimator)
    except NotExportable:
        return []
    model_dir = Path(model_dir)
    document = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "model": export.graph}
    if familiarity is not None:
        from serkit.inference.familiarity import step

        document["familiarity"], arrays = step(familiarity)
        export.arrays.update(arrays)
    save_file(export.arrays, str(model_dir / ARRAYS_FILE))
    _readable_as_umask_allows(model_dir / ARRAYS_FILE)  # safetensors writes it 0600
    (model_dir / GRAPH_FILE).write_text(json.dumps(document, indent=1) + "\n")
    for name, data in export.networks.items():
        (model_dir / name).write_bytes(data)
    return [GRAPH_FILE, ARRAYS_FILE, *export.networks]


def _readable_as_umask_allows(path: Path) -> None:
    import os

    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def write_manifest(model_dir, files: list[str]) -> None:
    """``manifest.json``: the SHA-256 of each of ``files`` in ``model_dir``."""
    model_dir = Path(model_dir)
    manifest = {"algorithm": "sha256", "files": {name: sha256_file(model_dir / name) for name in files}}
    (model_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")


def add_export(model_dir) -> list[str]:
    """Give a saved model directory (serkit 0.2.0 wrote none) its inference export.

    The directory is verified and loaded through skops as :func:`load_model` does, the
    export written beside ``model.skops`` and the manifest rewritten to vouch for it.
    Returns the export's files (empty when the model cannot be exported).

    >>> add_export("my-model")  # doctest: +SKIP
    ['inference.json', 'inference.safetensors']
    """
    model_dir = _resolve_model_dir(model_dir)
    estimator = load_model(model_dir, runtime="skops").estimator
    written = write_export(model_dir, estimator)
    write_manifest(model_dir, [MODEL_FILE, METADATA_FILE, *written])
    return written


def add_familiarity(model_dir, X, groups=None, **options):
    """Store the familiarity statistics of training features ``X`` in a saved model's export.

    The model is verified and loaded through skops as :func:`load_model` does, its
    export rewritten with the statistics (:func:`serkit.inference.familiarity.fit_familiarity`
    with ``groups`` and ``options``, ``y`` the emotions for its emotion part) and the manifest rewritten to vouch for it. For a
    model retrained elsewhere: give it the features it was trained on.

    Returns
    -------
    serkit.inference.familiarity.Familiarity

    Raises
    ------
    ArtifactError
        The model has no inference export to hold them, or ``X`` is not as wide as its feature set.

    >>> add_familiarity("my-model", dataset.X, dataset.groups, y=dataset.y)  # doctest: +SKIP
    """
    import numpy as np

    from serkit.inference.familiarity import fit_familiarity

    model_dir = _resolve_model_dir(model_dir)
    predictor = load_model(model_dir, runtime="skops")
    columns = predictor.metadata["feature_set"].get("columns")
    if columns is None or np.shape(X)[1:] != (len(columns),):
        raise ArtifactError(f"{model_dir}: familiarity needs the model's {len(columns or [])} vector features per clip, got shape {np.shape(X)}")
    familiarity = fit_familiarity(X, groups, **options)
    written = write_export(model_dir, predictor.estimator, familiarity=familiarity)
    if not written:
        raise ArtifactError(f"{model_dir}: has no inference export to hold familiarity statistics")
    write_manifest(model_dir, [MODEL_FILE, METADATA_FILE, *written])
    return familiarity


def _check_size(path: Path, limit: int) -> None:
    size = path.stat().st_size
    if size > limit:
        raise ArtifactError(f"{path}: {size} bytes; at most {limit}")


def _read_json(path: Path) -> dict:
    try:
        _check_size(path, MAX_METADATA_BYTES)
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing; not a serkit model directory") from None
    except (OSError, ValueError, RecursionError) as error:
        raise ArtifactError(f"{path}: unreadable ({type(error).__name__}: {error})") from None


def _check_inside(model_dir: Path, name: str) -> None:
    """Refuse ``model_dir / name`` when it is a link leading out of the directory: a model
    directory vouches only for its own files (a link could make it read any file here)."""
    path = model_dir / name
    if path.is_symlink() and path.resolve().parent != model_dir.resolve():
        raise ArtifactError(f"{path}: a link to a file outside the model directory; refused")


def verify_manifest(model_dir) -> dict:
    """Check every file listed in ``manifest.json`` against its SHA-256; return the manifest.

    Files are named without folders and may be links only within the directory."""
    model_dir = Path(model_dir)
    _check_inside(model_dir, MANIFEST_FILE)
    manifest = _read_json(model_dir / MANIFEST_FILE)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (not isinstance(files, dict) or METADATA_FILE not in files
            or not all(name in (MODEL_FILE, METADATA_FILE) or is_export_file(name) for name in files)
            or not (MODEL_FILE in files or {GRAPH_FILE, ARRAYS_FILE} <= set(files))):
        raise ArtifactError(f"{model_dir / MANIFEST_FILE}: malformed manifest")
    for name, expected in files.items():
        path = model_dir / name
        _check_inside(model_dir, name)
        if not path.is_file():
            raise ArtifactError(f"{path}: missing (listed in the manifest)")
        _check_size(path, MAX_METADATA_BYTES if name.endswith(".json") else MAX_MODEL_FILE_BYTES)
        if not isinstance(expected, str) or sha256_file(path) != expected:
            raise ArtifactError(f"{path}: checksum mismatch; the file was altered after saving")
    return manifest


def _is_str_list(value, *, unique: bool = False) -> bool:
    return (isinstance(value, list) and all(isinstance(item, str) and item for item in value)
            and (not unique or len(set(value)) == len(value)))


FEATURE_SET_KINDS = ("vector", "frames", "bundle")


def _is_adaptation(value) -> bool:
    """Whether ``value`` is an adapted model's ``adaptation`` block (:func:`serkit.features.adaptation.adaptation_metadata`)."""
    def number(x, low):
        return type(x) in (int, float) and low <= x < 1e9

    statistics = value.get("statistics") if isinstance(value, dict) else None
    return (isinstance(value, dict) and value.get("train_grain") in ("corpus", "speaker")
            and type(value.get("min_clips")) is int and number(value["min_clips"], 2)
            and number(value.get("spread_floor"), 0) and isinstance(statistics, dict)
            and isinstance(statistics.get("source"), str) and type(statistics.get("n_clips")) is int
            and value.get("default_head") in (None, "plain", "adapted")
            and (value.get("heads") is None or isinstance(value["heads"], dict)))


def validate_metadata(path, metadata) -> dict:
    """``metadata`` (parsed ``metadata.json``) if this serkit can use it; else one
    :class:`ArtifactError` naming the field.

    The file is input like any other: every field :func:`load_model` and the
    predictor read is checked for its type (a JSON ``"false"`` is no boolean, a
    ``"22050"`` no rate) before use. Feature-set parameters are checked by the
    feature set itself, when :func:`load_model` builds it.

    Examples
    --------
    >>> validate_metadata("m/metadata.json", {"format_version": 1, "speaker_norm": "false"})
    Traceback (most recent call last):
    ...
    serkit.core.exceptions.ArtifactError: m/metadata.json: versions must be a dict with a 'serkit' version string, got None
    """
    from serkit import __version__

    def require(field, ok, expected, value):
        if not ok:
            raise ArtifactError(f"{path}: {field} must be {expected}, got {short_repr(value)}")

    require("the file", isinstance(metadata, dict), "a JSON object", type(metadata).__name__)
    versions = metadata.get("versions")
    require("versions", isinstance(versions, dict) and isinstance(versions.get("serkit"), str),
            "a dict with a 'serkit' version string", versions)
    saved_version = versions["serkit"]
    if saved_version.split(".")[0] != __version__.split(".")[0]:
        raise ArtifactError(
            f"{Path(path).parent}: saved by serkit {saved_version or '?'}, this is serkit "
            f"{__version__} (major versions differ); retrain the model"
        )
    format_version = metadata.get("format_version")
    if type(format_version) is not int or format_version != FORMAT_VERSION:
        raise ArtifactError(
            f"{Path(path).parent}: model format {format_version!r}, expected {FORMAT_VERSION}"
        )
    model = metadata.get("model")
    require("model", isinstance(model, str) and model, "a model name", model)
    labels = metadata.get("labels")
    require("labels", _is_str_list(labels, unique=True) and labels,
            "a non-empty list of different, non-empty strings", labels)
    speaker_norm = metadata.get("speaker_norm")
    require("speaker_norm", isinstance(speaker_norm, bool), "true or false", speaker_norm)
    adaptation = metadata.get("adaptation")
    require("adaptation", adaptation is None or _is_adaptation(adaptation),
            "null or {train_grain, min_clips >= 2, spread_floor >= 0, statistics: {source, n_clips}"
            "[, default_head: plain|adapted, heads: {...}]}", adaptation)
    metrics = metadata.get("metrics")
    require("metrics", metrics is None or isinstance(metrics, dict), "an object or null", metrics)
    for field in ("name", "created", "command"):
        require(field, metadata.get(field) is None or isinstance(metadata.get(field), str),
                "a string or null", metadata.get(field))
    saved = metadata.get("feature_set")
    require("feature_set", isinstance(saved, dict), "an object", saved)
    require("feature_set.name", isinstance(saved.get("name"), str) and saved.get("name"),
            "a feature-set name", saved.get("name"))
    require("feature_set.kind", saved.get("kind") in (None, *FEATURE_SET_KINDS),
            f"one of {', '.join(FEATURE_SET_KINDS)}", saved.get("kind"))
    require("feature_set.params", isinstance(saved.get("params"), dict), "an object", saved.get("params"))
    columns = saved.get("columns")
    require("feature_set.columns", columns is None or _is_str_list(columns), "a list of names or null", columns)
    return metadata


LEVEL_SINCE = (0, 2)
"""serkit version from which feature sets normalise the level of each clip by default."""


def _saved_before_level_normalisation(version: str) -> bool:
    try:
        return tuple(int(part) for part in version.split(".")[:2]) < LEVEL_SINCE
    except ValueError:
        return False


def _check_compatible(model_dir: Path, metadata: dict):
    """The feature set named in (validated) ``metadata``, rebuilt here: its parameters
    within the set's bounds, nothing to download, the same kind and columns."""
    from serkit.features import get_feature_set
    from serkit.features.base import params_with_level

    saved = metadata["feature_set"]
    params = saved["params"]
    if _saved_before_level_normalisation(metadata["versions"]["serkit"]):
        # Those models were trained on clips as recorded.
        params = params_with_level(saved["name"], params, None)
    try:
        feature_set = get_feature_set(saved["name"], **params)
        feature_set.require_local()
        columns = list(feature_set.columns) if saved.get("columns") is not None else None  # may load an encoder
    except (ParameterError, NotImplementedError) as error:  # NotImplementedError: columns of a frame set
        raise ArtifactError(
            f"{model_dir}: feature set {saved['name']!r} with {short_repr(saved['params'], 200)} "
            f"is not available here ({error})"
        ) from None
    if saved.get("kind") not in (None, feature_set.kind):
        raise ArtifactError(
            f"{model_dir}: feature set {saved['name']!r} is of kind {feature_set.kind!r} here, "
            f"{saved['kind']!r} in the model; retrain the model"
        )
    if columns is not None and columns != saved["columns"]:
        raise ArtifactError(
            f"{model_dir}: feature set {feature_set.name!r} here has different columns "
            f"than the model was trained on ({len(columns)} vs "
            f"{len(saved['columns'])}); retrain the model"
        )
    return feature_set


def _numpy_scalar_types() -> frozenset[str]:
    import numpy as np

    return frozenset(f"{t.__module__}.{t.__name__}" for t in set(np.sctypeDict.values())
                     if t.__module__ == "numpy")


def _node_kinds() -> dict[str, frozenset[str]]:
    """skops loader → the ``module.Class`` names a node of that kind may carry.

    Only the loaders serkit's files use. Data loaders keep skops's own defaults
    (containers, JSON values, numpy arrays and scalar types); the object loaders
    build instances of :data:`ALLOWED_CLASSES`. Loaders that call or fetch a callable
    (``FunctionNode``, ``MethodNode``, ``PartialNode``, ``ConstructorFromReduceNode``,
    ``OperatorFuncNode`` …) are absent, so no name makes them acceptable.
    """
    numpy_scalars = _numpy_scalar_types()
    primitives = frozenset({"builtins.str", "builtins.int", "builtins.float", "builtins.bool"})
    return {
        "DictNode": frozenset({"builtins.dict"}),
        "ListNode": frozenset({"builtins.list"}),
        "TupleNode": frozenset({"builtins.tuple"}),
        "JsonNode": primitives,
        "TypeNode": primitives | numpy_scalars,
        "NdArrayNode": frozenset({"numpy.ndarray"}) | numpy_scalars,
        "RandomStateNode": frozenset({"numpy.random.mtrand.RandomState"}),
        "RandomGeneratorNode": frozenset({"numpy.random._generator.Generator"}),
        "ObjectNode": ALLOWED_CLASSES,
        "TreeNode": ALLOWED_CLASSES,
        "LossNode": ALLOWED_CLASSES,
    }


def _read_schema(path: Path):
    """The object tree (``schema.json``) of a ``.skops`` file, read within the size bounds."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_MODEL_FILE_BYTES:
            raise ArtifactError(f"{path}: unpacks to {unpacked} bytes; at most {MAX_MODEL_FILE_BYTES}")
        schema_size = archive.getinfo("schema.json").file_size
        if schema_size > MAX_SCHEMA_BYTES:
            raise ArtifactError(f"{path}: schema.json holds {schema_size} bytes; at most {MAX_SCHEMA_BYTES}")
        return json.loads(archive.read("schema.json"))


def refused_types(schema) -> list[str]:
    """What in a skops object tree is not allowed: ``"Loader module.Class"`` entries, sorted.

    Walks every node of the tree (``schema.json`` of a ``.skops`` file, as parsed
    JSON) without importing or constructing anything, and names each node whose
    loader is not one serkit saves or whose type is not allowed for that loader
    (:data:`ALLOWED_CLASSES` for objects). Empty for every model serkit saves.

    Examples
    --------
    >>> refused_types({"__loader__": "FunctionNode", "__module__": "os", "__class__": "system"})
    ['FunctionNode os.system']
    >>> refused_types({"__loader__": "ObjectNode", "__module__": "sklearn.pipeline",
    ...                "__class__": "Pipeline", "content": None})
    []
    """
    kinds = _node_kinds()
    refused, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        if "__loader__" not in node:
            continue
        loader, module, name = (node.get(key) for key in ("__loader__", "__module__", "__class__"))
        type_name = f"{module}.{name}"
        if not all(isinstance(v, str) for v in (loader, module, name)) or type_name not in kinds.get(loader, ()):
            refused.add(f"{loader} {type_name}")
    return sorted(refused)


def _load_estimator(path: Path):
    """The estimator in ``model.skops``, after :func:`refused_types` and skops's own
    audit both find nothing outside the allow-list."""
    import skops.io as sio

    try:
        refused = refused_types(_read_schema(path))
        if refused:
            raise ArtifactError(f"{path}: refusing untrusted types {refused}")
        # skops's audit as a second opinion (it also declares names hidden in data,
        # e.g. a random generator's bit generator): nothing it would need trusted
        # may lie outside the allow-list.
        untrusted = sio.get_untrusted_types(file=path)
        outside = sorted(set(untrusted) - ALLOWED_CLASSES)
        if outside:
            raise ArtifactError(f"{path}: refusing untrusted types {outside}")
        return sio.load(path, trusted=untrusted)
    except ArtifactError:
        raise
    except Exception as error:  # skops, zipfile and json raise many kinds on a broken file
        raise ArtifactError(f"{path}: cannot load the model ({type(error).__name__}: {error})") from None


def _reachable(root):
    """``root`` and every object reachable through attributes, lists, tuples and dicts."""
    seen, stack = set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            stack.extend(vars(obj).values())


def _links_are_sound(left, right, is_leaf, feature, n_features) -> bool:
    """Split nodes point forward to nodes inside the array and split a real feature, so
    prediction (which indexes these arrays without bounds checks) stays in the tree
    and ends."""
    import numpy as np

    split = np.flatnonzero(~np.asarray(is_leaf, dtype=bool))
    n_nodes = len(left)
    return bool(n_nodes > 0
                and np.all((left[split] > split) & (left[split] < n_nodes))
                and np.all((right[split] > split) & (right[split] < n_nodes))
                and np.all((feature[split] >= 0) & (feature[split] < n_features)))


def _check_tree(tree, n_features: int) -> str | None:
    import numpy as np

    leaf = tree.children_left == -1
    if not (np.array_equal(leaf, tree.children_right == -1)
            and tree.value.shape == (tree.node_count, tree.n_outputs, tree.max_n_classes)
            and _links_are_sound(tree.children_left, tree.children_right, leaf, tree.feature, n_features)):
        return "a decision tree whose nodes point outside it"
    return None


def _check_tree_predictor(predictor, n_features: int) -> str | None:
    import numpy as np
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes = predictor.nodes
    if not (isinstance(nodes, np.ndarray) and nodes.dtype == PREDICTOR_RECORD_DTYPE and nodes.ndim == 1
            and not nodes["is_categorical"].any()  # serkit fits no categorical features
            and _links_are_sound(nodes["left"], nodes["right"], nodes["is_leaf"], nodes["feature_idx"],
                                 n_features)):
        return "a boosting tree whose nodes point outside it"
    return None


def _check_cnn(cnn) -> str | None:
    import numpy as np

    if cnn.backend == "torch":
        cnn._module()  # rebuilt on the meta device first: sizes that differ from the weights fail
    onnx_model = getattr(cnn, "onnx_model_", None)
    if onnx_model is None:
        return None
    return check_onnx_network(np.asarray(onnx_model, dtype=np.uint8).tobytes(), frame_network_inputs(cnn.n_mels_))


def _check_dual_path(model) -> str | None:
    """A dual-path model's default head, temperatures and classes as :meth:`DualPathClassifier.of` makes them."""
    from serkit.models.dualpath import HEADS

    temperatures = getattr(model, "temperatures_", None)
    heads_classes = [[str(c) for c in getattr(getattr(model, f"{name}_", None), "classes_", [])] for name in HEADS]
    if (model.default_ not in HEADS or not isinstance(temperatures, dict) or sorted(temperatures) != sorted(HEADS)
            or not all(type(t) is float and 0.0 < t <= 1e3 for t in temperatures.values())
            or not heads_classes[0] == heads_classes[1] == [str(c) for c in model.classes_]):
        return "a dual-path model whose heads, default or temperatures are not as trained"
    return None


def check_loaded_model(estimator) -> None:
    """Raise :class:`ParameterError` unless the loaded ``estimator``'s fitted state is
    sound where compiled code trusts it.

    The allow-list fixes which classes a file may hold; this checks the content that
    native code indexes or sizes by: decision-tree and boosting-tree links, the CNN's
    ONNX graph (standard operators, no external data) and, for its torch backend, its
    layer sizes against its weights.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    from serkit.models.cnn import CNNClassifier
    from serkit.models.dualpath import DualPathClassifier

    for obj in _reachable(estimator):
        # Unfitted templates (a forest's ``estimator``) hold no state and never predict.
        problems = []
        if isinstance(obj, DecisionTreeClassifier) and hasattr(obj, "tree_"):
            problems = [_check_tree(obj.tree_, obj.n_features_in_)]
        elif isinstance(obj, RandomForestClassifier) and hasattr(obj, "estimators_"):
            # The forest checks the input's width, not its trees (nor their n_features_in_).
            problems = [_check_tree(tree.tree_, obj.n_features_in_) for tree in obj.estimators_]
        elif isinstance(obj, HistGradientBoostingClassifier) and hasattr(obj, "_predictors"):
            problems = [_check_tree_predictor(p, obj.n_features_in_) for per_iteration in obj._predictors
                        for p in per_iteration]
        elif isinstance(obj, CNNClassifier) and hasattr(obj, "state_"):
            problems = [_check_cnn(obj)]
        elif isinstance(obj, DualPathClassifier) and hasattr(obj, "classes_"):
            problems = [_check_dual_path(obj)]
        problem = next((p for p in problems if p), None)
        if problem:
            raise ParameterError(f"the model holds {problem}")


def bundled_models() -> list[str]:
    """Names of the models shipped with serkit (``"default"`` first)."""
    names = sorted(path.name for path in BUNDLED_MODELS_DIR.iterdir() if path.is_dir())
    return sorted(names, key=lambda name: name != "default")


def _resolve_model_dir(model_dir) -> Path:
    path = Path(model_dir)
    if not is_directory(path) and len(path.parts) == 1 and path.name in bundled_models():
        return BUNDLED_MODELS_DIR / path.name
    return path


RUNTIMES = ("auto", "export", "skops")
"""How :func:`load_model` reads the model: ``"auto"`` the inference export where the
manifest lists one, else ``model.skops``; ``"export"`` the export or an error;
``"skops"`` the scikit-learn/PyTorch pipeline (for inspecting or refitting it)."""


def load_model(model_dir=None, *, runtime: str = "auto"):
    """Load a saved model as a :class:`serkit.inference.predictor.Predictor`, after checking it.

    Parameters
    ----------
    model_dir : str or Path or None
        A directory written by :func:`save_model`; the name of a bundled model
        (:func:`bundled_models`, e.g. ``"cnn-ensemble-v1"``, the default before
        serkit 0.2) when no such directory exists here; ``None`` is the bundled default.
    runtime : {"auto", "export", "skops"}
        Which of the saved forms to run (:data:`RUNTIMES`). Both give the same
        probabilities (to 1e-5, tested); the export imports neither scikit-learn,
        skops nor torch, so it loads in a fraction of the time.

    Raises
    ------
    ArtifactError
        Missing directory or file, altered file (checksum), malformed metadata,
        other serkit major version, unknown feature set, out-of-range parameters,
        an encoder not on this machine, different columns, a type outside
        :data:`ALLOWED_CLASSES`, a malformed export — one line naming the file and the reason.

    A pretrained encoder the features need (the bundled Whisper) is checked and loaded in
    a background thread started once the model is accepted
    (:meth:`serkit.features.base.FeatureSet.preload`): the first prediction waits for it,
    and raises its error (an altered file) if it fails.
    """
    from serkit.features.adaptation import model_statistics
    from serkit.inference.predictor import Predictor

    if runtime not in RUNTIMES:
        raise ParameterError(f"runtime={runtime!r}; choose from {', '.join(RUNTIMES)}")
    bundled = model_dir is None
    model_dir = DEFAULT_MODEL_DIR if bundled else _resolve_model_dir(model_dir)
    if not is_directory(model_dir):
        hint = (" (the bundled default model is not installed; train one with "
                "'serkit train ... -o src/serkit/data/models/default' or pass --model)"
                if bundled else "")
        raise ArtifactError(f"{model_dir}: no such model directory{hint}")
    files = list(verify_manifest(model_dir)["files"])
    metadata = validate_metadata(model_dir / METADATA_FILE, _read_json(model_dir / METADATA_FILE))
    feature_set = _check_compatible(model_dir, metadata)
    has_export = GRAPH_FILE in files
    if runtime == "export" and not has_export:
        raise ArtifactError(f"{model_dir}: has no inference export (add one with serkit.models.artifacts.add_export)")
    if runtime == "skops" and MODEL_FILE not in files:
        raise ArtifactError(f"{model_dir}: has no {MODEL_FILE}, only its inference export")
    if has_export and runtime != "skops":
        estimator = load_export(model_dir, [name for name in files if is_export_file(name)])
        _check_input(model_dir, estimator, metadata, feature_set)
    else:
        estimator = _load_estimator(model_dir / MODEL_FILE)
        try:
            check_loaded_model(estimator)
        except Exception as error:  # a crafted state can break the checks' own reading of it
            raise ArtifactError(f"{model_dir / MODEL_FILE}: refused: {error}") from None
    if [str(c) for c in estimator.classes_] != metadata.get("labels"):
        raise ArtifactError(f"{model_dir}: model labels differ from metadata.json")
    if metadata.get("adaptation") is not None and model_statistics(estimator) is None:
        raise ArtifactError(f"{model_dir}: metadata.json says the model adapts to a source; the model holds no source statistics")
    default_head = getattr(estimator, "default_head", None)
    if default_head != (metadata.get("adaptation") or {}).get("default_head"):
        raise ArtifactError(f"{model_dir}: metadata.json's adaptation.default_head differs from the model's "
                            f"({default_head or 'not a dual-path model'})")
    familiarity = load_familiarity(model_dir) if has_export else None
    if familiarity is not None and familiarity.n_features != len(metadata["feature_set"].get("columns") or []):
        raise ArtifactError(f"{model_dir / GRAPH_FILE}: familiarity statistics of {familiarity.n_features} features do not fit the feature set")
    feature_set.preload()  # the model is accepted: its encoder checks and loads in a thread while the audio is read
    return Predictor(estimator, feature_set, metadata=metadata, familiarity=familiarity)


def save_adapted(model_dir, statistics, output, *, source: str) -> Path:
    """A copy of the adapted model in ``model_dir`` whose source statistics are ``statistics``
    (:meth:`serkit.inference.predictor.Predictor.source_statistics`), written to ``output``: its
    inference export opens with them, so single clips are standardised as that source. A
    dual-path model (:mod:`serkit.models.dualpath`) keeps its plain head and answers single
    clips with its adapted head from then on (``default_head``: ``adapted``).

    Raises :class:`ArtifactError` for a model that is not adapted.
    """
    from serkit.features.adaptation import SOURCE_STEP, adapted_model
    from serkit.models.dualpath import DualPathClassifier

    original = load_model(model_dir, runtime="skops")
    dual = isinstance(original.estimator, DualPathClassifier)
    adapted = original.estimator.adapted_ if dual else original.estimator
    if original.adaptation is None or getattr(adapted, "steps", [[None]])[0][0] != SOURCE_STEP:
        raise ArtifactError(f"{model_dir}: not an adapted model (trained without --adapt); nothing to adapt")
    estimator = adapted_model(adapted.steps[1][1], statistics)
    if dual:
        estimator = original.estimator.with_adapted(estimator, default="adapted")
    written_by_save = ("format_version", "feature_set", "labels", "metrics", "speaker_norm", "encoders", "versions", "created")
    extra = {key: value for key, value in original.metadata.items() if key not in written_by_save}
    extra["adaptation"] = {**original.adaptation, "statistics": {"source": source, "n_clips": int(statistics.n_clips)},
                           **({"default_head": "adapted"} if dual else {})}
    return save_model(output, estimator, original.feature_set, metrics=original.metadata.get("metrics"),
                      speaker_norm=original.speaker_norm, extra=extra, familiarity=original.familiarity)


def _check_input(model_dir: Path, estimator, metadata: dict, feature_set) -> None:
    """An export must take the feature set's kind (vector, frames or a bundle of both) and,
    where it fixes its input width, as many features as the set has columns."""
    if estimator.input_kind != feature_set.kind:
        raise ArtifactError(f"{model_dir / GRAPH_FILE}: the model takes {estimator.input_kind} input, "
                            f"the feature set {feature_set.name!r} gives {feature_set.kind}")
    columns = metadata["feature_set"].get("columns")
    width = estimator.n_features_in_
    if columns is not None and width is not None and width != len(columns):
        raise ArtifactError(f"{model_dir / GRAPH_FILE}: the model takes {width} features, the feature set has {len(columns)}")
