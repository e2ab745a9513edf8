#!/usr/bin/env python3
"""Oracle campaign: `vmref oracle KERNEL` over many fresh seeds until a total operation
count, in parallel up to the core count; collects every minimized divergence and the
summed rule coverage (spec/kernels/KERNEL.md, "Rule coverage").

Exit 0: every divergence is explained (listed in the kernel's
conformance/kernels/KERNEL/oracle/known_divergences.json) and, with
--require-all-rules, every rule the oracle can reach was hit. Exit 1 otherwise. Exit 2
when the campaign itself cannot run (no vmref, not root, a run that crashed).

    tools/oracle_campaign.py KERNEL --total-ops 1000000 --ops-per-seed 50000
    tools/oracle_campaign.py KERNEL --seeds 90210 2002 --ops-per-seed 100000   # repeat given seeds

Seeds are random unless given, and always printed, so any run can be repeated.
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kernel", help="the oracle kernel (see `vmref oracle --help`)")
    p.add_argument("--vmref", default=os.path.join(ROOT, "build", "vmref"), help="the vmref binary")
    p.add_argument("--total-ops", type=int, default=1_000_000, help="stop launching seeds once this many ops ran")
    p.add_argument("--ops-per-seed", type=int, default=50_000, help="--ops of each oracle run")
    p.add_argument("--seeds", type=int, nargs="*", help="run these seeds (once each) instead of random ones")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="oracle runs at once")
    p.add_argument("--processes", type=int, default=4, help="--processes of each oracle run")
    p.add_argument("--profile", help="--profile of each oracle run (default: the kernel)")
    p.add_argument("--out", default="oracle-campaign", help="directory for per-seed JSON and divergence traces")
    p.add_argument("--known", help="explained divergences, a JSON list of {id, match, reason, spec, evidence} "
                   "(default: conformance/kernels/KERNEL/oracle/known_divergences.json)")
    p.add_argument("--require-all-rules", action="store_true",
                   help="also fail when a rule the oracle can reach was never hit")
    p.add_argument("--json", help="write the campaign summary as JSON here")
    a = p.parse_args()
    a.profile = a.profile or a.kernel
    a.known = a.known or os.path.join(ROOT, "conformance", "kernels", a.kernel, "oracle", "known_divergences.json")
    return a


def fail(message):
    """The campaign cannot run: say why and exit 2."""
    print(f"oracle_campaign: {message}", file=sys.stderr)
    sys.exit(2)


def load_known(path):
    """Each entry explains a divergence: its finding `id` and a regex `match` on the message."""
    if not os.path.exists(path):
        return []
    try:
        with open(path) as f:
            known = json.load(f)
        for k in known:
            re.compile(k["match"])
            k["id"], k["reason"]  # required fields
        return known
    except (OSError, ValueError, KeyError, TypeError, re.error) as e:
        fail(f"{path}: not a list of {{id, match, reason}} entries: {e}")


def run_seed(args, seed):
    out = os.path.join(args.out, f"seed{seed}")
    js = os.path.join(args.out, f"seed{seed}.json")
    cmd = [args.vmref, "oracle", args.kernel, "--ops", str(args.ops_per_seed), "--processes", str(args.processes),
           "--seed", str(seed), "--profile", args.profile, "--out", out, "--json", js]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1) or not os.path.exists(js):
        return seed, None, f"exit {p.returncode}: {(p.stderr or p.stdout).strip()[-600:]}"
    with open(js) as f:
        return seed, json.load(f), None


def explain(result, known):
    for f in result.get("findings", []):
        for k in known:
            if f["id"] == k["id"] and re.search(k["match"], f["message"]):
                return k
    return None


def main():
    args = parse_args()
    if not os.access(args.vmref, os.X_OK):
        fail(f"{args.vmref}: no vmref binary (build first, or give --vmref)")
    known = load_known(args.known)
    os.makedirs(args.out, exist_ok=True)
    rng = random.SystemRandom()
    given = list(args.seeds or [])
    print(f"oracle campaign: {'seeds ' + ' '.join(map(str, given)) if given else 'random seeds'}, "
          f"{args.ops_per_seed} ops each, up to {args.total_ops} ops, {args.jobs} at once", flush=True)
    total_ops, seconds, runs = 0, 0.0, []
    rules, never_possible = {}, set()
    divergences, errors = [], []
    launched = 0
    t0 = time.monotonic()

    def next_seed(in_flight):
        """The next seed to run, or None. Random seeds keep coming until the ops run plus
        those planned by the runs in flight reach the total (a diverged run stops early)."""
        nonlocal launched
        if len(errors) >= 3:  # the campaign itself is failing: stop rather than spin
            return None
        if given:
            if launched >= len(given):
                return None
            s = given[launched]
        else:
            if total_ops + in_flight * args.ops_per_seed >= args.total_ops:
                return None
            s = rng.randrange(1, 2**31)
        launched += 1
        return s

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pending = set()
        while True:
            while len(pending) < args.jobs and (s := next_seed(len(pending))) is not None:
                pending.add(pool.submit(run_seed, args, s))
            if not pending:
                break
            done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                seed, r, err = fut.result()
                if err:
                    errors.append((seed, err))
                    print(f"  seed {seed}: ERROR {err}", flush=True)
                    continue
                runs.append(r)
                total_ops += r["ops"]
                seconds += r["seconds"]
                for rid, n in r["rules"].items():
                    rules[rid] = rules.get(rid, 0) + n
                never_possible = set(r.get("rules_not_generated", []))
                line = f"  seed {seed}: {r['ops']} ops, {r['ops_per_second']:.0f} ops/s"
                if r["diverged"]:
                    k = explain(r, known)
                    divergences.append({"seed": seed, "op": r["divergent_op"], "findings": r["findings"],
                                        "trace": r.get("trace"), "reproduced": r.get("reproduced"),
                                        "explained": k["reason"] if k else None})
                    line += f", DIVERGED at op {r['divergent_op']} ({r['findings'][0]['id']}), " + \
                            (f"explained: {k['reason']}" if k else f"UNEXPLAINED, trace {r.get('trace')}")
                    if not r.get("reproduced"):
                        line += " (did not come back on a re-run: a transient kernel state?)"
                print(line, flush=True)
    wall = time.monotonic() - t0
    never = sorted(r for r, n in rules.items() if n == 0 and r not in never_possible)
    unexplained = [d for d in divergences if not d["explained"]]
    print(f"oracle campaign: {len(runs)} seeds, {total_ops} ops in {wall:.0f} s wall "
          f"({total_ops / max(wall, 1e-9):.0f} ops/s overall, {total_ops / max(seconds, 1e-9):.0f} ops/s per run), "
          f"{len(divergences)} divergences ({len(unexplained)} unexplained), {len(errors)} errors")
    print(f"  seeds: {' '.join(str(r['seed']) for r in runs)}")
    width = max((len(r) for r in rules), default=10)
    print(f"  rule coverage: {sum(1 for n in rules.values() if n)} of {len(rules)} rules hit")
    for rid, n in rules.items():
        print(f"    {rid:<{width}} {n:>10}")
    print(f"  never hit: {', '.join(never) if never else 'none'}")
    if never_possible:
        print(f"  not generated by the oracle: {', '.join(sorted(never_possible))}")
    for d in unexplained:
        print(f"  UNEXPLAINED seed {d['seed']} op {d['op']}: {d['findings'][0]['id']}: {d['findings'][0]['message']}\n"
              f"    trace: {d['trace']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seeds": [r["seed"] for r in runs], "ops": total_ops, "wall_seconds": wall,
                       "ops_per_second": total_ops / max(wall, 1e-9), "divergences": divergences,
                       "errors": [{"seed": s, "error": e} for s, e in errors], "rules": rules,
                       "rules_never_hit": never, "rules_not_generated": sorted(never_possible)}, f, indent=1)
    if errors:
        return 2
    if unexplained or (args.require_all_rules and never):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
