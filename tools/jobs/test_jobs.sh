#!/usr/bin/env bash
# ctest jobs:slurm-k8s: the batch job files run one campaign as 4 shards, each its own
# process started side by side as the scheduler would, and `vmref report` merges their
# summaries into the unsharded campaign's counts. The Slurm script runs as is (its
# #SBATCH lines are comments to bash); the Kubernetes Job's container command is read from
# the YAML and run with each completion index, its /campaign volume a temporary folder.
# Usage: test_jobs.sh VMREF SOURCE_DIR
set -uo pipefail
V=$1 SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
# The default profile and format (the first registered), and a mutant of that kernel.
ARGS="--ops 16000 --episode 400 --seed 7 --mutant no-invlpg-after-unmap --layer vmm"
"$V" fuzz $ARGS --json "$T/all.json" > /dev/null 2>&1
[ $? -eq 1 ] && ok unsharded-finds || bad unsharded-finds
same() {  # same NAME MERGED.json: equal ops and findings to the unsharded run's
  python3 -c "import json,sys; a,m=(json.load(open(f)) for f in sys.argv[1:]); \
assert a['findings'] > 0 and all(a[k] == m[k] for k in ('ops','findings','by_id','op_kinds')), (a, m)" "$T/all.json" "$2" \
    && ok "$1" || bad "$1"
}

# Slurm: a job array of 4, each task a process of its own.
for k in 1 2 3 4; do
  SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=4 SLURM_CPUS_PER_TASK=1 VMREF=$V OUT="$T/slurm" FUZZ_ARGS="$ARGS" \
    bash "$SRC/tools/jobs/slurm-fuzz.sbatch" > "$T/slurm-$k.log" 2>&1 &
done
wait
[ "$(ls "$T"/slurm/shard-*.json | wc -l)" -eq 4 ] && ok slurm-four-summaries || bad slurm-four-summaries
"$V" report "$T"/slurm/shard-*.json --json "$T/slurm.json" > "$T/out" 2>&1
[ $? -eq 1 ] && ok slurm-merge-findings || { bad slurm-merge-findings; cat "$T/out"; }
same slurm-merge-equals-unsharded "$T/slurm.json"
ls "$T"/slurm/shard-*/*.jsonl > /dev/null 2>&1 && ok slurm-counterexamples || bad slurm-counterexamples
SLURM_ARRAY_TASK_COUNT=4 bash "$SRC/tools/jobs/slurm-fuzz.sbatch" > "$T/out" 2>&1
[ $? -ne 0 ] && grep -q "SLURM_ARRAY_TASK_ID" "$T/out" && ok slurm-needs-array || bad slurm-needs-array

# Kubernetes: the Indexed Job's container command, once per completion index.
python3 - "$SRC/tools/jobs/k8s-fuzz-job.yaml" "$T/k8s.sh" <<'PY' && ok k8s-parses || bad k8s-parses
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
spec = job["spec"]
assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
c = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in c["env"]}
assert int(env["SHARDS"]) == spec["completions"], "SHARDS must equal completions"
open(sys.argv[2], "w").write(c["args"][0])
PY
mkdir -p "$T/bin" "$T/campaign" && ln -s "$V" "$T/bin/vmref"
for i in 0 1 2 3; do
  JOB_COMPLETION_INDEX=$i SHARDS=4 FUZZ_ARGS="$ARGS" PATH="$T/bin:$PATH" \
    bash -c "$(sed "s|/campaign|$T/campaign|g" "$T/k8s.sh")" > "$T/k8s-$i.log" 2>&1 &
done
wait
"$V" report "$T"/campaign/shard-*.json --json "$T/k8s.json" > "$T/out" 2>&1
[ $? -eq 1 ] && ok k8s-merge-findings || { bad k8s-merge-findings; cat "$T/out" "$T"/k8s-0.log; }
same k8s-merge-equals-unsharded "$T/k8s.json"
[ "$fails" -eq 0 ] && echo "all ok" || echo "$fails failed"
exit $((fails > 0))
