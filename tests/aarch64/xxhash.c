/*
 * xxHash for the AArch64 cross build of leonardo (make check-aarch64).
 * Debian's libxxhash-dev installs an x86-64 library but an
 * architecture-neutral header, and the header can also build the library:
 * so the cross build compiles it from there instead of needing an AArch64
 * libxxhash (a multiarch package set up by hand).
 */
#define XXH_STATIC_LINKING_ONLY
#define XXH_IMPLEMENTATION
#include <xxhash.h>
