"""SyncNet lip-sync error (LSE-D / LSE-C) of videos, with the control the metric must pass:
the same video against its own audio delayed by 200 ms.

    python benchmarks/lse.py                          # the shared clips (../shared/media)
    python benchmarks/lse.py out/r1.mp4 out/r2.mp4    # any files (e.g. retrieve / retime outputs)
    python benchmarks/lse.py --expert wav2lip-syncnet # Wav2Lip's lipsync_expert.pth instead

Needs the user's weights: joonson/syncnet_python's `syncnet_v2.model` in
~/.cache/vpipe/models/syncnet/ (or Wav2Lip's `lipsync_expert.pth` in .../wav2lip-syncnet/);
without them it says where to put them and exits 2. Per file: LSE-D, LSE-C and the AV offset
with the file's own audio, then with the audio 200 ms late; a metric that works shows an
offset 5 frames lower (−5 at 25 fps) and a higher distance at offset 0 for the late audio.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--expert", choices=["syncnet", "wav2lip-syncnet"], default="syncnet")
    parser.add_argument("--shift-ms", type=float, default=200.0)
    args = parser.parse_args(argv)

    import torch

    from vpipe.media.decode import read_audio
    from vpipe.qc.lse import ExpertScorer, SyncNetV2Scorer, load_expert, load_syncnet, score_file
    from vpipe.weights import model_status

    status = model_status(args.expert)
    if not status.ready:
        print("; ".join(status.problems()), file=sys.stderr)
        return 2
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.expert == "syncnet":
        scorer = SyncNetV2Scorer(load_syncnet(status.path(), device), device)
    else:
        scorer = ExpertScorer(load_expert(status.path(), device), device)
    files = args.files or sorted((ROOT.parent / "shared" / "media").glob("*_*.mp4"))
    for path in files:
        audio = read_audio(path)
        end = audio.duration - args.shift_ms / 1000
        own = score_file(path, 0.0, end, scorer)
        delay = np.zeros(round(args.shift_ms / 1000 * audio.rate), np.float32)
        late = np.concatenate([delay, audio.mono()])[: audio.frames]
        shifted = score_file(path, 0.0, end, scorer, audio=(late, audio.rate, audio.start))
        print(
            json.dumps(
                {
                    "file": path.name,
                    "expert": args.expert,
                    "own": {"lse_d": own.lse_d, "lse_c": own.lse_c, "offset": own.offset, "d0": own.dist_at_zero},
                    f"late_{int(args.shift_ms)}ms": {
                        "lse_d": shifted.lse_d,
                        "lse_c": shifted.lse_c,
                        "offset": shifted.offset,
                        "d0": shifted.dist_at_zero,
                    },
                    "separates": shifted.offset < own.offset and shifted.dist_at_zero > own.dist_at_zero,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
