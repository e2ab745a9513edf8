#!/usr/bin/env bash
# The linux kernel's commands and traces: replay of real recorded traces, the broken
# variants caught on them, the recorder on a real program, the live-kernel oracle, and
# differential fuzzing on each page-table format.
# Usage: cli_test.sh VMREF SOURCE_DIR FORMAT...   (MM_WORKLOAD: the recorder's subject)
. "$2/conformance/tests/cli_lib.sh"

check clean-exit 0 "$V" replay "$SRC/traces/scenarios/linux/three-way-split.jsonl"
check replay-real 0 "$V" replay -q "$SRC/traces/linux/sort-services.jsonl" "$SRC/traces/linux/tar-create.jsonl.zst"
check record 0 "$V" record -o "$T/rec.jsonl" -- /bin/true
check replay-recorded 0 "$V" replay "$T/rec.jsonl"
check replay-json 0 "$V" replay -q --json "$T/r.json" "$SRC/traces/scenarios/linux/three-way-split.jsonl"
contains replay-json-verdict '"verdict": "clean"' "$T/r.json"
# SARIF for code scanning and KTAP for kunit.py: a broken variant's findings at their lines.
check replay-sarif 1 "$V" replay -q --sarif "$T/v.sarif" --report "$T/v.json" "$SRC/traces/scenarios/linux/variant-forgets-cow-count.jsonl"
check replay-sarif-shape 0 python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['runs'][0]['results']; \
assert [x['ruleId'] for x in r]==['INV-FRAME-1','INV-GPT-3'] and r[0]['locations'][0]['physicalLocation']['region']['startLine']==6, r" "$T/v.sarif"
# Valid against the SARIF 2.1.0 schema (bundled, MIT: conformance/tests/data/sarif-2.1.0.LICENSE),
# findings, undetermined cases and bad input alike; a result file is not a SARIF log.
printf '{"op":"as_create","as":1}\n' > "$T/bad.jsonl"
check replay-sarif-all-kinds 2 "$V" replay -q --sarif "$T/all.sarif" "$SRC/traces/scenarios/linux/variant-forgets-cow-count.jsonl" \
  "$SRC/traces/scenarios/linux/hidden-anon-vma-kernel-merged-yes.jsonl" "$T/bad.jsonl"
check sarif-valid 0 python3 "$SRC/tools/check_json.py" "$SRC/conformance/tests/data/sarif-2.1.0.json" "$T/v.sarif" "$T/all.sarif"
check sarif-schema-bites 1 python3 "$SRC/tools/check_json.py" "$SRC/conformance/tests/data/sarif-2.1.0.json" "$T/v.json"
check report-ktap 1 "$V" report --ktap - "$T/v.json"
contains report-ktap-failure "not ok 1 variant-forgets-cow-count.jsonl" "$T/out"
contains report-ktap-line "    # line 6 event 4 (fork): frame 1: reference count 1" "$T/out"
# JUnit: a case the model could not decide is <skipped>; a linux trace gets the core's
# and linux's invariants only (conformance/tests/cli_test.sh checks the schema).
check junit-undetermined 0 "$V" replay -q --junit "$T/u.xml" "$SRC/traces/scenarios/linux/hidden-anon-vma-kernel-merged-yes.jsonl"
check junit-undetermined-valid 0 xmllint --noout --schema "$SRC/conformance/tests/data/junit-10.xsd" "$T/u.xml"
contains junit-undetermined-is-skipped '<skipped type="undetermined"' "$T/u.xml"
contains junit-classname 'classname="linux.hidden-anon-vma-kernel-merged-yes" name="INV-COW-1"' "$T/u.xml"
[ "$(grep -o 'name="INV-[A-Z]*' "$T/u.xml" | sort -u | sed 's/name="INV-//' | tr '\n' ' ')" = "ALLOC COW FRAME GPT PT TLB VSL " ] \
  && echo "ok   junit-only-core-and-linux-ids" || { echo "FAIL junit-only-core-and-linux-ids"; grep -o 'name="INV-[A-Z]*' "$T/u.xml" | sort -u; fails=$((fails+1)); }
check record-missing-program 2 "$V" record -o "$T/none.jsonl" -- /nonexistent/prog
contains record-missing-program-says-why "cannot execute '/nonexistent/prog'" "$T/out"
[ ! -e "$T/none.jsonl" ] && echo "ok   record-missing-program-writes-nothing" || { echo "FAIL record-missing-program-writes-nothing"; fails=$((fails+1)); }
# Deliberately broken profiles are caught by replay on real and scenario traces.
check variant-no-merge 1 "$V" replay --profile linux:no-merge "$SRC/traces/linux/env-exec-ls.jsonl"
contains variant-no-merge-id "EXPECT-VSL-SPLIT" "$T/out"
contains variant-no-merge-one-title "and 3 more like it, titled: EXPECT-VSL-SPLIT in observe: as N: same pages, different vseg boundaries near ADDR" "$T/out"
check variant-no-zero-page 1 "$V" replay --profile linux:no-zero-page "$SRC/traces/scenarios/linux/read-fault-zero-page-then-write.jsonl"
contains variant-no-zero-page-id "EXPECT-ACCESS" "$T/out"
check variant-no-cow-reuse 1 "$V" replay --profile linux:no-cow-reuse "$SRC/traces/scenarios/linux/fork-then-write-in-child.jsonl"
check variant-unknown 2 "$V" replay --profile linux:nonsense "$SRC/traces/linux/env-exec-ls.jsonl"
# The recorder follows fork, exec and a thread through every recorded syscall; the
# trace replays clean (the kernel and the model agree on every snapshot).
if [ -n "${MM_WORKLOAD:-}" ]; then
  check record-workload 0 "$V" record -o "$T/workload.jsonl" -- "$MM_WORKLOAD"
  check replay-workload 0 "$V" replay --expect-declared "$T/workload.jsonl"
  for op in mremap madvise mlock munlock brk fork exec_reset as_destroy; do
    grep -q "\"op\":\"$op\"" "$T/workload.jsonl" && echo "ok   workload-has-$op" || { echo "FAIL workload-has-$op"; fails=$((fails+1)); }
  done
fi
# The live-kernel oracle: the correct profile agrees, a broken one is caught, and its
# minimized trace reproduces the divergence under replay.
check oracle-clean 0 "$V" oracle linux --ops 1500 --seed 5 --processes 3 --out "$T/oracle" --json "$T/oracle.json"
contains oracle-prints-rule-coverage "rule coverage:" "$T/out"
contains oracle-json-has-rules '"fault.sigbus-beyond-size"' "$T/oracle.json"
contains oracle-json-lists-unreachable-rules '"rules_not_generated"' "$T/oracle.json"
# Rule coverage from replay: the in-place grow regression hits the rule it was found for.
R="$SRC/traces/oracle/linux/seed90210-grow-in-place-fork-child.jsonl"
check replay-rules 0 "$V" replay --rules --report "$T/rules.json" "$R"
grep -E '^ +anon\.grown-range-of-fork-child +1 ' "$T/out" >/dev/null && echo "ok   replay-rules-count" || { echo "FAIL replay-rules-count"; cat "$T/out"; fails=$((fails+1)); }
contains replay-rules-never-hit "never hit:" "$T/out"
contains replay-report-has-rules '"merge.mremap-grow": 1' "$T/rules.json"
# The campaign script over two given seeds: clean, and it prints the seeds and coverage.
check campaign-clean 0 python3 "$SRC/tools/oracle_campaign.py" linux --vmref "$V" --seeds 11 12 --ops-per-seed 400 --jobs 2 --out "$T/camp"
contains campaign-seeds "seeds: " "$T/out"
contains campaign-coverage "rule coverage:" "$T/out"
# A broken profile's divergence is not explained: the campaign fails.
check campaign-unexplained 1 python3 "$SRC/tools/oracle_campaign.py" linux --vmref "$V" --seeds 1 --ops-per-seed 3000 --profile linux:no-zero-page --out "$T/camp2"
contains campaign-names-unexplained "UNEXPLAINED seed 1" "$T/out"
check oracle-broken 1 "$V" oracle linux --ops 3000 --seed 1 --profile linux:no-zero-page --out "$T/oracle"
contains oracle-progress-before-shrinking "diverged at op" "$T/out"
check oracle-trace-replays 1 "$V" replay "$T/oracle/oracle-linux_no-zero-page-seed1.jsonl"
check oracle-trace-declared 0 "$V" replay --expect-declared "$T/oracle/oracle-linux_no-zero-page-seed1.jsonl"
check oracle-broken-fault-around 1 "$V" oracle linux --ops 3000 --seed 2 --profile linux:no-fault-around --out "$T/oracle"
# Oracle campaigns across machines: four shards of a campaign of numbered episodes, merged
# by `vmref report`, ran what the unsharded campaign ran; a missing shard is refused; a
# corpus makes a longer rerun run only the new episodes.
OC=(oracle linux --ops 1200 --episode 150 --seed 7 --processes 3 --out "$T/oc")
check oracle-unsharded 0 "$V" "${OC[@]}" --json "$T/o-all.json"
contains oracle-episodes "8 episodes run (shard 1/1)" "$T/out"
for k in 1 2 3 4; do "$V" "${OC[@]}" --shard $k/4 --json "$T/o-$k.json" > /dev/null 2>&1; done
check oracle-shards-merge 0 "$V" report "$T/o-1.json" "$T/o-2.json" "$T/o-3.json" "$T/o-4.json" --json "$T/o-merged.json"
contains oracle-shards-merge-text "(4 shards): 8 episodes, 1200 ops" "$T/out"
check oracle-shards-same 0 python3 -c "import json,sys; a,m=(json.load(open(f)) for f in sys.argv[1:]); \
assert all(a[k] == m[k] for k in ('ops','episodes','op_counts','diverged')), (a, m)" "$T/o-all.json" "$T/o-merged.json"
check oracle-shard-missing 2 "$V" report "$T/o-1.json" "$T/o-2.json" "$T/o-4.json"
contains oracle-shard-missing-text "shard 3/4 of vmref oracle linux" "$T/out"
check oracle-shard-needs-episodes 2 "$V" oracle linux --ops 100 --shard 1/2
"$V" oracle linux --ops 600 --episode 150 --seed 7 --processes 3 --corpus "$T/oc-corpus" > /dev/null 2>&1
check oracle-corpus-extend 0 "$V" oracle linux --ops 1200 --episode 150 --seed 7 --processes 3 --corpus "$T/oc-corpus" --json "$T/o-ext.json"
contains oracle-corpus-skips "4 episodes run (shard 1/1), 4 skipped" "$T/out"
# The linux implementation on each format: a mutant is caught and its counterexample
# replays; traces outside the implementation's operations are refused, not misjudged.
for F in "${FORMATS[@]}"; do
  check "fuzz-clean:$F" 0 "$V" fuzz --profile linux --impl "$F" --ops 5000 --seed 2
  check "fuzz-mutant-caught:$F" 1 "$V" fuzz --impl "$F" --ops 50000 --seed 1 --mutant no-invlpg-after-unmap --layer vmm --stop-at-first --out "$T/fz-$F"
  contains "fuzz-mutant-id:$F" "DIFF-TLB-1" "$T/out"
  CE=$(first "$T/fz-$F"/*.jsonl)
  check "fuzz-counterexample-fails:$F" 1 "$V" replay --impl "$F" --mutant no-invlpg-after-unmap "$CE"
  check "fuzz-counterexample-clean-without-mutant:$F" 0 "$V" replay --impl "$F" "$CE"
  check "fuzz-counterexample-model-alone:$F" 0 "$V" replay --model-only "$CE"
  # A plain replay reproduces the finding: the header names the implementation and mutant.
  check "fuzz-counterexample-plain-replay:$F" 1 "$V" replay "$CE"
  contains "fuzz-counterexample-plain-replay-how:$F" "in lock step with the $F implementation, mutant no-invlpg-after-unmap" "$T/out"
  check "fuzz-counterexample-declared:$F" 0 "$V" replay --expect-declared "$CE"
  contains "fuzz-counterexample-command:$F" "\"command\":\"vmref fuzz --profile linux --seed 1" "$CE"
  check "replay-impl-unsupported:$F" 2 "$V" replay --impl "$F" "$SRC/traces/scenarios/linux/frame-freed-without-flush.jsonl"
  contains "replay-impl-unsupported-text:$F" "frame-freed-without-flush.jsonl:7: field 'tlb': implementation $F" "$T/out"
  # Huge leaves (spec/kernels/linux.md §1.13): a clean campaign that compares them, its
  # JSON summary, and a broken split caught with its counterexample in the JSON (a stale
  # TLB entry, or, on a format that checks break-before-make, the unflushed split itself).
  check "fuzz-thp-clean:$F" 0 "$V" fuzz --profile linux:thp --impl "$F" --ops 4000 --seed 2 --json "$T/thp.json"
  check "fuzz-thp-json:$F" 0 python3 -c "import json,sys; j=json.load(open(sys.argv[1])); \
assert j['verdict']=='clean' and j['ops']==4000 and j['shapes']['vmm.huge_leaves_compared']>0, j" "$T/thp.json"
  check "fuzz-thp-mutant:$F" 1 "$V" fuzz --profile linux:thp --impl "$F" --ops 50000 --seed 3 --stop-at-first \
    --mutant split-skips-flush --out "$T/thp-$F" --json "$T/thp-mut.json"
  check "fuzz-thp-mutant-json:$F" 0 python3 -c "import json,sys; j=json.load(open(sys.argv[1])); \
assert j['verdict']=='findings' and j['examples'][0]['id'] in ('DIFF-TLB-1', 'DIFF-BBM') and j['examples'][0]['replay'].startswith('vmref replay '), j" "$T/thp-mut.json"
  check "fuzz-json-stdout:$F" 0 bash -c "'$V' fuzz --profile linux:thp --impl $F --ops 500 --seed 2 --json - 2>/dev/null \
    | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"ops\"] == 500'"
done
finish
