"""Decode an uploaded photo into 8-bit RGB, or reject it with a stable error code.

Uploads come from inspectors' phones and dealer apps, so every byte is untrusted. The decoder picks
the format from the leading bytes (never the file name), checks the pixel count from the header before
any pixel is decoded, and maps every Pillow failure to one of the `ValuerError` classes.
"""

import io
import struct
import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import (
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from vision_valuer.errors import (
    CorruptImage,
    EmptyFile,
    FileTooLarge,
    TooManyPixels,
    TruncatedImage,
    UnsupportedFormat,
)

MAX_PIXELS = 40_000_000
MAX_FILE_BYTES = 25 * 1024 * 1024

SUPPORTED_FORMATS = frozenset({"jpeg", "png", "gif", "webp", "bmp", "tiff", "heic"})

# Names for error messages.
_FORMAT_NAMES = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WebP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "heic": "HEIC",
}
# Uploads that sniff_format() recognises but that are not photos: English (with article) and Chinese.
_REJECTED_KINDS = {
    "pdf": ("a PDF document", "PDF 文档"),
    "zip": ("a zip archive", "zip 压缩包"),
    "svg": ("an SVG drawing", "SVG 矢量图"),
    "avif": ("an AVIF image", "AVIF 图片"),
}
_ACCEPTED_LIST = "JPEG, PNG, HEIC, WebP, GIF, BMP or TIFF"
_ACCEPTED_LIST_ZH = "JPEG、PNG、HEIC、WebP、GIF、BMP 或 TIFF"

# ISOBMFF brands that libheif decodes as HEIC (HEVC-coded images and image sequences).
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

# Sizes of the BMP info headers that exist (OS/2 1.x, Windows 3.x to 5, OS/2 2.x), so that a text
# file that happens to start with "BM" (say, "BMW X5 ...") is not taken for a bitmap.
_BMP_INFO_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

# Exceptions that Pillow and its plugins raise for malformed input, at open or at load. Any other
# exception is a bug in this module or in Pillow and should surface as such.
_DECODER_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    RuntimeError,
    struct.error,
    zlib.error,
)

# EXIF orientation tag values 2-8 and the transpose that shows the image upright (EXIF 2.32, tag 0x0112).
_ORIENTATION_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION_TAG = 0x0112

# JPEG markers that carry a length field before the first scan (ITU-T T.81, table B.1): SOFn, DHT,
# DAC, SOS, DQT, DNL, DRI, DHP, EXP, APPn and COM. 0xC8 is reserved and excluded.
_JPEG_SEGMENT_MARKERS = frozenset(
    [marker for marker in range(0xC0, 0xD0) if marker != 0xC8] + [0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xFE]
    + list(range(0xE0, 0xF0))
)
# Identifiers at the start of the application segments that cameras, phones and editors write.
_JPEG_APP_IDENTIFIERS = (
    b"JFIF\x00",
    b"JFXX\x00",
    b"Exif\x00\x00",
    b"http://ns.adobe.com/",
    b"ICC_PROFILE\x00",
    b"Adobe",
    b"MPF\x00",
    b"Ducky",
)

_WHITE = (255, 255, 255, 255)

# Maximum length of a file name that error messages repeat in full.
_MAX_NAME_CHARS = 120


@dataclass(frozen=True)
class DecodedImage:
    """An upload decoded to upright 8-bit RGB.

    `rgb` is an H x W x 3 uint8 array that the caller owns. `format` is the sniffed format, one of
    `SUPPORTED_FORMATS`.
    """

    rgb: np.ndarray
    format: str
    width: int
    height: int


def sniff_format(data: bytes) -> str | None:
    """Identify a file from its leading bytes alone.

    Returns one of `SUPPORTED_FORMATS`, or "pdf", "zip", "svg" or "avif" for uploads that are known
    but not accepted (so that a message can name them), or None when the bytes match nothing.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if _is_bmp(data):
        return "bmp"
    # Classic TIFF (version 42) and BigTIFF (version 43), little- and big-endian.
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"

    isobmff_kind = _sniff_isobmff(data)
    if isobmff_kind is not None:
        return isobmff_kind

    if data.startswith(b"%PDF-"):
        return "pdf"
    # Local file header, or the end-of-central-directory record of an empty archive.
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if _is_svg(data):
        return "svg"
    return None


def decode_image(
    data: bytes,
    *,
    name: str | None = None,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_FILE_BYTES,
) -> DecodedImage:
    """Decode the first frame of an uploaded image into upright 8-bit RGB.

    `name` only labels error messages and the `file` of the error: the format always comes from the
    bytes. Raises `EmptyFile`, `FileTooLarge`, `UnsupportedFormat`, `TooManyPixels`, `CorruptImage` or
    `TruncatedImage`, and no other exception for bad input.
    """
    label = _FileLabel.of(name)

    if len(data) == 0:
        raise EmptyFile(
            f"{label.en} is empty (0 bytes). Upload the photo again.",
            f"{label.zh}是空文件（0 字节）。请重新上传照片。",
            file=name,
        )
    if len(data) > max_bytes:
        raise _file_too_large(label, name, len(data), max_bytes)

    kind = sniff_format(data)
    if kind not in SUPPORTED_FORMATS:
        raise _unsupported_format(label, name, kind)

    # Everything happens inside the block because closing the image also frees its pixels.
    with _open_header(data, kind, label, name, max_pixels) as image:
        _check_pixel_count(image, label, name, max_pixels)
        _load_pixels(image, data, kind, label, name, max_pixels)
        orientation = _read_orientation(image)
        upright = _to_rgb8(image, label, name)

        transpose = _ORIENTATION_TRANSPOSES.get(orientation)
        if transpose is not None:
            upright = upright.transpose(transpose)

        # np.array copies, so the caller gets a writable array that no Pillow image shares.
        rgb = np.array(upright, dtype=np.uint8)
    return DecodedImage(rgb=rgb, format=kind, width=upright.width, height=upright.height)


@dataclass(frozen=True)
class _FileLabel:
    """The upload as error messages name it: its file name, or a generic phrase when the caller has none."""

    en: str
    zh: str

    @classmethod
    def of(cls, name: str | None) -> "_FileLabel":
        if not name:
            return cls(en="The uploaded image", zh="上传的图片")

        # The name comes from the client. Control characters and lone surrogates would corrupt a log
        # line or make the JSON of an error response unencodable, so messages show U+FFFD instead.
        printable_name = "".join(char if char.isprintable() else "\ufffd" for char in name[:_MAX_NAME_CHARS])
        if len(name) > _MAX_NAME_CHARS:
            printable_name += "..."
        return cls(en=printable_name, zh=f"{printable_name} ")


def _is_bmp(data: bytes) -> bool:
    if data[:2] != b"BM" or len(data) < 18:
        return False
    info_header_size = int.from_bytes(data[14:18], "little")
    return info_header_size in _BMP_INFO_HEADER_SIZES


def _sniff_isobmff(data: bytes) -> str | None:
    """Identify HEIC and AVIF by the brands of the `ftyp` box, the major brand first."""
    if data[4:8] != b"ftyp" or len(data) < 16:
        return None

    box_size = int.from_bytes(data[0:4], "big")
    major_brand = data[8:12]
    # Compatible brands follow the major brand and the 4-byte minor version, up to the box end.
    brands_end = min(box_size, len(data), 4096)
    compatible = {data[i : i + 4] for i in range(16, brands_end - 3, 4)}

    # An iPhone HEIC has the major brand "heic", and generic "mif1"/"msf1" files name the codec among
    # the compatible brands. AVIF is checked second because some encoders list both.
    for brands in ({major_brand}, compatible):
        if brands & _HEIC_BRANDS:
            return "heic"
        if brands & _AVIF_BRANDS:
            return "avif"
    return None


def _is_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg"):
        return True
    return head.startswith((b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in head


def _file_too_large(label: _FileLabel, name: str | None, size: int, max_bytes: int) -> FileTooLarge:
    limit_en, limit_zh = _format_byte_limit(max_bytes)
    return FileTooLarge(
        f"{label.en} is {size:,} bytes, over the limit of {limit_en} per file. "
        "Upload a smaller or more compressed photo.",
        f"{label.zh}大小为 {size:,} 字节，超过每个文件 {limit_zh} 的上限。请上传更小或压缩后的照片。",
        file=name,
    )


def _format_byte_limit(max_bytes: int) -> tuple[str, str]:
    """Format a byte limit in English and Chinese, with the largest binary unit it reaches."""
    for unit, unit_size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if max_bytes >= unit_size:
            in_unit = f"{max_bytes / unit_size:.1f}".removesuffix(".0") + f" {unit}"
            return f"{in_unit} ({max_bytes:,} bytes)", f"{in_unit}（{max_bytes:,} 字节）"
    return f"{max_bytes:,} bytes", f"{max_bytes:,} 字节"


def _unsupported_format(label: _FileLabel, name: str | None, kind: str | None) -> UnsupportedFormat:
    if kind is None:
        return UnsupportedFormat(
            f"{label.en} is not an image in a supported format. Upload the photo as {_ACCEPTED_LIST}.",
            f"{label.zh}不是受支持格式的图片。请上传 {_ACCEPTED_LIST_ZH} 格式的照片。",
            file=name,
        )
    kind_en, kind_zh = _REJECTED_KINDS[kind]
    return UnsupportedFormat(
        f"{label.en} is {kind_en}, not a supported photo format. "
        f"Upload the photo as {_ACCEPTED_LIST}.",
        f"{label.zh}是 {kind_zh}，不是受支持的照片格式。请上传 {_ACCEPTED_LIST_ZH} 格式的照片。",
        file=name,
    )


def _corrupt_image(label: _FileLabel, name: str | None, kind: str) -> CorruptImage:
    format_name = _FORMAT_NAMES[kind]
    return CorruptImage(
        f"{label.en} starts like a {format_name} file, but its header or image data is invalid. "
        "Upload the original photo again.",
        f"{label.zh}的文件头显示为 {format_name} 格式，但文件头或图像数据无效。请重新上传原始照片。",
        file=name,
    )


def _truncated_image(label: _FileLabel, name: str | None) -> TruncatedImage:
    return TruncatedImage(
        f"{label.en} is truncated: the image data ends early. Upload the complete file.",
        f"{label.zh}不完整：图像数据提前结束。请上传完整的文件。",
        file=name,
    )


def _too_many_pixels(
    label: _FileLabel, name: str | None, max_pixels: int, size: tuple[int, int] | None
) -> TooManyPixels:
    limit_mp = max_pixels / 1_000_000
    if size is None:
        claimed, claimed_zh = "more pixels than allowed", "像素数超出上限"
    else:
        width, height = size
        claimed = f"{width}x{height} = {width * height:,} pixels"
        claimed_zh = f"{width}×{height} = {width * height:,} 像素"
    return TooManyPixels(
        f"{label.en} is {claimed}, over the limit of {max_pixels:,} pixels. "
        f"Resize the photo to at most {limit_mp:g} megapixels and upload it again.",
        f"{label.zh}为 {claimed_zh}，超过 {max_pixels:,} 像素的上限。"
        f"请将照片缩小到不超过 {limit_mp:g} 百万像素后重新上传。",
        file=name,
    )


@cache
def _heif_image_class() -> type[ImageFile.ImageFile]:
    # Registering the opener once also lets Image.open() elsewhere in the process read HEIC.
    import pillow_heif
    from pillow_heif.as_plugin import HeifImageFile

    pillow_heif.register_heif_opener()
    return HeifImageFile


def _image_class(kind: str) -> type[ImageFile.ImageFile]:
    classes: dict[str, type[ImageFile.ImageFile]] = {
        # Image.open() would return MpoImageFile for a multi-picture JPEG. Both classes read the first
        # picture the same way, and only the first picture is decoded here.
        "jpeg": JpegImagePlugin.JpegImageFile,
        "png": PngImagePlugin.PngImageFile,
        "gif": GifImagePlugin.GifImageFile,
        "webp": WebPImagePlugin.WebPImageFile,
        "bmp": BmpImagePlugin.BmpImageFile,
        "tiff": TiffImagePlugin.TiffImageFile,
    }
    if kind == "heic":
        return _heif_image_class()
    return classes[kind]


def _open_header(
    data: bytes, kind: str, label: _FileLabel, name: str | None, max_pixels: int
) -> ImageFile.ImageFile:
    """Parse the header with the plugin for the sniffed format, without decoding pixel data.

    The plugin class is instantiated directly instead of through Image.open(). Image.open() runs
    Pillow's decompression-bomb check, which reads the process-wide Image.MAX_IMAGE_PIXELS and raises
    only above twice that value, so it would decide before this module's own limit did.
    """
    image_class = _image_class(kind)
    try:
        image = image_class(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # NOTE: the GIF, WebP and TIFF plugins still run Pillow's own check while parsing or loading,
        # at twice Image.MAX_IMAGE_PIXELS, so for them a max_pixels above that value is never reached.
        raise _too_many_pixels(label, name, max_pixels, None) from exc
    except _DECODER_ERRORS as exc:
        raise _corrupt_or_truncated(data, kind, label, name) from exc
    return image


def _check_pixel_count(image: Image.Image, label: _FileLabel, name: str | None, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptImage(
            f"{label.en} has an invalid size of {width}x{height} pixels in its header. "
            "Upload the original photo again.",
            f"{label.zh}的文件头中图像尺寸 {width}×{height} 无效。请重新上传原始照片。",
            file=name,
        )
    # For GIF the size is the logical screen, which is what Pillow allocates for every frame.
    if width * height > max_pixels:
        raise _too_many_pixels(label, name, max_pixels, (width, height))


def _load_pixels(
    image: ImageFile.ImageFile, data: bytes, kind: str, label: _FileLabel, name: str | None, max_pixels: int
) -> None:
    """Decode the current (first) frame, telling truncated data apart from corrupt data."""
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(label, name, max_pixels, None) from exc
    except OSError as exc:
        # NOTE: Pillow (13.0) signals truncation only through the message text ("image file is
        # truncated ..." from ImageFile.load()), so a reworded message would turn into corrupt_image.
        if "truncated" in str(exc).lower():
            raise _truncated_image(label, name) from exc
        raise _corrupt_or_truncated(data, kind, label, name) from exc
    except _DECODER_ERRORS as exc:
        raise _corrupt_or_truncated(data, kind, label, name) from exc


def _corrupt_or_truncated(
    data: bytes, kind: str, label: _FileLabel, name: str | None
) -> CorruptImage | TruncatedImage:
    """Choose the error for a file that Pillow failed to read: truncated if it ends inside a block."""
    if _ends_inside_block(data, kind):
        return _truncated_image(label, name)
    return _corrupt_image(label, name, kind)


def _ends_inside_block(data: bytes, kind: str) -> bool:
    """Check whether a length field in the file's block structure points past the end of the data.

    Pillow reports an upload cut short by a dropped connection as truncated only when the cut falls in
    the pixel data. A cut inside a JPEG header segment, a PNG chunk, the WebP RIFF container or a HEIC
    box makes Pillow fail with a generic error, so the container structure is walked here instead.
    """
    walkers = {
        "jpeg": _jpeg_ends_inside_segment,
        "png": _png_ends_inside_chunk,
        "webp": _webp_ends_inside_riff,
        "heic": _isobmff_ends_inside_box,
    }
    walker = walkers.get(kind)
    return walker is not None and walker(data)


def _jpeg_ends_inside_segment(data: bytes) -> bool:
    # Walks the marker segments up to the first start-of-scan. Entropy-coded data has no length field,
    # and Pillow itself reports a cut there as truncated.
    position = 2
    complete_segments = 0
    while position < len(data):
        if data[position] != 0xFF:
            return False
        if position + 1 == len(data):
            return True
        marker = data[position + 1]
        if marker == 0xFF:
            # A fill byte before the marker.
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            # TEM, RSTn and SOI stand alone, without a length field.
            position += 2
            continue
        if marker == 0xD9 or marker not in _JPEG_SEGMENT_MARKERS:
            return False
        if position + 4 > len(data):
            return True

        segment_end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if segment_end > len(data):
            # Random bytes after a JPEG signature also look like a long segment. A cut counts only
            # after a complete segment, or inside an application segment with a known identifier.
            payload = data[position + 4 : position + 4 + 32]
            return complete_segments > 0 or payload.startswith(_JPEG_APP_IDENTIFIERS)
        if marker == 0xDA:
            return False
        complete_segments += 1
        position = segment_end
    return True


def _png_ends_inside_chunk(data: bytes) -> bool:
    position = 8
    while position + 8 <= len(data):
        # Chunk types are four ASCII letters, so anything else is corrupt data and not a cut.
        if not data[position + 4 : position + 8].isalpha():
            return False
        chunk_length = int.from_bytes(data[position : position + 4], "big")
        # Each chunk is length (4), type (4), data and CRC (4).
        chunk_end = position + 12 + chunk_length
        if chunk_end > len(data):
            return True
        if data[position + 4 : position + 8] == b"IEND":
            return False
        position = chunk_end
    # The data ends inside a chunk header, or before the IEND chunk.
    return True


def _webp_ends_inside_riff(data: bytes) -> bool:
    if len(data) < 16:
        return True
    if data[12:16] not in (b"VP8 ", b"VP8L", b"VP8X"):
        return False
    riff_size = int.from_bytes(data[4:8], "little")
    return len(data) < 8 + riff_size


def _isobmff_ends_inside_box(data: bytes) -> bool:
    position = 0
    while position + 8 <= len(data):
        box_type = data[position + 4 : position + 8]
        if not all(0x20 <= byte <= 0x7E for byte in box_type):
            return False
        box_size = int.from_bytes(data[position : position + 4], "big")
        if box_size == 1:
            # A 64-bit size follows the box type.
            if position + 16 > len(data):
                return True
            box_size = int.from_bytes(data[position + 8 : position + 16], "big")
        elif box_size == 0:
            # The last box runs to the end of the file.
            return False
        if box_size < 8:
            return False
        if position + box_size > len(data):
            return True
        position += box_size
    return position < len(data)


def _read_orientation(image: Image.Image) -> int | None:
    """Return the EXIF orientation (1-8), or None when it is missing, out of range or unreadable."""
    try:
        orientation = image.getexif().get(_EXIF_ORIENTATION_TAG)
    except _DECODER_ERRORS:
        # A broken EXIF block loses only the orientation; the pixels are fine.
        return None
    if isinstance(orientation, int) and 1 <= orientation <= 8:
        return orientation
    return None


def _to_rgb8(image: Image.Image, label: _FileLabel, name: str | None) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, scaling 16-bit samples and compositing alpha on white."""
    # Pillow opens 16-bit grayscale as "I;16*", and signed 16-bit or 32-bit TIFF as "I". Mode "I" is
    # taken to hold 16-bit samples when its values fit, since 8 bits would have opened as "L".
    if image.mode.startswith("I;16") or image.mode == "I":
        gray = _scale_16bit_to_8bit(image, label, name)
        return gray.convert("RGB")

    if image.mode == "F":
        raise _unsupported_samples(label, name, "32-bit floating-point")

    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa") or "transparency" in image.info
    if image.mode == "RGB" and not has_alpha:
        # Most photos: convert() would only copy the pixels.
        return image

    try:
        if has_alpha:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, _WHITE)
            return Image.alpha_composite(white, rgba).convert("RGB")

        # NOTE: CMYK converts without the embedded ICC profile, so its colours are approximate. An ICC
        # profile of an RGB photo (Display P3, for one) is ignored too, and its pixels are read as sRGB.
        return image.convert("RGB")
    except ValueError as exc:
        # Pillow has no conversion to RGB for a few rare modes, such as premultiplied "La".
        raise _unsupported_samples(label, name, f"{image.mode} mode") from exc


def _scale_16bit_to_8bit(image: Image.Image, label: _FileLabel, name: str | None) -> Image.Image:
    # Pillow's convert() clamps 16-bit samples to 255 instead of scaling them, which turns the photo white.
    samples = np.asarray(image).astype(np.int64)
    if samples.size and (samples.min() < 0 or samples.max() > 65535):
        raise _unsupported_samples(label, name, "32-bit integer")
    scaled = (samples * 255 + 32767) // 65535
    return Image.fromarray(scaled.astype(np.uint8), "L")


def _unsupported_samples(label: _FileLabel, name: str | None, sample_type: str) -> UnsupportedFormat:
    # Pillow mode names stay as they are in the Chinese message.
    sample_types_zh = {"32-bit floating-point": "32 位浮点", "32-bit integer": "32 位整数"}
    sample_type_zh = sample_types_zh.get(sample_type, sample_type)
    return UnsupportedFormat(
        f"{label.en} stores {sample_type} samples, which cannot be converted to an 8-bit RGB photo. "
        "Export it as an 8-bit JPEG or PNG and upload it again.",
        f"{label.zh}的像素为 {sample_type_zh} 数据，无法转换为 8 位 RGB 照片。"
        "请导出为 8 位 JPEG 或 PNG 后重新上传。",
        file=name,
    )
