#!/usr/bin/env bash
# CLI behaviour a user relies on, for every kernel and format alike: exit codes,
# reports, conversion, generation, fuzzing and bad-input messages. Each kernel's and
# format's own commands are checked by the cli_test.sh in its tests/ folder.
# Usage: cli_test.sh VMREF SOURCE_DIR
. "$(dirname "$0")/cli_lib.sh"

check version 0 "$V" --version
contains version-text "vmref 0.1.0" "$T/out"
check help-replay 0 "$V" replay --help
# A generated trace of the default profile with the model's outcomes as expectations.
check gen 0 "$V" gen --events 2000 --seed 9 --expect -o "$T/g.jsonl.zst"
check clean-exit 0 "$V" replay "$T/g.jsonl.zst"
check findings-exit 1 "$V" replay "$SRC/traces/violations/core/INV-TLB-1.jsonl"
# The README's sample output is what this command prints (timings aside).
untimed() { sed -E 's/ \([0-9.]+ s, [0-9]+ events\/s\)//'; }
(cd "$SRC" && "$V" replay traces/violations/core/INV-TLB-1.jsonl) | untimed > "$T/sample.now"
sed -n '/^traces\/violations\/core\/INV-TLB-1.jsonl: findings/,/^```/p' "$SRC/README.md" | grep -v '^```' | untimed > "$T/sample.readme"
cmp -s "$T/sample.now" "$T/sample.readme" && echo "ok   readme-sample-output" \
  || { echo "FAIL readme-sample-output"; diff "$T/sample.readme" "$T/sample.now"; fails=$((fails+1)); }
contains finding-names-id "INV-TLB-1 at event" "$T/out"
# A directory stands for every trace under it.
check replay-dir 0 "$V" replay -q --expect-declared "$SRC/traces/violations/core"
[ "$(grep -c ': findings: ' "$T/out")" -eq "$(ls "$SRC"/traces/violations/core/*.jsonl | wc -l)" ] && echo "ok   replay-dir-every-trace" \
  || { echo "FAIL replay-dir-every-trace"; cat "$T/out"; fails=$((fails+1)); }
mkdir -p "$T/empty"
check replay-empty-dir 2 "$V" replay "$T/empty"
check bad-input-exit 2 "$V" replay "$SRC/conformance/tests/data/bad-hex-line3.jsonl"
contains bad-input-names-line-field "bad-hex-line3.jsonl:3: field 'va'" "$T/out"
check stop-at-first 1 "$V" replay --stop-at-first "$SRC/traces/violations/core/INV-TLB-2.jsonl"
check replay-report 1 "$V" replay --report "$T/r.json" --junit "$T/r.xml" \
  "$SRC/traces/violations/core/INV-COW-1.jsonl" "$T/g.jsonl.zst"
contains junit-has-failure '<failure type="INV-COW-1" message="1 finding(s): a COW PTE is never writable">' "$T/r.xml"
# JUnit files validate against the Jenkins xunit plugin's schema (conformance/tests/data/
# junit-10.xsd, MIT, from jenkinsci/xunit-plugin); bad input is an <error>. Each kernel's
# cli_test.sh checks its own: undetermined cases <skipped>, only its kernel's IDs.
XSD="$SRC/conformance/tests/data/junit-10.xsd"
check junit-mixed 2 "$V" replay -q --junit "$T/m.xml" "$SRC/traces/violations/core/INV-COW-1.jsonl" \
  "$SRC/conformance/tests/data/bad-hex-line3.jsonl"
check junit-valid 0 xmllint --noout --schema "$XSD" "$T/r.xml" "$T/m.xml"
contains junit-bad-input-is-error '<error type="bad-input" message="' "$T/m.xml"
contains junit-classname-is-profile-and-name '.INV-COW-1" name="INV-COW-1"' "$T/m.xml"
# Under --expect-declared the JUnit file agrees with the exit code: no failure when 0.
check junit-declared 0 "$V" replay -q --expect-declared --junit "$T/d.xml" "$SRC/traces/violations/core"
check junit-declared-valid 0 xmllint --noout --schema "$XSD" "$T/d.xml"
! grep -q '<failure' "$T/d.xml" && echo "ok   junit-declared-no-failure" || { echo "FAIL junit-declared-no-failure"; fails=$((fails+1)); }
check junit-declared-mismatch 1 "$V" replay -q --expect-declared --junit "$T/d2.xml" "$SRC/traces/violations/core/INV-TLB-1.jsonl" \
  "$SRC/conformance/tests/data/bad-hex-line3.jsonl"
contains junit-declared-mismatch-failure '<failure type="declared-verdict"' "$T/d2.xml"
check report 1 "$V" report "$T/r.json" --html "$T/r.html" --md "$T/r.md" --junit "$T/r2.xml"
contains report-md-id "| INV-COW-1 | a COW PTE is never writable | 1 | 1 |" "$T/r.md"
contains report-html-clean 'class="clean"' "$T/r.html"
contains report-junit "INV-COW-1" "$T/r2.xml"
check report-bad-json 2 "$V" report "$SRC/traces/violations/core/INV-COW-1.jsonl"
check convert-zst-to-jsonl 0 "$V" convert "$T/g.jsonl.zst" "$T/g.jsonl"
check convert-back 0 "$V" convert "$T/g.jsonl" "$T/g2.jsonl.zst"
check replay-converted 0 "$V" replay -q "$T/g.jsonl" "$T/g2.jsonl.zst"
check convert-bad-input 2 "$V" convert "$SRC/conformance/tests/data/bad-hex-line3.jsonl" "$T/x.jsonl"
# Only zstd is written: another compressor's suffix is refused, and nothing is written.
check convert-refuses-gz 2 "$V" convert "$T/g.jsonl" "$T/g.jsonl.gz"
contains convert-refuses-gz-says-why "not .gz" "$T/out"
[ ! -e "$T/g.jsonl.gz" ] && echo "ok   convert-refuses-gz-writes-nothing" || { echo "FAIL convert-refuses-gz-writes-nothing"; fails=$((fails+1)); }
# A profile the command line names is checked there, not reported as line 1 of a trace.
check replay-bad-profile 2 "$V" replay --profile nosuch "$SRC/traces/violations/core/INV-COW-1.jsonl"
contains replay-bad-profile-names-option "--profile: nosuch not in" "$T/out"
check fuzz-bad-profile 2 "$V" fuzz --profile nosuch --ops 10
# -q: the summary line only; --report -: JSON on standard output, the summary on standard error.
check replay-quiet 1 "$V" replay -q "$SRC/traces/violations/core/INV-COW-1.jsonl"
[ "$(wc -l < "$T/out")" -eq 1 ] && echo "ok   replay-quiet-one-line" || { echo "FAIL replay-quiet-one-line"; cat "$T/out"; fails=$((fails+1)); }
"$V" replay --report - "$SRC/traces/violations/core/INV-COW-1.jsonl" 2>/dev/null > "$T/stdout.json"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r[0]['by_id']['INV-COW-1'] >= 1" "$T/stdout.json" \
  && echo "ok   replay-report-to-stdout" || { echo "FAIL replay-report-to-stdout"; cat "$T/stdout.json"; fails=$((fails+1)); }
[ ! -e ./- ] && echo "ok   replay-report-dash-is-no-file" || { echo "FAIL replay-report-dash-is-no-file"; fails=$((fails+1)); }
check unknown-profile 2 "$V" replay "$SRC/conformance/tests/data/unspecified-profile.jsonl"
contains unknown-profile-text "field 'profile'" "$T/out"
check bench 0 "$V" bench --events 20000 --full-events 2000
contains bench-line "apply + incremental checks" "$T/out"
check list-profiles 0 "$V" fuzz --list-profiles
check list-archs 0 "$V" fuzz --list-archs

# Differential fuzzing of the default profile on the default format.
check fuzz-clean 0 "$V" fuzz --ops 5000 --seed 2 --jobs 2
contains fuzz-summary "5000 ops in" "$T/out"
contains fuzz-coverage "coverage, operation kinds: access=" "$T/out"
contains fuzz-shapes "tables.large_leaf_pages_compared=" "$T/out"
check fuzz-short-episodes 0 "$V" fuzz --ops 3000 --episode 50 --seed 3
# Progress into a log (not a terminal) comes as whole lines, never a carriage return.
check fuzz-progress-in-logs 0 "$V" fuzz --layer model --time 2.5 --seed 4
contains fuzz-progress-line " ops/s, 0 findings" "$T/out"
if grep -q $'\r' "$T/out"; then echo "FAIL fuzz-progress-no-cr: a carriage return in piped output"; fails=$((fails+1)); else echo "ok   fuzz-progress-no-cr"; fi
check fuzz-list-mutants 0 "$V" fuzz --list-mutants
contains fuzz-mutant-listed "split-loses-last" "$T/out"
check fuzz-tables-caught 1 "$V" fuzz --layer tables --ops 20000 --mutant split-loses-last --out "$T/fzt"
check fuzz-tables-replay 1 "$V" fuzz --replay "$(first "$T"/fzt/*.tables.jsonl)" --mutant split-loses-last
check fuzz-unknown-profile 2 "$V" fuzz --profile nova --ops 10
check fuzz-bad-replay 2 "$V" fuzz --replay "$SRC/traces/violations/core/INV-COW-1.jsonl"
contains fuzz-bad-replay-text "not a table-op file" "$T/out"
check fuzz-model-layer-mutant 2 "$V" fuzz --layer model --mutant split-loses-last --ops 10
# Interrupted (SIGINT, as Ctrl-C or a CI timeout sends it): the summary is still printed.
check fuzz-interrupted 0 timeout --preserve-status -s INT 3 "$V" fuzz --ops 1000000000 --seed 4
contains fuzz-interrupted-summary "interrupted: the summary covers the operations run so far" "$T/out"
contains fuzz-interrupted-coverage "coverage, operation kinds:" "$T/out"

# Hostile and careless input (spec/trace-format.md §1, §5): exit 2 naming the line, and
# no output destroyed, lost or left half-written.
cp "$T/g.jsonl" "$T/keep.jsonl"
check convert-onto-input 2 "$V" convert "$T/g.jsonl" "$T/g.jsonl"
contains convert-onto-input-text "same file as the input" "$T/out"
if cmp -s "$T/g.jsonl" "$T/keep.jsonl"; then echo "ok   convert-input-intact"; else echo "FAIL convert-input-intact"; fails=$((fails+1)); fi
{ head -n 1500 "$T/g.jsonl"; echo '{"op":"observe","as":1,"expect":{"surprise":1}}'; } > "$T/bad-late.jsonl"
check convert-fails-late 2 "$V" convert "$T/bad-late.jsonl" "$T/late-out.jsonl.zst"
contains convert-fails-late-field "field 'expect.surprise'" "$T/out"
if [ ! -e "$T/late-out.jsonl.zst" ] && ! ls -a "$T" | grep -q '\.tmp\.'; then echo "ok   convert-leaves-nothing"; else echo "FAIL convert-leaves-nothing"; ls -a "$T"; fails=$((fails+1)); fi
check replay-report-full-disk 2 "$V" replay -q --report /dev/full "$T/g.jsonl"
contains replay-report-full-disk-text "/dev/full: write failed" "$T/out"
check replay-report-onto-trace 2 "$V" replay -q --report "$T/g.jsonl" "$T/g.jsonl"
check replay-no-newlines 2 timeout 60 "$V" replay /dev/zero
contains replay-no-newlines-text "/dev/zero:1: line longer than 4 MiB" "$T/out"
python3 -c "print('[' * 100000 + ']' * 100000)" > "$T/deep.json"
check report-deep-json 2 "$V" report "$T/deep.json"
contains report-deep-json-text "nested deeper than 64" "$T/out"
python3 - "$T/r.json" "$T/neg.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r[0]["events"] = -1
json.dump(r, open(sys.argv[2], "w"))
PY
check report-negative-count 2 "$V" report "$T/neg.json"
contains report-negative-count-text "field 'events': expected a non-negative integer" "$T/out"
# vmref prove: a kernel without an SMT form is refused by name (exit 2), never "proved".
"$V" prove --list > "$T/provers"
for k in $("$V" fuzz --list-profiles | grep -o '^[a-z0-9_-]*' | sort -u); do
  grep -q "^kernel $k\$" "$T/provers" && continue
  check "prove-no-smt-form:$k" 2 "$V" prove --profile "$k"
  contains "prove-no-smt-form-text:$k" "has no SMT form yet" "$T/out"
  break
done
check prove-formats 0 "$V" prove -q $(sed -n 's/^format /--format /p' "$T/provers")
contains prove-formats-summary "0 counterexample(s)" "$T/out"
finish
