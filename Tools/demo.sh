#!/bin/sh
# `make demo`: every part of the job on the bundled data (Fixtures/), one line a step, every
# output in DEMO_DIR. A step that fails stops the demo with Tessera's own one-line error.
#   TESSERA      the binary (make demo: .build/release/tessera; the tests: .build/debug/tessera)
#   DEMO_DIR     where the outputs go (default .demo)
#   PYTHON_GDAL  Debian's python3 with GDAL's bindings, for the synthetic Sentinel-2 products
set -eu
TESSERA=${TESSERA:-.build/release/tessera}
DIR=${DEMO_DIR:-.demo}
PY=${PYTHON_GDAL:-/usr/bin/python3}
T29UNU=Fixtures/sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE
S2=Fixtures/eo-box/s2l1c/T33UUU_20170216T102101
mkdir -p "$DIR"
n=0
# Prints the step's one line, after its commands succeeded.
step() { n=$((n + 1)); printf '%2d. %-14s %s\n' "$n" "$1" "$2"; }
# Runs tessera quietly: errors (one line each) on stderr, nothing else.
t() { "$TESSERA" "$@" -q > /dev/null; }

report=$("$TESSERA" info Fixtures/rasterio/RGB.byte.tif --stats --json -q)
summary=$(printf '%s' "$report" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
r = r["files"][0] if isinstance(r, dict) and "files" in r else (r[0] if isinstance(r, list) else r)
b = r["bands"][0]
print("%dx%d, %d %s bands, EPSG:%s, band 1 mean %.2f (exact statistics)" % (
    r["width"], r["height"], r["band_count"], b["type"], r["crs"]["epsg"], b["stats"]["mean"]))')
step info "a Landsat scene (rasterio's RGB.byte.tif): $summary"

t mosaic 'Fixtures/rasterio/rgb?.tif' -o "$DIR/rgb-mosaic.tif" --overwrite
step mosaic "its four quadrants back into one raster (later inputs win, nodata never) -> $DIR/rgb-mosaic.tif"

t reproject "$DIR/rgb-mosaic.tif" "$DIR/rgb-cgcs2000.tif" --dst-crs cgcs2000 --resampling bilinear --overwrite
step reproject "to CGCS2000 (EPSG:4490), bilinear -> $DIR/rgb-cgcs2000.tif"

t clip Fixtures/rasterio/RGB.byte.tif "$DIR/clip.tif" --overwrite \
  --geometry 'POLYGON((200000 2700000, 230000 2700000, 215000 2730000, 200000 2700000))'
step clip "to a polygon, pixels untouched, outside nodata -> $DIR/clip.tif"

t cog-export "$DIR/rgb-cgcs2000.tif" "$DIR/rgb-cog.tif" --profile zstd --overwrite
t validate-cog "$DIR/rgb-cog.tif"
step cog-export "a Cloud Optimized GeoTIFF as the final copy, valid per validate-cog -> $DIR/rgb-cog.tif"

t band-stack "$S2"_B04.jp2 "$S2"_B03.jp2 "$S2"_B02.jp2 -o "$DIR/true-colour.tif" --overwrite
step band-stack "Sentinel-2 B04, B03, B02 into one red-green-blue raster -> $DIR/true-colour.tif"

t index ndvi -o "$DIR/ndvi.tif" -i red="$S2"_B04.jp2 -i nir="$S2"_B08.jp2 --overwrite
step index "NDVI of the same Sentinel-2 tile, (nir - red) / (nir + red) -> $DIR/ndvi.tif"

t quicklook "$DIR/ndvi.tif" "$DIR/ndvi.png" --colormap rdylgn --stretch -1,1 --legend --overwrite
step quicklook "the NDVI through the rdylgn colour map, with its legend -> $DIR/ndvi.png"

"$PY" Tools/s2products.py "$DIR/s2" --scenario zones --size 600 --bands B02,B03,B04,B08,SCL > /dev/null
t merge-memfile "$DIR"/s2/*.SAFE -o "$DIR/s2-merged.tif" -b B02,B03,B04,B08 \
  --reflectance --mask-clouds --cog --report "$DIR/s2-report.json" --overwrite
t validate-merge "$DIR/s2-merged.tif" --expect-bands B02,B03,B04,B08 --expect-crs EPSG:32632 \
  --expect-resolution 10 --min-valid-fraction 0.5 --against "$DIR/s2-report.json"
step merge-memfile "two L2A tiles across UTM 32/33 (synthetic, real SAFE layout) into a COG, checked by validate-merge -> $DIR/s2-merged.tif"

t merge-memfile "$T29UNU" -o "$DIR/t29unu-60m.tif" -b B04,B8A,SCL --resolution 60 --overwrite
set +e
refusal=$("$TESSERA" merge-memfile "$T29UNU" -o "$DIR/t29unu-10m.tif" -b B04 --resolution 10 --overwrite 2>&1 >/dev/null)
status=$?
set -e
[ "$status" -ne 0 ] || { echo "demo: the 10 m merge of T29UNU should have failed" >&2; exit 1; }
missing=$(printf '%s\n' "$refusal" | sed -n 's|.*/\([^/ ]*\.jp2\) is listed.*|\1|p')
step merge-memfile "a real product (T29UNU) at 60 m -> $DIR/t29unu-60m.tif; at 10 m it fails loudly: exit $status, ${missing:-a band file} missing"

"$PY" Tools/s2products.py "$DIR/s2-orbits" --scenario orbits --size 300 --bands B02,B03,B04,SCL > /dev/null
t timelapse "$DIR"/s2-orbits/*.SAFE -o "$DIR/timelapse.gif" -b B04,B03,B02 --stretch 0,1500 --fps 1 --overwrite
step timelapse "one tile on two dates, dated frames in one stretch -> $DIR/timelapse.gif"

echo "open $DIR/ndvi.png (and $DIR/timelapse.gif)"
