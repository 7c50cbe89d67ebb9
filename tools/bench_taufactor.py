#!/usr/bin/env python3
"""Side-by-side benchmark: TauFactor (CPU) vs `dryfilm conductivity` on the anchor volumes.

Usage:
    pip install taufactor numpy
    cargo build --release
    python3 tools/bench_taufactor.py [--n 100 200] [--threads 2] [--dir /tmp/anchor_volumes]
        [--dryfilm target/release/dryfilm] [--only NAME ...] [--tol 1e-4]

The anchor volumes (bench/conductivity-anchor.md) are written by
`dryfilm conductivity --anchor-volumes DIR` (sha256-checked against the anchor table). For each
volume TauFactor (`taufactor.Solver(img, device="cpu").solve()`, default convergence criterion,
torch limited to --threads threads) and `dryfilm conductivity --json --threads N` run one after
the other; the table gives both D_rel, their relative difference to the reference D_rel of the
anchor table, both times (TauFactor: construction + solve; dryfilm: its `solve_seconds`, i.e.
connectivity labelling + multigrid set-up + solve, file reading excluded) and the speed ratio.
"""
import argparse
import json
import os
import subprocess
import sys
import time

REFERENCE = {
    # (name, n): reference D_rel from bench/conductivity-anchor.md
    ("dense", 100): 1.0, ("slabs_parallel", 100): 0.3,
    ("spheres_ins_f0.2", 100): 0.690619, ("spheres_ins_f0.4", 100): 0.404766,
    ("spheres_ins_f0.6", 100): 0.187263, ("spheres_cond_f0.4", 100): 0.040502,
    ("spheres_cond_f0.6", 100): 0.247698,
    ("dense", 200): 1.0, ("slabs_parallel", 200): 0.3,
    ("spheres_ins_f0.2", 200): 0.687278, ("spheres_ins_f0.4", 200): 0.414851,
    ("spheres_ins_f0.6", 200): 0.196188, ("spheres_cond_f0.4", 200): 0.042041,
    ("spheres_cond_f0.6", 200): 0.245266,
}
ORDER = ["dense", "slabs_parallel", "spheres_ins_f0.2", "spheres_ins_f0.4", "spheres_ins_f0.6",
         "spheres_cond_f0.4", "spheres_cond_f0.6"]


def run_taufactor(path, threads):
    import numpy as np
    import torch
    import taufactor as tf
    torch.set_num_threads(threads)
    img = np.load(path)
    t0 = time.perf_counter()
    s = tf.Solver(img, device="cpu")
    s.solve(verbose=False)
    dt = time.perf_counter() - t0
    d = s.D_eff
    d = float(d.item() if hasattr(d, "item") else d)
    return d, dt


def run_dryfilm(exe, path, threads, tol):
    cmd = [exe, "conductivity", "--volume", path, "--json", "--threads", str(threads)]
    if tol:
        cmd += ["--tol", str(tol)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["d_eff"], r["solve_seconds"], r["iterations"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100, 200])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", default="/tmp/dryfilm_anchor_volumes")
    ap.add_argument("--dryfilm", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "dryfilm"))
    ap.add_argument("--only", nargs="*", default=None, help="volume names to run")
    ap.add_argument("--tol", type=float, default=None, help="dryfilm --tol (default: its own)")
    args = ap.parse_args()

    for n in args.n:
        subprocess.run([args.dryfilm, "conductivity", "--anchor-volumes", args.dir, "--anchor-n", str(n)],
                       check=True, capture_output=True)

    print("| volume | n | ref D_rel | TauFactor D_rel | rel. diff | dryfilm D_rel | rel. diff | dryfilm it | "
          "TauFactor s | dryfilm s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    ratios = []
    for n in args.n:
        for name in ORDER:
            if args.only and name not in args.only:
                continue
            path = os.path.join(args.dir, f"{name}_n{n}.npy")
            ref = REFERENCE[(name, n)]
            d_tf, t_tf = run_taufactor(path, args.threads)
            d_df, t_df, it = run_dryfilm(args.dryfilm, path, args.threads, args.tol)
            e_tf, e_df = d_tf / ref - 1, d_df / ref - 1
            worst = max(worst, abs(e_df))
            ratios.append(t_tf / t_df)
            print(f"| {name} | {n} | {ref:.6f} | {d_tf:.6f} | {e_tf:+.1e} | {d_df:.6f} | {e_df:+.1e} | {it} | "
                  f"{t_tf:.2f} | {t_df:.3f} | {t_tf / t_df:.1f}× |", flush=True)
    print(f"\nworst dryfilm |rel. diff| = {worst:.1e}; speed-up min {min(ratios):.1f}×, "
          f"max {max(ratios):.1f}×")


if __name__ == "__main__":
    sys.exit(main())
