#!/bin/sh
# Make sure the Debian packages leonardo needs are installed.
#
#   tools/deps.sh build   what `make` and `make check` need (default)
#   tools/deps.sh bench   also the wasm32-wasi C toolchain for `make bench`
#   tools/deps.sh all     both, and node (CI: the reference that the WASI tests compare with)
#   tools/deps.sh aarch64 the AArch64 cross compiler and qemu, for `make check-aarch64`
#
# Installs what is missing with apt-get when run as root on Debian; otherwise
# prints the exact command to run and fails.  Quiet and quick when nothing is
# missing, because the makefile calls it on every build.
set -eu

group=${1:-build}

build_pkgs="gcc libc6-dev make pkg-config check libxxhash-dev"
bench_pkgs="clang lld wasi-libc libclang-rt-14-dev-wasm32"
aarch64_pkgs="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
case $group in
    build) want=$build_pkgs ;;
    bench) want="$build_pkgs $bench_pkgs" ;;
    all)   want="$build_pkgs $bench_pkgs nodejs" ;;   # node: the reference WASI of tests/test_wasi_guest.c
    aarch64) want=$aarch64_pkgs ;;
    *) echo "usage: tools/deps.sh [build|bench|all|aarch64]" >&2; exit 2 ;;
esac

# Fast path: the tools and libraries answer for themselves.
have() {
    case $1 in
        pkg-config|gcc|make|clang) command -v "$1" >/dev/null 2>&1 ;;
        libc6-dev)      [ -f /usr/include/stdio.h ] ;;
        check)          pkg-config --exists check 2>/dev/null ;;
        libxxhash-dev)  pkg-config --exists libxxhash 2>/dev/null || [ -f /usr/include/xxhash.h ] ;;
        lld)            command -v wasm-ld >/dev/null 2>&1 || command -v wasm-ld-14 >/dev/null 2>&1 ;;
        wasi-libc)      [ -f /usr/lib/wasm32-wasi/libc.a ] ;;
        gcc-aarch64-linux-gnu)  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 ;;
        libc6-dev-arm64-cross)  [ -f /usr/aarch64-linux-gnu/include/stdio.h ] ;;
        qemu-user)      command -v qemu-aarch64 >/dev/null 2>&1 ;;
        nodejs)         command -v node >/dev/null 2>&1 ;;
        libclang-rt-14-dev-wasm32)
                        ls /usr/lib/llvm-14/lib/clang/14*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 ;;
        *) dpkg -s "$1" >/dev/null 2>&1 ;;
    esac
}

missing=""
for p in $want; do
    have "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
    echo "tools/deps.sh: installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
    exit 0
fi

echo "tools/deps.sh: missing packages:$missing" >&2
echo "  run:  sudo apt-get install -y$missing" >&2
echo "  (all of leonardo's: sudo apt-get install -y $build_pkgs $bench_pkgs)" >&2
exit 1
