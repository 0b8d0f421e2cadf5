#!/usr/bin/python3
"""Tessera's benchmark harness: every workload timed against GDAL's tools and rasterio on the
same data in the same run, alternating runners, with the outputs compared so a fast wrong
answer cannot pass.

Run through `make bench` (or `make bench-large`). Needs Debian's python3 with python3-gdal
and numpy for data generation and comparison; rasterio and rio-cogeo are installed into
Benchmarks/.venv from PyPI on first use.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal

import datagen
import workloads

gdal.UseExceptions()

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEER_PACKAGES = ["rasterio==1.4.4", "rio-cogeo==7.0.4"]
GNU_TIME = "/usr/bin/time"


# MARK: - set-up

def ensure_venv(log):
    """rasterio and rio-cogeo from PyPI in Benchmarks/.venv; reused once installed."""
    venv = os.path.join(HERE, ".venv")
    python = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, "installed.txt")
    if os.path.exists(marker) and open(marker).read().split() == PEER_PACKAGES:
        return venv
    log("installing the rasterio peers into Benchmarks/.venv: " + " ".join(PEER_PACKAGES))
    base = shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", "--clear", venv], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check"] + PEER_PACKAGES, check=True)
    with open(marker, "w") as f:
        f.write("\n".join(PEER_PACKAGES))
    return venv


def tessera_subcommands(tessera):
    """The subcommands `tessera --help` lists."""
    text = subprocess.run([tessera, "--help"], capture_output=True, text=True).stdout
    names, listing = set(), False
    for line in text.splitlines():
        if line.strip().upper().startswith("SUBCOMMANDS"):
            listing = True
        elif listing and line.startswith("  ") and line.strip():
            names.add(line.split()[0])
        elif listing and line.strip() and not line.startswith(" "):
            listing = False
    return names


# MARK: - measuring

class Measurement:
    def __init__(self, wall, cpu, rss_kib, status, size):
        self.wall, self.cpu, self.rss_kib, self.status, self.size = wall, cpu, rss_kib, status, size


def measure(command, output, env, log_path, timeout, preexec=None):
    """Runs one command; wall time, CPU time (user+sys) and peak RSS of it and its children.

    The command runs under GNU time, a small process: a child forked straight from this
    harness would inherit the harness's own high-water RSS until exec and report that.
    """
    for path in [output] + [output + s for s in (".aux.xml", ".ovr", ".msk")]:
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    stats_path = log_path + ".time"
    with open(log_path, "ab") as log:
        log.write(("\n$ " + " ".join(command) + "\n").encode())
        log.flush()
        start = time.perf_counter()
        process = subprocess.Popen([GNU_TIME, "-f", "%U %S %M", "-o", stats_path, "--"] + command,
                                   stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env, preexec_fn=preexec)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
        wall = time.perf_counter() - start
    user, system, rss_kib = 0.0, 0.0, 0
    with open(stats_path) as f:
        for line in f:
            parts = line.split()
            # GNU time prefixes "Command exited with non-zero status N" on failure.
            if len(parts) == 3 and parts[2].isdigit():
                user, system, rss_kib = float(parts[0]), float(parts[1]), int(parts[2])
    size = os.path.getsize(output) if os.path.isfile(output) else 0
    return Measurement(wall, user + system, rss_kib, status, size)


# MARK: - agreement

def compare(ours, theirs, tolerance, mode="exact"):
    """Pixel agreement of two rasters, window by window. Returns (ok, text). With mode "within"
    the reference's grid must lie inside ours (same pixel size and corners) and agree there."""
    if mode == "none":
        return True, "not compared (the runners make different things; the row is for time)"
    if mode == "sampled":
        return compare_sampled(ours, theirs, tolerance)
    a, b = gdal.Open(ours), gdal.Open(theirs)
    if mode == "size":
        # Previews: the same picture size (their stretches and samplings differ by design).
        same = (a.RasterXSize, a.RasterYSize) == (b.RasterXSize, b.RasterYSize)
        return same, f"same size {a.RasterXSize} x {a.RasterYSize}" if same else f"sizes differ: {a.RasterXSize}x{a.RasterYSize} vs {b.RasterXSize}x{b.RasterYSize}"
    if mode == "band3":
        # Tessera's third band against the reference's only band (W5b: NBR).
        va = a.GetRasterBand(3).ReadAsArray().astype(np.float64)
        vb = b.GetRasterBand(1).ReadAsArray().astype(np.float64)
        diff = np.abs(va - vb)
        worst = float(np.nanmax(diff)) if diff.size else 0.0
        differing = int(np.count_nonzero(diff > tolerance))
        return (differing == 0), (f"band 3 identical within {tolerance:g} (max {worst:.3g})" if differing == 0 else f"{differing} pixels of band 3 differ")
    if mode == "within":
        gta, gtb = a.GetGeoTransform(), b.GetGeoTransform()
        if abs(gta[1] - gtb[1]) > 1e-9 * abs(gtb[1]) or abs(gta[5] - gtb[5]) > 1e-9 * abs(gtb[5]):
            return False, f"pixel size differs: {gta} vs {gtb}"
        fx, fy = (gtb[0] - gta[0]) / gta[1], (gtb[3] - gta[3]) / gta[5]
        x, y = int(round(fx)), int(round(fy))
        if abs(fx - x) > 1e-6 or abs(fy - y) > 1e-6 or x < 0 or y < 0 or x + b.RasterXSize > a.RasterXSize or y + b.RasterYSize > a.RasterYSize:
            return False, f"the reference's grid is not inside ours: {gtb} {b.RasterXSize}x{b.RasterYSize} vs {gta} {a.RasterXSize}x{a.RasterYSize}"
        differing = 0
        for i in range(1, b.RasterCount + 1):
            va = a.GetRasterBand(i).ReadAsArray(x, y, b.RasterXSize, b.RasterYSize)
            vb = b.GetRasterBand(i).ReadAsArray()
            differing += int(np.count_nonzero(va != vb))
        extra = a.RasterXSize * a.RasterYSize - b.RasterXSize * b.RasterYSize
        if differing:
            return False, f"{differing} pixels differ inside the reference's window"
        return True, f"identical pixels on the reference's window ({extra} edge pixels more in ours)"
    if (a.RasterXSize, a.RasterYSize, a.RasterCount) != (b.RasterXSize, b.RasterYSize, b.RasterCount):
        return False, (f"shape differs: {a.RasterXSize}x{a.RasterYSize}x{a.RasterCount} vs "
                       f"{b.RasterXSize}x{b.RasterYSize}x{b.RasterCount}")
    gta, gtb = a.GetGeoTransform(), b.GetGeoTransform()
    if any(abs(x - y) > 1e-9 * max(1.0, abs(y)) for x, y in zip(gta, gtb)):
        return False, f"geotransform differs: {gta} vs {gtb}"
    worst, differing, floats = 0.0, 0, False
    rows = max(1, (64 << 20) // max(1, a.RasterXSize * 8))
    for i in range(1, a.RasterCount + 1):
        ba, bb = a.GetRasterBand(i), b.GetRasterBand(i)
        floats = floats or ba.DataType in (gdal.GDT_Float32, gdal.GDT_Float64)
        for y in range(0, a.RasterYSize, rows):
            h = min(rows, a.RasterYSize - y)
            va = ba.ReadAsArray(0, y, a.RasterXSize, h).astype(np.float64)
            vb = bb.ReadAsArray(0, y, a.RasterXSize, h).astype(np.float64)
            both_nan = np.isnan(va) & np.isnan(vb)
            diff = np.where(both_nan, 0.0, np.abs(va - vb))
            diff = np.where(np.isnan(diff), np.inf, diff)
            worst = max(worst, float(diff.max(initial=0.0)))
            differing += int(np.count_nonzero(diff > tolerance))
    if differing == 0:
        return True, ("identical pixels" if worst == 0 else f"max abs diff {worst:.3g} (tolerance {tolerance:g})")
    return False, f"{differing} pixels differ, max abs diff {worst:.6g}"


def sample_windows(width, height, count=64, size=512, seed=9):
    """`count` seeded block-aligned windows (x, y, w, h) spread over a raster."""
    rng = np.random.default_rng(seed)
    cols, rows = max(1, (width + size - 1) // size), max(1, (height + size - 1) // size)
    picks = {(int(rng.integers(cols)), int(rng.integers(rows))) for _ in range(count)}
    picks |= {(0, 0), (cols - 1, rows - 1)}
    return [(c * size, r * size, min(size, width - c * size), min(size, height - r * size)) for c, r in sorted(picks)]


def compare_sampled(ours, theirs, tolerance):
    """For rasters too large to compare whole (W9-100k): shape, georeferencing and nodata
    whole, pixels on 64 seeded 512 x 512 windows plus the two corner blocks."""
    a, b = gdal.Open(ours), gdal.Open(theirs)
    if (a.RasterXSize, a.RasterYSize, a.RasterCount) != (b.RasterXSize, b.RasterYSize, b.RasterCount):
        return False, f"shape differs: {a.RasterXSize}x{a.RasterYSize}x{a.RasterCount} vs {b.RasterXSize}x{b.RasterYSize}x{b.RasterCount}"
    if any(abs(x - y) > 1e-9 * max(1.0, abs(y)) for x, y in zip(a.GetGeoTransform(), b.GetGeoTransform())):
        return False, f"geotransform differs: {a.GetGeoTransform()} vs {b.GetGeoTransform()}"
    windows = sample_windows(a.RasterXSize, a.RasterYSize)
    differing, pixels = 0, 0
    for i in range(1, a.RasterCount + 1):
        ba, bb = a.GetRasterBand(i), b.GetRasterBand(i)
        if ba.GetNoDataValue() != bb.GetNoDataValue():
            return False, f"nodata differs: {ba.GetNoDataValue()} vs {bb.GetNoDataValue()}"
        for x, y, w, h in windows:
            va, vb = ba.ReadAsArray(x, y, w, h).astype(np.float64), bb.ReadAsArray(x, y, w, h).astype(np.float64)
            differing += int(np.count_nonzero(np.abs(va - vb) > tolerance))
            pixels += w * h
    if differing:
        return False, f"{differing} of {pixels} sampled pixels differ"
    return True, f"identical on {len(windows)} sampled windows ({pixels} pixels)"


def compare_ndvi_sampled(ours, red, nir, nodata=-9999.0):
    """Tessera's NDVI against numpy's (float32, (nir - red) / (nir + red), nodata where an input
    is 0 or the sum is 0) on sampled windows of the inputs."""
    a, r, n = gdal.Open(ours), gdal.Open(red), gdal.Open(nir)
    if (a.RasterXSize, a.RasterYSize) != (r.RasterXSize, r.RasterYSize):
        return False, f"shape differs from the inputs': {a.RasterXSize}x{a.RasterYSize} vs {r.RasterXSize}x{r.RasterYSize}"
    windows = sample_windows(a.RasterXSize, a.RasterYSize)
    differing, pixels, valid = 0, 0, 0
    for x, y, w, h in windows:
        rv = r.GetRasterBand(1).ReadAsArray(x, y, w, h).astype(np.float32)
        nv = n.GetRasterBand(1).ReadAsArray(x, y, w, h).astype(np.float32)
        ok = (rv != 0) & (nv != 0) & ((nv + rv) != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(ok, (nv - rv) / (nv + rv), np.float32(nodata)).astype(np.float32)
        got = a.GetRasterBand(1).ReadAsArray(x, y, w, h)
        differing += int(np.count_nonzero(np.abs(got.astype(np.float64) - expected.astype(np.float64)) > 1e-6))
        pixels += w * h
        valid += int(ok.sum())
    if differing:
        return False, f"{differing} of {pixels} sampled pixels differ from numpy's NDVI"
    return True, f"equal to numpy's NDVI on {len(windows)} sampled windows ({pixels} pixels, {valid} valid)"


# MARK: - memory caps

class MemoryCap:
    """A memory cgroup (v1 here, v2 where that is what is mounted) that one command runs in:
    RSS and page cache above the limit are reclaimed, and anonymous memory that cannot be is an
    OOM kill, so a run that passes never needed more."""
    V1 = "/sys/fs/cgroup/memory"
    V2 = "/sys/fs/cgroup"

    @staticmethod
    def available():
        if os.geteuid() != 0:
            return False
        if os.path.isfile(os.path.join(MemoryCap.V1, "memory.limit_in_bytes")):
            return True
        controllers = os.path.join(MemoryCap.V2, "cgroup.controllers")
        return os.path.exists(controllers) and "memory" in open(controllers).read().split()

    def __init__(self, limit_bytes, name):
        self.v1 = os.path.isfile(os.path.join(MemoryCap.V1, "memory.limit_in_bytes"))
        self.path = os.path.join(MemoryCap.V1 if self.v1 else MemoryCap.V2, name)
        os.makedirs(self.path, exist_ok=True)
        self.write("memory.limit_in_bytes" if self.v1 else "memory.max", str(int(limit_bytes)))
        if self.v1 and os.path.exists(os.path.join(self.path, "memory.memsw.limit_in_bytes")):
            self.write("memory.memsw.limit_in_bytes", str(int(limit_bytes)))  # no swapping past it either
        if not self.v1:
            self.write("memory.swap.max", "0")

    def write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def read(self, name):
        try:
            with open(os.path.join(self.path, name)) as f:
                return f.read()
        except OSError:
            return ""

    def join(self):
        """In the child, before exec: everything it runs is inside."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def oom_kills(self):
        text = self.read("memory.oom_control" if self.v1 else "memory.events")
        for line in text.splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def remove(self):
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def capped_run(runner, peak_mib, env, log_path, timeout):
    """Tessera's run again under a cgroup memory cap of twice its measured peak RSS."""
    limit = int(2 * peak_mib * (1 << 20))
    cap = MemoryCap(limit, f"tessera-bench-{os.getpid()}")
    try:
        m = measure(runner.command, runner.output, env, log_path, timeout, preexec=cap.join)
        return {"cap_mib": round(limit / (1 << 20)), "status": m.status, "oom_kills": cap.oom_kills(),
                "peak_rss_mib": round(m.rss_kib / 1024, 1), "ok": m.status == 0 and cap.oom_kills() == 0}
    finally:
        cap.remove()


# MARK: - running

def run_workload(w, runs, env, out_dir, log_path, timeout, log):
    runners = [w.tessera] + w.peers
    results = {r.name: [] for r in runners}
    log(f"{w.id} {w.title}: {1 if w.warmup else 0} warm-up and {runs} counted run(s) of {len(runners)} runners, alternating")
    for round_index in range(0 if w.warmup else 1, runs + 1):
        for runner in runners:
            m = measure(runner.command, runner.output, env, log_path, timeout)
            if m.status != 0:
                return {"id": w.id, "title": w.title, "status": "error",
                        "error": f"{runner.name} exited {m.status} (see {os.path.relpath(log_path, ROOT)})"}
            if round_index > 0:
                results[runner.name].append(m)
    if w.agreement == "ndvi-sampled":
        ok, agreement = compare_ndvi_sampled(w.tessera.output, *w.ndvi_inputs)
        peer_name = "numpy"
    else:
        reference = next(r for r in w.peers if r.name == w.reference)
        ok, agreement = compare(w.tessera.check or w.tessera.output, reference.check or reference.output, w.tolerance, w.agreement)
        peer_name = reference.name
    row = {"id": w.id, "title": w.title, "status": "ok" if ok else "FAIL",
           "agreement": {"peer": peer_name, "ok": ok, "detail": agreement}, "runners": {}}
    tessera = summarise(results[w.tessera.name])
    if w.rss_limit_mib:
        row["rss_limit_mib"] = w.rss_limit_mib
        if tessera["peak_rss_mib"] > w.rss_limit_mib:
            row["status"] = "FAIL"
            row["rss_detail"] = f"peak RSS {tessera['peak_rss_mib']:.0f} MiB is over the {w.rss_limit_mib:.0f} MiB limit"
    if w.memory_cap and MemoryCap.available():
        capped = capped_run(w.tessera, tessera["peak_rss_mib"], env, log_path, timeout)
        row["memory_cap"] = capped
        if not capped["ok"]:
            row["status"] = "FAIL"
        elif w.agreement not in ("none", "ndvi-sampled"):
            # The capped run's output must still be right.
            same, detail = compare(w.tessera.check or w.tessera.output, reference.check or reference.output, w.tolerance, w.agreement)
            capped["agreement"] = detail
            if not same:
                row["status"] = "FAIL"
    if w.pixels and tessera["wall_s"]:
        row["tessera_mpix_per_s"] = w.pixels / 1e6 / tessera["wall_s"]
    if w.jobs:
        # What the batch adds to each job beyond running the same commands with xargs.
        same = next((summarise(results[r.name]) for r in w.peers if "tessera" in r.name), None)
        if same:
            row["overhead_ms_per_job"] = (tessera["wall_s"] - same["wall_s"]) * 2 / w.jobs * 1000
    row.update(w.after())
    for runner in runners:
        s = summarise(results[runner.name])
        if runner is not w.tessera:
            s["ratio_wall"] = tessera["wall_s"] / s["wall_s"] if s["wall_s"] else None
            s["ratio_cpu"] = tessera["cpu_s"] / s["cpu_s"] if s["cpu_s"] else None
            s["ratio_rss"] = tessera["peak_rss_mib"] / s["peak_rss_mib"] if s["peak_rss_mib"] else None
        row["runners"][runner.name] = s
    return row


def check_peers(selected, env, log_path, timeout, log):
    """Diagnostic: do the peers run, and how do they agree with each workload's reference?"""
    for w in selected:
        try:
            w.prepare()
        except Exception as error:  # a workload whose inputs cannot be made yet
            log(f"{w.id}: cannot prepare ({error})")
            continue
        for runner in w.peers:
            m = measure(runner.command, runner.output, env, log_path, timeout)
            log(f"{w.id} {runner.name}: exit {m.status}, {m.wall:.2f} s, {m.rss_kib / 1024:.0f} MiB")
        reference = next(r for r in w.peers if r.name == w.reference)
        for runner in w.peers:
            if runner is not reference and os.path.exists(runner.output) and os.path.exists(reference.output):
                ok, text = compare(runner.output, reference.output, w.tolerance)
                log(f"  {runner.name} vs {reference.name}: {text}")


def summarise(measurements):
    return {
        "wall_s": statistics.median(m.wall for m in measurements),
        "cpu_s": statistics.median(m.cpu for m in measurements),
        "peak_rss_mib": max(m.rss_kib for m in measurements) / 1024.0,
        "output_mib": statistics.median(m.size for m in measurements) / (1 << 20),
        "runs": len(measurements),
    }


def table(rows):
    lines = []
    header = f"  {'runner':<34} {'wall s':>8} {'cpu s':>8} {'rss MiB':>8} {'out MiB':>8}   {'wall x':>7} {'rss x':>7}"
    for row in rows:
        lines.append(f"{row['id']} {row['title']}  [{row['status']}]")
        if row["status"] in ("skipped", "error"):
            lines.append("  " + row.get("reason", row.get("error", "")))
            continue
        lines.append(header)
        for name, s in row["runners"].items():
            ratios = ""
            if "ratio_wall" in s:
                ratios = f"   {s['ratio_wall']:7.2f} {s['ratio_rss']:7.2f}"
            lines.append(f"  {name:<34} {s['wall_s']:8.2f} {s['cpu_s']:8.2f} {s['peak_rss_mib']:8.0f} "
                         f"{s['output_mib']:8.1f}{ratios}")
        if "overhead_ms_per_job" in row:
            lines.append(f"  batch overhead: {row['overhead_ms_per_job']:.1f} ms per job (against xargs running the same commands)")
        if "resume_s" in row:
            lines.append(f"  --resume of the finished batch: {row['resume_s']:.2f} s")
        if "tessera_mpix_per_s" in row:
            lines.append(f"  tessera throughput: {row['tessera_mpix_per_s']:.1f} megapixels/s")
        if "memory_cap" in row:
            c = row["memory_cap"]
            lines.append(f"  under a memory cgroup cap of {c['cap_mib']} MiB (2x its peak): "
                         + ("passed" if c["ok"] else f"FAILED (exit {c['status']}, {c['oom_kills']} OOM kills)") + f", peak RSS {c['peak_rss_mib']:.0f} MiB")
        if "rss_limit_mib" in row:
            lines.append(f"  peak RSS limit {row['rss_limit_mib']:.0f} MiB: " + row.get("rss_detail", "kept"))
        if "linear" in row:
            lines.append(f"  time per pixel against {row['linear']['to']}: {row['linear']['ratio']:.2f}x (target <= 1.2: "
                         + ("met" if row["linear"]["ratio"] <= 1.2 else "missed") + ")")
        a = row["agreement"]
        lines.append(f"  agreement with {a['peer']}: {'ok' if a['ok'] else 'FAIL'} ({a['detail']})")
    lines.append("ratios are tessera / peer (below 1: tessera is faster or smaller)")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", 5490)), help="tile size in pixels")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)), help="counted runs per runner")
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""), help="comma-separated workload ids")
    parser.add_argument("--large", action="store_true", help="run W9, the 40000 x 40000 mosaic")
    parser.add_argument("--tessera", default=os.path.join(ROOT, ".build", "release", "tessera"))
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--check-peers", action="store_true", help="run only the peers once and compare each with the reference peer")
    args = parser.parse_args()

    started = time.time()
    log = lambda text: print(text, flush=True)
    tessera = os.path.abspath(args.tessera)
    if not os.access(tessera, os.X_OK):
        sys.exit(f"bench: {tessera} is not built (make build)")
    venv = ensure_venv(log)
    data = os.path.join(HERE, "data")
    out_dir = os.path.join(data, "out")
    os.makedirs(out_dir, exist_ok=True)
    log_path = os.path.join(HERE, "results", "commands.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    open(log_path, "w").close()

    env = dict(os.environ)
    env["PATH"] = os.path.join(venv, "bin") + os.pathsep + env.get("PATH", "")
    # Nobody writes .aux.xml sidecars into the shared data folder.
    env["GDAL_PAM_ENABLED"] = "NO"

    context = workloads.Context(tessera=tessera, venv=venv, data=data, out=out_dir, size=args.size,
                                threads=os.cpu_count() or 1, log=log)
    selected = workloads.large(context) + workloads.large_100k(context) if args.large else workloads.standard(context)
    if args.only:
        wanted = set(args.only.split(","))
        selected = [w for w in selected if w.id in wanted]

    if args.check_peers:
        check_peers(selected, env, log_path, args.timeout, log)
        return

    available = tessera_subcommands(tessera)
    rows = []
    for w in selected:
        missing = [s for s in w.requires if s not in available]
        if missing:
            rows.append({"id": w.id, "title": w.title, "status": "skipped",
                         "reason": f"tessera has no '{' '.join(missing)}' subcommand yet"})
            log(f"{w.id} skipped: tessera has no '{' '.join(missing)}' yet")
            continue
        if w.id.startswith("W9-100k") and not any(r["id"].startswith("W9-100k") for r in rows):
            free = workloads.disk_free_gib(out_dir)
            if free < workloads.LARGE_DISK_GIB:
                reason = (f"needs about {workloads.LARGE_DISK_GIB} GiB free in {out_dir} at its peak "
                          f"(mosaic ~10 GiB, its NDVI ~31 GiB); {free:.0f} GiB is free")
                log(f"W9-100k skipped: {reason}")
                for x in selected:
                    if x.id.startswith("W9-100k"):
                        rows.append({"id": x.id, "title": x.title, "status": "skipped", "reason": reason})
                break
        w.prepare()
        row = run_workload(w, args.runs, env, out_dir, log_path, args.timeout, log)
        if w.linear_to:
            base = next((r for r in rows if r["id"] == w.linear_to and "tessera_mpix_per_s" in r), None)
            if base and "tessera_mpix_per_s" in row:
                row["linear"] = {"to": w.linear_to, "ratio": base["tessera_mpix_per_s"] / row["tessera_mpix_per_s"]}
        rows.append(row)
        log(table([row]).rsplit("\n", 1)[0])
        w.cleanup()

    report = {
        "machine": {"cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30), 1),
                    "platform": platform.platform(), "gdal": gdal.__version__,
                    "rasterio_gdal": subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import rasterio; print(rasterio.__gdal_version__)"],
                                                    capture_output=True, text=True).stdout.strip()},
        "tile_size": args.size, "runs": args.runs, "elapsed_s": round(time.time() - started, 1),
        "workloads": rows,
    }
    with open(os.path.join(HERE, "results", "latest.json"), "w") as f:
        json.dump(report, f, indent=2)
    log("")
    log(f"tile size {args.size}, {args.runs} counted run(s), {report['machine']['cores']} cores, "
        f"{report['machine']['memory_gib']} GiB, GDAL {report['machine']['gdal']} (rasterio's {report['machine']['rasterio_gdal']})")
    log(table(rows))
    log(f"written to Benchmarks/results/latest.json in {report['elapsed_s']} s")
    failed = [r["id"] for r in rows if r["status"] in ("FAIL", "error")]
    if failed:
        log("bench: outputs disagree or a runner failed in " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
