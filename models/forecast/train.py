"""Train the discount LSTM on the Carvana train split, keeping the epoch with the lowest val pinball loss.

Resumable: every epoch writes `last.pt` (model, optimiser, scheduler, random states, history) under the
run folder, and a rerun with the same `--run-dir` and the same arguments continues from it. `best.pt`
contains the selected epoch and the feature spec; `python -m models.forecast.export` turns it into weights/.

    python -m models.forecast.train --run-dir runs/forecast
"""

import argparse
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from vision_valuer.forecast_features import EncodedLots, ForecastSpec, LotEncoder, NetworkShape

from . import data
from .network import DiscountLSTM, pinball_loss
from .spec import build_spec

log = logging.getLogger("train_forecast")

# Arguments that change the data, model or schedule. Resuming with other values would mix two runs.
RUN_DEFINING_ARGS = ("epochs", "batch_size", "lr", "weight_decay", "sequence_length", "hidden_size", "head_size", "unknown_rate", "seed")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DATA_DIR, help="folder with data.csv.gz")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/forecast"))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (AdamW, one-cycle schedule)")
    parser.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW weight decay")
    parser.add_argument("--sequence-length", type=int, default=12, help="weeks of market statistics per lot")
    parser.add_argument("--hidden-size", type=int, default=32, help="LSTM hidden units")
    parser.add_argument("--head-size", type=int, default=64, help="units in each hidden layer of the head")
    parser.add_argument(
        "--unknown-rate",
        type=float,
        default=0.1,
        help="probability that training hides each of age, odometer, make and size, so the model learns defaults",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=20261204)
    return parser.parse_args()


def encode_rows(
    encoder: LotEncoder, rows: pd.DataFrame, rng: np.random.Generator | None = None, unknown_rate: float = 0.0
) -> EncodedLots:
    """Encode purchase rows. With `rng`, hide each lot feature independently with probability `unknown_rate`."""
    age = rows["age_years"].to_numpy(dtype=np.float64)
    odometer = rows["odometer_km"].to_numpy(dtype=np.float64)
    makes: list[str | None] = rows["make"].tolist()
    sizes: list[str | None] = rows["size"].tolist()

    if rng is not None:
        hide = rng.random((len(rows), 4)) < unknown_rate
        age = np.where(hide[:, 0], np.nan, age)
        odometer = np.where(hide[:, 1], np.nan, odometer)
        makes = [None if h else m for h, m in zip(hide[:, 2], makes)]
        sizes = [None if h else s for h, s in zip(hide[:, 3], sizes)]

    sale_dates = np.array(rows["sale_date"].tolist(), dtype="datetime64[D]")
    return encoder.encode(sale_dates, age, odometer, makes, sizes)


@torch.no_grad()
def predict(model: DiscountLSTM, encoded: EncodedLots, batch_size: int = 4096) -> np.ndarray:
    model.eval()
    outputs = []
    for start in range(0, len(encoded.static), batch_size):
        sequence = torch.from_numpy(encoded.sequence[start : start + batch_size])
        static = torch.from_numpy(encoded.static[start : start + batch_size])
        outputs.append(model(sequence, static).numpy())
    return np.concatenate(outputs)


def quantile_metrics(predicted: np.ndarray, target: np.ndarray, quantiles: list[float]) -> dict[str, float]:
    """Return the pinball loss, the MAE of the median and the coverage and mean width of the outer interval."""
    levels = np.asarray(quantiles)[None, :]
    error = target[:, None] - predicted
    pinball = np.maximum(levels * error, (levels - 1) * error).mean()
    covered = (target >= predicted[:, 0]) & (target <= predicted[:, -1])
    return {
        "pinball": float(pinball),
        "mae": float(np.abs(target - predicted[:, 1]).mean()),
        "coverage": float(covered.mean()),
        "width": float((predicted[:, -1] - predicted[:, 0]).mean()),
    }


def calibrate_interval(model: DiscountLSTM, encoded: EncodedLots, target: np.ndarray, quantiles: list[float]) -> None:
    """Set `model.interval_widening` so each tail of the val split contains its nominal share of lots.

    This is split-conformal calibration per tail (conformalised quantile regression). Its coverage
    guarantee assumes exchangeable rows, which a time-ordered split only approximates.
    """
    with torch.no_grad():
        model.interval_widening.zero_()
    predicted = predict(model, encoded)

    count = len(target)
    lower_level = min(1.0, math.ceil((count + 1) * (1 - quantiles[0])) / count)
    upper_level = min(1.0, math.ceil((count + 1) * quantiles[-1]) / count)
    widen_lower = np.quantile(predicted[:, 0] - target, lower_level, method="higher")
    widen_upper = np.quantile(target - predicted[:, -1], upper_level, method="higher")
    with torch.no_grad():
        model.interval_widening.copy_(torch.tensor([widen_lower, widen_upper], dtype=torch.float32))


def main() -> None:
    args = parse_args()
    args.run_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.StreamHandler(), logging.FileHandler(args.run_dir / "train.log")],
    )
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    purchases, drops = data.load_purchases(args.data)
    log.info("loaded %d purchases; dropped %d without MMR price and %d with cost/MMR outside [%.2f, %.2f]",
             drops.kept_rows, drops.missing_mmr, drops.ratio_out_of_range, data.MIN_COST_TO_MMR, data.MAX_COST_TO_MMR)
    spec = build_spec(purchases, args.sequence_length, NetworkShape(hidden_size=args.hidden_size, head_size=args.head_size))
    encoder = LotEncoder(spec)

    usable = purchases[purchases["sale_date"] >= spec.earliest_sale_date]
    train = usable[usable["split"] == "train"].reset_index(drop=True)
    val = usable[usable["split"] == "val"].reset_index(drop=True)
    train_target = torch.from_numpy(train["discount"].to_numpy(dtype=np.float32))
    val_target = val["discount"].to_numpy(dtype=np.float64)
    val_encoded = encode_rows(encoder, val)
    log.info("train %d rows from %s, val %d rows from %s", len(train), train["sale_date"].min(), len(val), val["sale_date"].min())

    model = DiscountLSTM(len(spec.sequence_feature_names), len(spec.static_feature_names), args.hidden_size, args.head_size)
    quantiles = torch.tensor(spec.quantiles)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = len(train) // args.batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.1
    )
    rng = np.random.default_rng(args.seed)
    start_epoch, best_pinball, history = 0, float("inf"), []
    run_args = {name: getattr(args, name) for name in RUN_DEFINING_ARGS}

    last_path = args.run_dir / "last.pt"
    if last_path.exists():
        state = torch.load(last_path, map_location="cpu", weights_only=False)
        if state["args"] != run_args:
            raise SystemExit(f"{last_path} was written with {state['args']}, not {run_args}; "
                             "use another --run-dir or the same arguments")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        start_epoch, best_pinball, history = state["epoch"] + 1, state["best_pinball"], state["history"]
        log.info("resumed after epoch %d (best val pinball %.5f)", state["epoch"], best_pinball)

    for epoch in range(start_epoch, args.epochs):
        model.train()
        started = time.monotonic()
        encoded = encode_rows(encoder, train, rng, args.unknown_rate)
        sequences = torch.from_numpy(encoded.sequence)
        statics = torch.from_numpy(encoded.static)
        order = torch.from_numpy(rng.permutation(len(train)))
        losses = []
        for step in range(steps_per_epoch):
            batch = order[step * args.batch_size : (step + 1) * args.batch_size]
            loss = pinball_loss(model(sequences[batch], statics[batch]), train_target[batch], quantiles)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            losses.append(loss.item())

        val_metrics = quantile_metrics(predict(model, val_encoded), val_target, spec.quantiles)
        record = {
            "epoch": epoch,
            "train_pinball": float(np.mean(losses)),
            **{f"val_{name}": round(value, 6) for name, value in val_metrics.items()},
            "seconds": round(time.monotonic() - started, 1),
        }
        history.append(record)
        log.info("epoch summary %s", json.dumps(record))

        if val_metrics["pinball"] < best_pinball:
            best_pinball = val_metrics["pinball"]
            torch.save(
                {"model": model.state_dict(), "spec": spec.model_dump(mode="json"), "epoch": epoch, "val": val_metrics},
                args.run_dir / "best.pt",
            )
            log.info("new best val pinball %.5f at epoch %d", best_pinball, epoch)

        # Written after best.pt, so after a crash between the two writes the resumed run repeats this epoch.
        torch.save(
            {
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "epoch": epoch,
                "best_pinball": best_pinball,
                "history": history,
                "args": run_args,
            },
            last_path,
        )

    (args.run_dir / "history.json").write_text(json.dumps(history, indent=2))
    log.info("finished: best val pinball %.5f", best_pinball)

    # Idempotent, so a rerun of a finished run recalibrates to the same values.
    best = torch.load(args.run_dir / "best.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(best["model"])
    calibrate_interval(model, val_encoded, val_target, spec.quantiles)
    best["model"] = model.state_dict()
    best["val_calibrated"] = quantile_metrics(predict(model, val_encoded), val_target, spec.quantiles)
    torch.save(best, args.run_dir / "best.pt")
    log.info("calibrated interval widening (lower, upper) %s: val %s",
             model.interval_widening.tolist(), json.dumps(best["val_calibrated"]))


def load_best(run_dir: Path) -> tuple[DiscountLSTM, ForecastSpec, dict]:
    """Load `best.pt` from a run folder: the model in eval mode, its spec and the checkpoint's metadata."""
    state = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=False)
    spec = ForecastSpec.model_validate(state["spec"])
    model = DiscountLSTM(
        len(spec.sequence_feature_names), len(spec.static_feature_names), spec.network.hidden_size, spec.network.head_size
    )
    model.load_state_dict(state["model"])
    model.eval()
    return model, spec, {"epoch": state["epoch"], "val": state["val"], "val_calibrated": state.get("val_calibrated")}


if __name__ == "__main__":
    main()
