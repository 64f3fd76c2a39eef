#!/usr/bin/env bash
# One command to install what is missing, build, and start the node on its embedded defaults (watch ./INPUT,
# DICOM SCP on port 11112, write ./OUTPUT, journal in ./state, forwarding off). Extra arguments go to `run`,
# for example: scripts/run.sh --config conf/creni-node.toml
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
scripts/build.sh
exec build/src/app/creni-node run "$@"
