"""OCR engines behind one interface, so the documents stage can swap them by name.

DEFAULT_ENGINE comes from `python benchmarks/ocr_engines.py --threads 1` on the shared test data.
RapidOCR 1.4.4 (PP-OCRv4 ONNX models shipped in the wheel) read 10 of 10 fields of the 行驶证
specimen, 58 of 60 plate crops and 47 of 58 odometers. Tesseract 5.3.0 with chi_sim+eng read 1 of 10
fields, 1 plate and no odometer.
"""

import functools
import shutil
import threading
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict

from vision_valuer.errors import ValuerError

Point = tuple[float, float]

DEFAULT_ENGINE = "rapidocr"

# Tesseract loses accuracy on small text, so shorter one-line crops are upscaled to this height in
# pixels. The value is an estimate, not a tuned one.
LINE_HEIGHT = 64
SINGLE_LINE_MODE = 7


class OcrLine(BaseModel):
    """One line of recognised text with its position in the input image."""

    model_config = ConfigDict(frozen=True)

    text: str
    # Corners in input-image pixels, clockwise from top-left.
    box: tuple[Point, Point, Point, Point]
    # Recogniser confidence, 0 to 1.
    score: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounds (x0, y0, x1, y1) of the box."""
        xs = [point[0] for point in self.box]
        ys = [point[1] for point in self.box]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def center(self) -> Point:
        """Centre of the box."""
        return (sum(p[0] for p in self.box) / 4, sum(p[1] for p in self.box) / 4)

    @property
    def height(self) -> float:
        """Text height: the mean length of the box's left and right edges."""
        left = np.hypot(self.box[3][0] - self.box[0][0], self.box[3][1] - self.box[0][1])
        right = np.hypot(self.box[2][0] - self.box[1][0], self.box[2][1] - self.box[1][1])
        return float(left + right) / 2

    @property
    def width(self) -> float:
        """Text width: the mean length of the box's top and bottom edges."""
        top = np.hypot(self.box[1][0] - self.box[0][0], self.box[1][1] - self.box[0][1])
        bottom = np.hypot(self.box[2][0] - self.box[3][0], self.box[2][1] - self.box[3][1])
        return float(top + bottom) / 2


@runtime_checkable
class OcrEngine(Protocol):
    """Anything that turns an RGB image into lines of text."""

    name: str

    def read(self, rgb: np.ndarray) -> list[OcrLine]:
        """Read all text lines of an H×W×3 uint8 RGB image."""
        ...

    def read_line(self, rgb: np.ndarray) -> OcrLine | None:
        """Read an image that is already cropped to one line of text, such as a plate crop."""
        ...


class RapidOcrEngine:
    """PP-OCRv4 detection and recognition (Chinese and English) through rapidocr-onnxruntime.

    The models load on the first call. One instance may be shared by threads because calls are
    serialised. RapidOCR 1.4 rebuilds its detector's preprocessing on every call, so concurrent calls
    would race.
    """

    name = "rapidocr"

    def __init__(self, *, threads: int | None = None, use_angle_classifier: bool = False):
        # The 180° angle classifier flips seven-segment digits (an LCD "189462" came back as
        # "29h68100"), so it is off unless a caller expects upside-down text.
        self._threads = threads
        self._use_angle_classifier = use_angle_classifier
        self._ocr = None
        self._lock = threading.Lock()

    def read(self, rgb: np.ndarray) -> list[OcrLine]:
        """Read all text lines of an RGB image, top to bottom."""
        result = self._run(_check_rgb(rgb), use_det=True)

        lines = []
        for box, text, score in result or []:
            corners = tuple((float(x), float(y)) for x, y in box)
            lines.append(OcrLine(text=text, box=corners, score=float(score)))
        return lines

    def read_line(self, rgb: np.ndarray) -> OcrLine | None:
        """Recognise a one-line crop without text detection, which misses text that fills the image."""
        result = self._run(_check_rgb(rgb), use_det=False)

        if not result or not result[0][0]:
            return None
        text, score = result[0][0], float(result[0][1])
        return OcrLine(text=text, box=_whole_image_box(rgb), score=score)

    def _run(self, rgb: np.ndarray, *, use_det: bool):
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        with self._lock:
            if self._ocr is None:
                self._ocr = self._load()
            result, _ = self._ocr(bgr, use_det=use_det, use_cls=self._use_angle_classifier and use_det)
        return result

    def _load(self):
        from rapidocr_onnxruntime import RapidOCR

        options = {"use_cls": self._use_angle_classifier}
        if self._threads is not None:
            options["intra_op_num_threads"] = self._threads
            options["inter_op_num_threads"] = 1
        return RapidOCR(**options)


class TesseractEngine:
    """Tesseract through pytesseract, one OcrLine per Tesseract text line.

    Needs the `tesseract` binary and its language data (Debian: tesseract-ocr, tesseract-ocr-chi-sim,
    tesseract-ocr-eng). Each call starts its own process, so one instance may be shared by threads.
    """

    name = "tesseract"

    def __init__(
        self,
        *,
        languages: str = "chi_sim+eng",
        page_segmentation_mode: int = 11,
        timeout_seconds: float = 60.0,
    ):
        # On the 行驶证 specimen, mode 11 (sparse text) read more fields than the block modes 3 and 6.
        self._languages = languages
        self._page_segmentation_mode = page_segmentation_mode
        self._timeout_seconds = timeout_seconds

    def read(self, rgb: np.ndarray) -> list[OcrLine]:
        """Read all text lines of an RGB image, in Tesseract's reading order."""
        # Tesseract's own binarisation of the colour page read more of the 行驶证 specimen than it did
        # from an OpenCV grayscale copy, so the page is passed in colour.
        return self._run(_check_rgb(rgb), self._page_segmentation_mode)

    def read_line(self, rgb: np.ndarray) -> OcrLine | None:
        """Read a one-line crop in single-line mode, upscaled and with dark text on a light background."""
        gray = cv2.cvtColor(_check_rgb(rgb), cv2.COLOR_RGB2GRAY)
        if gray.shape[0] < LINE_HEIGHT:
            scale = LINE_HEIGHT / gray.shape[0]
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)

        # Tesseract 4 and later want dark text on a light background (tessdoc, "Improving the quality
        # of the output"). Text covers less of a line crop than its background, so when the bright
        # side of an Otsu threshold is the smaller one, the text is light and the crop is inverted.
        _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        if np.count_nonzero(binary) < binary.size / 2:
            gray = 255 - gray

        lines = self._run(gray, SINGLE_LINE_MODE)
        if not lines:
            return None
        text = ""
        for line in lines:
            text = _join_words(text, line.text)
        score = sum(line.score for line in lines) / len(lines)
        return OcrLine(text=text, box=_whole_image_box(rgb), score=score)

    def _run(self, image: np.ndarray, page_segmentation_mode: int) -> list[OcrLine]:
        import pytesseract

        _require_tesseract()
        try:
            data = pytesseract.image_to_data(
                image,
                lang=self._languages,
                config=f"--psm {page_segmentation_mode}",
                timeout=self._timeout_seconds,
                output_type=pytesseract.Output.DICT,
            )
        except RuntimeError as error:
            # pytesseract raises a bare RuntimeError when its timeout kills the process.
            raise ValuerError(
                f"Tesseract OCR timed out after {self._timeout_seconds:g} s. Retry with a smaller image.",
                f"Tesseract 文字识别超时（{self._timeout_seconds:g} 秒），请换用较小的图片重试。",
            ) from error
        return _group_tesseract_words(data)


def _whole_image_box(rgb: np.ndarray) -> tuple[Point, Point, Point, Point]:
    height, width = rgb.shape[:2]
    return ((0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height)))


def _group_tesseract_words(data: dict) -> list[OcrLine]:
    """Merge Tesseract's word boxes into one OcrLine per (block, paragraph, line)."""
    words_by_line: dict[tuple[int, int, int], list[int]] = {}
    for index, word in enumerate(data["text"]):
        if word.strip() and float(data["conf"][index]) >= 0:
            key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
            words_by_line.setdefault(key, []).append(index)

    lines = []
    for indices in words_by_line.values():
        text = ""
        for index in indices:
            text = _join_words(text, data["text"][index].strip())

        x0 = min(data["left"][i] for i in indices)
        y0 = min(data["top"][i] for i in indices)
        x1 = max(data["left"][i] + data["width"][i] for i in indices)
        y1 = max(data["top"][i] + data["height"][i] for i in indices)
        score = sum(float(data["conf"][i]) for i in indices) / len(indices) / 100

        box = ((float(x0), float(y0)), (float(x1), float(y0)), (float(x1), float(y1)), (float(x0), float(y1)))
        lines.append(OcrLine(text=text, box=box, score=score))
    return lines


def _join_words(text: str, word: str) -> str:
    """Append a word, with a space only between two Latin-script words, because Chinese has no spaces."""
    if text and text[-1].isascii() and word[0].isascii():
        return f"{text} {word}"
    return text + word


def _require_tesseract() -> None:
    import pytesseract

    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise ValuerError(
            "The tesseract OCR engine is not installed on the server. Install tesseract-ocr "
            "with the chi_sim and eng language data, or use the rapidocr engine.",
            "服务器未安装 tesseract 文字识别引擎；请安装 tesseract-ocr 及 chi_sim、eng 语言包，或改用 rapidocr 引擎。",
        )


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"Expected an H×W×3 uint8 RGB image, got shape {rgb.shape} and dtype {rgb.dtype}.")
    return rgb


ENGINES = {
    RapidOcrEngine.name: RapidOcrEngine,
    TesseractEngine.name: TesseractEngine,
}


def get_engine(name: str, *, threads: int | None = None) -> OcrEngine:
    """Return the shared engine instance for `name`, creating it on first use.

    `threads` caps the inference threads of RapidOCR, which runs in-process. None lets onnxruntime
    choose, and Tesseract ignores it.
    """
    if name not in ENGINES:
        raise ValueError(f"Unknown OCR engine {name!r}. Use one of {sorted(ENGINES)}.")
    if name != RapidOcrEngine.name:
        threads = None
    return _shared_engine(name, threads)


@functools.cache
def _shared_engine(name: str, threads: int | None) -> OcrEngine:
    if name == RapidOcrEngine.name:
        return RapidOcrEngine(threads=threads)
    return ENGINES[name]()
