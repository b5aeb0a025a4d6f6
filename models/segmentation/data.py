"""Loading and augmenting `aihub-socar` photos and masks for training and evaluation."""

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .network import INPUT_MEAN, INPUT_STD

# Photos are resized so the long side is this many pixels, both in training (before random
# scaling and cropping) and at inference, so damage reaches the network at one scale.
BASE_LONG_SIDE = 512

CROP_HEIGHT, CROP_WIDTH = 288, 384


@dataclass
class Sample:
    sample_id: str
    image: np.ndarray  # HxWx3 uint8 RGB, long side BASE_LONG_SIDE
    mask: np.ndarray  # HxW uint8 class indices, same size as image


def read_split_ids(dataset_root: Path, split: str) -> list[str]:
    """Return the image ids of one split, as listed in the dataset's manifest.tsv."""
    with open(dataset_root / "manifest.tsv", newline="", encoding="utf-8") as handle:
        return [row["id"] for row in csv.DictReader(handle, delimiter="\t") if row["split"] == split]


def resize_long_side(image: np.ndarray, long_side: int, interpolation: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = long_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=interpolation)


def load_samples(dataset_root: Path, split: str, mask_dir: str = "masks") -> list[Sample]:
    """Load one split into memory, resized to the base scale."""
    samples = []
    image_dir = dataset_root / "images" / split
    for sample_id in read_split_ids(dataset_root, split):
        image = cv2.cvtColor(cv2.imread(str(image_dir / f"{sample_id}.jpg")), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(str(dataset_root / mask_dir / split / f"{sample_id}.png"), cv2.IMREAD_GRAYSCALE)
        samples.append(
            Sample(
                sample_id=sample_id,
                image=resize_long_side(image, BASE_LONG_SIDE, cv2.INTER_AREA),
                mask=resize_long_side(mask, BASE_LONG_SIDE, cv2.INTER_NEAREST),
            )
        )
    return samples


def normalise(image: np.ndarray) -> np.ndarray:
    """Turn an HxWx3 uint8 RGB image into a 3xHxW float32 network input."""
    scaled = image.astype(np.float32) / 255.0
    scaled = (scaled - np.array(INPUT_MEAN, np.float32)) / np.array(INPUT_STD, np.float32)
    return np.ascontiguousarray(scaled.transpose(2, 0, 1))


def augment(sample: Sample, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw one training crop: random scale, crop, horizontal flip and photometric jitter."""
    scale = rng.uniform(0.6, 1.25)
    height, width = sample.mask.shape
    size = (max(CROP_WIDTH, round(width * scale)), max(CROP_HEIGHT, round(height * scale)))
    image = cv2.resize(sample.image, size, interpolation=cv2.INTER_LINEAR)
    mask = cv2.resize(sample.mask, size, interpolation=cv2.INTER_NEAREST)

    top = rng.integers(0, image.shape[0] - CROP_HEIGHT + 1)
    left = rng.integers(0, image.shape[1] - CROP_WIDTH + 1)
    image = image[top : top + CROP_HEIGHT, left : left + CROP_WIDTH]
    mask = mask[top : top + CROP_HEIGHT, left : left + CROP_WIDTH]

    if rng.random() < 0.5:
        image = image[:, ::-1]
        mask = mask[:, ::-1]

    # Brightness, contrast and a mild colour cast: auction photos are taken in every light.
    gain = rng.uniform(0.75, 1.25)
    bias = rng.uniform(-25, 25)
    channel_gain = rng.uniform(0.92, 1.08, size=3)
    jittered = image.astype(np.float32) * gain * channel_gain + bias
    image = np.clip(jittered, 0, 255).astype(np.uint8)

    return normalise(image), np.ascontiguousarray(mask).astype(np.int64)
