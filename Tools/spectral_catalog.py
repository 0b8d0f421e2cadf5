#!/usr/bin/env python3
"""Generates Tessera's spectral index catalogue from the Awesome Spectral Indices catalogue.

Run at development time only (the generated files are committed; the binary needs no Python):

    python3 Tools/spectral_catalog.py [SPYNDEX_DATA_DIR]

Without a folder it downloads the `spyndex` wheel from PyPI (`pip download spyndex==0.12.0`) and
reads its `data/` folder. Writes:
  - Sources/TesseraCore/Index/SpectralCatalogData.swift — every index, band and constant;
  - Fixtures/spectral/formula-cases.json — for every index, random band values and the value
    numpy gives for the catalogue's own formula, so Tessera's parser is checked against it.

Awesome Spectral Indices: https://github.com/awesome-spectral-indices/awesome-spectral-indices
(MIT licence, David Montero Loaiza et al.).
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPYNDEX = "spyndex==0.12.0"

# Tessera's `rvi` is NIR/Red, the ratio vegetation index of textbooks and of web platforms; the
# catalogue calls that SR and uses RVI for RE2/R. Both are listed: the catalogue's RVI as RERVI.
RENAMES = {"RVI": "RERVI"}
TESSERA_RVI = {
    "short_name": "RVI", "long_name": "Ratio Vegetation Index (NIR / Red; the catalogue's SR)",
    "formula": "N / R", "bands": ["N", "R"], "application_domain": "vegetation",
    "platforms": ["Sentinel-2", "Landsat-OLI", "Landsat-TM", "Landsat-ETM+", "MODIS", "Planet-Fusion"],
    "reference": "https://doi.org/10.2307/1936256",
}

# Constants the catalogue lists for an index (in constants.json, or in the index's published
# formula) but that its formula there leaves out, fixed at 1. Restored so that --param changes
# the index; with the catalogue's default of 1 the values are the same.
#   GARI (Gitelson et al. 1996): N - (G - gamma (B - R)); the paper's gamma is the catalogue's
#   lmb, as in GRARI of the same paper ("controls the atmospheric correction").
#   SARVI (Kaufman & Tanre 1992): soil-adjusted ARVI, R - gamma (R - B) as in the catalogue's ARVI.
RESTORED = {
    "GARI": ("(N - (G - lmb * (B - R))) / (N + (G - lmb * (B - R)))", ["lmb"]),
    "SARVI": ("(1 + L)*(N - (R - gamma * (R - B))) / (N + (R - gamma * (R - B)) + L)", ["gamma"]),
}
FUNCTIONS = {"exp", "sqrt", "abs", "log", "where", "min", "max"}


def names_in(formula):
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula)) - FUNCTIONS


def restore(key, formula, bands):
    if key in RESTORED:
        formula, added = RESTORED[key]
        bands = bands + [c for c in added if c not in bands]
    return formula, bands


def check(entries, constants):
    """Fails when a formula loses a constant the catalogue lists for it: every constant among an
    index's roles must appear in its formula, every name in the formula must be a role, and every
    index a constant's description names must use that constant."""
    problems = []
    by_name = {e["catalogue_name"]: e for e in entries}
    for e in entries:
        used = names_in(e["formula"])
        for role in e["bands"]:
            if role not in used:
                problems.append(f"{e['short_name']}: the catalogue lists {role} but the formula does not use it")
        for name in used - set(e["bands"]):
            problems.append(f"{e['short_name']}: the formula uses {name}, which is not among its roles")
    for code, constant in constants.items():
        for word in re.findall(r"[A-Z][A-Za-z0-9]+", constant.get("description", "")):
            name = word
            if name in by_name and code not in names_in(by_name[name]["formula"]):
                problems.append(f"{name}: constants.json says {code} is used in it, but its formula does not use {code}")
    if problems:
        sys.exit("spectral_catalog.py: formulas lost constants:\n  " + "\n  ".join(problems))


def data_folder(argument):
    if argument:
        return argument
    target = tempfile.mkdtemp(prefix="spyndex-")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", target, SPYNDEX], check=True)
    wheel = glob.glob(os.path.join(target, "spyndex-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    return os.path.join(target, "spyndex", "data")


def kernel_formula(formula, bands):
    """Kernel indices name kernel values (kNR = k(N, R)); Tessera computes them with the RBF
    kernel k(a, b) = exp(-(a - b)^2 / (2 sigma^2)), so k(a, a) = 1."""
    names = {"N": "N", "R": "R", "B": "B", "G": "G", "L": "L"}
    for role in sorted((b for b in bands if b.startswith("k") and len(b) == 3), key=len, reverse=True):
        a, b = names[role[1]], names[role[2]]
        value = "1" if a == b else f"exp(-(({a} - {b}) ** 2) / (2 * sigma ** 2))"
        formula = formula.replace(role, f"({value})")
    return formula


def swift_string(text):
    return json.dumps(text, ensure_ascii=False)


def main():
    folder = data_folder(sys.argv[1] if len(sys.argv) > 1 else None)
    indices = json.load(open(os.path.join(folder, "spectral-indices-dict.json")))["SpectralIndices"]
    bands = json.load(open(os.path.join(folder, "bands.json")))
    constants = json.load(open(os.path.join(folder, "constants.json")))
    entries = []
    for key, entry in sorted(indices.items()):
        entry = dict(entry)
        name = RENAMES.get(key, key)
        formula = entry["formula"]
        roles = list(entry["bands"])
        formula, roles = restore(key, formula, roles)
        if entry["application_domain"] == "kernel":
            formula = kernel_formula(formula, roles)
            roles = sorted({c for r in roles for c in ([r[1], r[2]] if r.startswith("k") and len(r) == 3 else [r])} | {"sigma"})
            roles = [r for r in roles if r != "L" or "L" in entry["bands"] or "kNL" in entry["bands"]]
        entry.update(short_name=name, formula=formula, bands=roles, catalogue_name=key)
        entries.append(entry)
    entries.append(dict(TESSERA_RVI, catalogue_name="SR"))
    check(entries, constants)
    entries.sort(key=lambda e: e["short_name"].upper())

    lines = [
        "// Generated by Tools/spectral_catalog.py from the Awesome Spectral Indices catalogue",
        f"// ({SPYNDEX}; MIT licence, David Montero Loaiza et al.). Do not edit: run the script.",
        "",
        "extension SpectralCatalog {",
        "  public static let entries: [SpectralCatalog.Entry] = [",
    ]
    for e in entries:
        lines.append(
            "    .init(name: {}, catalogueName: {}, longName: {}, formula: {}, roles: [{}], domain: {}, platforms: [{}], reference: {}),".format(
                swift_string(e["short_name"]), swift_string(e["catalogue_name"]), swift_string(e["long_name"]),
                swift_string(e["formula"]), ", ".join(swift_string(b) for b in e["bands"]), swift_string(e["application_domain"]),
                ", ".join(swift_string(p) for p in e["platforms"]), swift_string(e["reference"])))
    lines += ["  ]", "", "  public static let bands: [SpectralCatalog.Band] = ["]
    for code, band in bands.items():
        lines.append("    .init(code: {}, commonName: {}, longName: {}, minWavelength: {}, maxWavelength: {}),".format(
            swift_string(code), swift_string(band["common_name"]), swift_string(band["long_name"]),
            band["min_wavelength"], band["max_wavelength"]))
    lines += ["  ]", "", "  public static let constants: [SpectralCatalog.Constant] = ["]
    for code, constant in sorted(constants.items()):
        default = "nil" if constant["default"] is None else repr(float(constant["default"]))
        lines.append("    .init(name: {}, description: {}, defaultValue: {}),".format(
            swift_string(code), swift_string(constant["description"]), default))
    lines += ["  ]", "}", ""]
    with open(os.path.join(ROOT, "Sources", "TesseraCore", "Index", "SpectralCatalogData.swift"), "w") as f:
        f.write("\n".join(lines))

    # Random cases: reflectance-like values for bands, the catalogue's defaults (or 1.5 where it
    # has none) for constants, and numpy's value of the catalogue's own formula.
    rng = np.random.default_rng(20261126)
    defaults = {k: (1.5 if v["default"] is None else float(v["default"])) for k, v in constants.items()}
    cases = []
    for e in entries:
        values = {}
        for role in e["bands"]:
            if role in defaults:
                values[role] = [defaults[role]] * 8
            elif role in ("HH", "HV", "VV", "VH"):
                values[role] = list(rng.uniform(0.001, 0.5, 8))
            else:
                values[role] = list(rng.uniform(0.01, 0.9, 8))
        env = {k: np.array(v, dtype=np.float64) for k, v in values.items()}
        env.update(exp=np.exp, sqrt=np.sqrt, abs=np.abs, log=np.log)
        with np.errstate(all="ignore"):
            result = eval(e["formula"], {"__builtins__": {}}, env)
        result = np.broadcast_to(np.asarray(result, dtype=np.float64), (8,))
        expected = [None if not np.isfinite(x) else float(x) for x in result]
        cases.append({"name": e["short_name"], "values": values, "expected": expected})
    os.makedirs(os.path.join(ROOT, "Fixtures", "spectral"), exist_ok=True)
    with open(os.path.join(ROOT, "Fixtures", "spectral", "formula-cases.json"), "w") as f:
        json.dump({"generator": "Tools/spectral_catalog.py", "source": SPYNDEX, "cases": cases}, f, indent=0)
    print(f"{len(entries)} indices, {len(bands)} bands, {len(constants)} constants")


if __name__ == "__main__":
    main()
