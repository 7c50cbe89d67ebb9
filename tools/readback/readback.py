#!/usr/bin/env python3
"""Independent read-back of dryfilm exports, for the Rust integration tests.

Usage: readback.py vtk FILE | tiff FILE | npy FILE

Reads the file with third-party readers (meshio for VTK, tifffile for TIFF stacks, numpy for .npy)
and prints a JSON summary on stdout: array shapes, and for each data array its values (VTK) or the
count of each phase code (volumes). Exits with status 3 if a Python package is missing, so the
test can say to run tools/install-test-deps.sh.
"""
import json
import sys


def need(module):
    try:
        return __import__(module)
    except ImportError as e:  # pragma: no cover - environment problem
        sys.stderr.write(f"missing Python package '{module}' ({e}); run tools/install-test-deps.sh\n")
        sys.exit(3)


def counts(np, a):
    values, n = np.unique(np.asarray(a).ravel(), return_counts=True)
    return {str(int(v)): int(c) for v, c in zip(values, n)}


def read_vtk(path):
    np = need("numpy")
    meshio = need("meshio")
    m = meshio.read(path, file_format="vtk")
    out = {
        "points": np.asarray(m.points, dtype=float).tolist() if len(m.points) <= 10000 else None,
        "n_points": int(len(m.points)),
        "cells": {b.type: int(len(b.data)) for b in m.cells},
        "cell_connectivity": {b.type: np.asarray(b.data).tolist() for b in m.cells if len(b.data) <= 10000},
        "point_data": {},
        "cell_data": {},
        "cell_data_counts": {},
        "bounds": [np.asarray(m.points).min(axis=0).tolist(), np.asarray(m.points).max(axis=0).tolist()]
        if len(m.points)
        else None,
    }
    for k, v in m.point_data.items():
        out["point_data"][k] = np.asarray(v, dtype=float).tolist()
    for k, blocks in m.cell_data.items():
        arr = np.concatenate([np.asarray(b).ravel() for b in blocks]) if blocks else np.zeros(0)
        if arr.size <= 10000:
            out["cell_data"][k] = arr.astype(float).tolist()
        out["cell_data_counts"][k] = counts(np, arr) if arr.dtype.kind in "iu" else None
    return out


def read_tiff(path):
    np = need("numpy")
    tifffile = need("tifffile")
    with tifffile.TiffFile(path) as t:
        n_pages = len(t.pages)
    a = tifffile.imread(path)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "pages": n_pages, "counts": counts(np, a)}


def read_npy(path):
    np = need("numpy")
    a = np.load(path)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "counts": counts(np, a),
            "fortran_order": bool(np.isfortran(a))}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("vtk", "tiff", "npy"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    kind, path = sys.argv[1], sys.argv[2]
    out = {"vtk": read_vtk, "tiff": read_tiff, "npy": read_npy}[kind](path)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
