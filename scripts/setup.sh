#!/usr/bin/env bash
# setup.sh - installs what ferry needs to build and test (Debian 12
# packages, only those missing) and builds it into build/.
#
#   scripts/setup.sh            packages + build
#   scripts/setup.sh --no-build packages only
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(gcc meson ninja-build pkg-config libcurl4-openssl-dev libssl-dev
      libcjson-dev libexpat1-dev libcmocka-dev python3 python3-botocore
      curl clang-format)

missing=()
for p in "${PKGS[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/tmp/ferry-apt.log 2>&1 || { tail -20 /tmp/ferry-apt.log; exit 1; }
fi
bash tests/servers/rgw.sh install

[[ ${1:-} == --no-build ]] && exit 0
if [[ ! -d build ]]; then
    meson setup build -Dwerror=true >/dev/null
fi
ninja -C build >/dev/null
echo "setup: built build/ferry"
