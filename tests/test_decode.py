"""Upload decoding: every image of the bad-input corpus, the limits, and inputs cut or damaged on the way."""

import io
import random
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from vision_valuer.decode import MAX_FILE_BYTES, MAX_PIXELS, decode_image, sniff_format
from vision_valuer.errors import FileTooLarge, TooManyPixels, TruncatedImage, UnsupportedFormat, ValuerError

from .helpers import BAD_INPUTS, expected_rows

IMAGE_ROWS = expected_rows("images/")
OK_ROWS = [row for row in IMAGE_ROWS if row["expected"] == "ok"]
ERROR_ROWS = [row for row in IMAGE_ROWS if row["expected"] != "ok"]
BOMB_ROWS = [row for row in IMAGE_ROWS if row["expected"] == "too_many_pixels"]

# Tokens that describe the input file (how it was built, what plain Pillow does with it) rather than
# what the decoder must return. A token outside this set and the checked ones fails the test, so
# that a new kind of check in the corpus cannot be skipped unnoticed.
DESCRIPTIVE_TOKENS = {
    "mode", "bit_depth", "frames", "orientation", "progressive", "zip_trailer",
    "exif_usercomment_bytes", "bytes", "pillow", "msg", "msg!",
}  # fmt: skip


def row_id(row: dict) -> str:
    return row["path"]


def read(row: dict) -> bytes:
    return (BAD_INPUTS / row["path"]).read_bytes()


def tokens(row: dict) -> list[tuple[str, str]]:
    return [tuple(token.partition("=")[::2]) for token in row["check"].split(";") if token]


def corners(rgb: np.ndarray) -> list[tuple[int, int]]:
    height, width = rgb.shape[:2]
    return [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]


def test_corpus_has_rows():
    # Guards the parametrised tests below against an empty or misread corpus table.
    assert len(OK_ROWS) >= 22
    assert len(ERROR_ROWS) >= 14


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize("row", OK_ROWS, ids=row_id)
def test_decode_accepts_corpus_image(row):
    decoded = decode_image(read(row), name=Path(row["path"]).name)

    assert (decoded.width, decoded.height) == (int(row["width"]), int(row["height"]))
    assert decoded.rgb.shape == (decoded.height, decoded.width, 3)
    assert decoded.rgb.dtype == np.uint8
    for key, value in tokens(row):
        if key.startswith("rgb@"):
            x, y = map(int, key.removeprefix("rgb@").split(","))
            expected_text, tolerance = value.split("~")
            expected = np.array([int(channel) for channel in expected_text.split(",")])
            actual = decoded.rgb[y, x].astype(int)
            assert np.abs(actual - expected).max() <= int(tolerance), f"{key}: got {actual.tolist()}"
        elif key == "corner_rgb":
            expected = [int(channel) for channel in value.split(",")]
            for x, y in corners(decoded.rgb):
                assert decoded.rgb[y, x].tolist() == expected, f"corner ({x}, {y})"
        elif key == "sniff":
            assert decoded.format == value
        else:
            assert key in DESCRIPTIVE_TOKENS, f"unknown check token {key!r}"


@pytest.mark.parametrize("row", ERROR_ROWS, ids=row_id)
def test_decode_rejects_corpus_file(row):
    name = Path(row["path"]).name

    with pytest.raises(ValuerError) as caught:
        decode_image(read(row), name=name)

    error = caught.value
    assert error.code == row["expected"]
    assert error.file == name
    assert name in error.message
    assert name in error.message_zh
    for key, value in tokens(row):
        if key == "pixels":
            # The count in the message is the one the decoder read from the header.
            assert f"{int(value):,} pixels" in error.message
        else:
            assert key in DESCRIPTIVE_TOKENS | {"sniff"}, f"unknown check token {key!r}"


@pytest.mark.parametrize("row", [row for row in IMAGE_ROWS if "sniff=" in row["check"]], ids=row_id)
def test_sniff_format_matches_corpus(row):
    expected = dict(tokens(row))["sniff"]
    assert sniff_format(read(row)) == (None if expected == "none" else expected)


def test_sniff_format_names_avif():
    # An ftyp box as written by Pillow's AVIF encoder: major brand avif, compatible avif, mif1, miaf.
    header = b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miafMA1B" + bytes(64)

    assert sniff_format(header) == "avif"
    with pytest.raises(UnsupportedFormat, match="AVIF"):
        decode_image(header, name="photo.avif")


def test_sniff_text_starting_with_bm():
    text = b"BMW X5, 2018: left front door dented, rear bumper scratched.\n"

    assert sniff_format(text) is None
    with pytest.raises(UnsupportedFormat):
        decode_image(text, name="notes.bmp")


@pytest.mark.parametrize("row", BOMB_ROWS, ids=row_id)
def test_bomb_rejected_before_decoding(row, monkeypatch):
    def fail_on_load(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__}.load() ran, so pixel memory was allocated")

    # Every Pillow image class that defines load(), so that no plugin can decode behind the check.
    pending = [ImageFile.ImageFile]
    while pending:
        image_class = pending.pop()
        pending.extend(image_class.__subclasses__())
        if "load" in vars(image_class):
            monkeypatch.setattr(image_class, "load", fail_on_load)

    started = time.perf_counter()
    with pytest.raises(TooManyPixels):
        decode_image(read(row), name=Path(row["path"]).name)
    assert time.perf_counter() - started < 1.0


def test_pixel_limit_independent_of_pillow(monkeypatch):
    just_over = (BAD_INPUTS / "images" / "bomb_just_over.png").read_bytes()
    baseline = (BAD_INPUTS / "images" / "baseline.jpg").read_bytes()

    # With Pillow's own check switched off, the decoder's limit still rejects the bomb.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(TooManyPixels):
        decode_image(just_over)

    # With Pillow's limit far below the image, the decoder's limit still lets it through.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert decode_image(baseline).width == 640


def test_pixel_limit_is_inclusive():
    baseline = (BAD_INPUTS / "images" / "baseline.jpg").read_bytes()

    assert decode_image(baseline, max_pixels=640 * 480).height == 480
    with pytest.raises(TooManyPixels, match="307,200 pixels"):
        decode_image(baseline, max_pixels=640 * 480 - 1)


def test_default_limits():
    assert MAX_PIXELS == 40_000_000
    assert MAX_FILE_BYTES == 25 * 1024 * 1024


def test_file_size_limit_is_inclusive():
    baseline = (BAD_INPUTS / "images" / "baseline.jpg").read_bytes()
    # Bytes after the JPEG end-of-image marker are ignored by decoders, so the padded file stays valid.
    at_limit = baseline + bytes(MAX_FILE_BYTES - len(baseline))

    assert decode_image(at_limit).width == 640
    with pytest.raises(FileTooLarge) as caught:
        decode_image(at_limit + b"\x00", name="big.jpg")
    assert caught.value.code == "file_too_large"
    assert caught.value.file == "big.jpg"


@pytest.mark.parametrize(
    ("file_name", "cut"),
    [
        ("photo.heic", 0.5),
        ("photo.webp", 0.5),
        ("jpeg_with_huge_exif_comment.jpg", 0.5),
        ("gray16.png", 0.02),
    ],
)
def test_cut_in_container_is_truncated(file_name, cut):
    # Each cut falls outside the pixel data (a HEIC box, the WebP RIFF chunk, the 60 KB EXIF segment, a
    # PNG chunk header), where Pillow fails with a generic error.
    data = (BAD_INPUTS / "images" / file_name).read_bytes()

    with pytest.raises(TruncatedImage):
        decode_image(data[: int(len(data) * cut)], name=file_name)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(orientation):
    # An asymmetric picture (red corner top-left on a wide blue field) shows every flip and rotation.
    picture = Image.new("RGB", (40, 20), (0, 0, 255))
    picture.paste((255, 0, 0), (0, 0, 10, 5))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", exif=exif.tobytes())

    decoded = decode_image(buffer.getvalue())

    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buffer.getvalue()))).convert("RGB"))
    assert decoded.rgb.shape == expected.shape
    assert np.array_equal(decoded.rgb, expected)


def test_decoded_array_is_writable_copy():
    decoded = decode_image((BAD_INPUTS / "images" / "baseline.jpg").read_bytes())

    assert decoded.rgb.flags.writeable
    assert decoded.rgb.flags.c_contiguous


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_decoding_leaves_pillow_settings_alone():
    max_pixels_before = Image.MAX_IMAGE_PIXELS

    for row in IMAGE_ROWS:
        try:
            decode_image(read(row))
        except ValuerError:
            pass

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS == max_pixels_before


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("row", OK_ROWS, ids=row_id)
def test_damaged_upload_raises_valuer_error(row):
    data = read(row)
    generator = random.Random(row["path"])
    damaged = [data[: int(len(data) * fraction)] for fraction in (0.01, 0.1, 0.3, 0.6, 0.9, 0.99)]
    for _ in range(12):
        flipped = bytearray(data)
        for _ in range(generator.choice([1, 4, 32])):
            flipped[generator.randrange(len(flipped))] = generator.randrange(256)
        damaged.append(bytes(flipped))

    for variant in damaged:
        # Any exception other than ValuerError fails the test with its own traceback.
        try:
            decoded = decode_image(variant)
        except ValuerError as error:
            assert error.code in {"unsupported_format", "truncated_image", "corrupt_image", "too_many_pixels"}
        else:
            assert decoded.rgb.shape == (decoded.height, decoded.width, 3)
