"""``ensemble``: a soft vote of named models, each on the input of its kind.

:class:`SoftVoteClassifier` fits every member (built by
:func:`serkit.models.make_model`, each with its own clipping and scaling) on the
same clips and averages their probabilities. On a vector feature set all members
take the same matrix (default: ``svm``, ``mlp``, ``logreg``). On a bundle
(:mod:`serkit.features.bundle`) each member takes the part of its kind: by default
the ``cnn`` sees the log-mel spectrograms and ``logreg-tuned`` the
functionals+eGeMAPS vector of ``"logmel,functionals+egemaps"`` — the CNN beside
the best classical model. Weights are fixed (equal unless given), never tuned on
the clips being evaluated. A name given twice is trained twice with different
seeds (``("cnn", "cnn")``: a seed ensemble).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-1, 1, (30, 4)), rng.normal(1, 1, (30, 4))]
>>> y = np.array(["sad"] * 30 + ["happy"] * 30)
>>> vote = SoftVoteClassifier(members=("logreg", "svm")).fit(X, y)
>>> vote.predict_proba(X[:2]).shape, [name for name, _ in vote.members_]
((2, 2), ['logreg', 'svm'])
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from serkit.core.exceptions import ParameterError
from serkit.features.bundle import BundleFeatures

DEFAULT_MEMBERS = {
    "vector": ("svm", "mlp", "logreg"),
    "bundle": ("cnn", "logreg-tuned"),
}
"""Members when ``members=None``, by the kind of ``X`` the ensemble is fitted on."""


def input_kind_of(X) -> str:
    """``"bundle"``, ``"vector"`` (a 2-D numeric array) or ``"frames"`` (a sequence of matrices)."""
    if isinstance(X, BundleFeatures):
        return "bundle"
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 2:
        return "vector"
    return "frames"


class SoftVoteClassifier(ClassifierMixin, BaseEstimator):
    """Average of the probabilities of named models.

    Parameters
    ----------
    members : sequence of str or (str, dict), a comma-separated str, or None
        Registered model names (not ``ensemble``), each optionally with its
        parameters: ``[("cnn", {"max_epochs": 80}), "logreg-tuned"]``. ``None``: the
        default for the input kind (:data:`DEFAULT_MEMBERS`).
    weights : sequence of float >= 0, or None
        One weight per member (normalised to sum 1); ``None``: equal weights.
    random_state : int
        Seed of the first member of each name; a repeated name gets ``+1``, ``+2`` …

    Attributes
    ----------
    classes_ : np.ndarray of str
        The union of the members' classes.
    input_kind_ : str
        The kind of ``X`` it was fitted on (``"vector"``, ``"frames"``, ``"bundle"``).
    members_ : list of (str, fitted model)
    history_ : list of dict
        The training curve of the first member that has one (the CNN's), if any.

    Examples
    --------
    See the module docstring.
    """

    registry_name = "ensemble"

    def __init__(self, *, members=None, weights=None, random_state=0):
        self.members = members
        self.weights = weights
        self.random_state = random_state

    def _member_specs(self, kind: str) -> list[tuple[str, dict]]:
        from serkit.models.registry import model_spec

        if self.members is None:
            if kind not in DEFAULT_MEMBERS:
                raise ParameterError(
                    f"ensemble on {kind} features has no default members; give members=, e.g. ('cnn', 'cnn')"
                )
            specs = [(name, {}) for name in DEFAULT_MEMBERS[kind]]
        else:
            specs = parse_members(self.members)
        for name, _ in specs:
            member_kinds = model_spec(name).input_kinds
            wanted = kind if kind != "bundle" else member_kinds[0]
            if wanted not in member_kinds:
                raise ParameterError(
                    f"ensemble member {name!r} takes {'/'.join(member_kinds)} features, not {kind}; "
                    "give a bundle (e.g. --set logmel,functionals+egemaps) to mix kinds"
                )
        return specs

    def _weights(self, n_members: int) -> np.ndarray:
        if self.weights is None:
            return np.full(n_members, 1.0 / n_members)
        weights = np.asarray(self.weights, dtype=float)
        if weights.shape != (n_members,) or np.any(weights < 0) or weights.sum() <= 0:
            raise ParameterError(
                f"weights={self.weights!r} must be {n_members} non-negative numbers, not all zero"
            )
        return weights / weights.sum()

    @staticmethod
    def _input_for(name: str, X):
        from serkit.models.registry import model_spec

        return X.of_kind(model_spec(name).input_kinds[0]) if isinstance(X, BundleFeatures) else X

    def fit(self, X, y, groups=None):
        """Fit every member on ``X`` (its part of a bundle) and ``y``.

        ``groups`` (speakers) reach the members that split their training data
        (the CNN's validation speakers, ``logreg-tuned``'s inner CV).
        """
        from serkit.models.registry import fit_model, make_model

        self.input_kind_ = input_kind_of(X)
        specs = self._member_specs(self.input_kind_)
        self.weights_ = self._weights(len(specs))
        self.members_ = []
        for (name, params), repeat in zip(specs, _repeats([name for name, _ in specs])):
            model = make_model(name, random_state=self.random_state + repeat, **params)
            fit_model(model, self._input_for(name, X), y, groups)
            self.members_.append((name, model))
        self.classes_ = np.unique(np.concatenate([np.asarray(m.classes_).astype(str) for _, m in self.members_]))
        self.history_ = next(
            (history for _, m in self.members_ if (history := getattr(_final_step(m), "history_", None))), None
        )
        return self

    @property
    def member_labels_(self) -> list[str]:
        """One label per member: its name, ``cnn#2`` for the second of a repeated name."""
        names = [name for name, _ in self.members_]
        return [name if repeat == 0 else f"{name}#{repeat + 1}" for name, repeat in zip(names, _repeats(names))]

    def member_probabilities(self, X) -> dict[str, np.ndarray]:
        """Each member's probabilities by :attr:`member_labels_`, columns in ``classes_``
        order (0 for a class it never saw)."""
        from serkit.inference.runtime import align_probabilities

        check_is_fitted(self, "members_")
        return {
            label: align_probabilities(model.predict_proba(self._input_for(name, X)), model.classes_, self.classes_)
            for label, (name, model) in zip(self.member_labels_, self.members_)
        }

    def vote(self, member_probabilities: dict[str, np.ndarray]) -> np.ndarray:
        """The weighted mean of :meth:`member_probabilities` ``(n_clips, n_classes)``."""
        return np.tensordot(self.weights_, np.stack(list(member_probabilities.values())), axes=1)

    def predict_proba(self, X) -> np.ndarray:
        """The weighted mean of the members' probabilities ``(n_clips, n_classes)``."""
        return self.vote(self.member_probabilities(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each clip."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def parse_members(members) -> list[tuple[str, dict]]:
    """``"cnn,logreg"`` or ``["cnn", ("svm", {"C": 3.0})]`` → ``[(name, params), …]``.

    Raises :class:`ParameterError` for a malformed entry, a name that is not a
    registered model, or ``ensemble`` itself.

    >>> parse_members("cnn, logreg")
    [('cnn', {}), ('logreg', {})]
    """
    items = members.split(",") if isinstance(members, str) else list(members)
    specs = []
    for item in items:
        if isinstance(item, str):
            name, params = item.strip(), {}
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], dict):
            name, params = str(item[0]).strip(), dict(item[1])
        else:
            raise ParameterError(f"ensemble member {item!r} must be a model name or a (name, params) pair")
        if name:
            specs.append((name, params))
    if not specs:
        raise ParameterError(f"ensemble members={members!r} names no model")
    from serkit.models.registry import available_models

    choices = [name for name in available_models() if name != SoftVoteClassifier.registry_name]
    for name, _ in specs:
        if name == SoftVoteClassifier.registry_name:
            raise ParameterError("an ensemble cannot be its own member")
        if name not in choices:
            raise ParameterError(
                f"ensemble members={members!r}: {name!r} is not a member model; choose from {', '.join(choices)}"
            )
    return specs


def _repeats(names: list[str]) -> list[int]:
    """How many times each name came before: ``["cnn", "svm", "cnn"]`` → ``[0, 0, 1]``."""
    seen: dict[str, int] = {}
    repeats = []
    for name in names:
        repeats.append(seen.get(name, 0))
        seen[name] = repeats[-1] + 1
    return repeats


def _final_step(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model
