#!/usr/bin/env bash
# Installs the Debian 12 packages vmref builds and tests with (run as root).
# Does nothing when they are all present, so it is cheap to call every time.
set -euo pipefail
pkgs=(g++ cmake make libgtest-dev libgmock-dev librapidcheck-dev nlohmann-json3-dev libsimdjson-dev
      libcli11-dev libfmt-dev libzstd-dev zstd libz3-dev libpugixml-dev libxml2-utils python3 python3-jsonschema python3-yaml
      pkgconf  # pkg-config: the installed vmref-emit.pc (ctest emit:install)
      clang libclang-rt-14-dev  # clang + libFuzzer: tools/fuzz.sh
      chromium fonts-liberation)  # renders the HTML report in ctest report:html-in-chromium
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
