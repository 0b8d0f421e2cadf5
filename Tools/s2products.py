#!/usr/bin/env python3
"""Synthetic Sentinel-2 L2A products with the real SAFE structure, for tests, the demo and W8.

Each product is a NAME.SAFE folder as ESA delivers it (compact naming, PSD 14): MTD_MSIL2A.xml
with Product_Info, the Granule_List of IMAGE_FILEs, the quantification values and, from
processing baseline 04.00 on, the BOA_ADD_OFFSET list; GRANULE/<granule>/MTD_TL.xml with the
tile's CRS and geoposition; IMG_DATA/R10m, R20m, R60m band files (lossless JPEG 2000, or GeoTIFF
with --format tif) holding UInt16 DN = reflectance * 10000 (+ 1000 from baseline 04.00), 0 as
nodata, and an SCL band.

Scenarios:
  orbits  one tile (T33UUU) from two orbits: A (relative orbit 22, baseline 04.00) covers the
          whole tile and has a cloud with its shadow; B (orbit 65, baseline 03.00) covers the
          tile east of its swath edge, clear. The same ground has the same reflectance in both.
  zones   two adjacent tiles on either side of the UTM 32/33 boundary at 12 E (T32UQD in
          EPSG:32632, T33UUU in EPSG:32633), overlapping by about a fifth of a tile.

Usage: s2products.py OUTDIR [--scenario orbits|zones] [--size 600] [--format jp2|tif]
                            [--bands B02,B03,B04,B08,SCL] [--zip]
Prints the product paths, one a line, in merge order.
"""
import argparse
import os
import shutil
import zipfile

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

# Band -> resolutions ESA distributes it at in an L2A product.
L2A_LAYOUT = {
    10: ["B02", "B03", "B04", "B08", "AOT", "WVP", "TCI"],
    20: ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12", "SCL", "AOT", "WVP", "TCI"],
    60: ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11", "B12", "SCL", "AOT", "WVP", "TCI"],
}
BAND_IDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
# Typical surface reflectance (mean, amplitude) of a green landscape, by band.
REFLECTANCE = {"B01": (0.05, 0.02), "B02": (0.06, 0.03), "B03": (0.08, 0.04), "B04": (0.07, 0.05),
               "B05": (0.12, 0.05), "B06": (0.22, 0.08), "B07": (0.26, 0.09), "B08": (0.30, 0.10),
               "B8A": (0.31, 0.10), "B09": (0.32, 0.10), "B11": (0.20, 0.06), "B12": (0.12, 0.05)}


class Product:
    def __init__(self, tile, epsg, ulx, uly, orbit, baseline, sensing, spacecraft="Sentinel-2A"):
        self.tile, self.epsg, self.ulx, self.uly = tile, epsg, ulx, uly
        self.orbit, self.baseline, self.sensing, self.spacecraft = orbit, baseline, sensing, spacecraft
        self.swath_edge = None      # (a, b): valid where x_frac + a * y_frac > b
        self.cloud = None           # (cx, cy, r) in tile fractions
        self.geographic = False     # ground field from lon/lat (tiles in different zones)

    @property
    def name(self):
        n = self.baseline.replace(".", "")
        return f"S2{self.spacecraft[-1]}_MSIL2A_{self.sensing}_N{n}_R{self.orbit:03d}_T{self.tile}_{self.sensing[:8]}T120000"

    @property
    def granule(self):
        return f"L2A_T{self.tile}_A0{self.orbit:05d}_{self.sensing}"


def ground(band, xs, ys):
    """Reflectance of the ground at coordinates (metres, or degrees * 111 km), float64."""
    mean, amp = REFLECTANCE.get(band, (0.1, 0.04))
    phase = BAND_IDS.index(band) * 0.37 if band in BAND_IDS else 0.0
    f = (np.sin(xs / 2300.0 + phase) * np.cos(ys / 3100.0) * 0.6
         + np.sin((xs + 0.7 * ys) / 900.0 + 2 * phase) * 0.3
         + np.cos((xs - ys) / 250.0) * 0.1)
    return mean + amp * f


def coordinates(product, size, res):
    """Pixel-centre coordinates of the tile at `res`, as the ground field takes them."""
    n = size * 10 // res
    xs = product.ulx + (np.arange(n) + 0.5) * res
    ys = product.uly - (np.arange(n) + 0.5) * res
    gx, gy = np.meshgrid(xs, ys)
    if not product.geographic:
        return gx, gy, n
    src = osr.SpatialReference()
    src.ImportFromEPSG(product.epsg)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, dst)
    pts = np.array(ct.TransformPoints(np.column_stack([gx.ravel(), gy.ravel()])))
    # Degrees to about metres, so the field has the same texture in both zones.
    return (pts[:, 0] * 68000.0).reshape(n, n), (pts[:, 1] * 111000.0).reshape(n, n), n


def masks(product, n):
    fy, fx = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
    valid = np.ones((n, n), bool)
    if product.swath_edge:
        a, b = product.swath_edge
        valid = fx + a * fy > b
    cloud = shadow = np.zeros((n, n), bool)
    thin = np.zeros((n, n), bool)
    if product.cloud:
        cx, cy, r = product.cloud
        d = np.hypot(fx - cx, fy - cy)
        cloud = d < r
        thin = (d >= r) & (d < r * 1.3)
        shadow = np.hypot(fx - cx - r * 0.8, fy - cy - r * 0.9) < r * 0.8
        shadow &= ~cloud & ~thin
    return valid, cloud, thin, shadow


def band_values(product, band, size, res):
    xs, ys, n = coordinates(product, size, res)
    valid, cloud, thin, shadow = masks(product, n)
    if band == "SCL":
        scl = np.full((n, n), 4, np.uint8)                      # vegetation
        scl[ground("B04", xs, ys) > 0.095] = 5                  # not vegetated
        scl[shadow] = 3
        scl[thin] = 8
        scl[cloud] = 9
        scl[~valid] = 0
        return scl
    if band in ("AOT", "WVP"):
        values = np.full((n, n), 120 if band == "AOT" else 1500, np.uint16)
        values[~valid] = 0
        return values
    refl = ground(band, xs, ys)
    refl = np.where(cloud, 0.55, np.where(thin, refl + 0.15, np.where(shadow, refl * 0.4, refl)))
    offset = 1000 if float(product.baseline) >= 4 else 0
    dn = np.clip(np.round(refl * 10000) + offset, 1, 65535).astype(np.uint16)
    dn[~valid] = 0
    return dn


def write_band(path, values, product, res, fmt):
    n = values.shape[-1]
    count = 1 if values.ndim == 2 else values.shape[0]
    dtype = gdal.GDT_Byte if values.dtype == np.uint8 else gdal.GDT_UInt16
    mem = gdal.GetDriverByName("MEM").Create("", n, n, count, dtype)
    mem.SetGeoTransform([product.ulx, res, 0, product.uly, 0, -res])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(product.epsg)
    mem.SetSpatialRef(srs)
    for i in range(count):
        mem.GetRasterBand(i + 1).WriteArray(values if count == 1 else values[i])
    if fmt == "jp2":
        block = min(1024, n)
        options = ["QUALITY=100", "REVERSIBLE=YES", f"BLOCKXSIZE={block}", f"BLOCKYSIZE={block}", "YCC=NO"]
        gdal.GetDriverByName("JP2OpenJPEG").CreateCopy(path + ".jp2", mem, options=options)
    else:
        options = ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2"]
        gdal.GetDriverByName("GTiff").CreateCopy(path + ".tif", mem, options=options)


def tci(product, size, res):
    rgb = [band_values(product, b, size, res) for b in ("B04", "B03", "B02")]
    offset = 1000 if float(product.baseline) >= 4 else 0
    out = np.stack([np.clip((np.maximum(v.astype(np.int32) - offset, 0)) / 2000 * 255, 0, 255) for v in rgb]).astype(np.uint8)
    out[:, rgb[0] == 0] = 0
    return out


def write_product(folder, product, size, fmt, bands):
    root = os.path.join(folder, product.name + ".SAFE")
    if os.path.exists(root):
        shutil.rmtree(root)
    granule = os.path.join(root, "GRANULE", product.granule)
    files = []
    for res, names in L2A_LAYOUT.items():
        for band in names:
            if band not in bands or (size * 10) % res:
                continue
            rel = f"GRANULE/{product.granule}/IMG_DATA/R{res}m/T{product.tile}_{product.sensing}_{band}_{res}m"
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            values = tci(product, size, res) if band == "TCI" else band_values(product, band, size, res)
            write_band(os.path.join(root, rel), values, product, res, fmt)
            files.append(rel)
    os.makedirs(os.path.join(root, "AUX_DATA"), exist_ok=True)
    os.makedirs(os.path.join(granule, "QI_DATA"), exist_ok=True)
    with open(os.path.join(root, "MTD_MSIL2A.xml"), "w") as f:
        f.write(product_metadata(product, files, fmt))
    with open(os.path.join(granule, "MTD_TL.xml"), "w") as f:
        f.write(tile_metadata(product, size))
    return root


def product_metadata(p, files, fmt):
    t = p.sensing
    start = f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[9:11]}:{t[11:13]}:{t[13:15]}.024Z"
    image_files = "\n".join(f"              <IMAGE_FILE>{f}</IMAGE_FILE>" for f in files)
    n = p.baseline
    offsets = ""
    if float(n) >= 4:
        rows = "\n".join(f'          <BOA_ADD_OFFSET band_id="{i}">-1000</BOA_ADD_OFFSET>' for i in range(13))
        offsets = f"        <BOA_ADD_OFFSET_VALUES_LIST>\n{rows}\n        </BOA_ADD_OFFSET_VALUES_LIST>\n"
    spectral = "\n".join(
        f'          <Spectral_Information bandId="{i}" physicalBand="{b.replace("B0", "B")}">\n'
        f'            <RESOLUTION>{10 if b in ("B02", "B03", "B04", "B08") else 60 if b in ("B01", "B09", "B10") else 20}</RESOLUTION>\n'
        f'          </Spectral_Information>' for i, b in enumerate(BAND_IDS))
    image_format = "JPEG2000" if fmt == "jp2" else "GeoTIFF"
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>{start}</PRODUCT_START_TIME>
      <PRODUCT_STOP_TIME>{start}</PRODUCT_STOP_TIME>
      <PRODUCT_URI>{p.name}.SAFE</PRODUCT_URI>
      <PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL>
      <PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE>
      <PROCESSING_BASELINE>{n}</PROCESSING_BASELINE>
      <GENERATION_TIME>{t[0:4]}-{t[4:6]}-{t[6:8]}T12:00:00.000000Z</GENERATION_TIME>
      <PREVIEW_IMAGE_URL>Not applicable</PREVIEW_IMAGE_URL>
      <PREVIEW_GEO_INFO>Not applicable</PREVIEW_GEO_INFO>
      <Datatake datatakeIdentifier="GS2A_{t}_0{p.orbit:05d}_N{n}">
        <SPACECRAFT_NAME>{p.spacecraft}</SPACECRAFT_NAME>
        <DATATAKE_TYPE>INS-NOBS</DATATAKE_TYPE>
        <DATATAKE_SENSING_START>{start}</DATATAKE_SENSING_START>
        <SENSING_ORBIT_NUMBER>{p.orbit}</SENSING_ORBIT_NUMBER>
        <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION>
      </Datatake>
      <Query_Options completeSingleTile="true">
        <PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT>
      </Query_Options>
      <Product_Organisation>
        <Granule_List>
          <Granule datastripIdentifier="S2A_OPER_MSI_L2A_DS_TESS_{t}_S{t}_N{n}" granuleIdentifier="S2A_OPER_MSI_L2A_TL_TESS_{t}_A0{p.orbit:05d}_T{p.tile}_N{n}" imageFormat="{image_format}">
{image_files}
          </Granule>
        </Granule_List>
      </Product_Organisation>
    </Product_Info>
    <Product_Image_Characteristics>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX>
      </Special_Values>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX>
      </Special_Values>
      <QUANTIFICATION_VALUES_LIST>
        <BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE>
        <AOT_QUANTIFICATION_VALUE unit="none">1000.0</AOT_QUANTIFICATION_VALUE>
        <WVP_QUANTIFICATION_VALUE unit="cm">1000.0</WVP_QUANTIFICATION_VALUE>
      </QUANTIFICATION_VALUES_LIST>
{offsets}      <Spectral_Information_List>
{spectral}
      </Spectral_Information_List>
    </Product_Image_Characteristics>
  </n1:General_Info>
</n1:Level-2A_User_Product>
"""


def tile_metadata(p, size):
    sizes = "\n".join(
        f'      <Size resolution="{r}">\n        <NROWS>{size * 10 // r}</NROWS>\n        <NCOLS>{size * 10 // r}</NCOLS>\n      </Size>'
        for r in (10, 20, 60))
    geo = "\n".join(
        f'      <Geoposition resolution="{r}">\n        <ULX>{p.ulx:.0f}</ULX>\n        <ULY>{p.uly:.0f}</ULY>\n'
        f'        <XDIM>{r}</XDIM>\n        <YDIM>-{r}</YDIM>\n      </Geoposition>' for r in (10, 20, 60))
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:Level-2A_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-2A_Tile_Metadata.xsd">
  <n1:General_Info>
    <TILE_ID>S2A_OPER_MSI_L2A_TL_TESS_{p.sensing}_A0{p.orbit:05d}_T{p.tile}_N{p.baseline}</TILE_ID>
    <SENSING_TIME>{p.sensing}</SENSING_TIME>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Tile_Geocoding metadataLevel="Brief">
      <HORIZONTAL_CS_NAME>WGS84 / UTM zone {p.epsg % 100}N</HORIZONTAL_CS_NAME>
      <HORIZONTAL_CS_CODE>EPSG:{p.epsg}</HORIZONTAL_CS_CODE>
{sizes}
{geo}
    </Tile_Geocoding>
  </n1:Geometric_Info>
</n1:Level-2A_Tile_ID>
"""


def scenario(name, size):
    if name == "orbits":
        a = Product("33UUU", 32633, 300000, 5900040, orbit=22, baseline="04.00", sensing="20230601T102031")
        a.cloud = (0.62, 0.38, 0.12)
        b = Product("33UUU", 32633, 300000, 5900040, orbit=65, baseline="03.00", sensing="20210604T101559")
        b.swath_edge = (0.35, 0.45)
        return [a, b]
    # zones: the 12 E meridian at 52 N, in zone 32 (its east edge) and zone 33 (its west edge).
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    span = size * 10
    tiles = []
    for tile, epsg, west_share in (("32UQD", 32632, 0.8), ("33UUU", 32633, 0.2)):
        utm = osr.SpatialReference()
        utm.ImportFromEPSG(epsg)
        utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        x, y, _ = osr.CoordinateTransformation(wgs, utm).TransformPoint(12.0, 52.0)
        ulx = round((x - span * west_share) / 60) * 60
        uly = round((y + span / 2) / 60) * 60
        p = Product(tile, epsg, ulx, uly, orbit=22, baseline="04.00", sensing="20230601T102031")
        p.geographic = True
        tiles.append(p)
    return tiles


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--scenario", choices=["orbits", "zones"], default="orbits")
    parser.add_argument("--size", type=int, default=600, help="10 m pixels across a tile (a multiple of 6)")
    parser.add_argument("--format", choices=["jp2", "tif"], default="jp2")
    parser.add_argument("--bands", default="B02,B03,B04,B08,B05,B8A,B11,SCL,TCI")
    parser.add_argument("--zip", action="store_true", help="also write NAME.zip of each product")
    args = parser.parse_args()
    if args.size % 6:
        parser.error("--size must be a multiple of 6 (so 20 m and 60 m grids are whole)")
    os.makedirs(args.folder, exist_ok=True)
    bands = set(args.bands.split(","))
    for product in scenario(args.scenario, args.size):
        root = write_product(args.folder, product, args.size, args.format, bands)
        if args.zip:
            archive = root[:-5] + ".zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
                for dirpath, _, names in os.walk(root):
                    for name in sorted(names):
                        full = os.path.join(dirpath, name)
                        z.write(full, os.path.relpath(full, args.folder))
            print(archive)
        else:
            print(root)


if __name__ == "__main__":
    main()
