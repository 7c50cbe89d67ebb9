//! The multigrid preconditioner of the voxel solve: the fine level's 7-point stencil with
//! red–black Gauss–Seidel, aggregated coarse levels, a direct coarsest solve, and the V-cycle.

use super::solver::*;
use crate::par::SharedSlice;
use rayon::prelude::*;

/// Minimum number of cells per rayon task.
pub(super) const MIN_TASK_CELLS: usize = 16_384;

pub(super) fn min_planes(plane: usize) -> usize {
    (MIN_TASK_CELLS / plane.max(1)).max(1)
}

/// `x` in planes of `plane` cells, each with its index, at least [`MIN_TASK_CELLS`] cells a task.
fn planes_mut(
    x: &mut [f64],
    plane: usize,
) -> impl IndexedParallelIterator<Item = (usize, &mut [f64])> {
    x.par_chunks_mut(plane)
        .with_min_len(min_planes(plane))
        .enumerate()
}

/// The fine grid: binary conductances from the kept mask, stored as the diagonal of `A`.
pub(super) struct FineLevel {
    pub(super) dims: [usize; 3],
    /// Diagonal of A: kept neighbours + electrode conductances; 0 for voxels not in the system.
    pub(super) d: Vec<u8>,
}

impl FineLevel {
    pub(super) fn new(dims: [usize; 3], kept: &[bool]) -> Self {
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

    pub(super) fn kept(&self, p: usize) -> bool {
        self.d[p] > 0
    }

    /// `y = A x` (x must vanish outside the system). Row-wise on contiguous slices.
    pub(super) fn apply(&self, x: &[f64], y: &mut [f64]) {
        let [n0, n1, n2] = self.dims;
        let plane = n1 * n2;
        let zeros = vec![0.0; n2];
        planes_mut(y, plane).for_each(|(i0, out)| {
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
    pub(super) fn gs_colour(&self, r: &[f64], x: &mut [f64], colour: usize) {
        let d = &self.d;
        let diag = |p: usize| f64::from(d[p]);
        gs_colour_sweep(self.dims, colour, x, r, diag, |_, _| 1.0);
    }
}

/// A coarse level: 7-point conductance stencil on a regular grid.
pub(super) struct CoarseLevel {
    pub(super) dims: [usize; 3],
    /// Conductance to the +1 neighbour along axes 0, 1, 2.
    pub(super) g: [Vec<f64>; 3],
    /// Diagonal of the coarse operator (0 for empty cells).
    pub(super) d: Vec<f64>,
    /// Right-hand side and solution buffers.
    pub(super) b: Vec<f64>,
    pub(super) x: Vec<f64>,
    pub(super) t: Vec<f64>,
}

impl CoarseLevel {
    /// Aggregate 2×2×2 blocks of a level whose conductance to the +1 neighbour along `axis` from
    /// cell (i0, i1, i2) is `g(axis, i0, i1, i2)` and whose electrode conductance is `e(i0, i1, i2)`.
    pub(super) fn aggregate<G, E>(fdims: [usize; 3], g: G, e: E) -> Self
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

    pub(super) fn from_fine(f: &FineLevel) -> Self {
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

    pub(super) fn from_coarse(l: &CoarseLevel) -> Self {
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

    pub(super) fn len(&self) -> usize {
        self.d.len()
    }

    /// Σ g_pq x_q over the neighbours of p.
    #[inline(always)]
    pub(super) fn gsum(&self, x: &[f64], i0: usize, i1: usize, i2: usize, p: usize) -> f64 {
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
    pub(super) fn residual(&mut self) {
        let [_, n1, n2] = self.dims;
        let plane = n1 * n2;
        let mut t = std::mem::take(&mut self.t);
        let me = &*self;
        planes_mut(&mut t, plane).for_each(|(i0, out)| {
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

    pub(super) fn gs_colour(&mut self, colour: usize) {
        let (g, d) = (&self.g, &self.d);
        let weight = |axis: usize, lower: usize| g[axis][lower];
        gs_colour_sweep(self.dims, colour, &mut self.x, &self.b, |p| d[p], weight);
    }
}

/// One red–black Gauss–Seidel half sweep on the grid of `dims`: every cell `p` of colour `colour`
/// (`(i0 + i1 + i2) % 2 == colour`) with `diag(p) > 0` gets `x[p] = (rhs[p] + Σ w x[q]) / diag(p)`
/// over its face neighbours `q` inside the grid, `w = weight(axis, lower)` the conductance of the
/// face between `q` and `p` along `axis`, `lower` the lower cell of the two. The sum runs in the
/// order −i0, +i0, −i1, +i1, −i2, +i2. Parallel over i0 planes; every cell is updated from the
/// other colour only, so the result does not depend on the thread count.
fn gs_colour_sweep(
    dims: [usize; 3],
    colour: usize,
    x: &mut [f64],
    rhs: &[f64],
    diag: impl Fn(usize) -> f64 + Sync,
    weight: impl Fn(usize, usize) -> f64 + Sync,
) {
    let [n0, n1, n2] = dims;
    let plane = n1 * n2;
    let xs = SharedSlice::new(x);
    (0..n0)
        .into_par_iter()
        .with_min_len(min_planes(plane))
        .for_each(|i0| {
            let xs = &xs;
            for i1 in 0..n1 {
                let mut i2 = (colour + i0 + i1) % 2;
                while i2 < n2 {
                    let p = i0 * plane + i1 * n2 + i2;
                    let dp = diag(p);
                    if dp > 0.0 {
                        // SAFETY: every offset below is a cell inside the grid (checked by the
                        // conditions); the neighbours have the other colour, which no task
                        // writes in this pass, and cell p is written by this task only.
                        unsafe {
                            let mut s = 0.0;
                            if i0 > 0 {
                                s += weight(0, p - plane) * xs.get(p - plane);
                            }
                            if i0 + 1 < n0 {
                                s += weight(0, p) * xs.get(p + plane);
                            }
                            if i1 > 0 {
                                s += weight(1, p - n2) * xs.get(p - n2);
                            }
                            if i1 + 1 < n1 {
                                s += weight(1, p) * xs.get(p + n2);
                            }
                            if i2 > 0 {
                                s += weight(2, p - 1) * xs.get(p - 1);
                            }
                            if i2 + 1 < n2 {
                                s += weight(2, p) * xs.get(p + 1);
                            }
                            xs.set(p, (rhs[p] + s) / dp);
                        }
                    }
                    i2 += 2;
                }
            }
        });
}

/// Restrict `t` (fine dims `fd`) into `b` (coarse dims `cd`) by summing 2×2×2 blocks.
pub(super) fn restrict(t: &[f64], fd: [usize; 3], b: &mut [f64], cd: [usize; 3]) {
    let cplane = cd[1] * cd[2];
    let fplane = fd[1] * fd[2];
    planes_mut(b, cplane).for_each(|(a, out)| {
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
pub(super) fn prolong_add<M: Fn(usize) -> bool + Sync>(
    x: &mut [f64],
    fd: [usize; 3],
    e: &[f64],
    cd: [usize; 3],
    mask: M,
) {
    let cplane = cd[1] * cd[2];
    let fplane = fd[1] * fd[2];
    planes_mut(x, fplane).for_each(|(i0, out)| {
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
pub(super) struct Coarsest {
    pub(super) cells: Vec<usize>,
    pub(super) l: Vec<f64>,
}

impl Coarsest {
    pub(super) fn new(lv: &CoarseLevel) -> Self {
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
    pub(super) fn solve(&self, lv: &mut CoarseLevel) {
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
pub(super) struct Multigrid {
    pub(super) levels: std::cell::RefCell<Vec<CoarseLevel>>,
    pub(super) coarsest: Option<Coarsest>,
    /// Fine-level residual buffer.
    pub(super) t: std::cell::RefCell<Vec<f64>>,
}

impl Multigrid {
    pub(super) fn new(fine: &FineLevel) -> Self {
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
    pub(super) fn apply(&self, fine: &FineLevel, r: &[f64], z: &mut [f64]) {
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

    pub(super) fn cycle(&self, levels: &mut [CoarseLevel], l: usize) {
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
