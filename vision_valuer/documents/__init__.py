"""The documents stage: OCR of 行驶证, 登记证书, VIN plates and odometers, and parsing of their fields."""
