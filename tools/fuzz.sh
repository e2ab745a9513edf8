#!/usr/bin/env bash
# Runs the libFuzzer targets of conformance/fuzz/ (CONTRIBUTING.md "Fuzzing the parsers").
#
#   tools/fuzz.sh [TARGET|all] [SECONDS] [JOBS]
#
# TARGET: one name of VMREF_FUZZ_TARGETS in conformance/fuzz/CMakeLists.txt, or all
# (default). SECONDS: how long each target runs (default 60). JOBS: how many targets run
# at the same time (default 1; each is one process).
#
# Builds only the fuzz targets in build-fuzz/ (clang, VMREF_FUZZ=ON: ASan + UBSan +
# coverage in every library, -O1 with line tables) through .clusterfuzzlite/build.sh, the
# script ClusterFuzzLite and OSS-Fuzz run, given the flags they would give. Each target
# starts from build-fuzz/corpus/<target>/: the committed seeds and regressions, what
# earlier runs found, and inputs taken from the bundled traces/. A crash, leak,
# sanitizer report, broken property or timeout (-timeout=10 s per input) is written to
# build-fuzz/artifacts/<target>/ and makes the script exit 1; keep such an input as
# conformance/fuzz/regressions/<target>/<name> once understood (ctest fuzz-regress:*
# replays it in every build). The log of each run is build-fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-fuzz

all_targets=$(sed -n 's/^set(VMREF_FUZZ_TARGETS \(.*\))$/\1/p' conformance/fuzz/CMakeLists.txt)
target=${1:-all}
seconds=${2:-60}
jobs=${3:-1}
usage() { echo "usage: tools/fuzz.sh [TARGET|all] [SECONDS] [JOBS]; targets: $all_targets" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 && $jobs =~ ^[0-9]+$ && $jobs -gt 0 ]] || usage
if [ "$target" = all ]; then
  targets=$all_targets
elif [[ " $all_targets " == *" $target "* ]]; then
  targets=$target
else
  usage
fi

# --- build -------------------------------------------------------------------------
t0=$(date +%s)
build_targets=""
for t in $targets; do build_targets+=" fuzz_$t"; done
[[ " $targets " == *" result_json "* ]] && build_targets+=" vmref"  # writes the report seeds
echo "== building$build_targets"
mkdir -p "$build"
# OSS-Fuzz's own defaults for an ASan build: -O1 -gline-tables-only.
flags="-O1 -gline-tables-only -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
CC=clang CXX=clang++ CFLAGS=$flags CXXFLAGS=$flags LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$build/out WORK=$build \
  VMREF_FUZZ_BUILD=$build VMREF_BUILD_JOBS=${VMREF_BUILD_JOBS:-2} \
  nice bash "$root/.clusterfuzzlite/build.sh" $build_targets >"$build/build.log" 2>&1 || {
  tail -40 "$build/build.log"; echo "fuzz.sh: build failed (see $build/build.log)" >&2; exit 2; }
echo "== built in $(( $(date +%s) - t0 )) s"

# --- corpora -------------------------------------------------------------------------
# Bundled traces: plain and zstd, without the table-operation files of traces/mutants.
traces_up_to() {  # traces_up_to BYTES: the bundled traces no larger than BYTES
  find "$root/traces" -type f \( -name '*.jsonl' -o -name '*.jsonl.zst' \) ! -name '*.tables.jsonl' \
    -size -"$(( $1 / 1024 + 1 ))"k | sort
}
seed() {  # seed TARGET: fill build-fuzz/corpus/TARGET
  local t=$1 dir=$build/corpus/$1 f
  mkdir -p "$dir"
  for f in "$root/conformance/fuzz/corpus/$t"/* "$root/conformance/fuzz/regressions/$t"/*; do
    [ -f "$f" ] && cp "$f" "$dir/"
  done
  case $t in
    trace_line)  # every distinct line of every bundled trace
      { find "$root/traces" -type f -name '*.jsonl' -exec cat {} +
        find "$root/traces" -type f -name '*.jsonl.zst' -exec zstdcat {} +; } |
        sort -u | awk -v d="$dir" 'length($0) > 0 { f = d "/trace-line-" NR; printf "%s", $0 > f; close(f) }' ;;
    trace_file|replay)  # plain only: a small zstd trace expands to megabytes (slow inputs)
      for f in $(traces_up_to $([ "$t" = replay ] && echo 16384 || echo 32768)); do
        [[ $f == *.zst ]] || cp "$f" "$dir/bundled-$(echo "${f#"$root"/traces/}" | tr / _)"
      done ;;
    line_reader)
      for f in $(traces_up_to 16384); do cp "$f" "$dir/bundled-$(echo "${f#"$root"/traces/}" | tr / _)"; done ;;
    result_json)  # one report per folder of bundled traces, as `vmref replay --report` writes it
      for d in "$root"/traces/scenarios/*/ "$root"/traces/violations/*/; do
        local name; name=$(echo "${d#"$root"/traces/}" | tr / _)
        [ -f "$dir/report-$name.json" ] ||
          nice "$build/vmref" replay -q --rules --report "$dir/report-$name.json" "$d"*.jsonl >/dev/null 2>&1 || true
      done ;;
  esac
}

# --- runs --------------------------------------------------------------------------
mkdir -p "$build/logs"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run() {  # run TARGET: fuzz it for $seconds; its exit status is the target's
  local t=$1
  mkdir -p "$build/artifacts/$t"
  nice "$build/out/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" "$build/corpus/$t" >"$build/logs/$t.log" 2>&1
}
echo "== seeding build-fuzz/corpus/"
for t in $targets; do seed "$t"; done
echo "== fuzzing: $targets ($seconds s each, $jobs at a time)"
for t in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  ( rc=0; run "$t" || rc=$?; echo "$rc" >"$build/logs/$t.rc" ) &
done
wait

# --- summary -------------------------------------------------------------------------
failed=0
printf '%-12s %-7s %12s %9s %7s %8s %8s\n' target result executions exec/s cov ft corpus
for t in $targets; do
  log=$build/logs/$t.log
  rc=$(cat "$build/logs/$t.rc" 2>/dev/null || echo 99)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1 || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" 2>/dev/null | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" 2>/dev/null | tail -1 | cut -d' ' -f2 || true)
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  result=ok
  if [ "$rc" != 0 ]; then result=FAILED; failed=1; fi
  printf '%-12s %-7s %12s %9s %7s %8s %8s\n' "$t" "$result" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$corpus"
done
if [ "$failed" != 0 ]; then
  for t in $targets; do
    [ "$(cat "$build/logs/$t.rc" 2>/dev/null)" = 0 ] && continue
    echo "== $t (exit $(cat "$build/logs/$t.rc" 2>/dev/null)): build-fuzz/logs/$t.log"
    grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|fuzz property broken|ALARM|deadly signal|out-of-memory|Test unit written' \
      "$build/logs/$t.log" | head -8 | sed 's/^/   /' || true
    for a in "$build/artifacts/$t"/*; do [ -f "$a" ] && echo "   artifact: ${a#"$root"/}"; done
  done
  echo "fuzz.sh: a target failed; reproduce with build-fuzz/out/fuzz_TARGET ARTIFACT" >&2
  exit 1
fi
