"""Extraction on a Dask cluster: a 2-worker LocalCluster on loopback gives the local run's rows."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf

from conftest import make_voice_like
from serkit.cli import main
from serkit.features.batch import FileResult, _ordered_results

distributed = pytest.importorskip("distributed")

N_CLIPS = 12


@pytest.fixture(scope="module")
def scheduler():
    """The address of a 2-process, 1-thread-each cluster on loopback, for the module."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A manifest of synthetic clips, and one file that is not audio at all."""
    root = tmp_path_factory.mktemp("corpus")
    rows = ["path,label,speaker"]
    for i in range(N_CLIPS):
        sf.write(root / f"c{i:02d}.wav", make_voice_like(duration_s=0.6, f0_hz=110 + 10 * i, seed=i), 16000)
        rows.append(f"c{i:02d}.wav,{('happy', 'sad', 'angry')[i % 3]},s{i % 4}")
    (root / "broken.wav").write_bytes(b"not audio at all")
    rows.append("broken.wav,happy,s0")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root / "manifest.csv"


def _features(root: Path, output: Path, *options: str, corpus: str = "manifest") -> int:
    return main(["features", str(root), "--corpus", corpus, "-o", str(output), "-q", *options])


def test_dask_rows_are_the_local_runs_byte_for_byte_and_the_bad_file_is_listed(corpus, scheduler, tmp_path, capsys):
    assert _features(corpus, tmp_path / "local.csv", "-j", "2", "--no-cache") == 0
    assert _features(corpus, tmp_path / "dask.csv", "--dask", scheduler, "--cache-dir", str(tmp_path / "cache")) == 0
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    failures = pd.read_csv(tmp_path / "dask.csv.failures.csv")
    assert list(failures["path"]) == ["broken.wav"] and "not readable as audio" in failures["reason"][0]
    assert "failed broken.wav" in capsys.readouterr().err
    # The workers filled the cache given: a second run reads every clip from it.
    assert _features(corpus, tmp_path / "again.csv", "--dask", scheduler, "--cache-dir", str(tmp_path / "cache")) == 0
    assert f"({N_CLIPS} from cache, 1 failed" in capsys.readouterr().err
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_partitioned_output_concatenates_to_the_single_table(corpus, tmp_path):
    assert _features(corpus, tmp_path / "whole.parquet", "-j", "2", "--no-cache") == 0
    assert _features(corpus, tmp_path / "local", "-j", "2", "--no-cache", "--partition-size", "5") == 0
    assert _features(corpus, f"{tmp_path / 'dask'}/", "--dask", "local:2", "--no-cache", "--partition-size", "5") == 0
    whole = pd.read_parquet(tmp_path / "whole.parquet")
    for folder in ("local", "dask"):
        names = sorted(path.name for path in (tmp_path / folder).iterdir())
        assert names == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
        parts = [pd.read_parquet(tmp_path / folder / name) for name in names]
        assert [len(part) for part in parts] == [5, 5, 2]
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole, check_exact=True)
        assert list(pd.read_csv(tmp_path / f"{folder}.failures.csv")["path"]) == ["broken.wav"]
    for name in ("part-00000.parquet", "part-00001.parquet", "part-00002.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


def test_a_rerun_replaces_its_parts_but_never_a_folder_of_other_files(corpus, tmp_path, capsys):
    assert _features(corpus, tmp_path / "out", "-j", "1", "--no-cache", "--partition-size", "20") == 0
    assert _features(corpus, tmp_path / "out", "-j", "1", "--no-cache", "--partition-size", "5") == 0
    assert len(list((tmp_path / "out").iterdir())) == 3
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert _features(corpus, tmp_path / "mine", "-j", "1", "--no-cache") == 1
    assert "mine: a folder holding other files (notes.txt" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert not any(path.name.startswith(".") for path in tmp_path.iterdir())


def test_an_address_that_is_no_scheduler_is_one_clear_line(corpus, tmp_path, capsys):
    assert _features(corpus, tmp_path / "x.csv", "--dask", "somewhere", "--no-cache") == 1
    assert "--dask somewhere: not a scheduler address" in capsys.readouterr().err


def test_ordered_results_keep_order_and_a_bounded_number_in_flight():
    chunks = [[Path(f"{i}.wav")] for i in range(20)]
    submitted, lock = [], threading.Lock()

    def submit(chunk):
        with lock:
            submitted.append(chunk)
        future = Future()
        if chunk[0].name == "7.wav":
            future.set_exception(RuntimeError("the worker running it died"))
        else:
            future.set_result([FileResult(error=f"{chunk[0]}: done")])
        return future

    class Bar:
        n = 0

        def update(self, k):
            self.n += k

    bar, seen = Bar(), []
    for result in _ordered_results(submit, chunks, in_flight=3, bar=bar):
        seen.append(result.error)
        assert len(submitted) - len(seen) <= 3
    # Chunk 7's task failed as a whole: its file fails with the reason, the others come out.
    assert seen[:7] == [f"{i}.wav: done" for i in range(7)]
    assert seen[7].startswith("7.wav: worker failed") and seen[8:] == [f"{i}.wav: done" for i in range(8, 20)]
    assert bar.n == 20


def test_shared_ravdess_subset_is_identical_on_dask(ravdess_root, scheduler, tmp_path):
    clips = sorted(ravdess_root.glob("Actor_0[12]/*.flac"))[::5][:20]
    assert len(clips) == 20
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,label,speaker\n" + "".join(f"{clip},neutral,{clip.parent.name}\n" for clip in clips))
    assert _features(manifest, tmp_path / "local.csv", "-j", "2", "--no-cache") == 0
    assert _features(manifest, tmp_path / "dask.csv", "--dask", scheduler, "--no-cache") == 0
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert len(pd.read_csv(tmp_path / "local.csv")) == 20
