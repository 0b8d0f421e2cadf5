#!/usr/bin/env bash
# `make test-slurm`: tessera batch under a real Slurm scheduler. Starts a one-node cluster on
# this machine (Tools/slurm-cluster.sh), submits a 3-task job array in which every task runs
# `tessera batch MANIFEST --shard auto`, waits for it, merges the shard reports with
# `tessera batch-report`, and checks that every job ran exactly once and every output is
# valid. Then it stops the daemons. Needs root; takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tessera=${TESSERA:-$root/.build/debug/tessera}
[ -x "$tessera" ] || { echo "slurm-test: $tessera is not built (swift build)" >&2; exit 1; }
work=$(mktemp -d /tmp/tessera-slurm.XXXXXX)
cluster=$work/cluster
cleanup() { Tools/slurm-cluster.sh stop "$cluster" || true; }
trap cleanup EXIT

Tools/slurm-cluster.sh start "$cluster"
export SLURM_CONF=$cluster/slurm.conf

# 12 jobs: 9 reprojections and 3 two-step jobs (reproject into {tmp}, then a COG as the final copy).
mkdir -p "$work/in" "$work/out"
manifest=$work/jobs.jsonl
: > "$manifest"
for i in $(seq 1 12); do
  src=Fixtures/rasterio/rgb$(( (i - 1) % 4 + 1 )).tif
  cp "$src" "$work/in/scene-$i.tif"
  if [ $((i % 4)) = 0 ]; then
    printf '{"id": "scene-%d", "steps": [{"command": "reproject", "args": ["%s", "{tmp}/w.tif", "--dst-crs", "EPSG:4326"]}, {"command": "cog-export", "args": ["{tmp}/w.tif", "%s"]}]}\n' \
      "$i" "$work/in/scene-$i.tif" "$work/out/scene-$i.tif" >> "$manifest"
  else
    printf '{"id": "scene-%d", "command": "reproject", "args": ["%s", "%s", "--dst-crs", "EPSG:3857"]}\n' \
      "$i" "$work/in/scene-$i.tif" "$work/out/scene-$i.tif" >> "$manifest"
  fi
done

# The array script a user would write (the README shows the same).
cat > "$work/batch.sbatch" <<SCRIPT
#!/bin/bash
#SBATCH --job-name=tessera-batch
#SBATCH --array=0-2
#SBATCH --cpus-per-task=1
#SBATCH --output=$work/slurm-%a.log
"$tessera" batch "$manifest" --shard auto --jobs 1 --report "$work/report.json"
SCRIPT
job=$(sbatch --parsable --chdir="$work" "$work/batch.sbatch")
echo "slurm-test: submitted array job $job"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.5
done
if [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; then
  echo "slurm-test: FAIL: the array did not finish in 5 minutes" >&2; squeue >&2; exit 1
fi
cat "$work"/slurm-*.log

fail() { echo "slurm-test: FAIL: $*" >&2; exit 1; }
for i in 0 1 2; do [ -f "$work/report.shard-$i-of-3.json" ] || fail "shard $i wrote no report"; done
"$tessera" batch-report "$work"/report.shard-*-of-3.json --json > "$work/merged.json" || fail "batch-report exited $?"
/usr/bin/python3 - "$work" <<'PY' || exit 1
import json, sys
work = sys.argv[1]
merged = json.load(open(f"{work}/merged.json"))
assert merged["jobs_total"] == 12 and merged["jobs_done"] == 12, merged
assert merged["duplicate_ids"] == [], merged["duplicate_ids"]
# Exactly once: each id in one journal, once.
ids = []
for i in range(3):
    ids += [json.loads(line)["id"] for line in open(f"{work}/report.shard-{i}-of-3.journal.jsonl")]
assert sorted(ids) == sorted(f"scene-{i}" for i in range(1, 13)), ids
shards = [json.load(open(f"{work}/report.shard-{i}-of-3.json"))["jobs_total"] for i in range(3)]
print(f"slurm-test: shards ran {shards} jobs, 12 in all, each once")
PY
for i in $(seq 1 12); do
  out=$work/out/scene-$i.tif
  if [ $((i % 4)) = 0 ]; then
    "$tessera" validate-cog "$out" --quiet || fail "$out is not a valid COG"
  else
    "$tessera" info "$out" --json | grep -q '"epsg" : 3857\|"epsg": 3857' || fail "$out is not in EPSG:3857"
  fi
done
leftovers=$(find "$work" -name '.tessera-*' | wc -l)
[ "$leftovers" = 0 ] || fail "temporary files left: $(find "$work" -name '.tessera-*')"
echo "slurm-test: ok (work in $work)"
rm -rf "$work/in" "$work/out"
