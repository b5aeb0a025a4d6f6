#!/usr/bin/env bash
# Set up vision-valuer on a fresh Debian or Ubuntu machine: tesseract with its Chinese and English
# data (through apt, when missing), then a virtual environment in .venv with the package.
#
#   ./setup.sh          run time only: appraise lots, serve the API (no torch)
#   ./setup.sh --dev    also torch, training and test dependencies
set -euo pipefail
cd "$(dirname "$0")"

extras=""
if [ "${1:-}" = "--dev" ]; then
  extras="[train,test]"
fi

if ! command -v tesseract >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "setup: installing tesseract-ocr with chi_sim and eng data through apt"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "setup: installing vision-valuer${extras} into .venv"
.venv/bin/python -m pip install -q -e ".${extras}"
echo "setup: done"
