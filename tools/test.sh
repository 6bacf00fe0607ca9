#!/usr/bin/env bash
# Installs, builds, starts throwaway PostgreSQL and MariaDB servers on
# loopback (tools/servers.sh) and runs every test: the C unit tests (also under
# valgrind), the busted specs and the CLI tests, once in a normal build
# and once under AddressSanitizer + UBSan (exit code 99 on any report, so a
# report can never pass for an expected exit code); luacheck over lua/ and
# scripts/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh

jobs="$(nproc)"

echo "== database servers (PostgreSQL, MariaDB) on loopback"
eval "$(tools/servers.sh start)"
trap 'tools/servers.sh stop' EXIT

echo "== luacheck"
luacheck --no-color -q lua scripts tests/spec tests/cli tests/conformance

echo "== build (warnings are errors)"
cmake -S . -B build -DN9E_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest --output-on-failure)

echo "== build with AddressSanitizer + UBSan"
cmake -S . -B build-asan -DN9E_WERROR=ON -DN9E_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j"$jobs"
echo "== tests under AddressSanitizer + UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -E valgrind)
