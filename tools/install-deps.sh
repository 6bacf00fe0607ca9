#!/usr/bin/env bash
# Installs the Debian packages that building and testing need.  Idempotent:
# when everything is present it changes nothing; otherwise it runs
# apt-get update, then apt-get install -y.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4 lua-cjson lua-cjson-dev lua-busted lua-check
  libsqlite3-dev sqlite3 libssl-dev libpq-dev libmariadb-dev
  postgresql mariadb-server
  libmicrohttpd-dev curl libcmocka-dev valgrind clang libclang-rt-14-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
