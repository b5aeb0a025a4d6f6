"""Export the selected discount LSTM to weights/: ONNX graph, torch state dict and the run-time spec.

Checks that onnxruntime and torch agree on the val rows before writing anything under weights/.

    python -m models.forecast.export --run-dir runs/forecast --out weights
"""

import argparse
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from vision_valuer.forecast import WEIGHTS_NAME
from vision_valuer.forecast_features import LotEncoder

from . import data
from .network import DiscountLSTM
from .train import encode_rows, load_best, predict

log = logging.getLogger("export_forecast")

OPSET = 18
TOLERANCE = 1e-4


def export_onnx(model: DiscountLSTM, sequence: np.ndarray, static: np.ndarray, path: Path) -> None:
    """Write `model` as a single-file ONNX graph with inputs `sequence`, `static`, output `quantiles`, any batch size."""
    batch = torch.export.Dim("batch", min=1)
    program = torch.onnx.export(
        model,
        (torch.from_numpy(sequence), torch.from_numpy(static)),
        input_names=["sequence", "static"],
        output_names=["quantiles"],
        dynamic_shapes=({0: batch}, {0: batch}),
        opset_version=OPSET,
        dynamo=True,
    )
    program.optimize()
    proto = program.model_proto
    proto.doc_string = "Discount LSTM: 0.1/0.5/0.9 quantiles of 1 - price / reference price"
    onnx.checker.check_model(proto, full_check=True)
    onnx.save_model(proto, str(path), save_as_external_data=False)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR, help="folder with data.csv.gz")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/forecast"))
    parser.add_argument("--out", type=Path, default=Path("weights"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # The ONNX exporter logs every graph pass at INFO, so only this module logs at INFO.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    log.setLevel(logging.INFO)
    torch.set_num_threads(1)

    model, spec, meta = load_best(args.run_dir)
    log.info("exporting epoch %d (val %s)", meta["epoch"], meta["val"])

    purchases, _ = data.load_purchases(args.data)
    val = purchases[(purchases["split"] == "val") & (purchases["sale_date"] >= spec.earliest_sale_date)]
    encoded = encode_rows(LotEncoder(spec), val)
    expected = predict(model, encoded)

    with tempfile.TemporaryDirectory() as scratch:
        onnx_path = Path(scratch) / f"{WEIGHTS_NAME}.onnx"
        export_onnx(model, encoded.sequence[:8], encoded.static[:8], onnx_path)
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        (actual,) = session.run(None, {"sequence": encoded.sequence, "static": encoded.static})
        difference = float(np.abs(actual - expected).max())
        log.info("max |onnx - torch| on %d val rows: %.2e", len(val), difference)
        if difference > TOLERANCE:
            raise SystemExit(f"ONNX output differs from torch by {difference:.2e} > {TOLERANCE}; nothing written")

        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{WEIGHTS_NAME}.onnx").write_bytes(onnx_path.read_bytes())

    torch.save(model.state_dict(), args.out / f"{WEIGHTS_NAME}.pt")
    (args.out / f"{WEIGHTS_NAME}.json").write_text(spec.model_dump_json(indent=None) + "\n", encoding="utf-8")
    log.info("wrote %s.{onnx,pt,json} to %s", WEIGHTS_NAME, args.out)


if __name__ == "__main__":
    main()
