"""One clip explored: what the reference printed on load, and every single-clip figure.

Examples
--------
>>> import numpy as np, soundfile as sf, tempfile, pathlib
>>> from serkit.report import explore
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> sr = 22050
>>> sf.write(folder / "tone.wav", 0.3 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr), sr)
>>> result = explore(folder / "tone.wav", folder / "out")
>>> sorted(p.name for p in result.figure_paths)[:2]
['bandwidth.png', 'centroid_rolloff.png']
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from serkit.report.clip import CLIP_FIGURES, zero_crossing_count

CAPTIONS = {
    "waveform": "Amplitude against time.",
    "spectrogram_linear": "Spectrogram in dB, linear frequency axis: most energy sits in the low frequencies.",
    "spectrogram_log": "The same spectrogram with a log frequency axis, which spreads out the low frequencies.",
    "centroid_rolloff": "Spectral centroid (centre of energy) and roll-off (85 % of energy below) per frame, over the waveform.",
    "bandwidth": "Spectral bandwidth of order p = 2, 3, 4 per frame, over the waveform.",
    "zero_crossing_rate": "Zero-crossing rate per 2048-sample frame; the title gives the total count over the clip.",
    "mfcc": "The 20 mel-frequency cepstral coefficients: the shape of the spectral envelope.",
    "chroma": "Chromagram: energy of the 12 pitch classes per frame.",
}


@dataclass
class Exploration:
    """The result of :func:`explore`: the loaded clip, its description and the figures written."""

    path: Path
    y: np.ndarray
    sr: int
    info: dict
    """JSON-safe description: the reference's load printout plus the stored file's format."""
    figure_paths: list[Path] = field(default_factory=list)
    html_path: Path | None = None


def describe_clip(path: Path, y: np.ndarray, sr: int, n_first: int = 5) -> dict:
    """What the reference printed on load (types, shape, rate, first samples), JSON-safe."""
    from serkit.core.audio import audio_info

    stored = audio_info(path)
    return {
        "path": str(path),
        "data_type": str(type(y)),
        "sample_rate_type": str(type(sr)),
        "shape": list(y.shape),
        "dtype": str(y.dtype),
        "sample_rate": int(sr),
        "duration_s": round(y.shape[-1] / sr, 4),
        "first_samples": [float(v) for v in y[:n_first]],
        "zero_crossings": zero_crossing_count(y),
        "stored": {
            "format": f"{stored.format}/{stored.subtype}",
            "sample_rate": stored.sample_rate,
            "channels": stored.channels,
            "duration_s": round(stored.duration_s, 4),
        },
    }


def format_description(info: dict) -> list[tuple[str, str]]:
    """The description as (label, text) rows, worded like the reference's printout."""
    first = np.array2string(
        np.asarray(info["first_samples"], dtype=np.float32), precision=7, separator=" ", max_line_width=200
    )
    stored = info["stored"]
    return [
        ("Type of the loaded data", info["data_type"]),
        ("Type of the sample rate", info["sample_rate_type"]),
        ("Shape", str(tuple(info["shape"]))),
        ("dtype", info["dtype"]),
        ("Sample rate", f"{info['sample_rate']} Hz"),
        ("Duration", f"{info['duration_s']:.3f} s"),
        ("First samples", first[:-1] + " ...]"),
        ("Zero crossings (total)", str(info["zero_crossings"])),
        (
            "Stored file",
            f"{stored['format']}, {stored['sample_rate']} Hz, {stored['channels']} channel(s), "
            f"{stored['duration_s']:.3f} s",
        ),
    ]


def explore(path, out_dir=None, *, sr: int | None = 22050, html: bool = False, progress: bool = False) -> Exploration:
    """Load one clip as the reference did and draw every single-clip figure.

    Parameters
    ----------
    path : str or Path
        Any audio file :func:`serkit.core.audio.load_audio` reads (mixed to mono).
    out_dir : str, Path or None
        Folder for one PNG per figure (created if needed); ``None`` draws nothing.
    sr : int > 0 or None
        Rate to load at (22050 Hz as ``librosa.load``); ``None`` keeps the file's rate.
    html : bool
        Also write ``<out_dir>/<stem>.html``, all figures in one self-contained page.
    progress : bool
        Show a progress bar on stderr while drawing.

    Returns
    -------
    Exploration

    Raises
    ------
    AudioError
        The file cannot be loaded.
    ParameterError
        ``html`` without ``out_dir``.
    """
    from serkit.core.audio import load_audio
    from serkit.core.exceptions import ParameterError

    path = Path(path)
    if html and out_dir is None:
        raise ParameterError("html=True needs an out_dir to write the page into")
    y, rate = load_audio(path, sr=sr)
    result = Exploration(path=path, y=y, sr=rate, info=describe_clip(path, y, rate))
    if out_dir is None:
        return result
    from tqdm.auto import tqdm

    from serkit.report.html import render
    from serkit.report.style import figure_to_png, png_data_uri

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    embedded = []
    for name, draw in tqdm(CLIP_FIGURES.items(), desc="figures", unit="fig", disable=not progress):
        figure = draw(y, rate)
        png = figure_to_png(figure)
        target = out_dir / f"{name}.png"
        target.write_bytes(png)
        result.figure_paths.append(target)
        if html:
            title = figure.axes[0].get_title()
            embedded.append({"title": title, "caption": CAPTIONS[name], "uri": png_data_uri(png)})
    if html:
        from serkit import __version__

        result.html_path = out_dir / f"{path.stem}.html"
        page = render(
            "explore.html.j2",
            {
                "name": path.name,
                "facts": format_description(result.info),
                "figures": embedded,
                "serkit_version": __version__,
                "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            },
        )
        result.html_path.write_text(page, encoding="utf-8")
    return result
