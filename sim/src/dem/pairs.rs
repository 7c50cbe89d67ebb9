//! The Verlet pair list of the DEM engine, stored hot/cold split.
//!
//! Every step the engine tests every listed pair for contact, but only a fifth or so of them touch.
//! The list is therefore stored as parallel arrays, grouped by the first particle `i` (CSR rows):
//!
//! - **hot** (read every step): the second particle `j`, the periodic image shift and a one-byte state
//!   (touching / evaluated by the contact kernel / has plastic history), 7 bytes per pair;
//! - **history** (read and written only for pairs the contact kernel evaluates): the tangential
//!   spring ξ and the plastic state;
//! - **outputs** (written only for evaluated pairs, read by the force gather only for touching
//!   pairs): force, torques, normal force, contact radius and overlap, in one record;
//! - the **transpose** (`col`): for each particle the pairs in which it is `j`, in pair order, so
//!   that the per-particle force gather visits the pairs of a particle in ascending pair index
//!   without a per-step sort.
//!
//! Values in the history and output arrays are only meaningful where the state byte says so; the
//! accessors ([`PairList::get`], [`PairList::iter`]) return the logical values (zeros elsewhere).

use super::contact::PlasticState;
use glam::{DQuat, DVec3};

/// State bit: the particles touch (the force and torques of the pair are non-zero).
pub(crate) const TOUCHING: u8 = 1;
/// State bit: the contact kernel evaluated the pair at the last force computation and stored its
/// output record (pairs found apart by the distance test alone are not evaluated; nothing is
/// stored when `Dem::record_pair_outputs` is off).
pub(crate) const EVALUATED: u8 = 2;
/// State bit: the pair carries plastic history (`PlasticState::delta_max != 0`).
pub(crate) const PLASTIC: u8 = 4;

/// Outputs of one pair at the last force computation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairOutput {
    /// Force on `i` (`j` receives −force), N.
    pub force: DVec3,
    /// Torque on `i`, N·m.
    pub torque_i: DVec3,
    /// Torque on `j`, N·m.
    pub torque_j: DVec3,
    /// Signed normal force (positive repulsive), N.
    pub normal_force: f64,
    /// Contact radius, m (0 when not touching, except for the flattened neck of a plastically
    /// deformed contact that was unloaded).
    pub contact_radius: f64,
    /// Normal overlap `r_i + r_j − d`, m (0 for pairs found apart without evaluating the kernel).
    pub overlap: f64,
}

/// One pair of the list with its history and last outputs, by value (a view assembled from the
/// split arrays by [`PairList::get`] and [`PairList::iter`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pair {
    /// First particle (i < j).
    pub i: u32,
    /// Second particle.
    pub j: u32,
    /// Periodic image shift in x (multiples of lx added to x_i − x_j).
    pub sx: i8,
    /// Periodic image shift in y.
    pub sy: i8,
    /// Tangential spring, m (zero unless touching).
    pub xi: DVec3,
    /// Plastic history.
    pub plastic: PlasticState,
    /// Force on i (j receives −force), N.
    pub force: DVec3,
    /// Torque on i, N·m.
    pub torque_i: DVec3,
    /// Torque on j, N·m.
    pub torque_j: DVec3,
    /// Contact radius, m (0 when not touching, except for an unloaded plastic neck).
    pub contact_radius: f64,
    /// Signed normal force (positive repulsive), N.
    pub normal_force: f64,
    /// Normal overlap, m (0 for pairs found apart by the distance test alone).
    pub overlap: f64,
    /// True while the particles touch.
    pub touching: bool,
}

/// The Verlet pair list (see the module documentation for the layout). Pairs are ordered by
/// `(i, j)`; pair `k` of particle `i` lies in `row[i]..row[i + 1]`.
#[derive(Debug, Clone, Default)]
pub struct PairList {
    /// Row offsets by first particle (len n + 1).
    pub(crate) row: Vec<u32>,
    /// Second particle per pair.
    pub(crate) j: Vec<u32>,
    /// Periodic image shift `(s_x, s_y)` per pair.
    pub(crate) shift: Vec<[i8; 2]>,
    /// State bits per pair ([`TOUCHING`], [`EVALUATED`], [`PLASTIC`]).
    pub(crate) state: Vec<u8>,
    /// Tangential spring per pair, m (valid where [`TOUCHING`]).
    pub(crate) xi: Vec<DVec3>,
    /// Plastic history per pair (valid where [`PLASTIC`]).
    pub(crate) plastic: Vec<PlasticState>,
    /// Outputs per pair (valid where [`EVALUATED`]).
    pub(crate) out: Vec<PairOutput>,
    /// Transpose offsets (len n + 1): the pairs in which particle `p` is `j` are
    /// `col[col_start[p]..col_start[p + 1]]`, ascending.
    pub(crate) col_start: Vec<u32>,
    /// Transpose entries (pair indices).
    pub(crate) col: Vec<u32>,
    /// Particle boundaries of the work chunks of the pair loop (about [`CHUNK_PAIRS`] pairs each).
    pub(crate) chunks: Vec<u32>,
    /// Per pair, for the cross pairs of the last multi-threaded force computation (see
    /// `Dem::compute_forces`): 1 where touching.
    pub(crate) xflag: Vec<u8>,
    /// Per pair, for touching cross pairs: force and torques.
    pub(crate) xforce: Vec<PairForce>,
}

/// Force and torques of one pair.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PairForce {
    /// Force on `i` (`j` receives −force), N.
    pub(crate) force: DVec3,
    /// Torque on `i`, N·m.
    pub(crate) torque_i: DVec3,
    /// Torque on `j`, N·m.
    pub(crate) torque_j: DVec3,
}

/// Pairs per work chunk of the pair loop (rayon task granularity).
pub(crate) const CHUNK_PAIRS: u32 = 4096;

impl PairList {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.j.len()
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.j.is_empty()
    }

    /// Number of particles the list was built for.
    pub fn particles(&self) -> usize {
        self.row.len().saturating_sub(1)
    }

    /// Whether pair `k` touches.
    #[inline]
    pub fn is_touching(&self, k: usize) -> bool {
        self.state[k] & TOUCHING != 0
    }

    /// Number of touching pairs.
    pub fn touching_count(&self) -> usize {
        self.state.iter().filter(|s| **s & TOUCHING != 0).count()
    }

    /// Assemble the view of pair `k` whose first particle is `i`.
    #[inline]
    fn view(&self, i: usize, k: usize) -> Pair {
        let st = self.state[k];
        let [sx, sy] = self.shift[k];
        let o = if st & EVALUATED != 0 {
            self.out[k]
        } else {
            PairOutput::default()
        };
        Pair {
            i: i as u32,
            j: self.j[k],
            sx,
            sy,
            xi: if st & TOUCHING != 0 {
                self.xi[k]
            } else {
                DVec3::ZERO
            },
            plastic: if st & PLASTIC != 0 {
                self.plastic[k]
            } else {
                PlasticState::default()
            },
            force: o.force,
            torque_i: o.torque_i,
            torque_j: o.torque_j,
            contact_radius: o.contact_radius,
            normal_force: o.normal_force,
            overlap: o.overlap,
            touching: st & TOUCHING != 0,
        }
    }

    /// Pair `k` (panics when out of range). Finding its first particle is a binary search over the
    /// rows; use [`PairList::iter`] to visit all pairs.
    pub fn get(&self, k: usize) -> Pair {
        assert!(k < self.len(), "pair {k} of {}", self.len());
        // The last row start ≤ k that is followed by a larger one.
        let i = self.row.partition_point(|&r| r as usize <= k) - 1;
        self.view(i, k)
    }

    /// All pairs in list order (ascending `(i, j)`), as views.
    pub fn iter(&self) -> impl Iterator<Item = Pair> + '_ {
        (0..self.particles()).flat_map(move |i| {
            (self.row[i] as usize..self.row[i + 1] as usize).map(move |k| self.view(i, k))
        })
    }

    /// The touching pairs in list order, as views.
    pub fn iter_touching(&self) -> impl Iterator<Item = Pair> + '_ {
        (0..self.particles()).flat_map(move |i| {
            (self.row[i] as usize..self.row[i + 1] as usize)
                .filter(move |&k| self.state[k] & TOUCHING != 0)
                .map(move |k| self.view(i, k))
        })
    }

    /// Rotate every tangential spring by `q` (used when the whole packing is turned).
    pub fn rotate_history(&mut self, q: DQuat) {
        for (x, s) in self.xi.iter_mut().zip(&self.state) {
            if s & TOUCHING != 0 {
                *x = q * *x;
            }
        }
    }
}

/// Split `s` into consecutive sub-slices at the offsets `ends` (ascending, last = `s.len()`).
pub(crate) fn split_at_offsets<'a, T>(mut s: &'a mut [T], bounds: &[u32]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(bounds.len());
    let mut prev = 0usize;
    for &b in bounds {
        let (a, rest) = std::mem::take(&mut s).split_at_mut(b as usize - prev);
        out.push(a);
        s = rest;
        prev = b as usize;
    }
    out
}
