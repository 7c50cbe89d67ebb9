//! The uniform cell grid of every neighbour search: the DEM's Verlet lists, fibril–fibril contacts,
//! the tensile test's latent contacts and the continuity solver's PTFE overlaps.
//!
//! Items (points) are binned by a counting sort into cells of at least a given edge, periodic in x
//! and y (the box's lengths, divided into whole cells) and stacked in z from the lowest point up.
//! Within a cell items keep ascending index order, so every traversal is deterministic.

use glam::DVec3;
use rayon::prelude::*;

/// Points per parallel work item of the binning.
const CHUNK: usize = 1024;

/// A uniform grid of cells over a box periodic in x and y, with the items of each cell.
#[derive(Debug, Clone, Default)]
pub struct CellGrid {
    /// Cells along x, y and z.
    pub dims: [usize; 3],
    /// Cell edge along x, y and z, m (x and y divide the periodic lengths exactly).
    pub size: [f64; 3],
    /// Bottom of the lowest cell layer, m.
    pub z0: f64,
    /// Periodic length along x, m.
    pub lx: f64,
    /// Periodic length along y, m.
    pub ly: f64,
    /// Start of each cell's items in [`CellGrid::items`] (one more entry than cells).
    pub start: Vec<u32>,
    /// Item indices, cell by cell (cells in x-fastest order), ascending within a cell.
    pub items: Vec<u32>,
    /// Cell of every item.
    cell: Vec<u32>,
    /// Scratch of the counting sort.
    fill: Vec<u32>,
}

impl CellGrid {
    /// Bins items `0..n` at `point(k)` (m; x and y anywhere, wrapped into the box; z in
    /// `[z_lo, z_hi]`, clamped to the end layers outside it) into cells of edge at least `edge`
    /// (m) along each axis and at most `max_cells` (≥ 1) along each axis (wider cells where the
    /// edge would give more). Reuses the grid's buffers.
    #[allow(clippy::too_many_arguments)]
    pub fn rebuild(
        &mut self,
        n: usize,
        point: impl Fn(usize) -> DVec3 + Sync,
        (lx, ly): (f64, f64),
        (z_lo, z_hi): (f64, f64),
        edge: f64,
        max_cells: usize,
    ) {
        let cap = max_cells.max(1);
        let axis = |l: f64| ((l / edge).floor() as usize).clamp(1, cap);
        let (nx, ny) = (axis(lx), axis(ly));
        let nz = ((z_hi - z_lo) / edge).floor() as usize + 1;
        let nz = nz.clamp(1, cap);
        let cz = ((z_hi - z_lo) / nz as f64).max(edge);
        self.rebuild_with(n, point, (lx, ly), z_lo, [nx, ny, nz], cz);
    }

    /// Bins items `0..n` at `point(k)` (m) into `dims` cells: the periodic lengths `lx`, `ly` (m)
    /// divided evenly, layers of height `cz` (m) from `z0` (m) up, points outside clamped to the
    /// end layers. Reuses the grid's buffers.
    pub fn rebuild_with(
        &mut self,
        n: usize,
        point: impl Fn(usize) -> DVec3 + Sync,
        (lx, ly): (f64, f64),
        z0: f64,
        dims: [usize; 3],
        cz: f64,
    ) {
        let [nx, ny, nz] = dims.map(|d| d.max(1));
        *self = Self {
            dims: [nx, ny, nz],
            size: [lx / nx as f64, ly / ny as f64, cz],
            z0,
            lx,
            ly,
            start: std::mem::take(&mut self.start),
            items: std::mem::take(&mut self.items),
            cell: std::mem::take(&mut self.cell),
            fill: std::mem::take(&mut self.fill),
        };
        let ncell = nx * ny * nz;
        let mut cells = std::mem::take(&mut self.cell);
        cells.resize(n, 0);
        {
            let grid = &*self;
            cells.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, c)| {
                for (k, c) in c.iter_mut().enumerate() {
                    *c = grid.cell_index(grid.cell_coords(point(ci * CHUNK + k))) as u32;
                }
            });
        }
        self.cell = cells;
        self.start.clear();
        self.start.resize(ncell + 1, 0);
        for &c in &self.cell {
            self.start[c as usize + 1] += 1;
        }
        for c in 0..ncell {
            self.start[c + 1] += self.start[c];
        }
        self.fill.clone_from(&self.start);
        self.items.resize(n, 0);
        for (i, &c) in self.cell.iter().enumerate() {
            self.items[self.fill[c as usize] as usize] = i as u32;
            self.fill[c as usize] += 1;
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// Whether the grid has no cells (never built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell coordinates of the point `p` (m): x and y wrapped into the box, z clamped.
    #[inline]
    pub fn cell_coords(&self, p: DVec3) -> [usize; 3] {
        let [nx, ny, nz] = self.dims;
        [
            ((p.x.rem_euclid(self.lx) / self.size[0]) as usize).min(nx - 1),
            ((p.y.rem_euclid(self.ly) / self.size[1]) as usize).min(ny - 1),
            (((p.z - self.z0) / self.size[2]) as usize).min(nz - 1),
        ]
    }

    /// Index of the cell at coordinates `c` (x fastest).
    #[inline]
    pub fn cell_index(&self, c: [usize; 3]) -> usize {
        (c[2] * self.dims[1] + c[1]) * self.dims[0] + c[0]
    }

    /// Cell of item `k` (as binned).
    #[inline]
    pub fn cell_of_item(&self, k: usize) -> usize {
        self.cell[k] as usize
    }

    /// The items of cell `c`, ascending.
    #[inline]
    pub fn members(&self, c: usize) -> &[u32] {
        &self.items[self.start[c] as usize..self.start[c + 1] as usize]
    }

    /// Calls `f` once for every cell that overlaps the box `[lo, hi]` (m; x and y unwrapped,
    /// covering the whole axis when the box is as long as it), layer by layer, row by row, x
    /// ascending from the box's low end (wrapping).
    pub fn for_each_cell_in(&self, lo: DVec3, hi: DVec3, mut f: impl FnMut(usize)) {
        let [nx, ny, nz] = self.dims;
        let span = |a: f64, b: f64, c: f64, n: usize| -> (isize, usize) {
            let (i0, i1) = ((a / c).floor() as isize, (b / c).floor() as isize);
            if i1 - i0 + 1 >= n as isize {
                (0, n)
            } else {
                (i0, (i1 - i0 + 1) as usize)
            }
        };
        let (x0, mx) = span(lo.x, hi.x, self.size[0], nx);
        let (y0, my) = span(lo.y, hi.y, self.size[1], ny);
        let z_a = (((lo.z - self.z0) / self.size[2]).floor() as isize).max(0);
        let z_b = (((hi.z - self.z0) / self.size[2]).floor() as isize).min(nz as isize - 1);
        for iz in z_a..=z_b {
            for dy in 0..my {
                let iy = (y0 + dy as isize).rem_euclid(ny as isize) as usize;
                for dx in 0..mx {
                    let ix = (x0 + dx as isize).rem_euclid(nx as isize) as usize;
                    f(self.cell_index([ix, iy, iz as usize]));
                }
            }
        }
    }

    /// The items of every cell overlapping the box `[lo, hi]` (see
    /// [`CellGrid::for_each_cell_in`]), each once, in that cell order, into `out` (cleared first).
    pub fn query(&self, lo: DVec3, hi: DVec3, out: &mut Vec<u32>) {
        out.clear();
        self.for_each_cell_in(lo, hi, |c| out.extend_from_slice(self.members(c)));
    }

    /// Calls `f` for every cell of the 3 × 3 × 3 block around cell coordinates `c` (z clipped at
    /// the ends, x and y wrapped) in stencil order (z, then y, then x, each from −1 to +1), each
    /// cell once (its first visit) where fewer than three cells span a periodic axis.
    pub fn for_each_neighbour_cell(&self, c: [usize; 3], mut f: impl FnMut(usize)) {
        let [nx, ny, nz] = self.dims;
        let mut seen = [usize::MAX; 27];
        let mut m = 0;
        for dz in -1i64..=1 {
            let z = c[2] as i64 + dz;
            if z < 0 || z >= nz as i64 {
                continue;
            }
            for dy in -1i64..=1 {
                let y = (c[1] as i64 + dy).rem_euclid(ny as i64) as usize;
                for dx in -1i64..=1 {
                    let x = (c[0] as i64 + dx).rem_euclid(nx as i64) as usize;
                    let cell = self.cell_index([x, y, z as usize]);
                    if !seen[..m].contains(&cell) {
                        seen[m] = cell;
                        m += 1;
                        f(cell);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(s: &mut u64) -> f64 {
        *s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*s >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn neighbour_cells_and_box_queries_find_every_close_pair() {
        let (lx, ly, h) = (10.0, 7.0, 5.0);
        let mut s = 3;
        let pts: Vec<DVec3> = (0..400)
            .map(|_| DVec3::new(lx * lcg(&mut s) - 3.0, ly * lcg(&mut s), h * lcg(&mut s)))
            .collect();
        let mut g = CellGrid::default();
        let cut = 1.3;
        g.rebuild(pts.len(), |k| pts[k], (lx, ly), (0.0, h), cut, 64);
        assert_eq!(g.items.len(), pts.len());
        let close = |i: usize, j: usize| {
            let d = crate::geom::min_image(pts[i] - pts[j], lx, ly);
            d.length() < cut
        };
        let mut want = Vec::new();
        for i in 0..pts.len() {
            for j in i + 1..pts.len() {
                if close(i, j) {
                    want.push((i, j));
                }
            }
        }
        let mut by_stencil = Vec::new();
        let mut by_box = Vec::new();
        let mut cand = Vec::new();
        for (i, &pi) in pts.iter().enumerate() {
            g.for_each_neighbour_cell(g.cell_coords(pi), |c| {
                for &j in g.members(c) {
                    if j as usize > i && close(i, j as usize) {
                        by_stencil.push((i, j as usize));
                    }
                }
            });
            let r = DVec3::splat(cut);
            g.query(pi - r, pi + r, &mut cand);
            let mut seen = cand.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), cand.len(), "a cell listed twice");
            by_box.extend(
                cand.iter()
                    .map(|&j| j as usize)
                    .filter(|&j| j > i && close(i, j))
                    .map(|j| (i, j)),
            );
        }
        by_stencil.sort_unstable();
        by_box.sort_unstable();
        assert!(!want.is_empty());
        assert_eq!(by_stencil, want);
        assert_eq!(by_box, want);
    }

    #[test]
    fn a_tiny_box_is_one_cell_and_items_stay_in_index_order() {
        let pts = [
            DVec3::new(0.5, 0.5, 0.1),
            DVec3::new(0.2, 0.9, 0.0),
            DVec3::new(0.9, 0.1, 0.2),
        ];
        let mut g = CellGrid::default();
        g.rebuild(3, |k| pts[k], (1.0, 1.0), (0.0, 0.2), 5.0, 8);
        assert_eq!(g.dims, [1, 1, 1]);
        assert_eq!(g.members(0), &[0, 1, 2]);
        let mut n = 0;
        g.for_each_neighbour_cell([0, 0, 0], |_| n += 1);
        assert_eq!(n, 1);
    }
}
