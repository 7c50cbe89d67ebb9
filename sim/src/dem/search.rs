//! The Verlet list's neighbour search: for each particle, the candidates in the cells within its
//! reach, kept when closer than r_i + r_j + skin (minimum image), each row sorted by the second
//! particle and merged with the old row so that contact history carries over.

use super::pairs::PairList;
use crate::geom::CellGrid;
use glam::DVec3;

/// Particles per neighbour-search work chunk.
pub(crate) const SEARCH_CHUNK: usize = 256;

/// One neighbour-search work chunk: the new pairs of particles `a..b` and the history to carry.
#[derive(Default)]
pub(crate) struct SearchChunk {
    /// Pairs per particle of the chunk.
    pub(crate) counts: Vec<u32>,
    /// Second particle per new pair.
    pub(crate) j: Vec<u32>,
    /// Image shift per new pair.
    pub(crate) shift: Vec<[i8; 2]>,
    /// Per new pair: the storage slot of the same pair in the old list when its old state is not
    /// empty (history to carry over), else `u32::MAX`.
    pub(crate) carry: Vec<u32>,
}

/// What the search reads: the particles, the cell grid with the particles in cell order, the
/// grid's geometry and the old pair list.
pub(crate) struct Search<'a> {
    /// Positions (wrapped into the box), m, and radii, m, by particle.
    pub(crate) pos: &'a [DVec3],
    pub(crate) rad: &'a [f64],
    /// The particles binned into cells (periodic lengths, cell edges and bottom in m).
    pub(crate) grid: &'a CellGrid,
    /// Positions (m) and radii (m) of the particles in the grid's cell order.
    pub(crate) spos: &'a [DVec3],
    pub(crate) srad: &'a [f64],
    /// Largest radius, m, and the Verlet skin, m.
    pub(crate) r_max: f64,
    pub(crate) skin: f64,
    /// The list being replaced (its rows sorted by second particle).
    pub(crate) old: &'a PairList,
}

impl Search<'_> {
    /// The pairs (i, j > i) of the particles of chunk `ci` (of `n` particles), each row sorted by
    /// j, with the old slots whose history carries over.
    pub(crate) fn chunk(&self, ci: usize, n: usize) -> SearchChunk {
        let (a, b) = (ci * SEARCH_CHUNK, ((ci + 1) * SEARCH_CHUNK).min(n));
        let mut ch = SearchChunk {
            counts: Vec::with_capacity(b - a),
            j: Vec::with_capacity((b - a) * 8),
            shift: Vec::with_capacity((b - a) * 8),
            carry: Vec::with_capacity((b - a) * 8),
        };
        // Candidate buffer: every scanned particle is written, the count advances only for kept
        // ones (no unpredictable branch on the index order or the distance test).
        let mut buf: Vec<(u32, i8, i8)> = vec![(0, 0, 0); 256];
        for i in a..b {
            let m = self.candidates(i, &mut buf);
            let cand = &mut buf[..m];
            cand.sort_unstable_by_key(|e| e.0);
            self.merge(i, cand, &mut ch);
            ch.counts.push(cand.len() as u32);
        }
        ch
    }

    /// Writes into `buf[..m]` the particles j > i closer to i than r_i + r_j + skin (minimum
    /// image) with their image shifts, scanning the cells within i's reach r_i + r_max + skin;
    /// returns m.
    fn candidates(&self, i: usize, buf: &mut Vec<(u32, i8, i8)>) -> usize {
        let g = self.grid;
        let [ncx, ncy, ncz] = g.dims;
        let [cx, cy, cz] = g.size;
        let (lx, ly, zmin, skin) = (g.lx, g.ly, g.z0, self.skin);
        // Below these |d| the minimum-image shift is certainly zero (|d/L| < 0.5 with margin).
        let (hx, hy) = (0.49 * lx, 0.49 * ly);
        let (count, sorted, spos, srad) = (&g.start[..], &g.items[..], self.spos, self.srad);
        let xi = self.pos[i];
        let ri = self.rad[i];
        // Cells overlapping [x − R, x + R] on each axis, R = r_i + r_max + skin: x and y as
        // (possibly wrapping) index ranges, all cells when the range covers the axis.
        let reach = ri + self.r_max + skin;
        let span = |x: f64, c: f64, nc: usize| -> (isize, isize) {
            let lo = ((x - reach) / c).floor() as isize;
            let hi = ((x + reach) / c).floor() as isize;
            if hi - lo + 1 >= nc as isize {
                (0, nc as isize - 1)
            } else {
                (lo, hi)
            }
        };
        let (x0, x1) = span(xi.x, cx, ncx);
        let (y0, y1) = span(xi.y, cy, ncy);
        let z0 = (((xi.z - zmin - reach) / cz).floor() as isize).max(0);
        let z1 = (((xi.z - zmin + reach) / cz).floor() as isize).min(ncz as isize - 1);
        let mut m = 0usize;
        let mut scan = |c0: usize, c1: usize, buf: &mut Vec<(u32, i8, i8)>| {
            let (s0, s1) = (count[c0] as usize, count[c1] as usize);
            if m + (s1 - s0) > buf.len() {
                buf.resize(m + (s1 - s0), (0, 0, 0));
            }
            let mut mm = m;
            for ((&j, &xj), &rj) in sorted[s0..s1].iter().zip(&spos[s0..s1]).zip(&srad[s0..s1]) {
                let mut d = xi - xj;
                // The minimum image: −round(d/L) (zero unless |d| is near L/2, where the division
                // decides; skipping the zero shift changes at most the sign of a zero component,
                // not |d|).
                let mut sx = 0i8;
                if d.x.abs() >= hx {
                    let t = -(d.x / lx).round();
                    d.x += t * lx;
                    sx = t as i8;
                }
                let mut sy = 0i8;
                if d.y.abs() >= hy {
                    let t = -(d.y / ly).round();
                    d.y += t * ly;
                    sy = t as i8;
                }
                let cut = ri + rj + skin;
                let keep = (j as usize > i) & (d.length_squared() < cut * cut);
                buf[mm] = (j, sx, sy);
                mm += keep as usize;
            }
            m = mm;
        };
        for jz in z0..=z1 {
            for jy in y0..=y1 {
                let jy = jy.rem_euclid(ncy as isize) as usize;
                let row0 = (jz as usize * ncy + jy) * ncx;
                // Cells x0..=x1 of the row are contiguous in the sorted order unless the range
                // wraps around the periodic boundary.
                let (a0, a1) = (x0.rem_euclid(ncx as isize), x1.rem_euclid(ncx as isize));
                if a0 <= a1 {
                    scan(row0 + a0 as usize, row0 + a1 as usize + 1, &mut *buf);
                } else {
                    scan(row0, row0 + a1 as usize + 1, &mut *buf);
                    scan(row0 + a0 as usize, row0 + ncx, &mut *buf);
                }
            }
        }
        m
    }

    /// Appends particle i's new row `cand` (sorted by j) to `ch`, each pair with the slot of the
    /// same pair in the old row of i when that one holds history.
    fn merge(&self, i: usize, cand: &[(u32, i8, i8)], ch: &mut SearchChunk) {
        let old = self.old;
        let (mut ko, ke) = if i < old.start.len() {
            (old.start[i] as usize, old.end[i] as usize)
        } else {
            (0, 0)
        };
        for &(j, sx, sy) in cand {
            while ko < ke && old.j[ko] < j {
                ko += 1;
            }
            let carry = ko < ke && old.j[ko] == j && old.state[ko] != 0;
            ch.carry.push(if carry { ko as u32 } else { u32::MAX });
            ch.j.push(j);
            ch.shift.push([sx, sy]);
        }
    }
}
