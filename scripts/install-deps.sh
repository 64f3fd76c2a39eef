#!/usr/bin/env bash
# Installs the Debian 12 packages creni-node needs: `build` (compile and run) or `test` (also the real peers the
# integration tests start: DCMTK tools, Orthanc, OpenSSL, Python). Installs only what is missing; uses sudo when
# not root. Every package comes from Debian's own archive: nothing is downloaded from elsewhere.
set -euo pipefail

profile="${1:-build}"

build_packages=(
  build-essential cmake ninja-build pkg-config ccache
  libdcmtk-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-dnn-dev
  libsqlite3-dev libspdlog-dev libcli11-dev libtomlplusplus-dev libssl-dev
  libcpp-httplib-dev prometheus-cpp-dev nlohmann-json3-dev
  libgtest-dev
  libopenjp2-7-dev
)
# python3-onnx and python3-numpy: the inference tests build their tiny ONNX models at test time (nothing downloaded).
# chromium, chromium-driver, python3-selenium: the dashboard's browser test; prometheus: a real scrape of /metrics.
# python3-pydicom: decodes ISO 2022 IR 87 text, which Debian's DCMTK (iconv) cannot, in the character set tests,
# and ships the public sample files of the real-world test; libopenjp2-tools (opj_compress) makes the JPEG 2000
# fixtures and openjph-tools (ojph_compress) the HTJ2K ones; dicom3tools (dciodvfy) checks outputs.
test_packages=(dcmtk orthanc openssl python3 python3-onnx python3-numpy python3-pydicom sqlite3 procps iproute2 strace
               curl python3-yaml chromium chromium-driver python3-selenium prometheus libopenjp2-tools openjph-tools
               dicom3tools)
# Installed by the test profile only where the machine's package sources have them (Debian 12's own archive has no
# kubectl); the tests that need them say so and are skipped without them.
optional_test_packages=(kubectl)

# container: what scripts/container-test.sh needs to build and run the image without a daemon or a registry.
container_packages=(podman buildah debootstrap)

case "$profile" in
  build) wanted=("${build_packages[@]}") ;;
  container) wanted=("${container_packages[@]}") ;;
  test) wanted=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [build|test|container]" >&2; exit 2 ;;
esac

if [ "$profile" = test ]; then
  for package in "${optional_test_packages[@]}"; do
    if apt-cache show "$package" >/dev/null 2>&1; then wanted+=("$package"); fi
  done
fi

missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
