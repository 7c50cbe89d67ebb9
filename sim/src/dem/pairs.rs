//! The Verlet pair list of the DEM engine, stored hot/cold split.
//!
//! Every step the engine tests every listed pair for contact, but only part of them touch. The
//! list is therefore stored as parallel arrays, grouped by the first particle `i` (CSR rows):
//!
//! - **hot** (read every step): the second particle `j`, the periodic image shift and a one-byte state
//!   (touching / output recorded / has plastic history), 7 bytes per pair;
//! - **history** (read and written only for pairs the contact kernel evaluates): the tangential
//!   spring ξ and the plastic state;
//! - **outputs** (written only when recorded): force, torques, normal force, contact radius and
//!   overlap, in one record.
//!
//! Values in the history and output arrays are only meaningful where the state byte says so; the
//! accessors ([`PairList::get`], [`PairList::iter`]) return the logical values (zeros elsewhere).

use super::contact::{ContactSpring, PlasticState};
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
    /// Tangential and rolling springs (zero unless touching).
    pub spring: ContactSpring,
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

/// The Verlet pair list (see the module documentation for the layout). The list order is
/// ascending `(i, j)`: the `k`-th pair of the list is the `k − lrow[i]`-th of the row of `i`, where
/// `lrow[i] ≤ k < lrow[i + 1]`. In storage, each row is contiguous and sorted by `j` (slots
/// `start[i]..end[i]`), but rows are placed block by block for the threads of the force
/// computation, not necessarily in `i` order.
#[derive(Debug, Clone, Default)]
pub struct PairList {
    /// First storage slot of the row of each particle.
    pub(crate) start: Vec<u32>,
    /// One past the last storage slot of the row of each particle.
    pub(crate) end: Vec<u32>,
    /// List-order offsets of the rows (len n + 1).
    pub(crate) lrow: Vec<u32>,
    /// Second particle per pair.
    pub(crate) j: Vec<u32>,
    /// Periodic image shift `(s_x, s_y)` per pair.
    pub(crate) shift: Vec<[i8; 2]>,
    /// State bits per pair ([`TOUCHING`], [`EVALUATED`], [`PLASTIC`]).
    pub(crate) state: Vec<u8>,
    /// Tangential and rolling springs per pair (valid where [`TOUCHING`]).
    pub(crate) spring: Vec<ContactSpring>,
    /// Plastic history per pair (valid where [`PLASTIC`]).
    pub(crate) plastic: Vec<PlasticState>,
    /// Outputs per pair (valid where [`EVALUATED`]).
    pub(crate) out: Vec<PairOutput>,
}

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
        self.start.len()
    }

    /// First particle and storage slot of the `k`-th pair in list order.
    fn locate(&self, k: usize) -> (usize, usize) {
        assert!(k < self.len(), "pair {k} of {}", self.len());
        // The last row whose list offset is ≤ k and which is not empty.
        let i = self.lrow.partition_point(|&r| r as usize <= k) - 1;
        (i, self.start[i] as usize + (k - self.lrow[i] as usize))
    }

    /// Whether the `k`-th pair (list order) touches.
    pub fn is_touching(&self, k: usize) -> bool {
        self.state[self.locate(k).1] & TOUCHING != 0
    }

    /// Number of touching pairs.
    pub fn touching_count(&self) -> usize {
        self.state.iter().filter(|s| **s & TOUCHING != 0).count()
    }

    /// Assemble the view of the pair in storage slot `k` whose first particle is `i`.
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
            spring: if st & TOUCHING != 0 {
                self.spring[k]
            } else {
                ContactSpring::default()
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

    /// The `k`-th pair in list order (panics when out of range). Finding its row is a binary
    /// search; use [`PairList::iter`] to visit all pairs.
    pub fn get(&self, k: usize) -> Pair {
        let (i, s) = self.locate(k);
        self.view(i, s)
    }

    /// All pairs in list order (ascending `(i, j)`), as views.
    pub fn iter(&self) -> impl Iterator<Item = Pair> + '_ {
        (0..self.particles()).flat_map(move |i| {
            (self.start[i] as usize..self.end[i] as usize).map(move |k| self.view(i, k))
        })
    }

    /// The touching pairs in list order, as views.
    pub fn iter_touching(&self) -> impl Iterator<Item = Pair> + '_ {
        (0..self.particles()).flat_map(move |i| {
            (self.start[i] as usize..self.end[i] as usize)
                .filter(move |&k| self.state[k] & TOUCHING != 0)
                .map(move |k| self.view(i, k))
        })
    }

    /// Rotate every contact spring by `q` (used when the whole packing is turned).
    pub fn rotate_history(&mut self, q: DQuat) {
        for (x, s) in self.spring.iter_mut().zip(&self.state) {
            if s & TOUCHING != 0 {
                *x = x.rotated(q);
            }
        }
    }
}
