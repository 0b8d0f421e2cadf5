"""Deterministic benchmark data: overlapping UInt16 tiles that compress like imagery.

The tiles sample one global field, so the same ground has the same value in every tile that
covers it, as neighbouring Sentinel-2 MGRS tiles do. The field is smooth (octaves of bilinearly
interpolated random grids, seeded) plus a little per-pixel noise hashed from the global pixel
position, so DEFLATE with predictor 2 sees realistic, not white-noise, data.
"""
import json
import os

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

EPSG = 32633
PIXEL = 20.0
ORIGIN_X, ORIGIN_Y = 300000.0, 5900000.0
# Band name -> (base DN, amplitude): red is dark, nir bright over vegetation.
BANDS = {"B04": (900, 1800), "B08": (2600, 2400), "B03": (1100, 1400), "B02": (1300, 1100)}
CREATION = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE", "PREDICTOR=2"]


def layout(grid, tile, overlap=0.10):
    """Tile size and step so neighbours overlap by about `overlap` of a tile."""
    step = int(round(tile * (1 - overlap)))
    return step, step * (grid - 1) + tile


def _octave(rng, cells, rows, cols, y0, x0, total):
    """A random grid of `cells` x `cells` over the whole mosaic, bilinearly sampled at the
    window rows/cols (global pixel coordinates)."""
    grid = rng.random((cells + 1, cells + 1), dtype=np.float32)
    scale = cells / float(total)
    ys = (np.arange(rows, dtype=np.float64) + y0) * scale
    xs = (np.arange(cols, dtype=np.float64) + x0) * scale
    iy = np.minimum(ys.astype(np.int64), cells - 1)
    ix = np.minimum(xs.astype(np.int64), cells - 1)
    wy = (ys - iy).astype(np.float32)[:, None]
    wx = (xs - ix).astype(np.float32)[None, :]
    top = grid[iy][:, ix] * (1 - wx) + grid[iy][:, ix + 1] * wx
    bottom = grid[iy + 1][:, ix] * (1 - wx) + grid[iy + 1][:, ix + 1] * wx
    return top * (1 - wy) + bottom * wy


def field(band_index, rows, cols, y0, x0, total):
    """Values of one band's global field in a window, float32 in [0, 1]."""
    out = np.zeros((rows, cols), dtype=np.float32)
    weight = 0.0
    for octave, (cells, w) in enumerate([(6, 1.0), (24, 0.5), (96, 0.25), (384, 0.12)]):
        # Bands share the low octaves (landscape) and differ in the high ones (spectra).
        seed = 1000 + octave if octave < 2 else 1000 + octave + 17 * band_index
        out += w * _octave(np.random.default_rng(seed), cells, rows, cols, y0, x0, total)
        weight += w
    return out / weight


def noise(rows, cols, y0, x0, band_index):
    """Per-pixel noise in [-1, 1) that depends only on the global pixel position."""
    gy = (np.arange(rows, dtype=np.uint64) + np.uint64(y0))[:, None]
    gx = (np.arange(cols, dtype=np.uint64) + np.uint64(x0))[None, :]
    h = (gx * np.uint64(73856093)) ^ (gy * np.uint64(19349663)) ^ np.uint64(83492791 * (band_index + 1))
    h = (h ^ (h >> np.uint64(13))) * np.uint64(0x5BD1E995)
    return ((h >> np.uint64(20)) & np.uint64(0xFF)).astype(np.float32) / 128.0 - 1.0


def write_tile(path, band_index, band, row, col, tile, step, total, nodata_wedge):
    base, amplitude = BANDS[band]
    y0, x0 = row * step, col * step
    driver = gdal.GetDriverByName("GTiff")
    tmp = path + ".partial"
    ds = driver.Create(tmp, tile, tile, 1, gdal.GDT_UInt16, CREATION)
    ds.SetGeoTransform([ORIGIN_X + x0 * PIXEL, PIXEL, 0, ORIGIN_Y - y0 * PIXEL, 0, -PIXEL])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetSpatialRef(srs)
    b = ds.GetRasterBand(1)
    b.SetNoDataValue(0)
    chunk = 512
    for r in range(0, tile, chunk):
        rows = min(chunk, tile - r)
        values = base + amplitude * field(band_index, rows, tile, y0 + r, x0, total)
        values += 25.0 * noise(rows, tile, y0 + r, x0, band_index)
        data = np.clip(values, 1, 65535).astype(np.uint16)
        if nodata_wedge:
            # A swath edge: the tile's upper-right triangle has no data, as real tiles often do.
            yy = np.arange(r, r + rows)[:, None]
            xx = np.arange(tile)[None, :]
            data[xx - yy > tile // 2] = 0
        b.WriteArray(data, 0, r)
    ds.FlushCache()
    ds = None
    os.replace(tmp, path)


def tiles(folder, grid, tile, bands=("B04", "B08", "B03", "B02"), step=None, log=print, generate=True):
    """Writes (or reuses) grid x grid tiles per band; returns {band: [paths row-major]}.
    `step` (pixels between tile origins) defaults to a 10 % overlap. With generate=False only
    the paths (for commands built before their inputs are made)."""
    os.makedirs(folder, exist_ok=True)
    if step is None:
        step, total = layout(grid, tile)
    else:
        total = step * (grid - 1) + tile
    out = {}
    for band in bands:
        band_index = list(BANDS).index(band)
        paths = []
        for row in range(grid):
            for col in range(grid):
                path = os.path.join(folder, f"T{row}{col}_{band}.tif")
                if generate and not os.path.exists(path):
                    log(f"  generating {path}")
                    write_tile(path, band_index, band, row, col, tile, step, total,
                               nodata_wedge=(row == 0 and col == grid - 1))
                paths.append(path)
        out[band] = paths
    return out


def cutline(folder, tile):
    """An irregular polygon well inside tile T00, as GeoJSON in the tiles' CRS."""
    path = os.path.join(folder, "cutline.geojson")
    if os.path.exists(path):
        return path
    cx, cy = ORIGIN_X + tile * PIXEL * 0.5, ORIGIN_Y - tile * PIXEL * 0.5
    r = tile * PIXEL * 0.4
    ring = []
    for k in range(9):
        angle = 2 * np.pi * k / 9
        radius = r * (0.75 + 0.25 * ((k * 7) % 5) / 4)
        ring.append([round(cx + radius * np.cos(angle), 3), round(cy + radius * np.sin(angle), 3)])
    ring.append(ring[0])
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{EPSG}"}},
        "features": [{"type": "Feature", "properties": {"id": 1},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}}],
    }
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def box(tile):
    """A box on T00's pixel edges covering its middle half: xmin, ymin, xmax, ymax."""
    x0 = ORIGIN_X + round(tile * 0.25) * PIXEL
    y1 = ORIGIN_Y - round(tile * 0.25) * PIXEL
    side = round(tile * 0.5) * PIXEL
    return [x0, y1 - side, x0 + side, y1]


def box_cutline(folder, tile):
    """The box of `box` as a GeoJSON polygon, for gdalwarp -cutline."""
    path = os.path.join(folder, "box.geojson")
    if os.path.exists(path):
        return path
    x0, y0, x1, y1 = box(tile)
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{EPSG}"}},
        "features": [{"type": "Feature", "properties": {"id": 1},
                      "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}],
    }
    with open(path, "w") as f:
        json.dump(doc, f)
    return path
