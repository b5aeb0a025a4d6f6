"""Errors that reach a caller: each has a stable code, an English and a Chinese message, and an HTTP status."""

from http import HTTPStatus


class ValuerError(Exception):
    """A failure the caller can act on. `code` is stable and documented; messages may change."""

    code = "internal_error"
    status = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, message_zh: str, *, field: str | None = None, file: str | None = None):
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh
        self.field = field
        self.file = file

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "field": self.field,
            "file": self.file,
        }


class EmptyFile(ValuerError):
    code = "empty_file"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class UnsupportedFormat(ValuerError):
    code = "unsupported_format"
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class TruncatedImage(ValuerError):
    code = "truncated_image"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class CorruptImage(ValuerError):
    code = "corrupt_image"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class TooManyPixels(ValuerError):
    code = "too_many_pixels"
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedDimensions(ValuerError):
    """A decodable image whose shape the models cannot use: a side too long or too thin a strip."""

    code = "unsupported_dimensions"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class FileTooLarge(ValuerError):
    code = "file_too_large"
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class InvalidLotMetadata(ValuerError):
    code = "invalid_lot_metadata"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class InvalidLot(ValuerError):
    """The lot as a whole cannot be appraised (no photos, unreadable folder, too many files)."""

    code = "invalid_lot"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class AppraisalNotFound(ValuerError):
    code = "appraisal_not_found"
    status = HTTPStatus.NOT_FOUND


class UploadRejected(ValuerError):
    """One or more files of a lot were rejected. Takes the code and status of the first failure."""

    def __init__(self, errors: list[ValuerError]):
        first = errors[0]
        count = len(errors)
        super().__init__(
            f"{count} file(s) of the lot were rejected; the first: {first.message}",
            f"本批次有 {count} 个文件被拒收；第一个：{first.message_zh}",
            field=first.field,
            file=first.file,
        )
        self.code = first.code
        self.status = first.status
        self.errors = errors

    def to_dict(self) -> dict:
        return {**super().to_dict(), "errors": [error.to_dict() for error in self.errors]}
