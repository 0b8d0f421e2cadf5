"""The benchmark workloads: what Tessera runs, what each peer runs for the same job, and which
peer's output Tessera's must agree with.

Every runner gets the same inputs and equivalent options: the same compression (DEFLATE),
predictor (2), 512 x 512 tiling and thread count. A workload whose Tessera subcommand does not
exist yet is listed as skipped.
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, List

import datagen


@dataclass
class Context:
    tessera: str
    venv: str
    data: str
    out: str
    size: int
    threads: int
    log: Callable


@dataclass
class Runner:
    name: str
    command: List[str]
    output: str
    # The file compared with the reference, when `output` is a folder of many.
    check: str = ""


@dataclass
class Workload:
    id: str
    title: str
    requires: List[str]
    tessera: Runner
    peers: List[Runner]
    reference: str
    tolerance: float = 0.0
    # "exact": the same grid and pixels; "within": the reference's grid lies inside Tessera's
    # (same pixel size and corners) and every reference pixel equals Tessera's there.
    agreement: str = "exact"
    prepare: Callable = field(default=lambda: None)
    # Output pixels, when the row should quote Tessera's throughput in megapixels per second.
    pixels: int = 0
    # Run after the counted runs; returns extra figures for the row.
    after: Callable = field(default=lambda: {})
    # Jobs in one run, for a batch workload's overhead per job.
    jobs: int = 0
    # False for the 100k rows: a warm-up run would double an hour's work for nothing.
    warmup: bool = True
    # Run once the row is done: removes outputs no later workload reads (disk for W9-100k).
    cleanup: Callable = field(default=lambda: None)
    # The row whose Tessera time per pixel this row's must stay within 1.2x of (linear scaling).
    linear_to: str = ""
    # A ceiling on Tessera's peak RSS in MiB: above it the row fails.
    rss_limit_mib: float = 0
    # Rerun Tessera under a memory cgroup capped at twice its measured peak (make bench).
    memory_cap: bool = True
    # For agreement "ndvi-sampled": (red, nir) inputs the expected NDVI is computed from.
    ndvi_inputs: tuple = ()


def creation(threads):
    """GDAL creation options every runner writes with."""
    return ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE", "PREDICTOR=2",
            f"NUM_THREADS={threads}", "BIGTIFF=IF_SAFER"]


def gdal_co(options):
    return [x for o in options for x in ("-co", o)]


def rio_co(options):
    return [x for o in options for x in ("--co", o)]


def tessera_co(options):
    return [x for o in options for x in ("--co", o)]


def shell(*commands):
    """A multi-step peer (gdalbuildvrt then gdal_translate) as one measured process."""
    return ["sh", "-c", " && ".join(" ".join(_quote(a) for a in c) for c in commands)]


def _quote(arg):
    return "'" + arg.replace("'", "'\\''") + "'" if any(ch in arg for ch in " ()*'\"$") else arg


def _tiles(ctx):
    folder = os.path.join(ctx.data, f"tiles-{ctx.size}")
    return datagen.tiles(folder, 2, ctx.size, log=ctx.log), folder


def _s2_products(ctx):
    """Two synthetic L2A products of one tile from two orbits (Tools/s2products.py), made once."""
    size = ctx.size - ctx.size % 6  # whole 20 m and 60 m grids
    folder = os.path.join(ctx.data, f"s2-{size}")
    listing = os.path.join(folder, "products.txt")
    if not os.path.exists(listing):
        ctx.log(f"generating two synthetic Sentinel-2 products of {size} x {size} px at 10 m in {folder}")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tools", "s2products.py")
        out = subprocess.run([sys.executable, script, folder, "--scenario", "orbits", "--size", str(size),
                              "--bands", "B02,B03,B04,B08,SCL"], check=True, capture_output=True, text=True).stdout
        with open(listing, "w") as f:
            f.write(out)
    with open(listing) as f:
        return [line.strip() for line in f if line.strip()]


def standard(ctx):
    """W1-W8, for `make bench`."""
    t = ctx.threads
    co = creation(t)
    tiles, folder = _tiles(ctx)
    red, nir, green, blue = tiles["B04"], tiles["B08"], tiles["B03"], tiles["B02"]
    cutline = datagen.cutline(folder, ctx.size)
    out = lambda name: os.path.join(ctx.out, name)
    rio = os.path.join(ctx.venv, "bin", "rio")
    tessera = ctx.tessera
    w = []

    # W1: mosaic of the four red tiles; later inputs win where they overlap (GDAL's rule).
    w.append(Workload(
        "W1", "mosaic of the four red tiles", ["mosaic"],
        Runner("tessera mosaic", [tessera, "mosaic", *red, "-o", out("W1-tessera.tif"), *tessera_co(co), "--threads", str(t), "--quiet"], out("W1-tessera.tif")),
        [
            Runner("gdalwarp -multi", ["gdalwarp", "-q", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", *gdal_co(co), *red, out("W1-gdalwarp.tif")], out("W1-gdalwarp.tif")),
            Runner("gdalbuildvrt + gdal_translate", shell(["gdalbuildvrt", "-q", "-overwrite", out("W1.vrt"), *red],
                                                          ["gdal_translate", "-q", *gdal_co(co), out("W1.vrt"), out("W1-translate.tif")]), out("W1-translate.tif")),
            Runner("rio merge --method last", [rio, "merge", *red, out("W1-rio.tif"), "--method", "last", *rio_co(co)], out("W1-rio.tif")),
        ],
        reference="gdalbuildvrt + gdal_translate"))

    # W2: reproject one tile to EPSG:4326, bilinear.
    w.append(Workload(
        "W2", "reproject one tile to EPSG:4326, bilinear", ["reproject"],
        Runner("tessera reproject", [tessera, "reproject", red[0], out("W2-tessera.tif"), "--dst-crs", "EPSG:4326", "--resampling", "bilinear", *tessera_co(co), "--threads", str(t), "--quiet"], out("W2-tessera.tif")),
        [
            Runner("gdalwarp -multi", ["gdalwarp", "-q", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-t_srs", "EPSG:4326", "-r", "bilinear", *gdal_co(co), red[0], out("W2-gdalwarp.tif")], out("W2-gdalwarp.tif")),
            Runner("rio warp", [rio, "warp", red[0], out("W2-rio.tif"), "--dst-crs", "EPSG:4326", "--resampling", "bilinear", "--threads", str(t), *rio_co(co)], out("W2-rio.tif")),
        ],
        reference="gdalwarp -multi"))

    # W3: resample one tile from 20 m to 60 m, average.
    w.append(Workload(
        "W3", "resample one tile from 20 m to 60 m, average", ["resample"],
        Runner("tessera resample", [tessera, "resample", red[0], out("W3-tessera.tif"), "--resolution", "60", "--resampling", "average", *tessera_co(co), "--threads", str(t), "--quiet"], out("W3-tessera.tif")),
        [
            Runner("gdalwarp -multi", ["gdalwarp", "-q", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-tr", "60", "60", "-r", "average", *gdal_co(co), red[0], out("W3-gdalwarp.tif")], out("W3-gdalwarp.tif")),
            Runner("rio warp", [rio, "warp", red[0], out("W3-rio.tif"), "--res", "60", "--resampling", "average", "--threads", str(t), *rio_co(co)], out("W3-rio.tif")),
        ],
        reference="gdalwarp -multi"))

    # W4: clip one tile by the polygon cutline.
    w.append(Workload(
        "W4", "clip one tile by a polygon cutline", ["clip"],
        Runner("tessera clip", [tessera, "clip", red[0], out("W4-tessera.tif"), "--cutline", cutline, *tessera_co(co), "--threads", str(t), "--quiet"], out("W4-tessera.tif")),
        [
            Runner("gdalwarp -cutline", ["gdalwarp", "-q", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-cutline", cutline, "-crop_to_cutline", *gdal_co(co), red[0], out("W4-gdalwarp.tif")], out("W4-gdalwarp.tif")),
            Runner("rio mask --crop", [rio, "mask", red[0], out("W4-rio.tif"), "--geojson-mask", cutline, "--crop", *rio_co(co)], out("W4-rio.tif")),
        ],
        reference="gdalwarp -cutline",
        # GDAL 3.6's -crop_to_cutline rounds the extent inward and drops edge pixels whose centre the
        # polygon covers; Tessera keeps them (a gdal_rasterize mask of the polygon), so gdalwarp's grid
        # lies inside Tessera's and must agree there.
        agreement="within"))

    # W4b: clip one tile by a box on its pixel edges: no warper needed.
    bbox = datagen.box(ctx.size)
    box_cutline = datagen.box_cutline(folder, ctx.size)
    w.append(Workload(
        "W4b", "clip one tile by a box", ["clip"],
        Runner("tessera clip --bbox", [tessera, "clip", red[0], out("W4b-tessera.tif"), "--bbox", ",".join(str(v) for v in bbox), *tessera_co(co), "--threads", str(t), "--quiet"], out("W4b-tessera.tif")),
        [
            Runner("gdalwarp -cutline", ["gdalwarp", "-q", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-cutline", box_cutline, "-crop_to_cutline", *gdal_co(co), red[0], out("W4b-gdalwarp.tif")], out("W4b-gdalwarp.tif")),
            Runner("gdal_translate -projwin", ["gdal_translate", "-q", "-projwin", str(bbox[0]), str(bbox[3]), str(bbox[2]), str(bbox[1]), *gdal_co(co), red[0], out("W4b-translate.tif")], out("W4b-translate.tif")),
        ],
        reference="gdal_translate -projwin"))

    # W5: NDVI from the red and nir tiles of one cell, float32. Nodata is -9999 for both: GDAL
    # 3.6's gdal_calc.py multiplies its output nodata into every pixel, so NaN makes all NaN.
    ndvi_calc = "(A.astype(float32)-B)/(A.astype(float32)+B)"
    w.append(Workload(
        "W5", "NDVI from red and nir of one cell, float32", ["index"],
        Runner("tessera index ndvi", [tessera, "index", "ndvi", "-i", f"red={red[0]}", "-i", f"nir={nir[0]}", "-o", out("W5-tessera.tif"), "--dst-nodata", "-9999", *tessera_co(co), "--threads", str(t), "--quiet"], out("W5-tessera.tif")),
        [
            Runner("gdal_calc.py", ["gdal_calc.py", "--quiet", "-A", nir[0], "-B", red[0], f"--calc={ndvi_calc}", "--type=Float32", "--NoDataValue=-9999",
                                    *[x for o in co for x in ("--co", o)], f"--outfile={out('W5-gdalcalc.tif')}"], out("W5-gdalcalc.tif")),
            Runner("rio calc", [rio, "calc", "(/ (- (take nir 1) (take red 1)) (+ (take nir 1) (take red 1)))", "--name", f"red={red[0]}", "--name", f"nir={nir[0]}",
                                "--dtype", "float32", "--masked", *rio_co(co), out("W5-rio.tif")], out("W5-rio.tif")),
            # The I/O floor the issue names: one input copied to float32 with the same options.
            # It writes integer-valued floats, which compress worse than NDVI's, so it is a
            # floor of reading and writing, not of compression.
            Runner("gdal_translate -ot Float32 (floor)", ["gdal_translate", "-q", "-ot", "Float32", *gdal_co(co), red[0], out("W5-floor.tif")], out("W5-floor.tif")),
        ],
        reference="gdal_calc.py", tolerance=1e-6, pixels=ctx.size * ctx.size))

    # W5b: NDVI, NDWI and NBR of one cell in one command, against three gdal_calc.py runs. The
    # tiles have no SWIR band: the blue tile stands in for SWIR2 (the arithmetic is the same).
    calc = lambda expr, name, inputs: ["gdal_calc.py", "--quiet", "--overwrite", *inputs, f"--calc={expr}", "--type=Float32", "--NoDataValue=-9999",
                                       *[x for o in co for x in ("--co", o)], f"--outfile={out(name)}"]
    nd = "(A.astype(float32)-B)/(A.astype(float32)+B)"
    w.append(Workload(
        "W5b", "NDVI, NDWI and NBR of one cell in one command", ["index"],
        Runner("tessera index ndvi,ndwi,nbr", [tessera, "index", "ndvi,ndwi,nbr", "-i", f"red={red[0]}", "-i", f"nir={nir[0]}",
                                               "-i", f"green={green[0]}", "-i", f"swir2={blue[0]}", "-o", out("W5b-tessera.tif"),
                                               "--dst-nodata", "-9999", *tessera_co(co), "--threads", str(t), "--quiet"], out("W5b-tessera.tif")),
        [
            Runner("3 x gdal_calc.py", shell(calc(nd, "W5b-ndvi.tif", ["-A", nir[0], "-B", red[0]]),
                                             calc(nd, "W5b-ndwi.tif", ["-A", green[0], "-B", nir[0]]),
                                             calc(nd, "W5b-nbr.tif", ["-A", nir[0], "-B", blue[0]])), out("W5b-nbr.tif")),
        ],
        reference="3 x gdal_calc.py", tolerance=1e-6, agreement="band3"))

    # W6: band-stack of the four bands of one cell.
    stack = [blue[0], green[0], red[0], nir[0]]
    w.append(Workload(
        "W6", "band-stack of the four bands of one cell", ["band-stack"],
        Runner("tessera band-stack", [tessera, "band-stack", *stack, "-o", out("W6-tessera.tif"), *tessera_co(co), "--threads", str(t), "--quiet"], out("W6-tessera.tif")),
        [
            Runner("gdalbuildvrt -separate + gdal_translate", shell(["gdalbuildvrt", "-q", "-overwrite", "-separate", out("W6.vrt"), *stack],
                                                                    ["gdal_translate", "-q", *gdal_co(co), out("W6.vrt"), out("W6-translate.tif")]), out("W6-translate.tif")),
            Runner("rio stack", [rio, "stack", *stack, out("W6-rio.tif"), *rio_co(co)], out("W6-rio.tif")),
            Runner("gdal_merge.py -separate", ["/usr/bin/python3", "/usr/bin/gdal_merge.py", "-q", "-separate", *gdal_co(co), "-o", out("W6-merge.tif"), *stack], out("W6-merge.tif")),
        ],
        reference="gdalbuildvrt -separate + gdal_translate"))

    # W7: COG export of the W1 mosaic. The input is made once by GDAL, untimed.
    mosaic = os.path.join(folder, "mosaic-B04.tif")

    def make_mosaic():
        if not os.path.exists(mosaic):
            ctx.log(f"  generating {mosaic}")
            vrt = mosaic + ".vrt"
            subprocess.run(["gdalbuildvrt", "-q", "-overwrite", vrt, *red], check=True)
            subprocess.run(["gdal_translate", "-q", *gdal_co(co), vrt, mosaic + ".partial.tif"], check=True)
            os.replace(mosaic + ".partial.tif", mosaic)
            os.remove(vrt)

    cog_co = ["COMPRESS=DEFLATE", "PREDICTOR=2", "BLOCKSIZE=512", "NUM_THREADS=ALL_CPUS", "OVERVIEW_RESAMPLING=AVERAGE", "BIGTIFF=IF_SAFER"]
    w.append(Workload(
        "W7", "COG export of the W1 mosaic (DEFLATE, predictor 2, overviews)", ["cog-export"],
        Runner("tessera cog-export", [tessera, "cog-export", mosaic, out("W7-tessera.tif"), "--profile", "deflate", "--predictor", "2", "--blocksize", "512",
                                      "--overview-resampling", "average", "--threads", str(t), "--quiet"], out("W7-tessera.tif")),
        [
            Runner("gdal_translate -of COG", ["gdal_translate", "-q", "-of", "COG", *gdal_co(cog_co), mosaic, out("W7-translate.tif")], out("W7-translate.tif")),
            Runner("rio cogeo create", [rio, "cogeo", "create", mosaic, out("W7-rio.tif"), "--cog-profile", "deflate", "--co", "PREDICTOR=2", "--blocksize", "512",
                                        "--overview-resampling", "average", "--threads", str(t), "--quiet"], out("W7-rio.tif")),
        ],
        reference="gdal_translate -of COG", prepare=make_mosaic))

    # W8: merge-memfile of two synthetic Sentinel-2 products (one tile, two orbits; the later
    # product wins) to a COG, against the rasterio MemoryFile script.
    products = _s2_products(ctx)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "s2_rasterio_merge.py")
    w.append(Workload(
        "W8", "merge-memfile of two synthetic Sentinel-2 products to a COG", ["merge-memfile"],
        Runner("tessera merge-memfile", [tessera, "merge-memfile", *products, "-o", out("W8-tessera.tif"),
                                         "-b", "B02,B03,B04,B08", "--resolution", "10", "--cog", "--predictor", "2",
                                         "--threads", str(t), "--quiet"], out("W8-tessera.tif")),
        [Runner("rasterio MemoryFile script", [os.path.join(ctx.venv, "bin", "python"), script, *products,
                                                out("W8-rio.tif")], out("W8-rio.tif"))],
        reference="rasterio MemoryFile script"))

    w.append(_batch_workload(ctx, red[0], co_single=creation(1)))

    # W11: a 1024-px preview of the W1 mosaic (10431 x 10431, no overviews), against
    # gdal_translate -outsize 1024 0 -scale to PNG (nearest decimation, min/max stretch).
    w.append(Workload(
        "W11", "1024-px PNG preview of the W1 mosaic", ["quicklook"],
        Runner("tessera quicklook", [tessera, "quicklook", mosaic, out("W11-tessera.png"), "--stretch", "minmax", "--threads", str(t), "--quiet"], out("W11-tessera.png")),
        [Runner("gdal_translate -outsize -scale", ["gdal_translate", "-q", "-outsize", "1024", "0", "-scale", "-ot", "Byte", "-of", "PNG", mosaic, out("W11-translate.png")], out("W11-translate.png"))],
        reference="gdal_translate -outsize -scale", agreement="size", prepare=make_mosaic))

    # W12: a 12-frame timelapse of 5490 x 5490 tiles (the four tiles of three bands), timed;
    # its peer is 12 gdal_translate previews of the same files, for scale (not the same output).
    frames = red + nir + green
    previews = [["gdal_translate", "-q", "-outsize", "1024", "0", "-scale", "-ot", "Byte", "-of", "PNG", f, out(f"W12-translate-{i}.png")]
                for i, f in enumerate(frames)]
    w.append(Workload(
        "W12", "12-frame GIF timelapse of 5490 x 5490 tiles", ["timelapse"],
        Runner("tessera timelapse", [tessera, "timelapse", *frames, "-o", out("W12-tessera.gif"), "--order", "given", "--labels", "name",
                                     "--threads", str(t), "--quiet"], out("W12-tessera.gif")),
        [Runner("12 x gdal_translate -outsize", shell(*previews), out("W12-translate-11.png"))],
        reference="12 x gdal_translate -outsize", agreement="none"))
    return w


# MARK: - W9-100k: a 100,000 x 100,000 mosaic from repeated tiles

# BENCH_LARGE_TILE shrinks the repeated tile for a quick trial of the harness itself.
BASE_TILE = int(os.environ.get("BENCH_LARGE_TILE", 10000))


def _repeated_tiles(ctx, n):
    """An n x n grid of VRTs that each place the one generated 10,000 x 10,000 red tile (and
    nir tile) at its own position: an n*10,000-pixel square mosaic whose input costs two tiles
    of disk. Also one VRT of the whole nir mosaic, for the NDVI. Returns (red VRTs, nir VRT)."""
    from osgeo import gdal
    base = datagen.tiles(os.path.join(ctx.data, f"large-base-{BASE_TILE}"), 1, BASE_TILE, bands=("B04", "B08"), step=BASE_TILE, log=ctx.log)
    folder = os.path.join(ctx.data, f"large-repeated-{BASE_TILE}-{n}")
    os.makedirs(folder, exist_ok=True)
    ds = gdal.Open(base["B04"][0])
    wkt, gt = ds.GetProjection(), ds.GetGeoTransform()
    ds = None
    escaped = wkt.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

    def source(path, x, y):
        return (f'    <SimpleSource><SourceFilename relativeToVRT="0">{path}</SourceFilename><SourceBand>1</SourceBand>'
                f'<SrcRect xOff="0" yOff="0" xSize="{BASE_TILE}" ySize="{BASE_TILE}"/>'
                f'<DstRect xOff="{x}" yOff="{y}" xSize="{BASE_TILE}" ySize="{BASE_TILE}"/></SimpleSource>\n')

    def vrt(path, size, origin, sources):
        if os.path.exists(path):
            return path
        text = (f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}">\n  <SRS>{escaped}</SRS>\n'
                f'  <GeoTransform>{origin[0]!r}, {gt[1]!r}, 0, {origin[1]!r}, 0, {gt[5]!r}</GeoTransform>\n'
                f'  <VRTRasterBand dataType="UInt16" band="1">\n    <NoDataValue>0</NoDataValue>\n'
                + "".join(sources) + '  </VRTRasterBand>\n</VRTDataset>\n')
        with open(path + ".partial", "w") as f:
            f.write(text)
        os.replace(path + ".partial", path)
        return path

    red = []
    for row in range(n):
        for col in range(n):
            origin = (gt[0] + col * BASE_TILE * gt[1], gt[3] + row * BASE_TILE * gt[5])
            red.append(vrt(os.path.join(folder, f"red-{row:02d}-{col:02d}.vrt"), BASE_TILE, origin, [source(base["B04"][0], 0, 0)]))
    nir = vrt(os.path.join(folder, "nir.vrt"), n * BASE_TILE, (gt[0], gt[3]),
              [source(base["B08"][0], col * BASE_TILE, row * BASE_TILE) for row in range(n) for col in range(n)])
    return red, nir


def disk_free_gib(folder):
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize / (1 << 30)


# Disk the 100k rows need at their peak, in GiB: Tessera's mosaic (~10) kept for the COG and the
# NDVI, the NDVI (~31, Float32), and headroom; the COG step holds two COGs of ~13 each beside
# the mosaic, and the mosaic step two mosaics.
LARGE_DISK_GIB = 50


def large_100k(ctx):
    """W9r-40k and W9-100k: mosaic -> tiled DEFLATE GTiff, its COG, and an NDVI of it, at
    40,000^2 and 100,000^2 from the same repeated tiles, so the 100k row's time per pixel can be
    held to the 40k row's (linear scaling). Each step's peak RSS must stay under 1 GiB."""
    t = ctx.threads
    co = creation(t) + ["BIGTIFF=YES"]
    co = [o for o in co if o != "BIGTIFF=IF_SAFER"]
    out = lambda name: os.path.join(ctx.out, name)
    cog_co = ["COMPRESS=DEFLATE", "PREDICTOR=2", "BLOCKSIZE=512", "NUM_THREADS=ALL_CPUS", "OVERVIEW_RESAMPLING=AVERAGE", "BIGTIFF=YES"]
    rows = []

    def remove(*paths):
        def go():
            for p in paths:
                for q in (p, p + ".aux.xml"):
                    if os.path.exists(q):
                        os.remove(q)
        return go

    for n, prefix in [(4, "W9r-40k"), (10, "W9-100k")]:
        side = n * BASE_TILE
        big = n == 10
        state = {}

        def prepare(n=n, state=state):
            if "red" not in state:
                state["red"], state["nir"] = _repeated_tiles(ctx, n)
        prepare()  # the VRTs are tiny; the commands need their names now
        red, nir = state["red"], state["nir"]
        mosaic, translate = out(f"{prefix}-tessera.tif"), out(f"{prefix}-translate.tif")
        common = dict(warmup=not big, memory_cap=False, rss_limit_mib=1024, pixels=side * side)
        rows.append(Workload(
            f"{prefix}-mosaic", f"mosaic of {n * n} repeated {BASE_TILE} px tiles to a {side} x {side} tiled DEFLATE GTiff", ["mosaic"],
            Runner("tessera mosaic", [ctx.tessera, "mosaic", *red, "-o", mosaic, *tessera_co(co), "--threads", str(t), "--quiet", "--force-size"], mosaic),
            [Runner("gdalbuildvrt + gdal_translate", shell(["gdalbuildvrt", "-q", "-overwrite", out(f"{prefix}.vrt"), *red],
                                                           ["gdal_translate", "-q", *gdal_co(co), out(f"{prefix}.vrt"), translate]), translate)],
            reference="gdalbuildvrt + gdal_translate", agreement="sampled", cleanup=remove(translate),
            linear_to="W9r-40k-mosaic" if big else "", **common))
        cog_t, cog_g = out(f"{prefix}-cog-tessera.tif"), out(f"{prefix}-cog-translate.tif")
        rows.append(Workload(
            f"{prefix}-cog", f"COG export of the {side} x {side} mosaic", ["cog-export"],
            Runner("tessera cog-export", [ctx.tessera, "cog-export", mosaic, cog_t, "--profile", "deflate", "--predictor", "2", "--blocksize", "512",
                                          "--overview-resampling", "average", "--threads", str(t), "--quiet", "--force-size"], cog_t),
            [Runner("gdal_translate -of COG", ["gdal_translate", "-q", "-of", "COG", *gdal_co(cog_co), mosaic, cog_g], cog_g)],
            reference="gdal_translate -of COG", agreement="sampled", cleanup=remove(cog_t, cog_g),
            linear_to="W9r-40k-cog" if big else "", **common))
        ndvi = out(f"{prefix}-ndvi-tessera.tif")
        ndvi_co = [o for o in co if not o.startswith("PREDICTOR")] + ["PREDICTOR=3"]
        rows.append(Workload(
            f"{prefix}-ndvi", f"NDVI of the {side} x {side} mosaic (red) and the repeated nir tiles, Float32", ["index"],
            Runner("tessera index ndvi", [ctx.tessera, "index", "ndvi", "-i", f"red={mosaic}", "-i", f"nir={nir}", "-o", ndvi,
                                          "--dst-nodata", "-9999", *tessera_co(ndvi_co), "--threads", str(t), "--quiet", "--force-size"], ndvi),
            [], reference="", agreement="ndvi-sampled", ndvi_inputs=(mosaic, nir), cleanup=remove(ndvi, mosaic),
            linear_to="W9r-40k-ndvi" if big else "", **common))
    return rows


def _small_tiles(ctx, source, count=200, size=256):
    """`count` windows of `size` px cut from one tile (made once), and the list of their paths."""
    folder = os.path.join(ctx.data, f"small-{size}")
    listing = os.path.join(folder, "tiles.txt")
    if not os.path.exists(listing):
        ctx.log(f"cutting {count} tiles of {size} x {size} px into {folder}")
        os.makedirs(folder, exist_ok=True)
        from osgeo import gdal
        src = gdal.Open(source)
        per_row = max(1, src.RasterXSize // size)
        paths = []
        for i in range(count):
            x, y = (i % per_row) * size, (i // per_row) * size % max(size, src.RasterYSize - size)
            path = os.path.join(folder, f"tile-{i:03d}.tif")
            gdal.Translate(path, src, srcWin=[x, y, size, size], creationOptions=["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2"])
            paths.append(path)
        with open(listing, "w") as f:
            f.write("\n".join(paths) + "\n")
    with open(listing) as f:
        return [line.strip() for line in f if line.strip()], listing


def _batch_workload(ctx, source, co_single):
    """W10: 200 small reprojections, two at a time: tessera batch against xargs -P 2 gdalwarp,
    and against xargs -P 2 running the same tessera reproject commands (which gives the
    batch's own cost per job). Then a --resume of the finished batch, timed."""
    tiles, listing = _small_tiles(ctx, source)
    out = lambda name: os.path.join(ctx.out, name)
    tessera = ctx.tessera
    co_words = " ".join(f"--co {o}" for o in co_single)

    def pairs(folder):
        path = out(os.path.basename(folder) + ".pairs")
        with open(path, "w") as f:
            for tile in tiles:
                f.write(f"{tile} {folder}/{os.path.basename(tile)}\n")
        return path

    batch_dir, warp_dir, xargs_dir = out("W10-tessera"), out("W10-gdalwarp"), out("W10-xargs-tessera")
    template = f"reproject {{path}} {batch_dir}/{{name}} --dst-crs EPSG:4326 {co_words} --quiet"
    batch = ["sh", "-c", f"mkdir -p {batch_dir} && exec {tessera} batch --each '{template}' --input-list {listing} "
             f"--jobs 2 --report {batch_dir}/report.json --quiet"]
    warp = ["sh", "-c", f"mkdir -p {warp_dir} && xargs -P 2 -n 2 gdalwarp -q -t_srs EPSG:4326 {' '.join(gdal_co(co_single))} < {pairs(warp_dir)}"]
    same = ["sh", "-c", f"mkdir -p {xargs_dir} && xargs -P 2 -n 2 {tessera} reproject --dst-crs EPSG:4326 {co_words} --threads 1 --quiet < {pairs(xargs_dir)}"]
    check = lambda folder: os.path.join(folder, "tile-007.tif")

    def resume():
        # The last counted run left its journal: every job is done, so nothing runs.
        start = time.perf_counter()
        subprocess.run(batch[:2] + [batch[2] + " --resume"], check=True)
        seconds = time.perf_counter() - start
        return {"resume_s": seconds}

    return Workload(
        "W10", f"{len(tiles)} reprojections of 256 x 256 tiles, 2 at a time", ["batch"],
        Runner("tessera batch --jobs 2", batch, batch_dir, check(batch_dir)),
        [
            Runner("xargs -P 2 gdalwarp", warp, warp_dir, check(warp_dir)),
            Runner("xargs -P 2 tessera reproject", same, xargs_dir, check(xargs_dir)),
        ],
        reference="xargs -P 2 gdalwarp", after=resume, jobs=len(tiles))


def large(ctx):
    """W9, for `make bench-large`: a 40000 x 40000 mosaic and its COG from 16 tiles, and the
    10000 x 10000 mosaic from 4 tiles that the 40k time is extrapolated from (x16)."""
    t = ctx.threads
    co = creation(t)
    out = lambda n: os.path.join(ctx.out, n)
    rows = []
    for name, grid, step, tile in [("10k", 2, 4730, 5270), ("40k", 4, 9730, 10810)]:
        make = lambda generate, grid=grid, tile=tile, step=step, name=name: datagen.tiles(
            os.path.join(ctx.data, f"large-{name}"), grid, tile, bands=("B04",), step=step, log=ctx.log, generate=generate)["B04"]
        red = make(False)
        rows.append(Workload(
            f"W9-{name}", f"mosaic of {grid * grid} tiles to a {name} x {name} output", ["mosaic"],
            Runner("tessera mosaic", [ctx.tessera, "mosaic", *red, "-o", out(f"W9-{name}-tessera.tif"), *tessera_co(co), "--threads", str(t), "--quiet"],
                   out(f"W9-{name}-tessera.tif")),
            [Runner("gdalbuildvrt + gdal_translate", shell(["gdalbuildvrt", "-q", "-overwrite", out(f"W9-{name}.vrt"), *red],
                                                           ["gdal_translate", "-q", *gdal_co(co), out(f"W9-{name}.vrt"), out(f"W9-{name}-translate.tif")]),
                    out(f"W9-{name}-translate.tif"))],
            reference="gdalbuildvrt + gdal_translate", prepare=lambda make=make: make(True)))
    cog_co = ["COMPRESS=DEFLATE", "PREDICTOR=2", "BLOCKSIZE=512", "NUM_THREADS=ALL_CPUS", "OVERVIEW_RESAMPLING=AVERAGE", "BIGTIFF=YES"]
    source = out("W9-40k-translate.tif")
    rows.append(Workload(
        "W9-40k-cog", "COG export of the 40k x 40k mosaic", ["cog-export"],
        Runner("tessera cog-export", [ctx.tessera, "cog-export", source, out("W9-cog-tessera.tif"), "--profile", "deflate", "--predictor", "2",
                                      "--blocksize", "512", "--overview-resampling", "average", "--threads", str(t), "--quiet"], out("W9-cog-tessera.tif")),
        [Runner("gdal_translate -of COG", ["gdal_translate", "-q", "-of", "COG", *gdal_co(cog_co), source, out("W9-cog-translate.tif")], out("W9-cog-translate.tif"))],
        reference="gdal_translate -of COG"))
    return rows
