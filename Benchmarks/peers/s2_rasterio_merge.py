"""The W8 peer: Sentinel-2 bands merged the way a rasterio user does it.

Each product's chosen bands are staged in GTiff MemoryFiles (reprojected to the first product's
CRS when their UTM zone differs), each band is merged across products with rasterio.merge.merge
(later products win, as in Tessera's default), the bands are stacked into one more MemoryFile,
and rio-cogeo copies that to a COG with average overviews. Usage:

    s2_rasterio_merge.py PRODUCT.SAFE... OUT.tif [--bands B02,B03,B04,B08] [--resolution 10]
"""
import argparse
import glob
import os

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.merge import merge
from rasterio.warp import Resampling, calculate_default_transform, reproject
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles


def band_file(product, band, resolution):
    """L2A: GRANULE/*/IMG_DATA/R<res>m/*_<band>_<res>m.jp2; L1C: GRANULE/*/IMG_DATA/*_<band>.jp2."""
    patterns = [
        os.path.join(product, "GRANULE", "*", "IMG_DATA", f"R{resolution}m", f"*_{band}_{resolution}m.jp2"),
        os.path.join(product, "GRANULE", "*", "IMG_DATA", f"*_{band}.jp2"),
        os.path.join(product, "GRANULE", "*", "IMG_DATA", f"R{resolution}m", f"*_{band}_{resolution}m.tif"),
    ]
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise SystemExit(f"{product}: no {band} band at {resolution} m")


def stage(path, crs, resolution):
    """One band in a GTiff MemoryFile, in `crs` at `resolution`."""
    with rasterio.open(path) as src:
        memfile = MemoryFile()
        if crs is None or src.crs == crs:
            profile = src.profile | {"driver": "GTiff", "tiled": True, "blockxsize": 512, "blockysize": 512, "nodata": 0}
            with memfile.open(**profile) as dst:
                dst.write(src.read())
        else:
            transform, width, height = calculate_default_transform(
                src.crs, crs, src.width, src.height, *src.bounds, resolution=resolution)
            profile = src.profile | {"driver": "GTiff", "crs": crs, "transform": transform, "width": width,
                                     "height": height, "tiled": True, "blockxsize": 512, "blockysize": 512, "nodata": 0}
            with memfile.open(**profile) as dst:
                for i in range(1, src.count + 1):
                    reproject(rasterio.band(src, i), rasterio.band(dst, i), resampling=Resampling.nearest)
        return memfile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--bands", default="B02,B03,B04,B08")
    parser.add_argument("--resolution", type=int, default=10)
    args = parser.parse_args()
    products, output = args.paths[:-1], args.paths[-1]
    bands = args.bands.split(",")

    crs = None
    staged = {band: [] for band in bands}
    for product in products:
        for band in bands:
            memfile = stage(band_file(product, band, args.resolution), crs, args.resolution)
            if crs is None:
                with memfile.open() as ds:
                    crs = ds.crs
            staged[band].append(memfile)

    merged = []
    for band in bands:
        datasets = [m.open() for m in staged[band]]
        # rasterio merges first-wins by default; reversed, the last product wins as in Tessera.
        mosaic, transform = merge(list(reversed(datasets)), nodata=0, res=args.resolution)
        merged.append(mosaic[0])
        for ds in datasets:
            ds.close()

    stack = np.stack(merged)
    profile = {"driver": "GTiff", "dtype": stack.dtype, "count": len(bands), "height": stack.shape[1],
               "width": stack.shape[2], "crs": crs, "transform": transform, "nodata": 0,
               "tiled": True, "blockxsize": 512, "blockysize": 512}
    with MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(stack)
        with memfile.open() as src:
            # Average overviews, as Tessera makes them for continuous data: the same job on both sides.
            cog_translate(src, output, cog_profiles.get("deflate") | {"predictor": 2}, quiet=True, in_memory=True,
                          overview_resampling="average")
    for files in staged.values():
        for memfile in files:
            memfile.close()


if __name__ == "__main__":
    main()
