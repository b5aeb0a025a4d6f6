"""Damage segmentation of vehicle photos with the shipped ONNX U-Net, turned into findings and overlays."""

import threading
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import onnxruntime
from pydantic import BaseModel, Field

from .config import settings

CLASS_NAMES = ("background", "Scratched", "Separated", "Crushed", "Breakage")
DamageClass = Literal["Scratched", "Separated", "Crushed", "Breakage"]

# GB/T 30323-2013 records body defects by type code. Our classes come from the training data's
# taxonomy, so each maps to the nearest GB/T 30323 defect type.
GBT30323_DEFECT = {
    "Scratched": ("HH", "划痕"),
    "Separated": ("BX", "变形"),
    "Crushed": ("AX", "凹陷"),
    "Breakage": ("LW", "裂纹/破损"),
}

# The network was trained on photos resized to this long side (see models/segmentation/data.py).
INFERENCE_LONG_SIDE = 512
INPUT_MEAN = np.array((0.5, 0.5, 0.5), np.float32)
INPUT_STD = np.array((0.5, 0.5, 0.5), np.float32)

# Regions smaller than this share of the photo are dropped as speckle rather than reported.
MIN_REGION_SHARE = 0.002

# BGR-free RGB colours for the overlay, one per damage class.
OVERLAY_COLOURS = {
    1: (255, 210, 0),
    2: (0, 160, 255),
    3: (255, 90, 0),
    4: (230, 0, 90),
}


class DamageFinding(BaseModel):
    """One connected region of one damage class in one photo."""

    damage_class: DamageClass
    gbt_code: str = Field(description="GB/T 30323 defect type code, e.g. HH for a scratch")
    gbt_term: str = Field(description="GB/T 30323 defect type in Chinese")
    area_share: float = Field(description="share of the photo's pixels covered by this region, 0..1")
    bbox: tuple[int, int, int, int] = Field(description="x0, y0, x1, y1 in the oriented photo's pixels")
    mean_confidence: float = Field(description="mean probability of the class over the region's pixels")


class PhotoDamage(BaseModel):
    """Damage findings and per-class pixel shares of one photo."""

    findings: list[DamageFinding]
    class_shares: dict[DamageClass, float] = Field(description="share of the photo's pixels per damage class")
    seconds: float


class DamageSegmenter:
    """Runs the damage network; one instance per process, safe to call from several threads."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or settings.inference_threads
        self._session = onnxruntime.InferenceSession(
            str(model_path or settings.weights_dir / "damage_unet.onnx"),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._input_name = self._session.get_inputs()[0].name
        # onnxruntime sessions are thread-safe, but two concurrent runs on a small machine only
        # fight over the same cores, so runs are serialised.
        self._lock = threading.Lock()

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """Return class probabilities (C x H x W, float32) at the photo's own resolution."""
        height, width = rgb.shape[:2]
        scale = INFERENCE_LONG_SIDE / max(height, width)
        resized = cv2.resize(
            rgb,
            (max(32, round(width * scale)), max(32, round(height * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        )

        tensor = (resized.astype(np.float32) / 255.0 - INPUT_MEAN) / INPUT_STD
        tensor = tensor.transpose(2, 0, 1)
        pad_height = (-tensor.shape[1]) % 32
        pad_width = (-tensor.shape[2]) % 32
        tensor = np.pad(tensor, ((0, 0), (0, pad_height), (0, pad_width)), mode="edge")

        with self._lock:
            output = self._session.run(None, {self._input_name: tensor[None]})[0][0]

        output = output[:, : resized.shape[0], : resized.shape[1]]
        return np.stack([cv2.resize(channel, (width, height), interpolation=cv2.INTER_LINEAR) for channel in output])

    def analyse(self, rgb: np.ndarray) -> tuple[PhotoDamage, np.ndarray]:
        """Segment one photo; return its findings and the class map (H x W, uint8)."""
        started = cv2.getTickCount()
        probabilities = self.probabilities(rgb)
        class_map = probabilities.argmax(axis=0).astype(np.uint8)
        total = class_map.size

        findings = []
        class_shares = {}
        for index in range(1, len(CLASS_NAMES)):
            name = CLASS_NAMES[index]
            class_pixels = class_map == index
            class_shares[name] = round(float(class_pixels.sum()) / total, 5)
            count, labels, stats, _ = cv2.connectedComponentsWithStats(class_pixels.astype(np.uint8), connectivity=8)
            for region in range(1, count):
                x, y, w, h, area = stats[region]
                if area / total < MIN_REGION_SHARE:
                    continue
                region_pixels = labels == region
                code, term = GBT30323_DEFECT[name]
                findings.append(
                    DamageFinding(
                        damage_class=name,
                        gbt_code=code,
                        gbt_term=term,
                        area_share=round(float(area) / total, 5),
                        bbox=(int(x), int(y), int(x + w), int(y + h)),
                        mean_confidence=round(float(probabilities[index][region_pixels].mean()), 4),
                    )
                )

        findings.sort(key=lambda finding: finding.area_share, reverse=True)
        seconds = (cv2.getTickCount() - started) / cv2.getTickFrequency()
        return PhotoDamage(findings=findings, class_shares=class_shares, seconds=round(seconds, 3)), class_map


def render_overlay(rgb: np.ndarray, class_map: np.ndarray, findings: list[DamageFinding]) -> bytes:
    """Draw the damage classes over the photo, with a box and label per finding; return PNG bytes."""
    overlay = rgb.copy()
    for index, colour in OVERLAY_COLOURS.items():
        overlay[class_map == index] = colour
    blended = cv2.addWeighted(rgb, 0.55, overlay, 0.45, 0)

    thickness = max(1, round(max(rgb.shape[:2]) / 400))
    for finding in findings:
        colour = OVERLAY_COLOURS[CLASS_NAMES.index(finding.damage_class)]
        x0, y0, x1, y1 = finding.bbox
        cv2.rectangle(blended, (x0, y0), (x1, y1), colour, thickness)
        label = f"{finding.damage_class} {finding.area_share:.1%}"
        cv2.putText(blended, label, (x0 + 2, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness, colour, thickness)

    ok, encoded = cv2.imencode(".png", cv2.cvtColor(blended, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("OpenCV failed to encode the overlay PNG")
    return encoded.tobytes()
