#ifndef TESSERA_CGDAL_SHIM_H
#define TESSERA_CGDAL_SHIM_H
// The parts of GDAL's C API that Tessera calls. Paths come from `pkg-config gdal`.
#include <gdal.h>
#include <gdal_utils.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <cpl_minixml.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <proj.h>
#endif
