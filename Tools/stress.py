#!/usr/bin/python3
"""`make stress`: the long half of Tessera's hardening (issue #17), not run by CI.

1. Signals. Every writing subcommand (and batch) is started on inputs that keep it busy for
   about a second, and sent SIGINT, SIGTERM or SIGHUP at a random moment between its start and
   a little past its usual end. Each trial must end by an exit code (never by the signal):
   130/143/129, or 0 when it had finished; with no output or one byte-identical to an
   uninterrupted run's; with no temporary file in the output folder or in TMPDIR; with no
   process of it left running; and the inputs byte-identical.
2. Full disks. The same commands write into a small tmpfs that fills up part-way through the
   output, and under RLIMIT_FSIZE below the output's size: exit 74 (never a signal), one line
   naming the problem, nothing left in the output folder or TMPDIR, inputs intact.

    /usr/bin/python3 Tools/stress.py [--trials 50] [--only mosaic,clip] [--seed N] [--keep]

Needs root for the tmpfs (without it the full-disk part is skipped, and says so), Debian's
python3 with GDAL's bindings, and a release build (`make stress` builds it).
"""
import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIGNALS = {"SIGINT": (signal.SIGINT, 130), "SIGTERM": (signal.SIGTERM, 143), "SIGHUP": (signal.SIGHUP, 129)}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_hashes(folder):
    out = {}
    for base, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(base, name)
            out[os.path.relpath(path, folder)] = sha256(path)
    return out


def listing(folder):
    out = []
    for base, dirs, files in os.walk(folder):
        out += [os.path.relpath(os.path.join(base, n), folder) for n in files + dirs]
    return sorted(out)


# MARK: - inputs

def make_inputs(folder, log):
    """Real imagery (rasterio's Landsat RGB.byte.tif) enlarged so each command works for about
    a second, cut into quadrants for mosaic, a cutline for clip, synthetic Sentinel-2 products
    across two UTM zones for merge-memfile, and a batch manifest."""
    os.makedirs(folder, exist_ok=True)
    marker = os.path.join(folder, "ready-2")
    if os.path.exists(marker):
        return
    log("making the inputs in " + folder)
    src = os.path.join(ROOT, "Fixtures", "rasterio", "RGB.byte.tif")
    big = os.path.join(folder, "big.tif")
    gdal.Translate(big, src, width=4746, height=4308, resampleAlg="bilinear",
                   creationOptions=["TILED=YES", "COMPRESS=DEFLATE"])
    w, h = 4746, 4308
    for i, (x, y) in enumerate([(0, 0), (w // 2, 0), (0, h // 2), (w // 2, h // 2)]):
        gdal.Translate(os.path.join(folder, f"q{i}.tif"), big, srcWin=[x, y, w - w // 2 if x else w // 2 + 64, h - h // 2 if y else h // 2 + 64],
                       creationOptions=["TILED=YES", "COMPRESS=DEFLATE"])
    ds = gdal.Open(big)
    gt = ds.GetGeoTransform()
    x0, y0 = gt[0], gt[3]
    x1, y1 = x0 + gt[1] * w, y0 + gt[5] * h
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for fx, fy in [(0.05, 0.1), (0.9, 0.02), (0.97, 0.8), (0.5, 0.97), (0.02, 0.7), (0.05, 0.1)]:
        ring.AddPoint_2D(x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    drv = ogr.GetDriverByName("GeoJSON")
    vec = drv.CreateDataSource(os.path.join(folder, "cutline.geojson"))
    layer = vec.CreateLayer("cutline", srs, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(poly)
    layer.CreateFeature(feature)
    vec = None
    # Four fields for clip --each-feature: one output per feature, committed as one.
    vec = drv.CreateDataSource(os.path.join(folder, "fields.geojson"))
    layer = vec.CreateLayer("fields", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for n, (fx0, fy0) in enumerate([(0.02, 0.02), (0.5, 0.02), (0.02, 0.5), (0.5, 0.5)]):
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for fx, fy in [(0, 0), (0.47, 0.03), (0.45, 0.46), (0.02, 0.44), (0, 0)]:
            ring.AddPoint_2D(x0 + (fx0 + fx) * (x1 - x0), y0 + (fy0 + fy) * (y1 - y0))
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("name", "field-" + "abcd"[n])
        feature.SetGeometry(poly)
        layer.CreateFeature(feature)
    vec = None
    ds = None
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "s2products.py"), os.path.join(folder, "s2"), "--scenario", "zones",
                    "--size", "3000", "--bands", "B04,B08", "--format", "tif"], check=True, stdout=subprocess.DEVNULL)
    with open(marker, "w") as f:
        f.write("ok\n")


def commands(tessera, inputs, out, force=False):
    """name -> (arguments, the outputs they write, relative to `out`). Two threads each, as a
    user on this machine would run them."""
    i = lambda n: os.path.join(inputs, n)
    o = lambda n: os.path.join(out, n)
    products = sorted(os.path.join(inputs, "s2", n) for n in os.listdir(os.path.join(inputs, "s2")) if n.endswith(".SAFE"))
    t = ["--threads", "2"]
    return {
        "mosaic": ([tessera, "mosaic", i("q0.tif"), i("q1.tif"), i("q2.tif"), i("q3.tif"), "-o", o("o.tif"), *t], ["o.tif"]),
        "clip": ([tessera, "clip", i("big.tif"), o("o.tif"), "--cutline", i("cutline.geojson"), *t], ["o.tif"]),
        "clip-each": ([tessera, "clip", i("big.tif"), "-o", o("fields"), "--cutline", i("fields.geojson"), "--each-feature",
                       "--name-field", "name", *t], ["fields/field-" + c + ".tif" for c in "abcd"]),
        "reproject": ([tessera, "reproject", i("big.tif"), o("o.tif"), "--dst-crs", "EPSG:4326", "--resampling", "bilinear", *t], ["o.tif"]),
        "resample": ([tessera, "resample", i("big.tif"), o("o.tif"), "--size", "70%", "--resampling", "cubic", *t], ["o.tif"]),
        "index": ([tessera, "index", "ndvi,ndwi", i("big.tif"), "-i", "red=1,nir=3,green=2", "-o", o("o.tif"), *t], ["o.tif"]),
        "band-stack": ([tessera, "band-stack", i("big.tif") + ":3", i("big.tif") + ":2", i("big.tif") + ":1", i("big.tif") + ":1",
                        "-o", o("o.tif"), *t], ["o.tif"]),
        "merge-memfile": ([tessera, "merge-memfile", *products, "-o", o("o.tif"), "-b", "B04,B08", "--cog", *t], ["o.tif"]),
        "cog-export": ([tessera, "cog-export", i("big.tif"), o("o.tif"), "--profile", "deflate", *t], ["o.tif"]),
        "quicklook": ([tessera, "quicklook", i("big.tif"), o("o.png"), "--width", "4096", *t], ["o.png"]),
        "timelapse": ([tessera, "timelapse", i("q0.tif"), i("q1.tif"), i("q2.tif"), i("q3.tif"), i("big.tif"), "-o", o("o.gif"),
                       "--like", i("big.tif"), "--width", "1200", "--order", "given", *t], ["o.gif"]),
        "batch": ([tessera, "batch", "--each", "resample {path} " + out + "/{stem}.tif --size 60% --resampling bilinear" + (" --force-size" if force else ""),
                   i("q0.tif"), i("q1.tif"), i("q2.tif"), i("q3.tif"), i("big.tif"), "--jobs", "2", "--report", o("report.json")],
                  ["q0.tif", "q1.tif", "q2.tif", "q3.tif", "big.tif"]),
    }


# MARK: - running

class Result:
    def __init__(self, status, signalled, wall, stderr):
        self.status, self.signalled, self.wall, self.stderr = status, signalled, wall, stderr


def start(args, tmp, preexec=None):
    env = dict(os.environ, TMPDIR=tmp, GDAL_PAM_ENABLED="NO")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, preexec_fn=preexec,
                            start_new_session=True)


def finish(process, began, timeout=120):
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
        return Result(-999, True, time.monotonic() - began, err.decode(errors="replace") + "\n(hung: killed after %d s)" % timeout)
    code = process.returncode
    return Result(-code if code < 0 else code, code < 0, time.monotonic() - began, err.decode(errors="replace"))


def leftovers(tag):
    """Processes still running whose command line names this trial's folder."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if tag.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)


class Stress:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = args.work
        self.inputs = os.path.join(self.work, "inputs")
        self.tessera = args.tessera
        self.failures = []
        self.tally = {}

    def log(self, text):
        print(text, flush=True)

    def fail(self, kind, name, detail):
        self.failures.append(f"{kind} {name}: {detail}")
        self.log(f"  FAIL {kind} {name}: {detail}")

    def references(self, names):
        """Each command run once uninterrupted: its outputs' hashes and its time."""
        refs = {}
        for name in names:
            out, tmp = os.path.join(self.work, "ref", name), os.path.join(self.work, "ref-tmp", name)
            fresh(out), fresh(tmp)
            args, outputs = commands(self.tessera, self.inputs, out)[name]
            began = time.monotonic()
            r = finish(start(args, tmp), began)
            if r.status != 0:
                sys.exit(f"stress: the uninterrupted {name} failed (exit {r.status}): {r.stderr.strip()[-400:]}")
            refs[name] = ({n: sha256(os.path.join(out, n)) for n in outputs}, r.wall)
            self.log(f"reference {name}: {r.wall:.2f} s")
        return refs

    def signal_trials(self, names, refs):
        before = tree_hashes(self.inputs)
        out, tmp = os.path.join(self.work, "trial"), os.path.join(self.work, "trial-tmp")
        for name in names:
            hashes, wall = refs[name]
            for signame, (signum, expected) in SIGNALS.items():
                counts = {"interrupted": 0, "finished": 0}
                for trial in range(self.args.trials):
                    fresh(out), fresh(tmp)
                    args, outputs = commands(self.tessera, self.inputs, out)[name]
                    # From the first instant to a little past the usual end: start-up, reading,
                    # writing, the final rename and the exit all get hit.
                    delay = self.rng.uniform(0, wall * 1.15)
                    began = time.monotonic()
                    process = start(args, tmp)
                    time.sleep(max(0, delay - (time.monotonic() - began)))
                    try:
                        process.send_signal(signum)
                    except ProcessLookupError:
                        pass
                    r = finish(process, began)
                    where = f"{signame} trial {trial} at {delay:.3f} s"
                    problems = []
                    if r.signalled:
                        problems.append(f"died by signal {r.status}")
                    elif r.status not in (0, expected):
                        problems.append(f"exit {r.status} (expected {expected} or 0)")
                    present = set(listing(out))
                    if all(n in present for n in outputs):  # the folders that hold them
                        present -= {os.path.dirname(n) for n in outputs}
                    extra = present - set(outputs) - ({"report.json", "report.journal.jsonl", "report.journal.jsonl.lock"} if name == "batch" else set())
                    if extra:
                        problems.append(f"left {sorted(extra)}")
                    for n in outputs:
                        if n in present and sha256(os.path.join(out, n)) != hashes[n]:
                            problems.append(f"{n} differs from the uninterrupted run's")
                    if r.status == 0 and name != "batch" and not all(n in present for n in outputs):
                        problems.append("exit 0 without its output")
                    if listing(tmp):
                        problems.append(f"left in TMPDIR {listing(tmp)}")
                    time.sleep(0.05)
                    alive = leftovers(out)
                    if alive:
                        problems.append(f"processes left running {alive}")
                        for pid in alive:
                            try:
                                os.kill(pid, signal.SIGKILL)
                            except OSError:
                                pass
                    if problems:
                        self.fail("signal", name, f"{where}: {'; '.join(problems)} | {r.stderr.strip()[-300:]}")
                    counts["finished" if r.status == 0 else "interrupted"] += 1
                self.tally[(name, signame)] = counts
                self.log(f"{name:14s} {signame}: {self.args.trials} trials, {counts['interrupted']} interrupted, {counts['finished']} had finished")
        if tree_hashes(self.inputs) != before:
            self.fail("signal", "all", "an input changed")

    def full_disk_trials(self, names, refs):
        before = tree_hashes(self.inputs)
        tmp = os.path.join(self.work, "disk-tmp")
        mount = os.path.join(self.work, "tmpfs")
        os.makedirs(mount, exist_ok=True)
        can_mount = os.geteuid() == 0
        if not can_mount:
            self.log("full disk: not root, so no tmpfs; only RLIMIT_FSIZE runs")
        for name in names:
            hashes, _ = refs[name]
            sizes = [os.path.getsize(os.path.join(self.work, "ref", name, n)) for n in hashes]
            # A batch's jobs each write one file: the largest must not fit, so one job fails.
            size = max(sizes) if name == "batch" else sum(sizes)
            for kind in (["tmpfs", "fsize"] if can_mount else ["fsize"]):
                for trial in range(self.args.disk_trials):
                    fraction = self.rng.uniform(0.05, 0.9)
                    # RLIMIT_FSIZE caps each file, so with several outputs the largest must not fit.
                    limit = max(4096, int((max(sizes) if kind == "fsize" else size) * fraction))
                    fresh(tmp)
                    preexec = None
                    if kind == "tmpfs":
                        # The output folder and TMPDIR on one small filesystem that fills part-way.
                        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={limit + (1 << 20)}", "tessera-stress", mount], check=True)
                        out = os.path.join(mount, "out")
                        os.makedirs(out)
                        trial_tmp = os.path.join(mount, "tmp")
                        os.makedirs(trial_tmp)
                        with open(os.path.join(mount, "filler"), "wb") as f:  # leaves `limit` bytes free
                            st = os.statvfs(mount)
                            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - limit))
                    else:
                        out = os.path.join(self.work, "disk-out")
                        fresh(out)
                        trial_tmp = tmp
                        preexec = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
                    try:
                        args, outputs = commands(self.tessera, self.inputs, out, force=True)[name]
                        if name not in ("quicklook", "timelapse", "batch"):
                            args = args + ["--force-size"]
                        r = finish(start(args, trial_tmp, preexec), time.monotonic())
                        where = f"{kind} trial {trial}, {limit} bytes of {size}"
                        problems = []
                        if r.signalled:
                            problems.append(f"died by signal {r.status}")
                        expected = 1 if name == "batch" else 74
                        if r.status != expected:
                            problems.append(f"exit {r.status} (expected {expected})")
                        keep = {"report.json", "report.journal.jsonl", "report.journal.jsonl.lock"} if name == "batch" else set()
                        left = set(listing(out)) - keep
                        if name == "batch":  # jobs that fitted keep their whole outputs
                            left = {n for n in left if not (n in hashes and sha256(os.path.join(out, n)) == hashes[n])}
                        if left:
                            problems.append(f"left {sorted(left)}")
                        if listing(trial_tmp):
                            problems.append(f"left in TMPDIR {listing(trial_tmp)}")
                        last = r.stderr.strip().split("\n")[-1] if r.stderr.strip() else ""
                        if name != "batch" and not last.startswith("tessera "):
                            problems.append(f"no one-line error: {last[:200]}")
                        if problems:
                            self.fail("disk", name, f"{where}: {'; '.join(problems)} | {r.stderr.strip()[-300:]}")
                    finally:
                        if kind == "tmpfs":
                            subprocess.run(["umount", mount], check=True)
                self.log(f"{name:14s} full disk ({kind}): {self.args.disk_trials} trials")
        if tree_hashes(self.inputs) != before:
            self.fail("disk", "all", "an input changed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50, help="signal trials per command and signal (default 50)")
    parser.add_argument("--disk-trials", type=int, default=10, help="full-disk trials per command and kind (default 10)")
    parser.add_argument("--only", help="comma-separated commands")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-stress"))
    parser.add_argument("--tessera", default=os.path.join(ROOT, ".build", "release", "tessera"))
    parser.add_argument("--no-signals", action="store_true")
    parser.add_argument("--no-disk", action="store_true")
    args = parser.parse_args()
    args.work = os.path.abspath(args.work)
    stress = Stress(args)
    began = time.monotonic()
    make_inputs(stress.inputs, stress.log)
    names = list(commands(args.tessera, stress.inputs, "x").keys())
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    refs = stress.references(names)
    if not args.no_signals:
        stress.signal_trials(names, refs)
    if not args.no_disk:
        stress.full_disk_trials(names, refs)
    minutes = (time.monotonic() - began) / 60
    signal_runs = sum(c["interrupted"] + c["finished"] for c in stress.tally.values())
    interrupted = sum(c["interrupted"] for c in stress.tally.values())
    print(f"stress: {len(names)} commands, {signal_runs} signal trials ({interrupted} interrupted, {signal_runs - interrupted} had finished), "
          f"{len(stress.failures)} failures, {minutes:.1f} min")
    with open(os.path.join(args.work, "stress-summary.json"), "w") as f:
        json.dump({"commands": names, "signal_trials": {f"{k[0]} {k[1]}": v for k, v in stress.tally.items()},
                   "failures": stress.failures, "minutes": round(minutes, 1)}, f, indent=1)
    sys.exit(1 if stress.failures else 0)


if __name__ == "__main__":
    main()
