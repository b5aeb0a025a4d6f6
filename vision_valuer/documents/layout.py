"""Group OCR lines into text rows of a possibly tilted page."""

import math
import statistics
from dataclasses import dataclass

from vision_valuer.documents.ocr_engines import OcrLine

# Lines at least this many times wider than tall give a reliable text direction.
MIN_ASPECT_FOR_ANGLE = 2.0


@dataclass(frozen=True)
class PlacedLine:
    """An OCR line with its bounds in page coordinates rotated so that text runs horizontally."""

    line: OcrLine
    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def text_angle(lines: list[OcrLine]) -> float:
    """Estimate the page's text direction in radians as the median slope of the long lines' top edges."""
    angles = []
    for line in lines:
        if line.width >= MIN_ASPECT_FOR_ANGLE * line.height:
            (x0, y0), (x1, y1) = line.box[0], line.box[1]
            angles.append(math.atan2(y1 - y0, x1 - x0))
    return statistics.median(angles) if angles else 0.0


def place_lines(lines: list[OcrLine]) -> list[PlacedLine]:
    """Rotate every line's centre by the page angle so that rows become horizontal."""
    angle = text_angle(lines)
    cos, sin = math.cos(-angle), math.sin(-angle)

    placed = []
    for line in lines:
        cx, cy = line.center
        x = cx * cos - cy * sin
        y = cx * sin + cy * cos
        half_width, half_height = line.width / 2, line.height / 2
        placed.append(PlacedLine(line, x - half_width, x + half_width, y - half_height, y + half_height))
    return placed


def group_rows(lines: list[OcrLine]) -> list[list[PlacedLine]]:
    """Group lines into rows, top to bottom, each row sorted left to right.

    A line joins a row when its centre lies inside the vertical extent of the row's first line and that
    line's centre lies inside its own extent. The mutual test keeps a small caption (such as the
    English label under a Chinese one) out of the row above it.
    """
    rows: list[list[PlacedLine]] = []
    for placed in sorted(place_lines(lines), key=lambda item: item.cy):
        for row in rows:
            anchor = row[0]
            if anchor.y0 <= placed.cy <= anchor.y1 and placed.y0 <= anchor.cy <= placed.y1:
                row.append(placed)
                break
        else:
            rows.append([placed])

    for row in rows:
        row.sort(key=lambda item: item.x0)
    rows.sort(key=lambda row: row[0].cy)
    return rows
