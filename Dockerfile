# Serving image: onnxruntime only, no torch.
FROM python:3.11-slim

# tesseract is one of the two OCR engines; libgl1 and libglib2.0-0 are needed by the
# opencv-python wheel that rapidocr-onnxruntime pulls in beside opencv-python-headless.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY vision_valuer ./vision_valuer
COPY api ./api
COPY weights ./weights
COPY examples ./examples
RUN pip install --no-cache-dir .

ENV VISION_VALUER_WEIGHTS_DIR=/app/weights \
    VISION_VALUER_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
CMD ["vision-valuer", "serve", "--host", "0.0.0.0", "--port", "8000"]
