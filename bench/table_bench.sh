#!/usr/bin/env bash
# Runs bench/table_lookup_bench pinned to one CPU with repetitions and prints
# each benchmark's median and [min..max] of its main counter.
# Usage: bench/table_bench.sh [BUILD_DIR] [REPETITIONS] [FILTER]
set -euo pipefail
build=${1:-build}
reps=${2:-5}
filter=${3:-.}
json=$(mktemp /tmp/meshbl-bench.XXXXXX.json)
trap 'rm -f "$json"' EXIT
taskset -c 1 "$build/bench/table_lookup_bench" --benchmark_repetitions="$reps" \
  --benchmark_filter="$filter" --benchmark_out="$json" --benchmark_out_format=json >/dev/null
python3 - "$json" <<'PY'
import json, sys, collections
runs = collections.defaultdict(list)
extra = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    name = b["run_name"]
    if "queries/s" in b:
        runs[name].append(b["queries/s"] / 1e6); unit = "M queries/s"
    else:
        runs[name].append(b["real_time"]); unit = b["time_unit"]
    extra[name] = (unit, {k: b[k] for k in ("table_bytes_per_entry", "file_bytes_per_entry", "allocs_per_query") if k in b})
for name, v in runs.items():
    v.sort()
    unit, ex = extra[name]
    more = "  ".join(f"{k}={ex[k]:.3g}" for k in ex)
    print(f"{name:40s} median {v[len(v)//2]:8.2f} {unit:12s} [{v[0]:.2f}..{v[-1]:.2f}]  {more}")
PY
