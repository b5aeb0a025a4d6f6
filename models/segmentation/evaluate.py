"""Per-class IoU of the damage network on a dataset split, with torch or with the exported ONNX file.

IoU is accumulated over all pixels of the split (not averaged per image), at the inference scale:
photos and masks resized so the long side is 512 px.

    python -m models.segmentation.evaluate --onnx weights/damage_unet.onnx --split test
    python -m models.segmentation.evaluate --checkpoint runs/damage/best.pt --split val
    python -m models.segmentation.evaluate --onnx weights/damage_unet.onnx --dataset hitl
"""

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .data import Sample, load_samples, normalise
from .network import CLASS_NAMES

NUM_CLASSES = len(CLASS_NAMES)

# hitl-cc0-mini uses Humans in the Loop's damage classes; this table maps them to ours.
# missing_part is usually drawn as a strip along a displaced panel gap, which is what
# Separated means in aihub-socar. flaking, paint_chip and corrosion are surface defects
# of the paint, closest to Scratched. cracked covers broken lamps and glass: Breakage.
HITL_TO_SERVICE = {
    0: 0,  # background
    1: 2,  # missing_part -> Separated
    2: 4,  # broken_part -> Breakage
    3: 1,  # scratch -> Scratched
    4: 4,  # cracked -> Breakage
    5: 3,  # dent -> Crushed
    6: 1,  # flaking -> Scratched
    7: 1,  # paint_chip -> Scratched
    8: 1,  # corrosion -> Scratched
}


def pad_to_multiple(image: np.ndarray, multiple: int = 32) -> np.ndarray:
    """Pad a CxHxW input on the bottom and right so both sides divide by the network's stride."""
    _, height, width = image.shape
    pad_height = (-height) % multiple
    pad_width = (-width) % multiple
    return np.pad(image, ((0, 0), (0, pad_height), (0, pad_width)), mode="edge")


def confusion_matrix_for(predict: Callable[[np.ndarray], np.ndarray], samples: Sequence[Sample]) -> np.ndarray:
    """Accumulate a class confusion matrix (rows: label, columns: prediction) over samples."""
    import torch  # noqa: PLC0415 - only to switch off autograd when predict is a torch model

    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    with torch.no_grad():
        for sample in samples:
            height, width = sample.mask.shape
            batch = pad_to_multiple(normalise(sample.image))[None]
            logits = predict(batch)[0, :, :height, :width]
            prediction = logits.argmax(axis=0)
            confusion += np.bincount(
                sample.mask.astype(np.int64).ravel() * NUM_CLASSES + prediction.ravel(),
                minlength=NUM_CLASSES * NUM_CLASSES,
            ).reshape(NUM_CLASSES, NUM_CLASSES)
    return confusion


def iou_from_confusion(confusion: np.ndarray) -> tuple[list[float], float]:
    """Return per-class IoU and their mean over the classes that occur in labels or predictions."""
    intersection = np.diag(confusion).astype(np.float64)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - intersection
    per_class = [float(i / u) if u else float("nan") for i, u in zip(intersection, union)]
    return per_class, float(np.nanmean(per_class))


def damage_iou_from_confusion(confusion: np.ndarray) -> float:
    """IoU of "any damage" against background, whatever the damage class: how well damage is located."""
    damage_as_damage = confusion[1:, 1:].sum()
    background_as_damage = confusion[0, 1:].sum()
    damage_as_background = confusion[1:, 0].sum()
    return float(damage_as_damage / (damage_as_damage + background_as_damage + damage_as_background))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    weights = parser.add_mutually_exclusive_group(required=True)
    weights.add_argument("--onnx", type=Path, help="exported model to evaluate with onnxruntime")
    weights.add_argument("--checkpoint", type=Path, help="training checkpoint to evaluate with torch")
    parser.add_argument("--dataset", choices=("aihub", "hitl"), default="aihub")
    parser.add_argument("--split", default="test")
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()

    if args.dataset == "aihub":
        samples = load_samples(args.shared / "aihub-socar", args.split)
    else:
        samples = load_samples(args.shared / "hitl-cc0-mini", "test", mask_dir="masks_damage")
        lookup = np.array([HITL_TO_SERVICE[i] for i in range(len(HITL_TO_SERVICE))], dtype=np.uint8)
        for sample in samples:
            sample.mask = lookup[sample.mask]

    if args.onnx:
        import onnxruntime  # noqa: PLC0415

        session = onnxruntime.InferenceSession(str(args.onnx), providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name

        def predict(batch: np.ndarray) -> np.ndarray:
            return session.run(None, {input_name: batch})[0]
    else:
        import torch  # noqa: PLC0415

        from .network import build_unet  # noqa: PLC0415

        model = build_unet(pretrained=False)
        model.load_state_dict(torch.load(args.checkpoint, map_location="cpu")["model"])
        model.eval()

        def predict(batch: np.ndarray) -> np.ndarray:
            return model(torch.from_numpy(batch)).numpy()

    confusion = confusion_matrix_for(predict, samples)
    per_class, miou = iou_from_confusion(confusion)
    report = {
        "dataset": args.dataset,
        "split": args.split if args.dataset == "aihub" else "test",
        "images": len(samples),
        "iou": {name: round(value, 4) for name, value in zip(CLASS_NAMES, per_class)},
        "miou": round(miou, 4),
        "damage_miou": round(float(np.nanmean(per_class[1:])), 4),
        "any_damage_iou": round(damage_iou_from_confusion(confusion), 4),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
