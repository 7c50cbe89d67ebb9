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
use rayon::prelude::*;
use std::time::Instant;

use super::multigrid::*;

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
pub(super) const COARSEST_CELLS: usize = 512;
/// Scale of the Galerkin coarse operator (½: over-correction of aggregation).
pub(super) const COARSE_SCALE: f64 = 0.5;
/// Conductance between an electrode and a voxel of the first/last layer (half a voxel away).
pub(super) const ELECTRODE_G: f64 = 2.0;

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
