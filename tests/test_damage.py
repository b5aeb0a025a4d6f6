"""The shipped damage model: ONNX against torch, accuracy on a fixed test sample, findings."""

import numpy as np
import pytest

from vision_valuer.config import settings
from vision_valuer.damage import DamageSegmenter, render_overlay

from .helpers import EXAMPLE_LOT, SHARED

AIHUB = SHARED / "data" / "aihub-socar"

# Measured with the shipped weights on the first 24 test images in manifest order. The floor
# leaves about 0.02 for onnxruntime version drift. The model card has the full test split.
SAMPLE_SIZE = 24
SAMPLE_MIOU_FLOOR = 0.265  # measured 0.2865 with onnxruntime 1.32.0


@pytest.fixture(scope="module")
def segmenter():
    return DamageSegmenter()


def test_onnx_matches_torch():
    torch = pytest.importorskip("torch", reason="torch comes with the train extra")
    from models.segmentation.data import load_samples, normalise
    from models.segmentation.evaluate import pad_to_multiple
    from models.segmentation.export import ProbabilityHead
    from models.segmentation.network import build_unet

    network = build_unet(pretrained=False)
    network.load_state_dict(torch.load(settings.weights_dir / "damage_unet.pt", map_location="cpu"))
    model = ProbabilityHead(network).eval()

    import onnxruntime

    session = onnxruntime.InferenceSession(str(settings.weights_dir / "damage_unet.onnx"), providers=["CPUExecutionProvider"])
    samples = load_samples(AIHUB, "test")[:3]
    for sample in samples:
        batch = pad_to_multiple(normalise(sample.image))[None]
        with torch.no_grad():
            expected = model(torch.from_numpy(batch)).numpy()
        actual = session.run(None, {"image": batch})[0]
        assert np.abs(actual - expected).max() < 1e-3, sample.sample_id
        assert (actual.argmax(axis=1) == expected.argmax(axis=1)).mean() > 0.999


def test_sample_miou_floor():
    from models.segmentation.data import load_samples
    from models.segmentation.evaluate import confusion_matrix_for, iou_from_confusion

    import onnxruntime

    session = onnxruntime.InferenceSession(str(settings.weights_dir / "damage_unet.onnx"), providers=["CPUExecutionProvider"])
    samples = load_samples(AIHUB, "test")[:SAMPLE_SIZE]
    confusion = confusion_matrix_for(lambda batch: session.run(None, {"image": batch})[0], samples)
    per_class, miou = iou_from_confusion(confusion)
    assert miou >= SAMPLE_MIOU_FLOOR, per_class
    assert per_class[0] > 0.85, "background IoU"


def test_findings_on_damaged_photo(segmenter):
    import cv2

    rgb = cv2.cvtColor(cv2.imread(str(EXAMPLE_LOT / "photos" / "1_front_left.jpg")), cv2.COLOR_BGR2RGB)
    damage, class_map = segmenter.analyse(rgb)
    assert class_map.shape == rgb.shape[:2]
    assert damage.findings
    assert sum(damage.class_shares.values()) > 0.01
    for finding in damage.findings:
        assert finding.gbt_code in {"HH", "BX", "AX", "LW"}
        assert finding.area_share >= 0.002

    png = render_overlay(rgb, class_map, damage.findings)
    overlay = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert overlay.shape == rgb.shape


def test_blank_photo_has_no_findings(segmenter):
    grey = np.full((480, 640, 3), 128, np.uint8)
    damage, _ = segmenter.analyse(grey)
    assert damage.findings == []
