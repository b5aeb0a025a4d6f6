"""Read a lot folder from disk into a LotUpload.

Layout: `photos/` contains vehicle photos, `documents/` contains document photos (vehicle licence,
registration certificate, VIN plate, odometer), and `lot.json` is optional. Files are taken in
name order; hidden files are skipped.
"""

from pathlib import Path

from .config import settings
from .errors import FileTooLarge, InvalidLot
from .pipeline import LotUpload, UploadedFile


def _read_files(folder: Path) -> list[UploadedFile]:
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        size = path.stat().st_size
        if size > settings.max_upload_bytes:
            raise FileTooLarge(
                f"{path.name} is {size} bytes; at most {settings.max_upload_bytes} are accepted per file.",
                f"{path.name} 大小为 {size} 字节，单个文件最多 {settings.max_upload_bytes} 字节。",
                file=path.name,
            )
        files.append(UploadedFile(name=path.name, data=path.read_bytes()))
    return files


def read_lot_folder(folder: Path, include_personal: bool = False) -> LotUpload:
    """Load a lot folder; raise InvalidLot when it is missing or has no photos/ folder."""
    if not folder.is_dir():
        raise InvalidLot(
            f"{folder} is not a folder. Pass a lot folder with photos/, documents/ and an optional lot.json.",
            f"{folder} 不是文件夹。请传入包含 photos/、documents/ 及可选 lot.json 的批次文件夹。",
        )
    if not (folder / "photos").is_dir():
        raise InvalidLot(
            f"{folder} has no photos/ folder. Put the vehicle photos in {folder / 'photos'}.",
            f"{folder} 下没有 photos/ 文件夹，请把车辆照片放在 {folder / 'photos'}。",
            field="photos",
        )
    lot_json = folder / "lot.json"
    return LotUpload(
        name=folder.name,
        photos=_read_files(folder / "photos"),
        documents=_read_files(folder / "documents"),
        lot_json=lot_json.read_bytes() if lot_json.is_file() else None,
        include_personal=include_personal,
    )
