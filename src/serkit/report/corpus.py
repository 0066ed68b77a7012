"""Figures of a corpus: clips per emotion, per speaker and gender, durations.

Examples
--------
>>> from serkit.report import class_counts_figure
>>> figure = class_counts_figure(["angry", "calm", "angry"])
>>> figure.axes[0].get_ylabel()
'Clips'
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from serkit.core.exceptions import ParameterError
from serkit.core.labels import EMOTIONS
from serkit.report.style import GENDER_COLORS, HALF_WIDTH_IN, OKABE_ITO, emotion_colors, new_figure, plain_text, styled


def ordered_labels(labels: Sequence[str]) -> list[str]:
    """The distinct labels, emotions in RAVDESS code order first, then others sorted."""
    present = set(labels)
    known = [emotion for emotion in EMOTIONS if emotion in present]
    return known + sorted(present - set(EMOTIONS))


def _nonempty(values: Sequence, what: str) -> None:
    if len(values) == 0:
        raise ParameterError(f"{what} is empty: nothing to draw")


@styled
def class_counts_figure(labels: Sequence[str]) -> Figure:
    """Bar chart of clips per emotion, each bar labelled with its count.

    Parameters
    ----------
    labels : sequence of str
        One emotion name per clip.
    """
    labels = list(labels)
    _nonempty(labels, "labels")
    counts = Counter(labels)
    names = ordered_labels(labels)
    figure, ax = new_figure(height_in=3.3, width_in=HALF_WIDTH_IN)  # the report shows it beside its table
    bars = ax.bar([plain_text(n) for n in names], [counts[n] for n in names], color=emotion_colors(names), edgecolor="black", linewidth=0.5)
    ax.bar_label(bars, padding=2)
    ax.tick_params(axis="x", labelrotation=30)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
        tick.set_rotation_mode("anchor")
    ax.set(title=f"Clips per emotion ({len(labels)} clips)", xlabel="Emotion", ylabel="Clips")
    ax.margins(y=0.12)
    ax.grid(True, axis="y")
    return figure


def _shared_prefix(names: Sequence[str]) -> str:
    """The non-numeric prefix all speaker ids share (``"Actor_"``), dropped from tick labels."""
    if len(names) < 2:
        return ""
    prefix = os.path.commonprefix(list(names))
    prefix = prefix.rstrip("0123456789")
    return prefix if all(len(name) > len(prefix) for name in names) else ""


@styled
def speaker_counts_figure(speakers: Sequence, genders: Sequence[str] | None = None) -> Figure:
    """Clips per speaker, bars coloured by gender, with per-gender totals in the legend.

    Parameters
    ----------
    speakers : sequence
        One speaker id per clip.
    genders : sequence of str or None
        One gender per clip (``"female"``/``"male"``/other); ``None`` draws one colour.
    """
    speakers = [str(s) for s in speakers]
    _nonempty(speakers, "speakers")
    if genders is not None and len(genders) != len(speakers):
        raise ParameterError(f"genders has {len(genders)} entries for {len(speakers)} speakers")
    counts = Counter(speakers)
    order = sorted(counts, key=lambda s: (len(s), s))
    gender_of = dict(zip(speakers, genders)) if genders is not None else {}
    figure, ax = new_figure(height_in=3.3)
    colors = [GENDER_COLORS.get(str(gender_of.get(s)), OKABE_ITO[2]) for s in order]
    prefix = _shared_prefix(order)
    ax.bar([plain_text(s[len(prefix):]) for s in order], [counts[s] for s in order], color=colors, edgecolor="black", linewidth=0.5)
    if genders is not None:
        from matplotlib.patches import Patch

        totals = Counter(str(g) for g in genders)
        speakers_per = Counter(str(gender_of[s]) for s in order)
        handles = [
            Patch(
                facecolor=GENDER_COLORS.get(gender, OKABE_ITO[2]), edgecolor="black", linewidth=0.5,
                label=f"{plain_text(gender)}: {speakers_per[gender]} speakers, {totals[gender]} clips",
            )
            for gender in sorted(totals)
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    ax.set(
        title=f"Clips per speaker ({len(order)} speakers)",
        xlabel=f"Speaker ({plain_text(prefix)}…)" if prefix else "Speaker",
        ylabel="Clips",
    )
    ax.tick_params(axis="x", labelrotation=90 if len(order) > 30 else 0)
    ax.grid(True, axis="y")
    return figure


@styled
def duration_figure(durations_s: Sequence[float], labels: Sequence[str] | None = None) -> Figure:
    """Distribution of clip durations; with ``labels``, a box per emotion beside it.

    Parameters
    ----------
    durations_s : sequence of float
        Duration of each clip in seconds.
    labels : sequence of str or None
        One emotion per clip, for the per-emotion panel.
    """
    durations = np.asarray(durations_s, dtype=float)
    _nonempty(durations, "durations_s")
    if labels is not None and len(labels) != durations.size:
        raise ParameterError(f"labels has {len(labels)} entries for {durations.size} durations")
    if labels is None:
        figure, hist_ax = new_figure(height_in=3.3)
    else:
        figure, (hist_ax, box_ax) = new_figure(1, 2, height_in=3.3)
    hist_ax.hist(durations, bins="auto", color=OKABE_ITO[0], edgecolor="white")
    hist_ax.axvline(np.median(durations), color=OKABE_ITO[3], linestyle="--", label=f"median {np.median(durations):.2f} s")
    hist_ax.legend()
    hist_ax.set(title="Clip durations", xlabel="Duration (s)", ylabel="Clips")
    if labels is not None:
        labels = list(labels)
        names = ordered_labels(labels)
        groups = [durations[[label == name for label in labels]] for name in names]
        parts = box_ax.boxplot(groups, patch_artist=True, medianprops={"color": "black"})
        box_ax.set_xticks(range(1, len(names) + 1), [plain_text(n) for n in names])  # boxplot's own label keyword was renamed in 3.9
        for patch, color in zip(parts["boxes"], emotion_colors(names)):
            patch.set_facecolor(color)
        box_ax.set(title="Durations per emotion", xlabel="Emotion", ylabel="Duration (s)")
        box_ax.tick_params(axis="x", labelrotation=45)
    return figure
