"""Time the damage network on one 512-px photo: onnxruntime (as served) against eager torch.

    python benchmarks/damage_speed.py --threads 2 --repeats 20

Prints the median latency of each and their ratio. torch is needed only for the eager figure.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def median_seconds(run, repeats: int) -> float:
    run()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    session = onnxruntime.InferenceSession(str(REPO / "weights" / "damage_unet.onnx"), options, providers=["CPUExecutionProvider"])
    batch = np.random.default_rng(0).standard_normal((1, 3, 384, 512)).astype(np.float32)
    onnx_seconds = median_seconds(lambda: session.run(None, {"image": batch}), args.repeats)
    print(f"onnxruntime {onnxruntime.__version__}, {args.threads} threads: {onnx_seconds * 1000:.1f} ms per 512x384 photo")

    try:
        import torch
    except ImportError:
        print("torch not installed: eager figure skipped")
        return

    from models.segmentation.export import ProbabilityHead
    from models.segmentation.network import build_unet

    torch.set_num_threads(args.threads)
    network = build_unet(pretrained=False)
    network.load_state_dict(torch.load(REPO / "weights" / "damage_unet.pt", map_location="cpu"))
    model = ProbabilityHead(network).eval()
    tensor = torch.from_numpy(batch)

    def eager() -> None:
        with torch.no_grad():
            model(tensor)

    torch_seconds = median_seconds(eager, args.repeats)
    print(f"torch {torch.__version__} eager, {args.threads} threads: {torch_seconds * 1000:.1f} ms per 512x384 photo")
    print(f"ratio eager / onnxruntime: {torch_seconds / onnx_seconds:.2f}")


if __name__ == "__main__":
    main()
