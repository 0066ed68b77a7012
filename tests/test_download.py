"""``serkit download ravdess`` against a small archive served from 127.0.0.1 (no other network)."""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from serkit.cli import main
from serkit.corpora.download import RAVDESS_MD5, RAVDESS_URL, downloaded_ravdess, download_ravdess
from serkit.core.exceptions import CorpusError


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        CountingHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def archive_server(tmp_path):
    """Serves ``ravdess.zip`` (two actors, one tiny file each) and returns (base url, md5)."""
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "ravdess.zip", "w") as archive:
        for actor in ("01", "02"):
            archive.writestr(f"Actor_{actor}/03-01-05-01-01-01-{actor}.wav", b"RIFF-test-bytes")
    md5 = hashlib.md5((served / "ravdess.zip").read_bytes()).hexdigest()
    CountingHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(CountingHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", md5
    server.shutdown()
    server.server_close()


def test_download_verifies_unzips_and_caches(archive_server, tmp_path, capsys):
    base, md5 = archive_server
    dest = tmp_path / "cache"
    argv = ["download", "ravdess", "--dest", str(dest), "--url", f"{base}/ravdess.zip", "--md5", md5, "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    root = Path(captured.out.strip())
    assert sorted(p.name for p in root.glob("Actor_*")) == ["Actor_01", "Actor_02"]
    assert (root / "Actor_02" / "03-01-05-01-01-01-02.wav").read_bytes() == b"RIFF-test-bytes"
    assert "CC BY-NC-SA 4.0" in captured.err
    assert downloaded_ravdess(dest) == root
    assert CountingHandler.requests == ["/ravdess.zip"]
    assert main(argv) == 0  # already there: nothing downloaded again
    assert CountingHandler.requests == ["/ravdess.zip"]


def test_checksum_mismatch_is_refused(archive_server, tmp_path, capsys):
    base, _ = archive_server
    argv = ["download", "ravdess", "--dest", str(tmp_path), "--url", f"{base}/ravdess.zip", "--md5", "0" * 32, "--no-progress"]
    assert main(argv) == 1
    assert "hash" in capsys.readouterr().err.lower()
    assert downloaded_ravdess(tmp_path) is None


def test_missing_file_and_half_options(archive_server, tmp_path, capsys):
    base, md5 = archive_server
    with pytest.raises(CorpusError, match="download failed"):
        download_ravdess(tmp_path, url=f"{base}/nothing-here.zip", md5=md5, progress=False)
    assert main(["download", "ravdess", "--url", f"{base}/ravdess.zip"]) == 1
    assert "--md5" in capsys.readouterr().err


def test_official_source_is_the_zenodo_record():
    assert RAVDESS_URL == "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip"
    assert len(RAVDESS_MD5) == 32


@pytest.mark.parametrize(
    ("corpus", "where", "layout"),
    [
        ("nemo", "huggingface.co/datasets/amu-cai/nEMO", "data.tsv beside samples/"),
        ("tess", "doi.org/10.5683/SP2/E8H2MF", "OAF_angry/OAF_back_angry.wav"),
        ("emodb", "emodb.bilderbar.info", "wav/03a01Fa.wav"),
        ("cremad", "github.com/CheyneyComputerScience/CREMA-D", "AudioWAV/1001_DFA_ANG_XX.wav"),
        ("savee", "kahlan.eps.surrey.ac.uk/savee", "AudioData/DC/a01.wav"),
        ("emovo", "LREC 2014", "f1/dis-f1-b1.wav"),
    ],
)
def test_corpora_without_a_verified_download_say_where_to_get_them(corpus, where, layout, tmp_path, capsys):
    assert main(["download", corpus, "--dest", str(tmp_path)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("serkit download: error: ")
    assert "no download serkit can verify" in lines[0]
    assert where in lines[0] and layout in lines[0] and f"--corpus {corpus}" in lines[0]
    assert not any(tmp_path.iterdir())


def test_ravdess_instructions_name_the_download():
    from serkit.corpora.download import where_to_get

    assert where_to_get("ravdess").startswith("RAVDESS: serkit download ravdess; get it from https://zenodo.org/records/1188976")
