#!/usr/bin/env bash
# One command to install what is missing (including the real DICOM peers the tests start), build, and run the
# whole test suite through ctest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
scripts/build.sh
ctest --test-dir "${CRENI_BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" "$@"
