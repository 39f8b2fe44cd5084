#!/usr/bin/env bash
# Install the Debian packages the test suite needs. Idempotent: packages that
# are already installed are skipped, and `apt-get update` only runs when
# something is missing and apt cannot find it in its current lists.
#
#   postgresql      initdb/postgres for the throwaway test cluster (tests/servers.py)
#   chromium        headless browser for UI tests
#   fonts-noto-cjk  CJK glyphs for screenshots / charts of Chinese text
#   nodejs, npm     the mini-program's jest tests (wechat/); only when `node` / `npm` are not on PATH
#
# Usage: scripts/install-system-deps.sh [extra-package ...]
set -euo pipefail

NODE_PACKAGES=()
command -v node >/dev/null 2>&1 || NODE_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || NODE_PACKAGES+=(npm)
PACKAGES=(postgresql chromium fonts-noto-cjk ${NODE_PACKAGES[@]+"${NODE_PACKAGES[@]}"} "$@")

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-system-deps: must run as root (or have sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# wait for another apt/dpkg run instead of failing on its lock
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

has_candidate() {
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if is_installed "$pkg"; then
        echo "install-system-deps: $pkg already installed"
    else
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-system-deps: nothing to do"
    exit 0
fi

need_update=0
for pkg in "${missing[@]}"; do
    has_candidate "$pkg" || need_update=1
done
if [ "$need_update" -eq 1 ]; then
    echo "install-system-deps: apt-get update"
    "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq
fi

echo "install-system-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"

failed=()
for pkg in "${missing[@]}"; do
    is_installed "$pkg" || failed+=("$pkg")
done
if [ "${#failed[@]}" -ne 0 ]; then
    echo "install-system-deps: still not installed: ${failed[*]}" >&2
    exit 1
fi
echo "install-system-deps: done"
