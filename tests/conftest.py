"""Test set-up: the service's data directory goes to a temporary folder, never the user's."""

import os
import tempfile
from pathlib import Path

# Settings are read when vision_valuer.config is first imported, so this runs before any test
# module imports the package.
os.environ.setdefault("VISION_VALUER_DATA_DIR", tempfile.mkdtemp(prefix="vision-valuer-tests-"))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
