"""HTTP API: upload a lot and get its appraisal, fetch stored appraisals and their overlays."""

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, File, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vision_valuer.config import settings
from vision_valuer.errors import FileTooLarge, ValuerError
from vision_valuer.logs import configure_logging
from vision_valuer.pipeline import LotUpload, UploadedFile, get_appraiser
from vision_valuer.schema import Appraisal
from vision_valuer.store import AppraisalStore

from .page import INSPECTOR_PAGE

log = logging.getLogger("vision_valuer.api")

@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    configure_logging()
    log.info("service started", extra={"data_dir": str(settings.data_dir), "weights_dir": str(settings.weights_dir)})
    yield
    log.info("service stopped")


app = FastAPI(
    lifespan=lifespan,
    title="vision-valuer",
    version="0.1.0",
    description="Appraise repossessed cars from photos and documents. 根据照片和证件评估收回车辆。",
)

# Appraisals run in worker threads so the event loop keeps serving requests. The limiter keeps a
# burst of uploads from starting more model runs at once than the machine has cores for.
appraisal_slots = anyio.CapacityLimiter(settings.max_concurrent_appraisals)


@lru_cache(maxsize=1)
def get_store() -> AppraisalStore:
    return AppraisalStore(settings.data_dir)


StoreDep = Annotated[AppraisalStore, Depends(get_store)]


@app.exception_handler(ValuerError)
async def valuer_error_handler(request: Request, error: ValuerError) -> JSONResponse:
    log.info("request rejected", extra={"path": request.url.path, "code": error.code, "file_index": error.file is not None})
    return JSONResponse(status_code=int(error.status), content={"error": error.to_dict()})


@app.middleware("http")
async def reject_oversized_requests(request: Request, call_next):
    # Checked from the header, so an oversized upload is refused before its body is read.
    # NOTE: a chunked request carries no Content-Length and is only limited per file.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_request_bytes:
        error = FileTooLarge(
            f"The request is {declared} bytes; at most {settings.max_request_bytes} are accepted. Split the lot.",
            f"请求大小为 {declared} 字节，最多接受 {settings.max_request_bytes} 字节，请分批上传。",
        )
        return JSONResponse(status_code=int(error.status), content={"error": error.to_dict()})
    return await call_next(request)


HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


@app.exception_handler(StarletteHTTPException)
async def http_error_handler(request: Request, error: StarletteHTTPException) -> JSONResponse:
    # Routing and multipart parsing errors from Starlette get the same envelope as the service's own.
    code = HTTP_ERROR_CODES.get(error.status_code, "invalid_request")
    content = {
        "error": {
            "code": code,
            "message": f"{request.method} {request.url.path} failed: {error.detail}.",
            "message_zh": f"{request.method} {request.url.path} 请求失败：{error.detail}。请检查地址、方法和请求格式。",
            "field": None,
            "file": None,
        }
    }
    return JSONResponse(status_code=error.status_code, content=content, headers=getattr(error, "headers", None))


@app.exception_handler(Exception)
async def unexpected_error_handler(request: Request, error: Exception) -> JSONResponse:
    log.error(
        "request failed",
        extra={"path": request.url.path, "error_type": type(error).__name__},
        exc_info=error,
    )
    content = {
        "error": {
            "code": "internal_error",
            "message": "The appraisal failed on an unexpected error; nothing was stored. Retry, or report it with the time.",
            "message_zh": "评估时发生意外错误，未保存任何内容。请重试，或连同时间报告此问题。",
            "field": None,
            "file": None,
        }
    }
    return JSONResponse(status_code=500, content=content)


@app.exception_handler(RequestValidationError)
async def validation_error_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    first = error.errors()[0] if error.errors() else {}
    field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
    content = {
        "error": {
            "code": "invalid_request",
            "message": f"The request is invalid at {field or 'the body'}: {first.get('msg', 'invalid value')}.",
            "message_zh": f"请求无效，位置：{field or '请求体'}。请检查字段名称和类型。",
            "field": field,
            "file": None,
        }
    }
    return JSONResponse(status_code=422, content=content)


async def _read_upload(upload: UploadFile) -> UploadedFile:
    # Read one byte past the limit, so an oversized file is caught without reading all of it.
    data = await upload.read(settings.max_upload_bytes + 1)
    # A client can send any bytes as a file name; lone surrogates would break the JSON response.
    name = (upload.filename or "upload").encode("utf-8", errors="replace").decode("utf-8")[:255]
    if len(data) > settings.max_upload_bytes:
        raise FileTooLarge(
            f"{name} is larger than {settings.max_upload_bytes} bytes, the limit per file. Upload a smaller photo.",
            f"{name} 超过单个文件上限 {settings.max_upload_bytes} 字节，请上传较小的照片。",
            file=name,
        )
    return UploadedFile(name=name, data=data)


@app.get("/", response_class=HTMLResponse, include_in_schema=False)
async def inspector_page() -> str:
    return INSPECTOR_PAGE


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.post("/v1/appraisals", status_code=201, response_model=Appraisal)
async def create_appraisal(
    store: StoreDep,
    response: Response,
    photos: Annotated[list[UploadFile], File(description="vehicle photos 车辆照片")],
    documents: Annotated[list[UploadFile] | None, File(description="document photos 证件照片")] = None,
    lot: Annotated[UploadFile | None, File(description="lot.json: reference value, sale date, declared VIN…")] = None,
    include_personal: Annotated[bool, Query(description="return owner name and address read from documents")] = False,
) -> Appraisal:
    request_id = uuid.uuid4().hex
    upload = LotUpload(
        name=None,
        photos=[await _read_upload(photo) for photo in photos],
        documents=[await _read_upload(document) for document in documents or []],
        lot_json=(await _read_upload(lot)).data if lot is not None else None,
        include_personal=include_personal,
    )
    log.info("appraisal requested", extra={"request_id": request_id, "photos": len(upload.photos), "documents": len(upload.documents)})

    def run() -> Appraisal:
        result = get_appraiser().appraise(upload)
        store.save(result, upload)
        return result.appraisal

    appraisal = await anyio.to_thread.run_sync(run, limiter=appraisal_slots)
    response.headers["Location"] = f"/v1/appraisals/{appraisal.id}"
    return appraisal


@app.get("/v1/appraisals/{appraisal_id}", response_model=Appraisal)
async def read_appraisal(appraisal_id: str, store: StoreDep) -> Appraisal:
    return await anyio.to_thread.run_sync(store.get, appraisal_id)


@app.get("/v1/appraisals/{appraisal_id}/overlays/{index}.png", response_class=FileResponse)
async def read_overlay(appraisal_id: str, index: int, store: StoreDep) -> FileResponse:
    path = await anyio.to_thread.run_sync(store.overlay_path, appraisal_id, index)
    return FileResponse(path, media_type="image/png")
