"""Batch extraction: order, cache, failures, the features verb's output, faults."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from conftest import make_voice_like
from serkit.cli import main
from serkit.cli._common import PARTIAL_TAG, _partial_path, remove_stale_partials
from serkit.corpora import read_corpus
from serkit.features import extract, extract_corpus, get_feature_set

NAMES = [
    "Actor_01/03-01-03-01-01-01-01.wav",
    "Actor_01/03-01-04-01-01-01-01.wav",
    "Actor_02/03-01-05-02-01-01-02.wav",
    "Actor_02/03-01-06-01-02-02-02.wav",
]


@pytest.fixture
def tiny_corpus(tmp_path):
    root = tmp_path / "corpus"
    for seed, name in enumerate(NAMES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / name, make_voice_like(sr=16000, duration_s=1.0, f0_hz=120 + 20 * seed, seed=seed), 16000)
    return root


def test_rows_in_corpus_order_with_features_then_label(tiny_corpus, tmp_path):
    extraction = extract_corpus(read_corpus("ravdess", tiny_corpus), "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    table = extraction.table
    assert list(table["path"]) == NAMES
    columns = list(table.columns)
    assert columns[:2] == ["path", "speaker"] and columns[2:28] == get_feature_set("seed26").columns and columns[28] == "label"
    np.testing.assert_allclose(table.iloc[0, 2:28].to_numpy(float), extract(tiny_corpus / NAMES[0], "seed26"))


def test_second_run_is_served_from_cache(tiny_corpus, tmp_path, monkeypatch):
    corpus = read_corpus("ravdess", tiny_corpus)
    first = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert first.n_cached == 0

    def must_not_run(*args, **kwargs):
        raise AssertionError("features recomputed despite the cache")

    monkeypatch.setattr("serkit.features.batch.extract", must_not_run)
    second = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert second.n_cached == len(NAMES)
    pd.testing.assert_frame_equal(first.table, second.table)


def test_cache_key_follows_content_and_parameters(tiny_corpus, tmp_path):
    corpus = read_corpus("ravdess", tiny_corpus)
    extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    sf.write(tiny_corpus / NAMES[0], make_voice_like(sr=16000, f0_hz=300, seed=9), 16000)
    again = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert again.n_cached == len(NAMES) - 1
    other = extract_corpus(corpus, get_feature_set("seed26", n_mfcc=13), n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert other.n_cached == 0


def test_failed_file_does_not_stop_the_batch(tiny_corpus, tmp_path):
    (tiny_corpus / "Actor_02" / "03-01-07-01-01-01-02.wav").write_text("garbage")
    sf.write(tiny_corpus / "Actor_02" / "03-01-08-01-01-01-02.wav", np.zeros(50, dtype=np.float32), 16000)
    extraction = extract_corpus(read_corpus("ravdess", tiny_corpus), "seed26", n_jobs=2, cache_dir=tmp_path / "c", progress=False)
    assert list(extraction.table["path"]) == NAMES
    reasons = dict(extraction.failures)
    assert "not readable as audio" in reasons["Actor_02/03-01-07-01-01-01-02.wav"]
    assert "too short" in reasons["Actor_02/03-01-08-01-01-01-02.wav"]


def test_parallel_equals_serial(tiny_corpus, tmp_path):
    corpus = read_corpus("ravdess", tiny_corpus)
    serial = extract_corpus(corpus, "seed26", n_jobs=1, use_cache=False, progress=False)
    parallel = extract_corpus(corpus, "seed26", n_jobs=2, use_cache=False, progress=False)
    # Eight clips, so the pool really runs (two per worker and more).
    pd.testing.assert_frame_equal(serial.table, parallel.table)


def test_features_verb_writes_csv_and_failures(tiny_corpus, tmp_path, capsys):
    (tiny_corpus / "Actor_01" / "03-01-02-01-01-01-01.wav").write_bytes(b"RIFF0000WAVE")
    out = tmp_path / "out" / "features.csv"
    code = main(["features", str(tiny_corpus), "--set", "seed26", "-o", str(out), "--cache-dir", str(tmp_path / "c"), "-q", "-j", "1"])
    assert code == 0
    table = pd.read_csv(out)
    assert len(table) == 4 and list(table.columns[:3]) == ["path", "speaker", "chroma_stft"]
    failures = pd.read_csv(tmp_path / "out" / "features.csv.failures.csv")
    assert list(failures["path"]) == ["Actor_01/03-01-02-01-01-01-01.wav"]
    assert "failed Actor_01/03-01-02-01-01-01-01.wav" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.tmp*"))


def test_features_verb_parquet_and_errors(tiny_corpus, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    assert main(["features", str(tiny_corpus), "-o", str(out), "--no-cache", "-q", "-j", "1"]) == 0
    assert len(pd.read_parquet(out)) == 4
    assert main(["features", str(tiny_corpus), "-o", str(tmp_path / "f.txt"), "-q"]) == 1
    assert "written as .csv or .parquet" in capsys.readouterr().err
    empty = tmp_path / "empty"
    (empty / "Actor_01").mkdir(parents=True)
    (empty / "Actor_01" / "03-01-03-01-01-01-01.wav").write_text("nope")
    assert main(["features", str(empty), "-o", str(tmp_path / "none.csv"), "--no-cache", "-q"]) == 1
    assert not (tmp_path / "none.csv").exists()


@pytest.mark.shared
def test_whole_shared_corpus(ravdess_root, tmp_path):
    out = tmp_path / "f.csv"
    assert main(["features", str(ravdess_root), "--corpus", "ravdess", "--set", "seed26", "-o", str(out), "-q", "--cache-dir", str(tmp_path / "c")]) == 0
    table = pd.read_csv(out)
    assert table.shape[0] == 1200 and table.shape[1] >= 29
    counts = table["label"].value_counts()
    assert counts["neutral"] == 80 and (counts.drop("neutral") == 160).all()
    assert np.isfinite(table[get_feature_set("seed26").columns].to_numpy()).all()


# --- Faults: a killed run, a corrupt cache, special files -----------------------------------


def _manifest_corpus(tmp_path, *, n_clips: int, duration_s: float = 2.0) -> Path:
    """``n_clips`` copies of one voice-like clip, listed in a manifest (path,label,speaker)."""
    (tmp_path / "clips").mkdir()
    y = make_voice_like(sr=16000, duration_s=duration_s)
    rows = []
    for i in range(n_clips):
        sf.write(tmp_path / "clips" / f"{i}.wav", y, 16000)
        rows.append((f"clips/{i}.wav", "happy" if i % 2 else "sad", f"s{i % 4}"))
    pd.DataFrame(rows, columns=["path", "label", "speaker"]).to_csv(tmp_path / "manifest.csv", index=False)
    return tmp_path / "manifest.csv"


def _children_of(pid: int) -> list[int]:
    """Live (non-zombie) processes whose parent is ``pid``, from /proc (no psutil needed)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # Field 2 (the name) is in parentheses and may hold spaces: split after it.
                state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
                if int(ppid) == pid and state != "Z":
                    children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_workers_die_with_a_killed_run(tmp_path, signum):
    manifest = _manifest_corpus(tmp_path, n_clips=600)
    command = [sys.executable, "-m", "serkit", "features", str(manifest), "--corpus", "manifest", "-o", str(tmp_path / "f.csv"), "-j", "2", "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while len(workers := _children_of(run.pid)) < 2 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if len(workers) < 2:
        run.kill()
        pytest.fail(f"the pool never started (exit {run.poll()}): {run.communicate()[1][-2000:]!r}")
    run.send_signal(signum)
    # Workers holding the pipes would keep communicate() from ever seeing EOF.
    _, err = run.communicate(timeout=10)
    deadline = time.monotonic() + 5
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]
    # SIGKILL ends it on the spot; SIGTERM and Ctrl-C stop the pool first, then exit 143 / 130.
    assert run.returncode == {signal.SIGKILL: -signal.SIGKILL, signal.SIGTERM: 143, signal.SIGINT: 130}[signum], err[-2000:]



@pytest.mark.parametrize("signum, raised", [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)])
def test_a_signal_whose_exception_python_lost_still_stops_the_run(signum, raised):
    # Under load, a Ctrl-C once raised where Python ignores exceptions and the run went on to the end with exit 0.
    from serkit.features import batch

    if signal.getsignal(signum) is not {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}[signum]:
        pytest.skip("the test runner has claimed the signal")
    with pytest.raises(raised):
        with batch._signals_stop_the_run() as raise_if_signalled:
            with contextlib.suppress(raised):  # as an "Exception ignored in ..." swallows it
                os.kill(os.getpid(), signum)
                time.sleep(1)
            with pytest.raises(raised):
                raise_if_signalled()  # the next task is not started
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

WATCHDOG_ONLY = """
import os, sys, time
from serkit.features import batch
sys.platform = "darwin"  # no prctl: the watchdog alone must notice
parent = os.getpid()
pid = os.fork()
if pid == 0:
    batch._die_with_parent(parent)
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
os._exit(0)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.timeout(30)
def test_the_watchdog_alone_ends_an_orphaned_worker():
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with subprocess.Popen([sys.executable, "-c", WATCHDOG_ONLY], stdout=subprocess.PIPE, text=True, env=env) as parent:
        worker = int(parent.stdout.readline())
        parent.wait(timeout=10)
    deadline = time.monotonic() + 5
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        (lambda entry: entry.write_bytes(b""), "unreadable"),
        (lambda entry: np.save(entry, np.zeros(3)), "of shape (3,)"),
        (lambda entry: np.save(entry, np.zeros(26, dtype=np.int64)), "not floating point"),
        (lambda entry: np.save(entry, np.full(26, np.nan)), "not finite"),
        (lambda entry: np.save(entry, np.array(["a"] * 26)), "not floating point"),
    ],
    ids=["empty", "wrong-shape", "wrong-dtype", "nan", "strings"],
)
def test_bad_cache_entries_are_dropped_and_recomputed(tiny_corpus, tmp_path, corrupt, problem):
    corpus = read_corpus("ravdess", tiny_corpus)
    first = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    entries = sorted((tmp_path / "c").rglob("*.npy"))
    assert len(entries) == len(NAMES)
    for entry in entries[:2]:
        corrupt(entry)
    again = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert again.failures == [] and again.n_cached == len(NAMES) - 2
    pd.testing.assert_frame_equal(first.table, again.table)
    assert sum(problem in note and "recomputed" in note for _, note in again.notes) == 2
    third = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert third.n_cached == len(NAMES) and third.notes == []


def test_frame_cache_entries_with_other_bands_are_recomputed(tiny_corpus, tmp_path):
    corpus = read_corpus("ravdess", tiny_corpus)
    first = extract_corpus(corpus, "logmel", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    entry = sorted((tmp_path / "c").rglob("*.npy"))[0]
    np.save(entry, np.zeros((40, 7), dtype=np.float32))
    again = extract_corpus(corpus, "logmel", n_jobs=1, cache_dir=tmp_path / "c", progress=False)
    assert again.n_cached == len(NAMES) - 1
    for ours, theirs in zip(first.frames, again.frames):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("special", ["fifo", "dev-zero"])
def test_special_files_named_like_clips_are_skipped_not_read(tiny_corpus, tmp_path, special, use_cache):
    path = tiny_corpus / "Actor_02" / "03-01-07-01-01-01-02.wav"
    if special == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    corpus = read_corpus("ravdess", tiny_corpus)
    extraction = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "c", use_cache=use_cache, progress=False)
    assert list(extraction.table["path"]) == NAMES
    reason = dict(extraction.failures)["Actor_02/03-01-07-01-01-01-02.wav"]
    assert "not a regular file" in reason and ("FIFO" if special == "fifo" else "character device") in reason


def test_stale_temporaries_of_killed_writers_are_removed(tiny_corpus, tmp_path):
    out = tmp_path / "out" / "features.csv"
    out.parent.mkdir()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = _partial_path(out, int(finished.stdout))
    dead.write_text("half a table")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as writer:
        try:
            live = _partial_path(out, writer.pid)
            live.write_text("being written")
            older = tmp_path / "out" / f".features.csv.{PARTIAL_TAG}-{writer.pid}.tmp.csv.old"  # not ours: kept
            older.write_text("x")
            other = tmp_path / "out" / ".other.csv.serkit-partial-1.tmp.csv"
            other.write_text("another file's")
            code = main(["features", str(tiny_corpus), "-o", str(out), "--no-cache", "-q", "-j", "1"])
            assert code == 0 and len(pd.read_csv(out)) == len(NAMES)
            assert not dead.exists() and live.exists() and older.exists() and other.exists()
            # The same pid, alive, but started after the temporary was written: reused, so stale.
            os.utime(live, (time.time() - 3600, time.time() - 3600))
            assert remove_stale_partials(out) == [live]
        finally:
            writer.kill()


def test_staging_folders_of_killed_partitioned_runs_are_removed(tiny_corpus, tmp_path):
    out = tmp_path / "parts"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)

    def staging(pid: int, suffix: str = "") -> Path:
        # named as `serkit features` names them: .NAME.serkit-partial-PID-XXXXXXXX (mkdtemp)
        folder = Path(tempfile.mkdtemp(dir=tmp_path, prefix=f".{out.name}.{PARTIAL_TAG}-{pid}-"))
        folder = folder.rename(folder.with_name(folder.name + suffix))
        (folder / "part-00000.parquet").write_bytes(b"half a part")
        return folder

    dead, dead_swap = staging(int(finished.stdout)), staging(int(finished.stdout), "-old")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as writer:
        try:
            live = staging(writer.pid)
            code = main(["features", str(tiny_corpus), "-o", str(out), "--partition-size", "2", "--no-cache", "-q", "-j", "1"])
            assert code == 0 and len(pd.read_parquet(out)) == len(NAMES)
            assert not dead.exists() and not dead_swap.exists()
            assert (live / "part-00000.parquet").exists()  # a running writer's folder is left alone
        finally:
            writer.kill()
