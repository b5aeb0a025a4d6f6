"""Appraisal storage: records in SQLite (through SQLAlchemy), uploads and overlays as files.

Layout under the data directory:

    appraisals.sqlite3
    appraisals/<id>/lot.json
    appraisals/<id>/photos/<n>.<format>
    appraisals/<id>/documents/<n>.<format>
    appraisals/<id>/overlays/<n>.png

Files are written first and the database row last, in one transaction, so a record never
points at files that are missing. Owner names and addresses read from documents are returned to
the caller who asked for them but removed from the stored record. Uploads are stored under their index, never their client
name, which keeps hostile names out of paths.
"""

import re
import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import DateTime, String, Text, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from .errors import AppraisalNotFound
from .pipeline import AppraisalResult, LotUpload
from .schema import Appraisal

APPRAISAL_ID = re.compile(r"^[0-9a-f]{32}$")


class Base(DeclarativeBase):
    pass


class AppraisalRow(Base):
    __tablename__ = "appraisals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    lot_name: Mapped[str | None] = mapped_column(String(255))
    declared_vin: Mapped[str | None] = mapped_column(String(32), index=True)
    record: Mapped[str] = mapped_column(Text)


def redact_personal(appraisal: Appraisal) -> Appraisal:
    """Return a copy of the appraisal without the owner names and addresses read from documents."""
    redacted = appraisal.model_copy(deep=True)
    for document in redacted.documents:
        for record in (document.reading.vehicle_license, document.reading.registration_certificate):
            if record is None:
                continue
            for field in ("owner", "address"):
                if hasattr(record, field):
                    setattr(record, field, None)
    return redacted


class AppraisalStore:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{data_dir / 'appraisals.sqlite3'}")
        Base.metadata.create_all(self.engine)

    def folder(self, appraisal_id: str) -> Path:
        if not APPRAISAL_ID.match(appraisal_id):
            raise self._not_found(appraisal_id)
        return self.data_dir / "appraisals" / appraisal_id

    def save(self, result: AppraisalResult, upload: LotUpload) -> None:
        """Store the uploads, the overlays and the record of one appraisal."""
        appraisal = result.appraisal
        folder = self.folder(appraisal.id)
        try:
            for kind, files, assessments in (
                ("photos", upload.photos, appraisal.photos),
                ("documents", upload.documents, appraisal.documents),
            ):
                (folder / kind).mkdir(parents=True, exist_ok=True)
                for upload_file, assessment in zip(files, assessments):
                    (folder / kind / f"{assessment.index}.{assessment.format}").write_bytes(upload_file.data)
            (folder / "overlays").mkdir(parents=True, exist_ok=True)
            for index, png in enumerate(result.overlays):
                (folder / "overlays" / f"{index}.png").write_bytes(png)
            if upload.lot_json is not None:
                (folder / "lot.json").write_bytes(upload.lot_json)

            with Session(self.engine) as session, session.begin():
                session.add(
                    AppraisalRow(
                        id=appraisal.id,
                        created_at=appraisal.created_at,
                        lot_name=appraisal.lot_name,
                        declared_vin=appraisal.lot.declared_vin if appraisal.lot else None,
                        record=redact_personal(appraisal).model_dump_json(),
                    )
                )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def get(self, appraisal_id: str) -> Appraisal:
        self.folder(appraisal_id)
        with Session(self.engine) as session:
            row = session.scalar(select(AppraisalRow).where(AppraisalRow.id == appraisal_id))
        if row is None:
            raise self._not_found(appraisal_id)
        return Appraisal.model_validate_json(row.record)

    def overlay_path(self, appraisal_id: str, index: int) -> Path:
        appraisal = self.get(appraisal_id)
        if not 0 <= index < len(appraisal.photos):
            raise AppraisalNotFound(
                f"Appraisal {appraisal_id} has no overlay {index}; it has {len(appraisal.photos)} photos.",
                f"鉴定记录 {appraisal_id} 没有第 {index} 张标注图，共 {len(appraisal.photos)} 张照片。",
            )
        return self.folder(appraisal_id) / "overlays" / f"{index}.png"

    @staticmethod
    def _not_found(appraisal_id: str) -> AppraisalNotFound:
        # The id comes from the URL, so it is cut short before it goes into the message.
        truncated_id = appraisal_id[:64]
        return AppraisalNotFound(
            f"No appraisal with id {truncated_id!r}. Use the id returned by POST /v1/appraisals.",
            f"找不到编号为 {truncated_id!r} 的鉴定记录，请使用 POST /v1/appraisals 返回的编号。",
        )
