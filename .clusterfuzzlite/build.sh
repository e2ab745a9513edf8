#!/bin/bash -eu
# Builds vmref's libFuzzer targets (conformance/fuzz/) the way OSS-Fuzz and ClusterFuzzLite
# build a project: run from the source root (the Dockerfile's WORKDIR) with the
# environment they set (CC, CXX, CFLAGS, CXXFLAGS with the sanitizer of this build,
# LIB_FUZZING_ENGINE, OUT, WORK). It puts each fuzz_<target> and its
# fuzz_<target>_seed_corpus.zip (committed seeds and regressions) in $OUT.
# tools/fuzz.sh builds through this script too, so .ci/run exercises it.
#
#   .clusterfuzzlite/build.sh [CMAKE_TARGET...]   (default: every fuzz target)
# The shebang's -eu is lost when the script is run as `bash build.sh` (fuzz.sh, OSS-Fuzz):
# a failed build must stop it.
set -euo pipefail
root=$PWD
[ -f "$root/conformance/fuzz/CMakeLists.txt" ] || { echo "build.sh: run it from the vmref source root" >&2; exit 2; }
: "${CC:?} ${CXX:?} ${LIB_FUZZING_ENGINE:?} ${OUT:?} ${WORK:?}"
build=${VMREF_FUZZ_BUILD:-$WORK/vmref-build}
# The Debian/Ubuntu -dev libraries vmref links (fmt, simdjson, Z3...) are built against
# libstdc++, so OSS-Fuzz's -stdlib=libc++ cannot be used (and MSan builds, which need an
# instrumented C++ library, are not supported; ASan and UBSan are).
cxxflags=${CXXFLAGS:-}
cxxflags=${cxxflags//-stdlib=libc++/}
# The optimisation and debug flags are the environment's (OSS-Fuzz: -O1 -gline-tables-only):
# the build type adds none of its own, nor NDEBUG, so assertions stay on while fuzzing.
cmake -S "$root" -B "$build" -DVMREF_FUZZ=ON -DVMREF_FUZZ_SANITIZE=OFF -DVMREF_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO= -DCMAKE_CXX_FLAGS_RELWITHDEBINFO= \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="$cxxflags"
names=$(sed -n 's/^set(VMREF_FUZZ_TARGETS \(.*\))$/\1/p' "$root/conformance/fuzz/CMakeLists.txt")
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then for n in $names; do targets+=("fuzz_$n"); done; fi
cmake --build "$build" -j"${VMREF_BUILD_JOBS:-$(nproc)}" --target "${targets[@]}"
mkdir -p "$OUT"
for n in $names; do
  exe=$build/conformance/fuzz/fuzz_$n
  [ -x "$exe" ] || continue  # not among the targets asked for
  cp "$exe" "$OUT/"
  # The seed corpus: the committed seeds and every input kept as a regression.
  python3 - "$OUT/fuzz_${n}_seed_corpus.zip" "$root/conformance/fuzz/corpus/$n" "$root/conformance/fuzz/regressions/$n" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for d in sys.argv[2:]:
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if os.path.isfile(os.path.join(d, f)):
                z.write(os.path.join(d, f), os.path.basename(d) + "-" + f)
PY
done
