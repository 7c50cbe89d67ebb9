//! Fibril–fibril contacts (crossings and entanglements) of a film, found on a cell grid over the
//! fibril midpoints; every snapshot stores them for the continuity solver.

use super::*;
use crate::dem::engine::Dem;
use crate::geom::CellGrid;
use crate::snapshot::FibrilState;
use glam::DVec3;

/// Fibril–fibril contacts: intact fibrils whose axes pass closer than the sum of their (bundle) radii plus
/// 10 nm (entanglement capture distance). Returned as pairs of indices into `fibs`, ascending
/// (lexicographic), whatever the storage.
///
/// Candidates come from a cell grid over the segment midpoints (periodic in x and y) with cells at
/// least 2h + 10 nm wide, h the 98th percentile of the half-extents L/2 + r, so every pair of
/// fibrils within h that can touch lies in neighbouring cells; the few longer fibrils are checked
/// against all others. Each candidate is checked on its midpoint distance (minimum image), then on
/// the exact segment–segment distance.
pub fn fibril_crossings(d: &Dem, fibs: &[FibrilC]) -> Vec<[u32; 2]> {
    // (index, start, axis vector, bundle radius, midpoint)
    let segs: Vec<(usize, DVec3, DVec3, f64, DVec3)> = fibs
        .iter()
        .enumerate()
        .filter(|(_, f)| f.state == FibrilState::Intact)
        .map(|(k, f)| {
            let a = anchor_pos(d, &f.a);
            let (v, _, _) = fibril_vector(d, &f.a, &f.b, f.shift);
            (k, a, v, f.law.radius * f.count.max(1.0).sqrt(), a + 0.5 * v)
        })
        .collect();
    if segs.len() < 2 {
        return Vec::new();
    }
    let half: Vec<f64> = segs.iter().map(|s| 0.5 * s.2.length() + s.3).collect();
    let h_cut = {
        let mut h = half.clone();
        h.sort_by(f64::total_cmp);
        h[(h.len() * 98 / 100).min(h.len() - 1)]
    };
    let long: Vec<bool> = half.iter().map(|&h| h > h_cut).collect();
    let reach_max = 2.0 * h_cut + 1e-8;
    let zmin = segs.iter().map(|s| s.4.z).fold(f64::INFINITY, f64::min);
    let zmax = segs.iter().map(|s| s.4.z).fold(f64::NEG_INFINITY, f64::max);
    let mut grid = CellGrid::default();
    grid.rebuild(
        segs.len(),
        |x| segs[x].4,
        (d.lx, d.ly),
        (zmin, zmax),
        reach_max,
        1 << 10,
    );
    let mut out = Vec::new();
    let check = |x: usize, y: usize, out: &mut Vec<[u32; 2]>| {
        let (k1, a1, v1, r1, m1) = segs[x];
        let (k2, a2, v2, r2, m2) = segs[y];
        let dm = d.wrap(m2 - m1);
        let reach = 0.5 * (v1.length() + v2.length()) + r1 + r2 + 1e-8;
        if dm.length_squared() > reach * reach {
            return;
        }
        let shift = dm - (m2 - m1);
        if segment_distance(a1, v1, a2 + shift, v2) < r1 + r2 + 1e-8 {
            out.push([k1 as u32, k2 as u32]);
        }
    };
    // Long fibrils against every other fibril (each pair once, the lower index first).
    for x in (0..segs.len()).filter(|&x| long[x]) {
        for (y, &long_y) in long.iter().enumerate() {
            if y != x && (!long_y || y > x) {
                if y > x {
                    check(x, y, &mut out);
                } else {
                    check(y, x, &mut out);
                }
            }
        }
    }
    for (x, seg) in segs.iter().enumerate() {
        if long[x] {
            continue;
        }
        grid.for_each_neighbour_cell(grid.cell_coords(seg.4), |c| {
            for &y in grid.members(c) {
                let y = y as usize;
                if y > x && !long[y] {
                    check(x, y, &mut out);
                }
            }
        });
    }
    out.sort_unstable();
    out
}
/// Distance between segments p + s·u and q + t·v, s, t ∈ [0, 1], m.
pub fn segment_distance(p: DVec3, u: DVec3, q: DVec3, v: DVec3) -> f64 {
    let w = p - q;
    let (a, b, c, dd, e) = (u.dot(u), u.dot(v), v.dot(v), u.dot(w), v.dot(w));
    let den = a * c - b * b;
    let mut s = if den > 1e-30 {
        ((b * e - c * dd) / den).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut t = if c > 0.0 {
        ((b * s + e) / c).clamp(0.0, 1.0)
    } else {
        0.0
    };
    if a > 0.0 {
        s = ((b * t - dd) / a).clamp(0.0, 1.0);
        t = if c > 0.0 {
            ((b * s + e) / c).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    (w + s * u - t * v).length()
}
