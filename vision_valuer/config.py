"""Service settings, read once from environment variables prefixed `VISION_VALUER_`."""

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vision-valuer"


def _default_weights_dir() -> Path:
    # A source checkout or an editable install keeps the weights beside the package. A wheel does
    # not carry them, so such an install sets VISION_VALUER_WEIGHTS_DIR (the Dockerfile does).
    return PACKAGE_ROOT.parent / "weights"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VISION_VALUER_")

    data_dir: Path = Field(default_factory=_default_data_dir, description="SQLite database and stored uploads")
    weights_dir: Path = Field(default_factory=_default_weights_dir, description="ONNX models and their metadata")
    inference_threads: int = Field(default=2, ge=1, description="onnxruntime intra-op threads per model")
    ocr_engine: str | None = Field(default=None, description="rapidocr or tesseract; None picks the measured default")
    max_files_per_lot: int = Field(default=60, ge=1)
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1, description="per file")
    max_request_bytes: int = Field(default=200 * 1024 * 1024, ge=1, description="whole upload request, checked from Content-Length")
    max_concurrent_appraisals: int = Field(default=2, ge=1)


settings = Settings()
