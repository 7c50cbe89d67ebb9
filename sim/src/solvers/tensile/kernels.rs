//! The tensile test's pure pieces: the contact bond law, the near-pair search of latent contacts,
//! small vector helpers, and the fixed-order parallel sums that keep results independent of the
//! thread count.

use super::*;

/// Chunk length of the parallel loops and of the deterministic reductions. Arrays no longer than
/// this are processed on the calling thread (rayon's dispatch costs more than the work there).
pub(super) const CHUNK: usize = 2048;

/// Sum `f(i)` for `i in 0..n` in a fixed order whatever the thread count: fixed chunks summed in
/// index order, then the chunk sums in chunk order.
pub(super) fn det_sum<F: Fn(usize) -> f64 + Sync>(n: usize, f: F) -> f64 {
    let chunk_sum = |c: usize| {
        let mut s = 0.0;
        for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
            s += f(i);
        }
        s
    };
    let nchunks = n.div_ceil(CHUNK);
    if nchunks <= 1 {
        return 0.0 + chunk_sum(0);
    }
    let partial: Vec<f64> = (0..nchunks).into_par_iter().map(chunk_sum).collect();
    partial.iter().fold(0.0, |acc, x| acc + x)
}

/// Run `f(first_index, chunk)` over fixed chunks of `data`, in parallel when there is more than one.
pub(super) fn for_chunks<T: Send, F: Fn(usize, &mut [T]) + Sync>(data: &mut [T], f: F) {
    if data.len() <= CHUNK {
        f(0, data);
    } else {
        data.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, s)| f(c * CHUNK, s));
    }
}

/// Like [`for_chunks`] over two equally long arrays chunked together.
pub(super) fn for_chunks2<A: Send, B: Send, F: Fn(usize, &mut [A], &mut [B]) + Sync>(
    a: &mut [A],
    b: &mut [B],
    f: F,
) {
    debug_assert_eq!(a.len(), b.len());
    if a.len() <= CHUNK {
        f(0, a, b);
    } else {
        a.par_chunks_mut(CHUNK)
            .zip(b.par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(c, (x, y))| f(c * CHUNK, x, y));
    }
}

pub(super) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(super) fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

pub(super) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(super) fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// Pairs (i < j, sorted) whose surface gap (minimum image in x, y) is below `gap` × the smaller
/// radius, with their minimum-image vector from i to j, m. Cell list over the periodic box.
pub(super) fn near_pairs(
    parts: &crate::snapshot::ParticleArrays,
    bx: &crate::snapshot::SimBox,
    gap: f64,
) -> Vec<(u32, u32, [f64; 3])> {
    let n = parts.pos.len();
    if n < 2 {
        return Vec::new();
    }
    let rmax = parts.radius.iter().cloned().fold(0.0, f64::max);
    let cut = 2.0 * rmax * (1.0 + gap);
    let zmin = parts.pos.iter().map(|p| p[2]).fold(f64::INFINITY, f64::min);
    let zmax = parts
        .pos
        .iter()
        .map(|p| p[2])
        .fold(f64::NEG_INFINITY, f64::max);
    let point = |k: usize| glam::DVec3::from_array(parts.pos[k]);
    let mut grid = crate::geom::CellGrid::default();
    grid.rebuild(n, point, (bx.lx, bx.ly), (zmin, zmax), cut, 1024);
    let mut out = Vec::new();
    for (i, p) in parts.pos.iter().enumerate() {
        grid.for_each_neighbour_cell(grid.cell_coords(point(i)), |cell| {
            for &j in grid.members(cell) {
                let j = j as usize;
                if j <= i {
                    continue;
                }
                let b = bx.delta(parts.pos[j], *p);
                let (ri, rj) = (parts.radius[i], parts.radius[j]);
                if norm(b) < ri + rj + gap * ri.min(rj) {
                    out.push((i as u32, j as u32, b));
                }
            }
        });
    }
    out.sort_by_key(|&(i, j, _)| (i, j));
    out
}

/// Contact bond kernel: force on the first particle (N), bond vector and load ratio.
///
/// `b` current pair vector (m), `b0` rest vector (m), `d0 = |b0|`, `kn`, `kt` stiffnesses (N/m),
/// `fc` tensile strength (N), `mu` friction coefficient, `alive` false for a broken contact (then
/// repulsion only). See the module docs for the law.
#[allow(clippy::too_many_arguments)]
pub(super) fn contact_bond(
    b: [f64; 3],
    b0: [f64; 3],
    d0: f64,
    kn: f64,
    kt: f64,
    fc: f64,
    mu: f64,
    alive: bool,
) -> BondEval {
    let d = norm(b);
    if d <= 0.0 {
        return BondEval {
            f: [0.0; 3],
            b,
            ratio: 0.0,
            len: 0.0,
            stiff: 0.0,
        };
    }
    let n = [b[0] / d, b[1] / d, b[2] / d];
    let fn_t = kn * (d - d0);
    if !alive {
        let f = fn_t.min(0.0);
        return BondEval {
            f: [f * n[0], f * n[1], f * n[2]],
            b,
            ratio: 0.0,
            len: 0.0,
            // Counted while the gap is under 2 % of d₀, so that a contact chattering around
            // closure does not switch the preconditioning mass on and off.
            stiff: if d < 1.02 * d0 { kn } else { 0.0 },
        };
    }
    let db = sub(b, b0);
    let dn = dot(db, n);
    let ft = [
        kt * (db[0] - dn * n[0]),
        kt * (db[1] - dn * n[1]),
        kt * (db[2] - dn * n[2]),
    ];
    let f = [
        fn_t * n[0] + ft[0],
        fn_t * n[1] + ft[1],
        fn_t * n[2] + ft[2],
    ];
    let fs = fc + mu * (-fn_t).max(0.0);
    let rn = fn_t.max(0.0) / fc;
    let rt = norm(ft) / fs;
    BondEval {
        f,
        b,
        ratio: (rn * rn + rt * rt).sqrt(),
        len: 0.0,
        stiff: kn + kt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_bond_tension_and_repulsion() {
        let b0 = [2e-6, 0.0, 0.0];
        // kn 1000 N/m, kt 800 N/m, strength 1 µN, μ 0.3; the first particle at x (m).
        let bond = |x: f64, alive: bool| {
            contact_bond([x, 0.0, 0.0], b0, 2e-6, 1000.0, 800.0, 1e-6, 0.3, alive)
        };
        let e = bond(2.001e-6, true);
        // Stretched by 1 nm: 1e-6 N of tension pulling the first particle towards +x.
        assert!((e.f[0] - 1e-6).abs() < 1e-15);
        assert!((e.ratio - 1.0).abs() < 1e-9);
        assert_eq!(bond(2.001e-6, false).f, [0.0; 3]);
        assert!(bond(1.999e-6, false).f[0] < 0.0);
    }

    #[test]
    fn contact_bond_shear_uses_tangential_stiffness() {
        let b0 = [2e-6, 0.0, 0.0];
        let e = contact_bond([2e-6, 1e-10, 0.0], b0, 2e-6, 1000.0, 800.0, 1.0, 0.3, true);
        assert!((e.f[1] - 800.0 * 1e-10).abs() < 1e-15, "{:?}", e.f);
    }

    #[test]
    fn near_pairs_finds_close_pairs_across_the_periodic_boundary() {
        use crate::snapshot::{ParticleArrays, Phase, SimBox};
        let r = 1e-6;
        // 0–1: gap 0.2 r (found); 1–2: gap 0.5 r (not found at 0.3); 3–0 across x = 0 (gap 0.1 r).
        let pos = vec![
            [1.5e-6, 5e-6, 2e-6],
            [3.7e-6, 5e-6, 2e-6],
            [6.2e-6, 5e-6, 2e-6],
            [19.4e-6, 5e-6, 2e-6],
        ];
        let n = pos.len();
        let parts = ParticleArrays {
            pos,
            radius: vec![r; n],
            phase: vec![Phase::Nps; n],
            orientation: vec![[0.0, 0.0, 0.0, 1.0]; n],
            vel: vec![[0.0; 3]; n],
            force: vec![[0.0; 3]; n],
            stress: vec![[0.0; 6]; n],
        };
        let bx = SimBox {
            lx: 20e-6,
            ly: 10e-6,
            z_bottom: 0.0,
            z_top: 4e-6,
        };
        let pairs: Vec<(u32, u32)> = near_pairs(&parts, &bx, 0.3)
            .iter()
            .map(|&(i, j, _)| (i, j))
            .collect();
        assert_eq!(pairs, vec![(0, 1), (0, 3)]);
        let wide: Vec<(u32, u32)> = near_pairs(&parts, &bx, 0.6)
            .iter()
            .map(|&(i, j, _)| (i, j))
            .collect();
        assert_eq!(wide, vec![(0, 1), (0, 3), (1, 2)]);
    }

    #[test]
    fn det_sum_is_order_fixed() {
        let v: Vec<f64> = (0..10_000).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let a = det_sum(v.len(), |i| v[i]);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        let b = pool.install(|| det_sum(v.len(), |i| v[i]));
        assert_eq!(a.to_bits(), b.to_bits());
    }
}
