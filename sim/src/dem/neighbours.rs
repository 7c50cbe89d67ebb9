//! Neighbour search: the Verlet pair list rebuilt on a cell grid when a particle has moved half the
//! skin (per-particle reach for polydisperse packings, image shifts, contact history carried over),
//! the spatial sort of the particles, and the per-thread slabs of the force loop.

use super::contact::{ContactSpring, PlasticState};
use super::engine::*;
use super::pairs::{PairList, PairOutput};
use super::pairs::{EVALUATED, PLASTIC, TOUCHING};
use super::search::{Search, SearchChunk, SEARCH_CHUNK};
use crate::geom::CellGrid;
use glam::DVec3;
use rayon::prelude::*;

/// The per-thread work split of [`Dem::compute_forces`]: slabs across the longer periodic axis,
/// rebuilt with the pair list. Results do not depend on it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Blocks {
    /// (rebuild count, block count, particles, pairs) they were built for.
    pub(crate) stamp: (u64, usize, usize, usize),
    /// Block of each particle.
    pub(crate) of: Vec<u32>,
    /// Index of each particle within its block.
    pub(crate) local: Vec<u32>,
    /// Particles of each block, ascending.
    pub(crate) members: Vec<Vec<u32>>,
    /// Per block, the pairs (slot, i) with j in the block and i outside, ascending i.
    pub(crate) foreign: Vec<Vec<(u32, u32)>>,
    /// Per block, the history of its foreign pairs at the start of the step (their owner updates
    /// them meanwhile).
    pub(crate) snap: Vec<Vec<(u8, ContactSpring, PlasticState)>>,
    /// Per-block sums, reused.
    pub(crate) acc: Vec<BlockSums>,
    /// Slab boundaries as fractions of the axis (len blocks + 1).
    pub(crate) cuts: Vec<f64>,
}
/// What one block sums for its particles.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlockSums {
    /// `ext.force` plus the pair forces, N.
    pub(crate) force: Vec<DVec3>,
    /// `ext.torque` plus the pair torques, N·m.
    pub(crate) torque: Vec<DVec3>,
    /// Whether a pair of the particle's own row was skipped as not touching (the force then gets
    /// the `+0` the full sum would have added).
    pub(crate) skipped: Vec<bool>,
    /// The step's contact dissipation and wall work per particle, J (when energy is tracked).
    pub(crate) ledger: Vec<super::ledger::ParticleLedger>,
}
impl Blocks {
    /// Assign particles to `nb` slabs across the longer periodic axis (`lx`, `ly`, m) with about
    /// equal work: each particle weighs 1 + its pairs in `pl` as first particle + 3 per touching
    /// one (a contact costs about four distance tests), and the boundaries split the weight along
    /// the axis evenly (a 4096-bin histogram).
    fn assign(&mut self, nb: usize, pos: &[DVec3], lx: f64, ly: f64, pl: &PairList) {
        let (len, along_x) = if lx >= ly { (lx, true) } else { (ly, false) };
        let frac = |x: &DVec3| {
            let c = if along_x { x.x } else { x.y };
            c.rem_euclid(len) / len
        };
        const BINS: usize = 4096;
        let mut hist = vec![0.0f64; BINS];
        for (i, x) in pos.iter().enumerate() {
            let mut w = 1.0;
            if i < pl.particles() {
                let (a, b) = (pl.start[i] as usize, pl.end[i] as usize);
                w += (b - a) as f64;
                w += 3.0
                    * pl.state[a..b]
                        .iter()
                        .filter(|s| **s & TOUCHING != 0)
                        .count() as f64;
            }
            hist[((frac(x) * BINS as f64) as usize).min(BINS - 1)] += w;
        }
        let total: f64 = hist.iter().sum();
        self.cuts.clear();
        self.cuts.push(0.0);
        let (mut cum, mut bin) = (0.0, 0usize);
        for b in 1..nb {
            let target = total * b as f64 / nb as f64;
            while bin < BINS && cum + hist[bin] < target {
                cum += hist[bin];
                bin += 1;
            }
            // Within the bin, in proportion to the weight still needed.
            let inside = if bin < BINS && hist[bin] > 0.0 {
                (target - cum) / hist[bin]
            } else {
                0.0
            };
            self.cuts
                .push(((bin as f64 + inside) / BINS as f64).min(1.0));
        }
        self.cuts.push(1.0);
        let inner = &self.cuts[1..nb];
        self.of.clear();
        self.of.extend(
            pos.iter()
                .map(|x| inner.partition_point(|&cut| cut <= frac(x)) as u32),
        );
        self.members.resize_with(nb, Vec::new);
        self.members.truncate(nb);
        self.acc.resize_with(nb, BlockSums::default);
        self.acc.truncate(nb);
        for m in self.members.iter_mut() {
            m.clear();
        }
        self.local.clear();
        for (q, &b) in self.of.iter().enumerate() {
            let m = &mut self.members[b as usize];
            self.local.push(m.len() as u32);
            m.push(q as u32);
        }
    }

    /// The foreign pairs of each block in `pl`: (slot, i) with j in the block and i outside,
    /// ascending i (list order, as each row is sorted by j).
    fn link(&mut self, pl: &PairList) {
        let nb = self.members.len();
        self.foreign.resize_with(nb, Vec::new);
        self.foreign.truncate(nb);
        for f in self.foreign.iter_mut() {
            f.clear();
        }
        for i in 0..pl.particles().min(self.of.len()) {
            let bi = self.of[i];
            for k in pl.start[i] as usize..pl.end[i] as usize {
                let bj = self.of[pl.j[k] as usize];
                if bj != bi {
                    self.foreign[bj as usize].push((k as u32, i as u32));
                }
            }
        }
    }
}

/// Reused buffers of [`Dem::rebuild`].
#[derive(Debug, Clone, Default)]
pub(crate) struct RebuildScratch {
    /// The particles binned into cells.
    pub(crate) grid: CellGrid,
    /// Positions in the grid's item order, m.
    pub(crate) spos: Vec<DVec3>,
    /// Radii in the grid's item order, m.
    pub(crate) srad: Vec<f64>,
    /// The previous pair list's arrays, reused for the next list.
    pub(crate) spare: PairList,
}
/// Copies the history of pair slot `ko` of the old list into slot `kn` of the new one: state,
/// tangential spring and plastic history where the state says they are live, and the output
/// record but for force and torques, which are recomputed before they are used.
fn carry_history(old: &PairList, ko: usize, new: &mut PairList, kn: usize) {
    let st = old.state[ko];
    new.state[kn] = st;
    if st & TOUCHING != 0 {
        new.spring[kn] = old.spring[ko];
    }
    if st & PLASTIC != 0 {
        new.plastic[kn] = old.plastic[ko];
    }
    if st & EVALUATED != 0 {
        let o = old.out[ko];
        new.out[kn] = PairOutput {
            force: DVec3::ZERO,
            torque_i: DVec3::ZERO,
            torque_j: DVec3::ZERO,
            ..o
        };
    }
}
/// Resize without rewriting the kept elements (their stale values are guarded by state bits).
#[inline]
fn set_len_keep<T: Clone + Default>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::default());
    } else {
        v.truncate(len);
    }
}
impl Dem {
    /// Largest interaction distance between two particle centres, m.
    pub(crate) fn max_radius(&self) -> f64 {
        self.p.radius.iter().cloned().fold(0.0, f64::max)
    }

    /// Renumber the particles in spatial order, before the first step: slab-major along the longer
    /// periodic axis, then by cell across it and in z (cells of one interaction range), ties in
    /// the old order. Returns the old index of each new one (`order[new] = old`).
    ///
    /// Each thread of [`Dem::compute_forces`] sweeps one slab across the longer axis; with the
    /// particles of a slab stored together, the integration loops of a core touch the particles
    /// its force sweep reads (about 12 % of the two-thread force time went to moving particle
    /// state between cores with a spatially random order). LIGGGHTS sorts atoms spatially for the
    /// same reason (`atom_modify sort`, every 1000 steps by default). Only allowed before any
    /// step (contact history is indexed by particle): returns `None` and changes nothing after.
    /// The dynamics are those of the same packing; floating-point sums over a particle's pairs
    /// then run in another order, so trajectories differ from the unsorted run in the last bits.
    /// A pair list built before is rebuilt for the new numbering.
    pub fn sort_spatially(&mut self) -> Result<Option<Vec<u32>>, DemError> {
        if self.step != 0 || self.pairs.touching_count() != 0 {
            return Ok(None);
        }
        let n = self.p.len();
        let (lx, ly) = (self.lx, self.ly);
        let range = 2.0 * self.max_radius() + self.skin;
        let zmin = self.p.pos.iter().map(|p| p.z).fold(f64::INFINITY, f64::min);
        let cell = |v: f64, l: f64| -> i64 {
            let w = v - l * (v / l).floor();
            (w / range) as i64
        };
        let mut order: Vec<u32> = (0..n as u32).collect();
        let key = |k: u32| {
            let x = self.p.pos[k as usize];
            let (a, b) = if lx >= ly {
                (cell(x.x, lx), cell(x.y, ly))
            } else {
                (cell(x.y, ly), cell(x.x, lx))
            };
            (a, b, ((x.z - zmin) / range) as i64)
        };
        order.sort_by_key(|&k| key(k));
        fn permute<T: Clone>(v: &mut Vec<T>, order: &[u32]) {
            let old = std::mem::take(v);
            v.extend(order.iter().map(|&k| old[k as usize].clone()));
        }
        let p = &mut self.p;
        for v in [
            &mut p.pos,
            &mut p.vel,
            &mut p.omega,
            &mut p.force,
            &mut p.torque,
            &mut p.pos_at_build,
            &mut p.ext.force,
            &mut p.ext.torque,
        ] {
            permute(v, &order);
        }
        permute(&mut p.quat, &order);
        permute(&mut p.radius, &order);
        permute(&mut p.mass, &order);
        permute(&mut p.material, &order);
        permute(&mut p.image, &order);
        permute(&mut self.walls.bottom, &order);
        permute(&mut self.walls.top, &order);
        permute(&mut self.walls.state, &order);
        // The pair list (no contact history yet) is rebuilt for the new numbering.
        let had_list = self.rebuilds > 0;
        self.pairs = PairList::default();
        self.blocks = Blocks::default();
        if had_list {
            self.rebuild()?;
        }
        Ok(Some(order))
    }

    /// Rebuild the pair list if any particle moved more than half the skin since the last build.
    /// Returns whether it rebuilt.
    pub fn maybe_rebuild(&mut self) -> Result<bool, DemError> {
        let half = 0.5 * self.skin;
        let h2 = half * half;
        let need = self.step == 0 && self.rebuilds == 0
            || self
                .p
                .pos
                .par_chunks(CHUNK_PARTICLES)
                .zip(self.p.pos_at_build.par_chunks(CHUNK_PARTICLES))
                .any(|(a, b)| {
                    a.iter()
                        .zip(b)
                        .any(|(a, b)| (*a - *b).length_squared() > h2)
                });
        if need {
            self.rebuild()?;
        }
        Ok(need)
    }

    /// Wrap positions into the periodic box, rebuild the cell lists and the Verlet pair list, and carry
    /// the contact history of surviving pairs over.
    pub fn rebuild(&mut self) -> Result<(), DemError> {
        let n = self.p.len();
        let (lx, ly) = (self.lx, self.ly);
        self.p
            .pos
            .par_chunks_mut(CHUNK_PARTICLES)
            .zip(self.p.image.par_chunks_mut(CHUNK_PARTICLES))
            .for_each(|(c, img)| {
                for (x, im) in c.iter_mut().zip(img) {
                    let (fx, fy) = ((x.x / lx).floor(), (x.y / ly).floor());
                    x.x -= lx * fx;
                    x.y -= ly * fy;
                    im[0] += fx as i32;
                    im[1] += fy as i32;
                }
            });
        self.p.pos_at_build.clone_from(&self.p.pos);
        let range = 2.0 * self.max_radius() + self.skin;
        if lx < 2.0 * range || ly < 2.0 * range {
            return Err(DemError::BoxTooSmall { lx, ly, range });
        }
        let zmin = self.p.pos.iter().map(|p| p.z).fold(f64::INFINITY, f64::min);
        let zmax = self
            .p
            .pos
            .iter()
            .map(|p| p.z)
            .fold(f64::NEG_INFINITY, f64::max);
        // Cell edge: a particle i only needs the cells within its reach r_i + r_max + skin, so in a
        // polydisperse packing cells smaller than the largest pair range cut the candidates scanned:
        // the edge is the typical pair range 2 r_mean + skin, but at least a third of the largest
        // (a monodisperse packing keeps one range per cell and the classic 27-cell stencil).
        let r_mean = self.p.radius.iter().sum::<f64>() / n.max(1) as f64;
        let edge = (2.0 * r_mean + self.skin).max(range / 3.0).min(range);
        let ncx = ((lx / edge).floor() as usize).max(1);
        let ncy = ((ly / edge).floor() as usize).max(1);
        let ncz = (((zmax - zmin) / edge).floor() as usize + 1).max(1);
        let cz = ((zmax - zmin) / ncz as f64).max(edge);
        let r_max = 0.5 * (range - self.skin);
        let sc = &mut self.scratch;
        // Counting sort of the particles into cells (deterministic; within a cell particles keep
        // ascending index order).
        let pos = &self.p.pos;
        sc.grid
            .rebuild_with(n, |k| pos[k], (lx, ly), zmin, [ncx, ncy, ncz], cz);
        // Positions and radii in cell order, so that the candidate scan reads contiguous memory.
        sc.spos.clear();
        sc.spos
            .extend(sc.grid.items.iter().map(|&i| self.p.pos[i as usize]));
        sc.srad.clear();
        sc.srad
            .extend(sc.grid.items.iter().map(|&i| self.p.radius[i as usize]));
        let search = Search {
            pos: &self.p.pos,
            rad: &self.p.radius,
            grid: &sc.grid,
            spos: &sc.spos,
            srad: &sc.srad,
            r_max,
            skin: self.skin,
            old: &self.pairs,
        };
        // Neighbour search and history merge, in parallel over chunks of first particles.
        let chunks: Vec<SearchChunk> = (0..n.div_ceil(SEARCH_CHUNK))
            .into_par_iter()
            .map(|ci| search.chunk(ci, n))
            .collect();
        self.assemble(chunks);
        Ok(())
    }

    /// The new pair list from the search's chunks, assembled in the spare arrays with the rows of
    /// each force block together (block by block, ascending particles within a block), the
    /// history of surviving pairs carried over from the old list; it replaces the old list.
    fn assemble(&mut self, chunks: Vec<SearchChunk>) {
        let n = self.p.len();
        let nb = rayon::current_num_threads().clamp(1, n.max(1));
        self.blocks
            .assign(nb, &self.p.pos, self.lx, self.ly, &self.pairs);
        let sc = &mut self.scratch;
        let old = &self.pairs;
        let mut new = std::mem::take(&mut sc.spare);
        let total: usize = chunks.iter().map(|c| c.j.len()).sum();
        // Where each particle's candidate row sits in the chunk outputs.
        let mut at = Vec::with_capacity(n);
        for ch in &chunks {
            let mut o = 0u32;
            for &c in &ch.counts {
                at.push(o);
                o += c;
            }
        }
        new.lrow.clear();
        new.lrow.reserve(n + 1);
        new.lrow.push(0);
        let mut acc = 0u32;
        for ch in &chunks {
            for &c in &ch.counts {
                acc += c;
                new.lrow.push(acc);
            }
        }
        new.start.clear();
        new.start.resize(n, 0);
        new.end.clear();
        new.end.resize(n, 0);
        new.j.clear();
        new.j.reserve(total);
        new.shift.clear();
        new.shift.reserve(total);
        new.state.clear();
        new.state.resize(total, 0);
        set_len_keep(&mut new.spring, total);
        set_len_keep(&mut new.plastic, total);
        set_len_keep(&mut new.out, total);
        for mem in &self.blocks.members {
            for &i in mem {
                let i = i as usize;
                let ch = &chunks[i / SEARCH_CHUNK];
                let o = at[i] as usize;
                let c = ch.counts[i % SEARCH_CHUNK] as usize;
                let base = new.j.len();
                new.start[i] = base as u32;
                new.end[i] = (base + c) as u32;
                new.j.extend_from_slice(&ch.j[o..o + c]);
                new.shift.extend_from_slice(&ch.shift[o..o + c]);
                for (q, &ko) in ch.carry[o..o + c].iter().enumerate() {
                    if ko != u32::MAX {
                        carry_history(old, ko as usize, &mut new, base + q);
                    }
                }
            }
        }
        drop(chunks);
        sc.spare = std::mem::replace(&mut self.pairs, new);
        self.blocks.link(&self.pairs);
        self.blocks.stamp = (self.rebuilds + 1, nb, n, self.pairs.len());
        self.rebuilds += 1;
    }

    /// Bring the spatial blocks of [`Dem::compute_forces`] up to date when the pair list or the
    /// block count changed since they were made (normally they are made with the pair list).
    pub(crate) fn update_blocks(&mut self, nb: usize) {
        let stamp = (self.rebuilds, nb, self.p.len(), self.pairs.len());
        if self.blocks.stamp == stamp {
            return;
        }
        self.blocks
            .assign(nb, &self.p.pos, self.lx, self.ly, &self.pairs);
        self.blocks.link(&self.pairs);
        self.blocks.stamp = stamp;
    }
}
