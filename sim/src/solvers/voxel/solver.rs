//! Effective conductivity of one phase of a voxel volume (TauFactor's binary convention).
//!
//! # Model
//! The conducting phase (voxels whose label equals [`SolveOptions::phase`]) has unit conductivity,
//! everything else none. After moving the flow axis to axis 0, a finite-volume discretisation with
//! the potential `V` at voxel centres gives, for every *kept* voxel `p` (see below),
//!
//! ```text
//!   Σ_q g_pq (V_p − V_q) + 2·[i0 = 0]·(V_p − 0) + 2·[i0 = n0−1]·(V_p − 1) = 0,
//! ```
//!
//! with `g_pq = 1` for face neighbours that are both kept and `0` otherwise: the electrodes sit on
//! the outer faces of the first and last layers (half a voxel away, conductance 2), the four side
//! faces are insulating. This is the system `A V = b` with `A` symmetric positive definite on the
//! kept voxels (every kept cluster touches an electrode). The current is
//! `I = Σ_{i0=0} 2 V_p = Σ_{i0=n0−1} 2 (1 − V_p)`; it is evaluated as the dissipated power at
//! 1 V, `I = P(V) = Vᵀ A V − 2 bᵀ V + 2·(outlet voxels)` (Thomson's principle: `P` is minimal at
//! the solution and its error is quadratic in the error of `V`, unlike the electrode fluxes), and
//!
//! ```text
//!   D_rel = I · n0 / (n1 · n2),   ε = (conducting voxels) / (all voxels),   τ = ε / D_rel
//! ```
//!
//! (Cooper et al., *SoftwareX* 5 (2016) 203; Kench & Cooper, *SoftwareX* 14 (2021) 100650:
//! TauFactor's `D_eff/D` and tortuosity factor, see `bench/conductivity-anchor.md`).
//!
//! # Connectivity
//! A 6-connected flood fill from the inlet layer and one from the outlet layer label the
//! conducting voxels; voxels reached by either are kept (isolated clusters carry no current and
//! would make `A` singular). If no voxel is reached from both sides the phase does not
//! percolate: `D_rel = 0`, τ is undefined, and no linear solve is run.
//!
//! # Numerics
//! Conjugate gradients in f64 (Hestenes & Stiefel 1952) from the linear initial guess
//! `V = (i0 + ½)/n0` (exact for straight channels), stopped when the relative residual
//! `‖b − A V‖₂ / ‖b‖₂ ≤ rel_tol`. The preconditioner is one symmetric V-cycle of an
//! aggregation multigrid: 2×2×2 blocks of voxels are merged into one coarse cell, the coarse
//! operator is the Galerkin product `Pᵀ A P` of the piecewise-constant prolongation `P` (again a
//! 7-point conductance stencil: the coarse face conductance is the sum of the fine conductances
//! crossing that face) scaled by ½, the over-correction that makes aggregation V-cycles work for
//! Laplacians (Braess, *Numer. Math.* 1995; Notay & Vassilevski 2008); red–black Gauss–Seidel
//! smoothing (red, black before the coarse correction; black, red after it, so the cycle is
//! symmetric and CG applies), and a dense Cholesky factorisation on the coarsest grid (≤ 512
//! cells). With ½ ≤ scale the cycle stays symmetric positive definite.
//!
//! Determinism: every loop is over z-planes in parallel, each plane writes only its own cells,
//! red–black updates read only the other colour, and dot products are summed per plane and then
//! over planes in order, so the result is bitwise the same on any number of rayon threads.

use super::{Volume, VoxelError};
use crate::numerics::{pcg, Preconditioner, SpdOperator};
use crate::par::SharedSlice;
use rayon::prelude::*;
use std::time::Instant;

/// Options of [`solve`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveOptions {
    /// Label of the conducting phase (default 1 = [`super::NPS`]).
    pub phase: u8,
    /// Flow axis 0, 1 or 2 (default 0, "z", through the film).
    pub axis: usize,
    /// Relative residual `‖b − A V‖₂/‖b‖₂` at which CG stops, in (0, 1). Default 1e-4, which
    /// (with the power-based current) gives D_rel within 2e-4 relative of the reference on the
    /// 100³ anchor volumes; lower it for reference solutions.
    pub rel_tol: f64,
    /// Iteration cap of CG (default 1000); when reached the result has `converged = false`.
    pub max_iter: usize,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            phase: 1,
            axis: 0,
            rel_tol: 1e-4,
            max_iter: 1000,
        }
    }
}

/// Result of a voxel conductivity solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoxelResult {
    /// Volume fraction ε of the conducting phase (all of its voxels, connected or not).
    pub volume_fraction: f64,
    /// Relative effective conductivity D_rel = σ_eff / σ_phase (0 if it does not percolate).
    pub d_eff: f64,
    /// Tortuosity factor τ = ε / D_rel; `None` if the phase does not percolate.
    pub tortuosity_factor: Option<f64>,
    /// CG iterations taken.
    pub iterations: usize,
    /// Final relative residual ‖b − A V‖₂ / ‖b‖₂ (0 when not percolating).
    pub residual: f64,
    /// Wall time of labelling, set-up and solve, s.
    pub solve_seconds: f64,
    /// True if the phase connects the inlet face to the outlet face along the flow axis.
    pub percolates: bool,
    /// True if the residual reached `rel_tol` (or no solve was needed).
    pub converged: bool,
    /// Number of voxels in the linear system.
    pub unknowns: usize,
}

/// Largest volume [`solve`] accepts (voxel indices are stored as `u32`).
pub const MAX_SOLVE_VOXELS: usize = u32::MAX as usize;

/// Cells below which a level is solved directly (dense Cholesky).
const COARSEST_CELLS: usize = 512;
/// Scale of the Galerkin coarse operator (½: over-correction of aggregation).
const COARSE_SCALE: f64 = 0.5;
/// Conductance between an electrode and a voxel of the first/last layer (half a voxel away).
const ELECTRODE_G: f64 = 2.0;

/// Effective conductivity of phase `opts.phase` of `vol` along axis `opts.axis`.
///
/// Errors: bad axis or tolerance, `data.len()` not matching `dims`, more than
/// [`MAX_SOLVE_VOXELS`] voxels. A phase that does not connect the two faces is not an error: the
/// result has `percolates = false`, `d_eff = 0` and `tortuosity_factor = None`.
pub fn solve(vol: &Volume, opts: &SolveOptions) -> Result<VoxelResult, VoxelError> {
    if opts.axis > 2 {
        return Err(VoxelError::BadAxis(opts.axis));
    }
    if !(opts.rel_tol > 0.0 && opts.rel_tol < 1.0) {
        return Err(VoxelError::BadTolerance(opts.rel_tol));
    }
    if !vol.is_consistent() {
        let need = vol.dims.iter().fold(1usize, |a, &d| a.saturating_mul(d));
        return Err(VoxelError::Inconsistent {
            dims: vol.dims,
            len: vol.data.len(),
            need,
        });
    }
    if vol.len() > MAX_SOLVE_VOXELS {
        return Err(VoxelError::TooLarge {
            dims: vol.dims,
            max: MAX_SOLVE_VOXELS,
        });
    }
    let start = Instant::now();
    let permuted;
    let v = if opts.axis == 0 {
        vol
    } else {
        permuted = vol.with_axis_first(opts.axis);
        &permuted
    };
    let total = v.len();
    let conducting = v.data.par_iter().filter(|&&x| x == opts.phase).count();
    let volume_fraction = if total > 0 {
        conducting as f64 / total as f64
    } else {
        0.0
    };
    let not_percolating = |unknowns| VoxelResult {
        volume_fraction,
        d_eff: 0.0,
        tortuosity_factor: None,
        iterations: 0,
        residual: 0.0,
        solve_seconds: start.elapsed().as_secs_f64(),
        percolates: false,
        converged: true,
        unknowns,
    };
    if conducting == 0 {
        return Ok(not_percolating(0));
    }
    let (kept, percolates) = connectivity(v, opts.phase);
    let unknowns = kept.iter().filter(|&&k| k).count();
    if !percolates {
        return Ok(not_percolating(unknowns));
    }
    let fine = FineLevel::new(v.dims, &kept);
    drop(kept);
    let mg = Multigrid::new(&fine);
    let (x, b, iterations, residual) = pcg_solve(&fine, &mg, opts.rel_tol, opts.max_iter);
    let [n0, n1, n2] = v.dims;
    let plane = n1 * n2;
    // Dissipated power at 1 V: P(V) = Vᵀ A V − 2 bᵀ V + Σ_outlet 2·1², minimal (= I) at the
    // solution and quadratic in the error of V, so a loose residual still gives an accurate I.
    let mut ax = vec![0.0; x.len()];
    fine.apply(&x, &mut ax);
    let last = (n0 - 1) * plane;
    let outlet = (last..last + plane).filter(|&p| fine.d[p] > 0).count() as f64;
    let power = dot(&x, &ax, plane) - 2.0 * dot(&b, &x, plane) + ELECTRODE_G * outlet;
    let d_eff = power.max(0.0) * n0 as f64 / plane as f64;
    Ok(VoxelResult {
        volume_fraction,
        d_eff,
        tortuosity_factor: if d_eff > 0.0 {
            Some(volume_fraction / d_eff)
        } else {
            None
        },
        iterations,
        residual,
        solve_seconds: start.elapsed().as_secs_f64(),
        percolates: true,
        converged: residual <= opts.rel_tol,
        unknowns,
    })
}

/// Flood-fill the conducting phase from the inlet (i0 = 0) and the outlet (i0 = n0 − 1) layers
/// (6-connectivity). Returns the kept mask (reached from either side) and whether some voxel is
/// reached from both (the phase percolates).
#[allow(clippy::needless_range_loop)]
pub fn connectivity(v: &Volume, phase: u8) -> (Vec<bool>, bool) {
    let [n0, n1, n2] = v.dims;
    let plane = n1 * n2;
    // Bit 1: reached from the inlet; bit 2: from the outlet; 4: conducting.
    let mut flag: Vec<u8> = v
        .data
        .par_iter()
        .map(|&x| if x == phase { 4 } else { 0 })
        .collect();
    let mut queue: Vec<u32> = Vec::new();
    for (bit, layer) in [(1u8, 0usize), (2u8, n0 - 1)] {
        queue.clear();
        for p in layer * plane..(layer + 1) * plane {
            if flag[p] & 4 != 0 && flag[p] & bit == 0 {
                flag[p] |= bit;
                queue.push(p as u32);
            }
        }
        let mut head = 0;
        while head < queue.len() {
            let p = queue[head] as usize;
            head += 1;
            let i2 = p % n2;
            let i1 = (p / n2) % n1;
            let i0 = p / plane;
            let visit = |q: usize, flag: &mut Vec<u8>, queue: &mut Vec<u32>| {
                if flag[q] & 4 != 0 && flag[q] & bit == 0 {
                    flag[q] |= bit;
                    queue.push(q as u32);
                }
            };
            if i0 > 0 {
                visit(p - plane, &mut flag, &mut queue);
            }
            if i0 + 1 < n0 {
                visit(p + plane, &mut flag, &mut queue);
            }
            if i1 > 0 {
                visit(p - n2, &mut flag, &mut queue);
            }
            if i1 + 1 < n1 {
                visit(p + n2, &mut flag, &mut queue);
            }
            if i2 > 0 {
                visit(p - 1, &mut flag, &mut queue);
            }
            if i2 + 1 < n2 {
                visit(p + 1, &mut flag, &mut queue);
            }
        }
    }
    let percolates = flag.par_iter().any(|&f| f & 3 == 3);
    let kept = flag.par_iter().map(|&f| f & 3 != 0).collect();
    (kept, percolates)
}

/// Minimum number of cells per rayon task.
const MIN_TASK_CELLS: usize = 16_384;

fn min_planes(plane: usize) -> usize {
    (MIN_TASK_CELLS / plane.max(1)).max(1)
}

/// The fine grid: binary conductances from the kept mask, stored as the diagonal of `A`.
struct FineLevel {
    dims: [usize; 3],
    /// Diagonal of A: kept neighbours + electrode conductances; 0 for voxels not in the system.
    d: Vec<u8>,
}

impl FineLevel {
    fn new(dims: [usize; 3], kept: &[bool]) -> Self {
        let [n0, n1, n2] = dims;
        let plane = n1 * n2;
        let mut d = vec![0u8; kept.len()];
        d.par_chunks_mut(plane).enumerate().for_each(|(i0, out)| {
            for i1 in 0..n1 {
                for i2 in 0..n2 {
                    let p = i0 * plane + i1 * n2 + i2;
                    if !kept[p] {
                        continue;
                    }
                    let mut c = 0u8;
                    c += u8::from(i0 > 0 && kept[p - plane]);
                    c += u8::from(i0 + 1 < n0 && kept[p + plane]);
                    c += u8::from(i1 > 0 && kept[p - n2]);
                    c += u8::from(i1 + 1 < n1 && kept[p + n2]);
                    c += u8::from(i2 > 0 && kept[p - 1]);
                    c += u8::from(i2 + 1 < n2 && kept[p + 1]);
                    c += 2 * u8::from(i0 == 0) + 2 * u8::from(i0 + 1 == n0);
                    out[i1 * n2 + i2] = c;
                }
            }
        });
        Self { dims, d }
    }

    fn kept(&self, p: usize) -> bool {
        self.d[p] > 0
    }

    /// `y = A x` (x must vanish outside the system). Row-wise on contiguous slices.
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        let [n0, n1, n2] = self.dims;
        let plane = n1 * n2;
        let zeros = vec![0.0; n2];
        y.par_chunks_mut(plane)
            .with_min_len(min_planes(plane))
            .enumerate()
            .for_each(|(i0, out)| {
                for i1 in 0..n1 {
                    let base = i0 * plane + i1 * n2;
                    let row = |ok: bool, b: usize| if ok { &x[b..b + n2] } else { &zeros[..n2] };
                    let a0 = row(i0 > 0, base.wrapping_sub(plane));
                    let b0 = row(i0 + 1 < n0, base + plane);
                    let a1 = row(i1 > 0, base.wrapping_sub(n2));
                    let b1 = row(i1 + 1 < n1, base + n2);
                    let xc = &x[base..base + n2];
                    let d = &self.d[base..base + n2];
                    let o = &mut out[i1 * n2..(i1 + 1) * n2];
                    for k in 0..n2 {
                        let left = if k > 0 { xc[k - 1] } else { 0.0 };
                        let right = if k + 1 < n2 { xc[k + 1] } else { 0.0 };
                        let s = a0[k] + b0[k] + a1[k] + b1[k] + left + right;
                        o[k] = if d[k] == 0 {
                            0.0
                        } else {
                            f64::from(d[k]) * xc[k] - s
                        };
                    }
                }
            });
    }

    /// One red–black Gauss–Seidel half sweep on colour `colour` for `A x = r`.
    fn gs_colour(&self, r: &[f64], x: &mut [f64], colour: usize) {
        let [n0, n1, n2] = self.dims;
        let plane = n1 * n2;
        let xs = SharedSlice::new(x);
        (0..n0)
            .into_par_iter()
            .with_min_len(min_planes(plane))
            .for_each(|i0| {
                let xs = &xs;
                for i1 in 0..n1 {
                    let base = i0 * plane + i1 * n2;
                    let d = &self.d[base..base + n2];
                    let rr = &r[base..base + n2];
                    let mut k = (colour + i0 + i1) % 2;
                    while k < n2 {
                        if d[k] != 0 {
                            let p = base + k;
                            // SAFETY: every offset below is a cell inside the grid (checked by the
                            // conditions); the neighbours have the other colour, which no task
                            // writes in this pass, and cell p is written by this task only.
                            unsafe {
                                let mut s = 0.0;
                                if i0 > 0 {
                                    s += xs.get(p - plane);
                                }
                                if i0 + 1 < n0 {
                                    s += xs.get(p + plane);
                                }
                                if i1 > 0 {
                                    s += xs.get(p - n2);
                                }
                                if i1 + 1 < n1 {
                                    s += xs.get(p + n2);
                                }
                                if k > 0 {
                                    s += xs.get(p - 1);
                                }
                                if k + 1 < n2 {
                                    s += xs.get(p + 1);
                                }
                                xs.set(p, (rr[k] + s) / f64::from(d[k]));
                            }
                        }
                        k += 2;
                    }
                }
            });
    }
}

/// A coarse level: 7-point conductance stencil on a regular grid.
struct CoarseLevel {
    dims: [usize; 3],
    /// Conductance to the +1 neighbour along axes 0, 1, 2.
    g: [Vec<f64>; 3],
    /// Diagonal of the coarse operator (0 for empty cells).
    d: Vec<f64>,
    /// Right-hand side and solution buffers.
    b: Vec<f64>,
    x: Vec<f64>,
    t: Vec<f64>,
}

impl CoarseLevel {
    /// Aggregate 2×2×2 blocks of a level whose conductance to the +1 neighbour along `axis` from
    /// cell (i0, i1, i2) is `g(axis, i0, i1, i2)` and whose electrode conductance is `e(i0, i1, i2)`.
    fn aggregate<G, E>(fdims: [usize; 3], g: G, e: E) -> Self
    where
        G: Fn(usize, usize, usize, usize) -> f64 + Sync,
        E: Fn(usize, usize, usize) -> f64 + Sync,
    {
        let dims = [
            fdims[0].div_ceil(2),
            fdims[1].div_ceil(2),
            fdims[2].div_ceil(2),
        ];
        let [c0, c1, c2] = dims;
        let cplane = c1 * c2;
        let n = c0 * cplane;
        let mut g0 = vec![0.0; n];
        let mut g1 = vec![0.0; n];
        let mut g2 = vec![0.0; n];
        let mut eb = vec![0.0; n];
        let block = |c: usize, f: usize| (2 * c)..(2 * c + 2).min(f);
        g0.par_chunks_mut(cplane)
            .zip(g1.par_chunks_mut(cplane))
            .zip(g2.par_chunks_mut(cplane))
            .zip(eb.par_chunks_mut(cplane))
            .enumerate()
            .for_each(|(a, (((o0, o1), o2), oe))| {
                for b in 0..c1 {
                    for c in 0..c2 {
                        let k = b * c2 + c;
                        let (mut s0, mut s1, mut s2, mut se) = (0.0, 0.0, 0.0, 0.0);
                        for i1 in block(b, fdims[1]) {
                            for i2 in block(c, fdims[2]) {
                                if a + 1 < c0 {
                                    s0 += g(0, 2 * a + 1, i1, i2);
                                }
                                for i0 in block(a, fdims[0]) {
                                    se += e(i0, i1, i2);
                                }
                            }
                        }
                        for i0 in block(a, fdims[0]) {
                            for i2 in block(c, fdims[2]) {
                                if b + 1 < c1 {
                                    s1 += g(1, i0, 2 * b + 1, i2);
                                }
                            }
                            for i1 in block(b, fdims[1]) {
                                if c + 1 < c2 {
                                    s2 += g(2, i0, i1, 2 * c + 1);
                                }
                            }
                        }
                        o0[k] = COARSE_SCALE * s0;
                        o1[k] = COARSE_SCALE * s1;
                        o2[k] = COARSE_SCALE * s2;
                        oe[k] = COARSE_SCALE * se;
                    }
                }
            });
        let mut d = vec![0.0; n];
        d.par_chunks_mut(cplane).enumerate().for_each(|(a, out)| {
            for b in 0..c1 {
                for c in 0..c2 {
                    let p = a * cplane + b * c2 + c;
                    let mut s = eb[p] + g0[p] + g1[p] + g2[p];
                    if a > 0 {
                        s += g0[p - cplane];
                    }
                    if b > 0 {
                        s += g1[p - c2];
                    }
                    if c > 0 {
                        s += g2[p - 1];
                    }
                    out[b * c2 + c] = s;
                }
            }
        });
        Self {
            dims,
            g: [g0, g1, g2],
            d,
            b: vec![0.0; n],
            x: vec![0.0; n],
            t: vec![0.0; n],
        }
    }

    fn from_fine(f: &FineLevel) -> Self {
        let [n0, n1, n2] = f.dims;
        let plane = n1 * n2;
        let strides = [plane, n2, 1];
        let g = |axis: usize, i0: usize, i1: usize, i2: usize| {
            let p = i0 * plane + i1 * n2 + i2;
            let idx = [i0, i1, i2];
            if idx[axis] + 1 < f.dims[axis] && f.kept(p) && f.kept(p + strides[axis]) {
                1.0
            } else {
                0.0
            }
        };
        let e = |i0: usize, i1: usize, i2: usize| {
            let p = i0 * plane + i1 * n2 + i2;
            if f.kept(p) {
                ELECTRODE_G * (f64::from(u8::from(i0 == 0)) + f64::from(u8::from(i0 + 1 == n0)))
            } else {
                0.0
            }
        };
        Self::aggregate(f.dims, g, e)
    }

    fn from_coarse(l: &CoarseLevel) -> Self {
        let [_, n1, n2] = l.dims;
        let plane = n1 * n2;
        let g = |axis: usize, i0: usize, i1: usize, i2: usize| l.g[axis][i0 * plane + i1 * n2 + i2];
        let e = |i0: usize, i1: usize, i2: usize| {
            let p = i0 * plane + i1 * n2 + i2;
            let mut s = l.d[p] - l.g[0][p] - l.g[1][p] - l.g[2][p];
            if i0 > 0 {
                s -= l.g[0][p - plane];
            }
            if i1 > 0 {
                s -= l.g[1][p - n2];
            }
            if i2 > 0 {
                s -= l.g[2][p - 1];
            }
            s
        };
        Self::aggregate(l.dims, g, e)
    }

    fn len(&self) -> usize {
        self.d.len()
    }

    /// Σ g_pq x_q over the neighbours of p.
    #[inline(always)]
    fn gsum(&self, x: &[f64], i0: usize, i1: usize, i2: usize, p: usize) -> f64 {
        let [n0, n1, n2] = self.dims;
        let plane = n1 * n2;
        let mut s = 0.0;
        if i0 > 0 {
            s += self.g[0][p - plane] * x[p - plane];
        }
        if i0 + 1 < n0 {
            s += self.g[0][p] * x[p + plane];
        }
        if i1 > 0 {
            s += self.g[1][p - n2] * x[p - n2];
        }
        if i1 + 1 < n1 {
            s += self.g[1][p] * x[p + n2];
        }
        if i2 > 0 {
            s += self.g[2][p - 1] * x[p - 1];
        }
        if i2 + 1 < n2 {
            s += self.g[2][p] * x[p + 1];
        }
        s
    }

    /// `t = b − A x` on this level.
    fn residual(&mut self) {
        let [_, n1, n2] = self.dims;
        let plane = n1 * n2;
        let mut t = std::mem::take(&mut self.t);
        let me = &*self;
        t.par_chunks_mut(plane)
            .with_min_len(min_planes(plane))
            .enumerate()
            .for_each(|(i0, out)| {
                for i1 in 0..n1 {
                    for i2 in 0..n2 {
                        let p = i0 * plane + i1 * n2 + i2;
                        out[i1 * n2 + i2] = if me.d[p] > 0.0 {
                            me.b[p] - me.d[p] * me.x[p] + me.gsum(&me.x, i0, i1, i2, p)
                        } else {
                            0.0
                        };
                    }
                }
            });
        self.t = t;
    }

    fn gs_colour(&mut self, colour: usize) {
        let [n0, n1, n2] = self.dims;
        let plane = n1 * n2;
        let xs = SharedSlice::new(&mut self.x);
        let (g, d, b) = (&self.g, &self.d, &self.b);
        (0..n0)
            .into_par_iter()
            .with_min_len(min_planes(plane))
            .for_each(|i0| {
                let xs = &xs;
                for i1 in 0..n1 {
                    let mut i2 = (colour + i0 + i1) % 2;
                    while i2 < n2 {
                        let p = i0 * plane + i1 * n2 + i2;
                        if d[p] > 0.0 {
                            // SAFETY: as in `FineLevel::gs_colour`.
                            unsafe {
                                let mut s = 0.0;
                                if i0 > 0 {
                                    s += g[0][p - plane] * xs.get(p - plane);
                                }
                                if i0 + 1 < n0 {
                                    s += g[0][p] * xs.get(p + plane);
                                }
                                if i1 > 0 {
                                    s += g[1][p - n2] * xs.get(p - n2);
                                }
                                if i1 + 1 < n1 {
                                    s += g[1][p] * xs.get(p + n2);
                                }
                                if i2 > 0 {
                                    s += g[2][p - 1] * xs.get(p - 1);
                                }
                                if i2 + 1 < n2 {
                                    s += g[2][p] * xs.get(p + 1);
                                }
                                xs.set(p, (b[p] + s) / d[p]);
                            }
                        }
                        i2 += 2;
                    }
                }
            });
    }
}

/// Restrict `t` (fine dims `fd`) into `b` (coarse dims `cd`) by summing 2×2×2 blocks.
fn restrict(t: &[f64], fd: [usize; 3], b: &mut [f64], cd: [usize; 3]) {
    let cplane = cd[1] * cd[2];
    let fplane = fd[1] * fd[2];
    b.par_chunks_mut(cplane)
        .with_min_len(min_planes(cplane))
        .enumerate()
        .for_each(|(a, out)| {
            out.iter_mut().for_each(|v| *v = 0.0);
            for i0 in (2 * a)..(2 * a + 2).min(fd[0]) {
                for i1 in 0..fd[1] {
                    let row = &t[i0 * fplane + i1 * fd[2]..i0 * fplane + (i1 + 1) * fd[2]];
                    let orow = &mut out[(i1 / 2) * cd[2]..(i1 / 2 + 1) * cd[2]];
                    for (i2, v) in row.iter().enumerate() {
                        orow[i2 / 2] += v;
                    }
                }
            }
        });
}

/// `x += P e` (piecewise-constant prolongation), only where `mask(p)` (cells in the system).
fn prolong_add<M: Fn(usize) -> bool + Sync>(
    x: &mut [f64],
    fd: [usize; 3],
    e: &[f64],
    cd: [usize; 3],
    mask: M,
) {
    let cplane = cd[1] * cd[2];
    let fplane = fd[1] * fd[2];
    x.par_chunks_mut(fplane)
        .with_min_len(min_planes(fplane))
        .enumerate()
        .for_each(|(i0, out)| {
            let base = (i0 / 2) * cplane;
            for i1 in 0..fd[1] {
                let crow = &e[base + (i1 / 2) * cd[2]..base + (i1 / 2 + 1) * cd[2]];
                for i2 in 0..fd[2] {
                    let p = i1 * fd[2] + i2;
                    if mask(i0 * fplane + p) {
                        out[p] += crow[i2 / 2];
                    }
                }
            }
        });
}

/// Dense Cholesky factor of the coarsest operator on its non-empty cells.
struct Coarsest {
    cells: Vec<usize>,
    l: Vec<f64>,
}

impl Coarsest {
    fn new(lv: &CoarseLevel) -> Self {
        let cells: Vec<usize> = (0..lv.len()).filter(|&p| lv.d[p] > 0.0).collect();
        let m = cells.len();
        let mut pos = vec![usize::MAX; lv.len()];
        for (k, &p) in cells.iter().enumerate() {
            pos[p] = k;
        }
        let [_, n1, n2] = lv.dims;
        let strides = [n1 * n2, n2, 1];
        let mut a = vec![0.0; m * m];
        for (k, &p) in cells.iter().enumerate() {
            a[k * m + k] = lv.d[p];
            for (axis, &s) in strides.iter().enumerate() {
                let g = lv.g[axis][p];
                if g > 0.0 {
                    let q = pos[p + s];
                    if q != usize::MAX {
                        a[k * m + q] -= g;
                        a[q * m + k] -= g;
                    }
                }
            }
        }
        // In-place Cholesky A = L Lᵀ (lower triangle).
        for j in 0..m {
            let mut s = a[j * m + j];
            for k in 0..j {
                s -= a[j * m + k] * a[j * m + k];
            }
            let djj = s.max(f64::MIN_POSITIVE).sqrt();
            a[j * m + j] = djj;
            for i in (j + 1)..m {
                let mut s = a[i * m + j];
                for k in 0..j {
                    s -= a[i * m + k] * a[j * m + k];
                }
                a[i * m + j] = s / djj;
            }
        }
        Self { cells, l: a }
    }

    #[allow(clippy::needless_range_loop)]
    fn solve(&self, lv: &mut CoarseLevel) {
        let m = self.cells.len();
        let mut y: Vec<f64> = self.cells.iter().map(|&p| lv.b[p]).collect();
        for i in 0..m {
            let mut s = y[i];
            for k in 0..i {
                s -= self.l[i * m + k] * y[k];
            }
            y[i] = s / self.l[i * m + i];
        }
        for i in (0..m).rev() {
            let mut s = y[i];
            for k in (i + 1)..m {
                s -= self.l[k * m + i] * y[k];
            }
            y[i] = s / self.l[i * m + i];
        }
        lv.x.iter_mut().for_each(|v| *v = 0.0);
        for (k, &p) in self.cells.iter().enumerate() {
            lv.x[p] = y[k];
        }
    }
}

/// The aggregation multigrid hierarchy below the fine level.
struct Multigrid {
    levels: std::cell::RefCell<Vec<CoarseLevel>>,
    coarsest: Option<Coarsest>,
    /// Fine-level residual buffer.
    t: std::cell::RefCell<Vec<f64>>,
}

impl Multigrid {
    fn new(fine: &FineLevel) -> Self {
        let mut levels = Vec::new();
        let small =
            |d: [usize; 3]| d[0] * d[1] * d[2] <= COARSEST_CELLS || d.iter().all(|&n| n <= 1);
        if !small(fine.dims) {
            levels.push(CoarseLevel::from_fine(fine));
            while let Some(last) = levels.last() {
                if small(last.dims) {
                    break;
                }
                let next = CoarseLevel::from_coarse(last);
                levels.push(next);
            }
        }
        let coarsest = levels.last().map(Coarsest::new);
        let t = vec![0.0; fine.d.len()];
        Self {
            levels: std::cell::RefCell::new(levels),
            coarsest,
            t: std::cell::RefCell::new(t),
        }
    }

    /// `z = B r`: one symmetric V-cycle from a zero guess.
    fn apply(&self, fine: &FineLevel, r: &[f64], z: &mut [f64]) {
        z.par_iter_mut().for_each(|v| *v = 0.0);
        fine.gs_colour(r, z, 0);
        fine.gs_colour(r, z, 1);
        let mut levels = self.levels.borrow_mut();
        if !levels.is_empty() {
            let mut t = self.t.borrow_mut();
            fine.apply(z, &mut t);
            t.par_iter_mut()
                .zip(r.par_iter())
                .for_each(|(t, r)| *t = r - *t);
            let cd = levels[0].dims;
            restrict(&t, fine.dims, &mut levels[0].b, cd);
            self.cycle(&mut levels, 0);
            prolong_add(z, fine.dims, &levels[0].x, cd, |p| fine.kept(p));
        }
        fine.gs_colour(r, z, 1);
        fine.gs_colour(r, z, 0);
    }

    fn cycle(&self, levels: &mut [CoarseLevel], l: usize) {
        if l + 1 == levels.len() {
            if let Some(c) = &self.coarsest {
                c.solve(&mut levels[l]);
            }
            return;
        }
        let (head, tail) = levels.split_at_mut(l + 1);
        let lv = &mut head[l];
        lv.x.par_iter_mut().for_each(|v| *v = 0.0);
        lv.gs_colour(0);
        lv.gs_colour(1);
        lv.residual();
        let cd = tail[0].dims;
        restrict(&lv.t, lv.dims, &mut tail[0].b, cd);
        self.cycle(levels, l + 1);
        let (head, tail) = levels.split_at_mut(l + 1);
        let lv = &mut head[l];
        let d = &lv.d;
        prolong_add(&mut lv.x, lv.dims, &tail[0].x, cd, |p| d[p] > 0.0);
        lv.gs_colour(1);
        lv.gs_colour(0);
    }
}

/// Deterministic dot product: per-plane partial sums, then summed in plane order.
fn dot(a: &[f64], b: &[f64], plane: usize) -> f64 {
    let parts: Vec<f64> = a
        .par_chunks(plane)
        .zip(b.par_chunks(plane))
        .with_min_len(min_planes(plane))
        .map(|(x, y)| x.iter().zip(y).map(|(x, y)| x * y).sum::<f64>())
        .collect();
    parts.iter().sum()
}

/// The fine level as the operator of [`crate::numerics::pcg`], with its per-plane inner product.
struct FineOperator<'a> {
    fine: &'a FineLevel,
    plane: usize,
}

impl SpdOperator for FineOperator<'_> {
    fn apply(&self, x: &[f64], y: &mut [f64]) {
        self.fine.apply(x, y);
    }
    fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        dot(a, b, self.plane)
    }
}

/// One multigrid V-cycle as the preconditioner of [`crate::numerics::pcg`].
struct VCycle<'a> {
    fine: &'a FineLevel,
    mg: &'a Multigrid,
}

impl Preconditioner for VCycle<'_> {
    fn apply(&self, r: &[f64], z: &mut [f64]) {
        self.mg.apply(self.fine, r, z);
    }
}

/// Multigrid-preconditioned CG for `A x = b` from a linear guess between the electrodes; returns
/// (x, b, iterations, relative residual).
fn pcg_solve(
    fine: &FineLevel,
    mg: &Multigrid,
    rel_tol: f64,
    max_iter: usize,
) -> (Vec<f64>, Vec<f64>, usize, f64) {
    let [n0, n1, n2] = fine.dims;
    let plane = (n1 * n2).max(1);
    let n = fine.d.len();
    let mut b = vec![0.0; n];
    let mut x = vec![0.0; n];
    b.par_chunks_mut(plane)
        .zip(x.par_chunks_mut(plane))
        .enumerate()
        .for_each(|(i0, (bo, xo))| {
            let v0 = (i0 as f64 + 0.5) / n0 as f64;
            for k in 0..plane {
                if fine.d[i0 * plane + k] > 0 {
                    xo[k] = v0;
                    if i0 + 1 == n0 {
                        bo[k] = ELECTRODE_G;
                    }
                }
            }
        });
    let out = pcg(
        &FineOperator { fine, plane },
        &VCycle { fine, mg },
        &b,
        &mut x,
        rel_tol,
        max_iter,
    );
    (x, b, out.iterations, out.relative_residual)
}
