#!/usr/bin/env python3
"""How the cost of a film run grows with its particle and fibril counts.

Runs `scenarios/film_2wt.ron` (full thickness, ~125 um) in in-plane boxes of 30, 40 and 60 um
(the particle series), and the 40 um box at 0.5, 1 and 2 wt% PTFE (the fibril series), with
`dryfilm run --threads 1`, two runs at a time. From each run's manifest.json and result.json it
takes the stage times, the peak memory, the particle count and the intact fibril bundles; it fits
`time ~ N^a` and `memory ~ N^b` by least squares in log-log, extrapolates a 1 x 1 mm film of the
same loading, and writes the table between the `scaling:begin` / `scaling:end` markers of
docs/performance.md.

    cargo build --release && python3 tools/cost_scaling.py [--jobs 2] [--keep DIR] [--reuse DIR]
"""

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent
BIN = REPO / "target" / "release" / "dryfilm"
BASE = REPO / "scenarios" / "film_2wt.ron"
DOC = REPO / "docs" / "performance.md"
BOXES = [30.0, 40.0, 60.0]
LOADINGS = [0.5, 1.0, 2.0]
FULL_UM = 1000.0


def variant(text, box_um, wt_pct):
    """The base scenario with its in-plane box and PTFE loading replaced (images and exports off)."""
    out, n = re.subn(r"lx_um: [0-9.]+, ly_um: [0-9.]+", f"lx_um: {box_um}, ly_um: {box_um}", text)
    if n != 1:
        sys.exit(f"{BASE}: expected one 'lx_um: .., ly_um: ..' in the domain line")
    out, n = re.subn(r"ptfe: \(wt_pct: [0-9.]+", f"ptfe: (wt_pct: {wt_pct}", out)
    if n != 1:
        sys.exit(f"{BASE}: expected one 'ptfe: (wt_pct: ..' line")
    out, n = re.subn(r"\n    numerics:", "\n    output: (images: false, exports: false),\n    numerics:", out)
    if n != 1:
        sys.exit(f"{BASE}: expected one top-level 'numerics:' line")
    return out


def run(job):
    """Runs one variant (unless its folder is there already); returns its measured row."""
    name, path, out = job
    if not (out / "result.json").exists():
        cmd = [str(BIN), "run", str(path), "--out", str(out), "--quiet", "--threads", "1"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    manifest = json.loads((out / "manifest.json").read_text())
    result = json.loads((out / "result.json").read_text())
    t = manifest["stage_wall_seconds"]
    process = sum(t.get(k, 0.0) for k in ("mixing", "fibrillation", "calender"))
    return {
        "name": name,
        "particles": manifest["particles"],
        "fibrils": result["fibril_count"],
        "thickness_um": result["thickness_um"],
        "process_s": process,
        "tensile_s": t.get("solver_tensile", 0.0),
        "total_s": t["total"],
        "memory_mb": manifest["peak_memory_mb"],
    }


def fit(xs, ys):
    """Least-squares slope and intercept of log y against log x."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    n = len(lx)
    mx, my = sum(lx) / n, sum(ly) / n
    sxx = sum((a - mx) ** 2 for a in lx)
    slope = sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sxx
    return slope, my - slope * mx


def commit():
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def hms(seconds):
    h, rest = divmod(seconds, 3600)
    return f"{int(h)} h {rest / 60:.0f} min" if h >= 1 else f"{seconds / 60:.1f} min"


def table(rows_n, rows_f, jobs):
    lines = []
    date = datetime.date.today().isoformat()
    lines.append(
        f"Measured {date} at {commit()} by `python3 tools/cost_scaling.py` on {os.cpu_count()} cores "
        f"({platform.machine()}): `scenarios/film_2wt.ron` (22 mg/cm², four passes to ~125 µm) with "
        f"images and exports off, `dryfilm run --threads 1`, {jobs} run(s) at a time, one run per row. "
        "Times from `manifest.json` (`stage_wall_seconds`); \"process\" is mixing, fibrillation and "
        "calendering; peak memory is the process's resident high-water mark.")
    lines.append("")
    lines.append("| series | box (µm) | PTFE wt% | particles | fibril bundles | thickness (µm) | process (s) | tensile (s) | whole run (s) | peak memory (MB) |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for series, rows in (("particles", rows_n), ("fibrils", rows_f)):
        for r in rows:
            lines.append(
                f"| {series} | {r['box']:.0f} | {r['wt']:g} | {r['particles']} | {r['fibrils']} | "
                f"{r['thickness_um']:.1f} | {r['process_s']:.1f} | {r['tensile_s']:.1f} | "
                f"{r['total_s']:.1f} | {r['memory_mb']:.0f} |")
    n = [r["particles"] for r in rows_n]
    a_total, _ = fit(n, [r["total_s"] for r in rows_n])
    a_proc, c_proc = fit(n, [r["process_s"] for r in rows_n])
    a_tens, c_tens = fit(n, [r["tensile_s"] for r in rows_n])
    b_mem, _ = fit(n, [r["memory_mb"] for r in rows_n])
    f = [r["fibrils"] for r in rows_f]
    a_fib, _ = fit(f, [r["total_s"] for r in rows_f])
    a_fib_t, _ = fit(f, [r["tensile_s"] for r in rows_f])
    big = rows_n[-1]
    n_full = big["particles"] * (FULL_UM / big["box"]) ** 2
    t_proc = math.exp(c_proc) * n_full ** a_proc
    t_tens = math.exp(c_tens) * n_full ** a_tens
    # Memory: a fixed part (code, tables) plus a part per particle, fitted as a line; the power
    # law's exponent is below 1 only because of the fixed part.
    mn = sum(n) / len(n)
    mm = sum(r["memory_mb"] for r in rows_n) / len(n)
    per = sum((x - mn) * (r["memory_mb"] - mm) for x, r in zip(n, rows_n)) / sum((x - mn) ** 2 for x in n)
    m_full = mm + per * (n_full - mn)
    lines.append("")
    lines.append("Fitted exponents (least squares in log-log over the rows of each series):")
    lines.append("")
    lines.append(f"- particle series (2 wt%): whole run ∝ N^{a_total:.2f}, process ∝ N^{a_proc:.2f}, "
                 f"tensile test ∝ N^{a_tens:.2f}, peak memory ∝ N^{b_mem:.2f};")
    lines.append(f"- fibril series (40 µm box, 0.5–2 wt%): whole run ∝ F^{a_fib:.2f}, tensile test ∝ "
                 f"F^{a_fib_t:.2f} with F the intact fibril bundles (the particle count changes "
                 "little along this series).")
    lines.append("")
    lines.append(
        f"A 1 × 1 mm film of the same loading at full thickness holds about {n_full:.2e} particles "
        f"({big['particles']} × ({FULL_UM:.0f}/{big['box']:.0f})²). Extrapolated with the fitted "
        f"exponents, on one thread: the process stages {hms(t_proc)}, the tensile test (both "
        f"directions) {hms(t_tens)}, so the tensile test as it is cannot run on such a film; memory, "
        f"fitted as a line "
        f"({mm - per * mn:.0f} MB + {per * 1024:.1f} kB per particle): {m_full / 1024:.1f} GB. Both "
        "come from boxes of at most 60 µm: an estimate, not a measurement.")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    ap.add_argument("--keep", type=pathlib.Path, help="keep the run folders here")
    ap.add_argument("--reuse", type=pathlib.Path,
                    help="take the runs already in this folder (a --keep folder), run the rest there")
    args = ap.parse_args()
    if not BIN.exists():
        sys.exit(f"{BIN} missing: run `cargo build --release` first")
    text = BASE.read_text()
    work = args.reuse or pathlib.Path(tempfile.mkdtemp(prefix="dryfilm-scaling-"))
    jobs, meta = [], {}
    for box in BOXES:
        meta[f"n{box:g}"] = (box, 2.0)
    for wt in LOADINGS:
        if wt != 2.0:
            meta[f"f{wt:g}"] = (40.0, wt)
    for name, (box, wt) in meta.items():
        path = work / f"{name}.ron"
        path.write_text(variant(text, box, wt))
        jobs.append((name, path, work / name))
    # Largest first, so that the two workers end together.
    jobs.sort(key=lambda j: -meta[j[0]][0] ** 2 * (1 + meta[j[0]][1]))
    rows = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for r in ex.map(run, jobs):
            r["box"], r["wt"] = meta[r["name"]]
            rows[r["name"]] = r
            print(f"{r['name']}: {r['particles']} particles, {r['total_s']:.1f} s, "
                  f"{r['memory_mb']:.0f} MB", flush=True)
    rows_n = [rows[f"n{b:g}"] for b in BOXES]
    rows_f = [rows["n40"] if wt == 2.0 else rows[f"f{wt:g}"] for wt in LOADINGS]
    body = table(rows_n, [dict(r, box=40.0, wt=wt) for r, wt in zip(rows_f, LOADINGS)], args.jobs)
    doc = DOC.read_text()
    begin, end = "<!-- scaling:begin (written by tools/cost_scaling.py) -->", "<!-- scaling:end -->"
    if begin not in doc or end not in doc:
        sys.exit(f"{DOC}: markers {begin} / {end} missing")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(head + begin + "\n" + body + "\n" + end + tail)
    print(body)
    if args.keep:
        shutil.copytree(work, args.keep, dirs_exist_ok=True)
    if not args.reuse:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
