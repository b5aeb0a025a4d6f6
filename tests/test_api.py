"""The HTTP API, served by a real uvicorn process on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from .helpers import BAD_INPUTS, EXAMPLE_LOT, REPO, expected_rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "VISION_VALUER_DATA_DIR": str(tmp_path_factory.mktemp("api-data"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("uvicorn did not start: " + process.stderr.read().decode(errors="replace")[-2000:])

    with httpx.Client(base_url=base, timeout=120) as client:
        yield client
    process.terminate()
    process.wait(timeout=10)


def example_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    files = [("photos", (path.name, path.read_bytes(), "image/jpeg")) for path in sorted((EXAMPLE_LOT / "photos").iterdir())]
    files += [("documents", (path.name, path.read_bytes(), "image/png")) for path in sorted((EXAMPLE_LOT / "documents").iterdir())]
    files.append(("lot", ("lot.json", (EXAMPLE_LOT / "lot.json").read_bytes(), "application/json")))
    return files


def test_appraise_example_lot_over_http(server):
    response = server.post("/v1/appraisals", files=example_files())
    assert response.status_code == 201, response.text
    appraisal = response.json()
    assert appraisal["documents"][0]["reading"]["vehicle_license"]["plate"] == "京AA5599"
    assert appraisal["documents"][0]["reading"]["vehicle_license"]["register_date"] == "2018-06-14"
    assert "vin_check_digit_mismatch" in [flag["code"] for flag in appraisal["flags"]]
    assert all(photo["damage"]["findings"] for photo in appraisal["photos"])
    assert appraisal["valuation"]["recommended_reserve_price"] > 0

    stored = server.get(f"/v1/appraisals/{appraisal['id']}")
    assert stored.status_code == 200
    assert stored.json() == appraisal

    overlay = server.get(f"/v1/appraisals/{appraisal['id']}/overlays/0.png")
    assert overlay.status_code == 200
    assert overlay.headers["content-type"] == "image/png"
    assert overlay.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_appraisal_is_404(server):
    response = server.get("/v1/appraisals/" + "0" * 32)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "appraisal_not_found"
    assert server.get("/v1/appraisals/../../etc/passwd").status_code == 404


def test_missing_overlay_is_404(server):
    appraisal = server.post("/v1/appraisals", files=example_files()[:1]).json()
    response = server.get(f"/v1/appraisals/{appraisal['id']}/overlays/5.png")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "appraisal_not_found"


def test_request_without_photos_is_rejected(server):
    response = server.post("/v1/appraisals", files=example_files()[-1:])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_openapi_and_page(server):
    assert server.get("/docs").status_code == 200
    schema = server.get("/openapi.json").json()
    assert "/v1/appraisals" in schema["paths"]
    page = server.get("/")
    assert page.status_code == 200
    assert "车辆评估" in page.text


@pytest.mark.parametrize("row", expected_rows("images/"), ids=lambda row: row["path"])
def test_bad_image_over_http(server, row):
    name = row["path"].split("/")[-1]
    response = server.post("/v1/appraisals", files=[("photos", (name, (BAD_INPUTS / row["path"]).read_bytes(), "application/octet-stream"))])
    if row["expected"] == "ok":
        assert response.status_code == 201, response.text
        photo = response.json()["photos"][0]
        assert (photo["width"], photo["height"]) == (int(row["width"]), int(row["height"]))
    else:
        assert 400 <= response.status_code < 500
        error = response.json()["error"]
        assert error["code"] == row["expected"]
        assert error["file"] == name
        assert error["message"] and error["message_zh"]


@pytest.mark.parametrize("row", expected_rows("lots/"), ids=lambda row: row["path"])
def test_bad_lot_json_over_http(server, row):
    files = [
        ("photos", ("baseline.jpg", (BAD_INPUTS / "images" / "baseline.jpg").read_bytes(), "image/jpeg")),
        ("lot", ("lot.json", (BAD_INPUTS / row["path"]).read_bytes(), "application/json")),
    ]
    response = server.post("/v1/appraisals", files=files)
    checks = dict(token.split("=", 1) for token in row["check"].split(";") if "=" in token)
    if row["expected"] == "ok":
        assert response.status_code == 201, response.text
        if "region" in checks:
            assert response.json()["lot"]["region"] == checks["region"]
        if "flag" in checks:
            assert checks["flag"] in [flag["code"] for flag in response.json()["flags"]]
    else:
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_lot_metadata"
        assert error["field"] in checks["field"].split("|")


def test_rejected_upload_stores_nothing(server, tmp_path):
    files = example_files()[:1] + [("photos", ("bad.jpg", b"not an image", "image/jpeg"))]
    response = server.post("/v1/appraisals", files=files)
    assert response.status_code == 415
    body = response.json()["error"]
    assert body["code"] == "unsupported_format"
    assert [error["file"] for error in body["errors"]] == ["bad.jpg"]
    assert json.dumps(body, ensure_ascii=False)


def png_bytes(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("field, size", [("photos", (1_000_001, 1)), ("documents", (2100, 15))])
def test_extreme_shapes_rejected(server, field, size):
    files = [("photos", ("baseline.jpg", (BAD_INPUTS / "images" / "baseline.jpg").read_bytes(), "image/jpeg"))]
    if field == "photos":
        files = []
    files.append((field, ("strip.png", png_bytes(*size), "image/png")))

    response = server.post("/v1/appraisals", files=files)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "unsupported_dimensions"
    assert response.json()["error"]["file"] == "strip.png"


def test_personal_data_returned_not_stored(server):
    response = server.post("/v1/appraisals", params={"include_personal": "true"}, files=example_files())
    assert response.status_code == 201
    assert response.headers["location"] == f"/v1/appraisals/{response.json()['id']}"
    licence = response.json()["documents"][0]["reading"]["vehicle_license"]
    assert licence["owner"] == "王京"

    stored = server.get(response.headers["location"]).json()
    stored_licence = stored["documents"][0]["reading"]["vehicle_license"]
    assert stored_licence["owner"] is None
    assert stored_licence["address"] is None
    assert stored_licence["plate"] == "京AA5599"


def test_routing_errors_use_envelope(server):
    missing = server.get("/v2/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"

    wrong_method = server.delete("/v1/appraisals")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"

    broken = server.post(
        "/v1/appraisals", content=b"--x\r\nnot a part", headers={"content-type": "multipart/form-data; boundary=y"}
    )
    assert 400 <= broken.status_code < 500
    assert "error" in broken.json()


def test_bad_lot_and_bad_photo_both_reported(server):
    files = [
        ("photos", ("notes.jpg", (BAD_INPUTS / "images" / "notes.jpg").read_bytes(), "image/jpeg")),
        ("lot", ("lot.json", (BAD_INPUTS / "lots" / "negative_value.json").read_bytes(), "application/json")),
    ]
    response = server.post("/v1/appraisals", files=files)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_lot_metadata"
    assert error["field"] == "reference_value"
    assert [item["code"] for item in error["errors"]] == ["invalid_lot_metadata", "unsupported_format"]


def test_oversized_request_refused_from_header(server):
    # httpx will not send a Content-Length that the body does not match, so this request is raw.
    host, port = server.base_url.host, server.base_url.port
    request = (
        "POST /v1/appraisals HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {10**12}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + b"x" * 16
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk

    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split(b" ")[1] == b"413"
    assert json.loads(body)["error"]["code"] == "file_too_large"
