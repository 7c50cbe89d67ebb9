//! The DEM engine on contiguous arrays: particle state (structure of arrays), the Verlet pair list
//! with contact history, walls, and the velocity-Verlet step split into the integrator's slots.
//!
//! Determinism: every particle sums `ext_force`, then its pair forces in the list order of the pairs
//! (ascending `(i, j)`), then its wall forces, on any number of threads; each pair force is a pure
//! function of the state at the start of the step. Results are therefore bitwise identical on any
//! number of threads. Reductions over particles (wall forces, energies) are sequential.
//!
//! Threads: [`Dem::compute_forces`] splits the particles into one slab per thread across the longer
//! periodic axis; a thread sweeps the pairs touching its slab in list order and adds each force to
//! the particles it holds; the few pairs across two slabs are evaluated by both threads.
//!
//! Storage: the pair list is split hot/cold ([`PairList`]): the per-step distance test reads 7 bytes
//! per pair; history and outputs are touched only for pairs in contact.
//!
//! Periodicity: x and y are periodic with lengths `lx`, `ly`; positions are wrapped into the box only
//! at neighbour rebuilds, and each pair stores its integer image shift, so the pair vector is
//! `d = x_i − x_j + (s_x lx, s_y ly, 0)` between rebuilds. z is bounded by two flat walls.

use super::contact::{
    damping_coefficient, dmt_adhesion, normal_law, rolling_torque, tangential_force, PairParams,
    PlasticState,
};
pub use super::pairs::{Pair, PairList, PairOutput};
use super::pairs::{EVALUATED, PLASTIC, TOUCHING};
use glam::{DQuat, DVec3};
use rayon::prelude::*;

/// Particles per work chunk of the per-particle loops (integration, force copy, skin check).
const CHUNK_PARTICLES: usize = 1024;

/// Per-particle state, structure of arrays (all vectors have the same length).
#[derive(Debug, Clone, Default)]
pub struct ParticleState {
    /// Positions, m.
    pub pos: Vec<DVec3>,
    /// Velocities, m/s.
    pub vel: Vec<DVec3>,
    /// Angular velocities, rad/s.
    pub omega: Vec<DVec3>,
    /// Orientations (body → world).
    pub quat: Vec<DQuat>,
    /// Forces of the current step, N.
    pub force: Vec<DVec3>,
    /// Torques of the current step, N·m.
    pub torque: Vec<DVec3>,
    /// Radii, m.
    pub radius: Vec<f64>,
    /// Masses (after mass scaling), kg.
    pub mass: Vec<f64>,
    /// Material index into the pair table.
    pub material: Vec<u8>,
    /// Positions at the last neighbour rebuild, m.
    pub pos_at_build: Vec<DVec3>,
    /// External force added every step (e.g. fibril tension gathered by a stage), N.
    pub ext_force: Vec<DVec3>,
}

impl ParticleState {
    /// Number of particles.
    pub fn len(&self) -> usize {
        self.pos.len()
    }
    /// True when there are no particles.
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }
    /// Add a particle at rest; returns its index.
    pub fn push(&mut self, pos: DVec3, radius: f64, mass: f64, material: u8) -> usize {
        self.pos.push(pos);
        self.vel.push(DVec3::ZERO);
        self.omega.push(DVec3::ZERO);
        self.quat.push(DQuat::IDENTITY);
        self.force.push(DVec3::ZERO);
        self.torque.push(DVec3::ZERO);
        self.radius.push(radius);
        self.mass.push(mass);
        self.material.push(material);
        self.pos_at_build.push(pos);
        self.ext_force.push(DVec3::ZERO);
        self.pos.len() - 1
    }
}

/// How a wall moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WallDrive {
    /// Prescribed velocity, m/s (z component moves the wall; x, y components shear).
    Velocity(DVec3),
    /// Servo on the total normal force: the wall moves to hold `pressure` (Pa) on the box area,
    /// at most `max_speed` (m/s); `shear` is its in-plane velocity, m/s.
    Pressure {
        /// Target pressure, Pa.
        pressure: f64,
        /// Speed limit, m/s.
        max_speed: f64,
        /// In-plane velocity, m/s.
        shear: DVec3,
    },
}

/// Per-particle wall contact history.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallHistory {
    /// Tangential spring, m.
    pub xi: DVec3,
    /// Plastic history.
    pub plastic: PlasticState,
    /// Contact radius, m (0 when not touching).
    pub contact_radius: f64,
    /// Normal force on the particle, N (positive pushes it away from the wall).
    pub normal_force: f64,
}

/// The two z walls.
#[derive(Debug, Clone)]
pub struct Walls {
    /// Bottom wall height, m.
    pub z_bottom: f64,
    /// Top wall height, m.
    pub z_top: f64,
    /// Bottom wall velocity (in-plane only; the bottom wall never moves in z), m/s.
    pub bottom_vel: DVec3,
    /// Top wall drive.
    pub top_drive: WallDrive,
    /// Current top-wall velocity, m/s.
    pub top_vel: DVec3,
    /// Whether the top wall exists (false: free surface).
    pub top_active: bool,
    /// Material index of the walls in the pair table.
    pub material: u8,
    /// Per-particle bottom-wall history.
    pub bottom: Vec<WallHistory>,
    /// Per-particle top-wall history.
    pub top: Vec<WallHistory>,
    /// Total z force exerted by particles on the top wall (positive pushes it up), N.
    pub top_force: f64,
    /// Total z force exerted by particles on the bottom wall (positive pushes it down), N.
    pub bottom_force: f64,
    /// Exponential moving average of `top_force` over ~100 steps, N (what the servo controls).
    pub top_force_avg: f64,
    /// Per particle: [`WALL_BOTTOM`] / [`WALL_TOP`] set where that wall history may differ from
    /// the default (the contact kernel ran at the last evaluation). A clear bit guarantees a default
    /// history, so particles away from the walls are skipped without reading their history.
    state: Vec<u8>,
}

/// Wall state bit: the bottom-wall history of the particle may be non-default.
const WALL_BOTTOM: u8 = 1;
/// Wall state bit: the top-wall history of the particle may be non-default.
const WALL_TOP: u8 = 2;

impl Walls {
    /// Rotate every wall tangential spring by `q` (used when the whole packing is turned).
    pub fn rotate_history(&mut self, q: DQuat) {
        for (k, st) in self.state.iter().enumerate() {
            if st & WALL_BOTTOM != 0 {
                self.bottom[k].xi = q * self.bottom[k].xi;
            }
            if st & WALL_TOP != 0 {
                self.top[k].xi = q * self.top[k].xi;
            }
        }
    }
}

/// Errors of the DEM step.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum DemError {
    /// A non-finite position or velocity appeared.
    #[error("non-finite state of particle {particle} at step {step} (stage {stage}): position {pos:?}, velocity {vel:?}; the time step is probably too large for the contact stiffness")]
    NonFinite {
        /// Particle index.
        particle: usize,
        /// Step number.
        step: u64,
        /// Stage name.
        stage: String,
        /// Position, m.
        pos: [f64; 3],
        /// Velocity, m/s.
        vel: [f64; 3],
    },
    /// The box is too small for the neighbour cells.
    #[error("box {lx:.3e} × {ly:.3e} m is smaller than two interaction ranges ({range:.3e} m): enlarge the domain")]
    BoxTooSmall {
        /// lx, m.
        lx: f64,
        /// ly, m.
        ly: f64,
        /// Interaction range, m.
        range: f64,
    },
}

/// The whole DEM state on contiguous arrays.
#[derive(Debug, Clone)]
pub struct Dem {
    /// Particle arrays.
    pub p: ParticleState,
    /// Verlet pair list with contact history and last outputs (hot/cold split).
    pub pairs: PairList,
    /// Pair parameter table, `table[a * n_mat + b]`.
    pub table: Vec<PairParams>,
    /// Number of materials in the table.
    pub n_mat: usize,
    /// Periodic length in x, m.
    pub lx: f64,
    /// Periodic length in y, m.
    pub ly: f64,
    /// Walls.
    pub walls: Walls,
    /// Time step, s.
    pub dt: f64,
    /// Neighbour skin, m.
    pub skin: f64,
    /// Steps done.
    pub step: u64,
    /// Neighbour rebuilds done.
    pub rebuilds: u64,
    /// Name of the running stage, for error reports.
    pub stage: String,
    /// Whether rolling resistance, adhesion are on.
    pub cohesion: bool,
    /// Whether orientations (`p.quat`) are integrated (default true). No contact force depends on
    /// them; they matter for what is anchored to particle surfaces (fibrils). Turning them off
    /// saves the rotation update (a sine and cosine per particle and step) and changes nothing
    /// else: the DEM benchmark runs without them, like LIGGGHTS's `nve/sphere`.
    pub orientations: bool,
    /// Whether each force computation stores the output record (force, torques, normal force,
    /// contact radius, overlap) of every pair it evaluates, for [`PairList::get`] and
    /// [`PairList::iter`] (default true). When false, the views report those outputs as zero; the
    /// dynamics do not depend on it. Runs that read outputs only at the end (the benchmark) turn
    /// it on for the last step only, saving the memory traffic.
    pub record_pair_outputs: bool,
    /// Buffers of the neighbour rebuild, kept between rebuilds to avoid reallocation.
    scratch: RebuildScratch,
    /// The spatial blocks of [`Dem::compute_forces`].
    blocks: Blocks,
}

/// The per-thread work split of [`Dem::compute_forces`]: slabs across the longer periodic axis,
/// rebuilt with the pair list. Results do not depend on it.
#[derive(Debug, Clone, Default)]
struct Blocks {
    /// (rebuild count, block count, particles, pairs) they were built for.
    stamp: (u64, usize, usize, usize),
    /// Block of each particle.
    of: Vec<u32>,
    /// Index of each particle within its block.
    local: Vec<u32>,
    /// Particles of each block, ascending.
    members: Vec<Vec<u32>>,
    /// Per block, the pairs (slot, i) with j in the block and i outside, ascending i.
    foreign: Vec<Vec<(u32, u32)>>,
    /// Per block, the history of its foreign pairs at the start of the step (their owner updates
    /// them meanwhile).
    snap: Vec<Vec<(u8, DVec3, PlasticState)>>,
    /// Per-block sums, reused.
    acc: Vec<BlockSums>,
    /// Slab boundaries as fractions of the axis (len blocks + 1).
    cuts: Vec<f64>,
}

/// What one block sums for its particles.
#[derive(Debug, Clone, Default)]
struct BlockSums {
    /// `ext_force` plus the pair forces, N.
    force: Vec<DVec3>,
    /// Pair torques, N·m.
    torque: Vec<DVec3>,
    /// Whether a pair of the particle's own row was skipped as not touching (the force then gets
    /// the `+0` the full sum would have added).
    skipped: Vec<bool>,
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

/// Access to a slice shared by parallel tasks, each element read and written by one task at
/// most (the pairs a block owns).
struct Exclusive<'a, T> {
    ptr: *mut T,
    len: usize,
    _life: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: tasks access the slice only through `get` and `set`, each index from one task at most
// (their contract), and the slice stays mutably borrowed for the wrapper's lifetime.
unsafe impl<T: Send> Sync for Exclusive<'_, T> {}

impl<'a, T: Copy> Exclusive<'a, T> {
    fn new(s: &'a mut [T]) -> Self {
        Exclusive {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _life: std::marker::PhantomData,
        }
    }

    /// The element at `k`.
    ///
    /// # Safety
    /// No other task accesses index `k` while the wrapper lives.
    #[inline(always)]
    unsafe fn get(&self, k: usize) -> T {
        assert!(k < self.len, "index {k} out of {}", self.len);
        // SAFETY: in bounds (checked); exclusive by the caller's contract.
        unsafe { *self.ptr.add(k) }
    }

    /// Set the element at `k`.
    ///
    /// # Safety
    /// As for [`Exclusive::get`].
    #[inline(always)]
    unsafe fn set(&self, k: usize, v: T) {
        assert!(k < self.len, "index {k} out of {}", self.len);
        // SAFETY: in bounds (checked); exclusive by the caller's contract.
        unsafe { *self.ptr.add(k) = v }
    }
}

/// Reused buffers of [`Dem::rebuild`].
#[derive(Debug, Clone, Default)]
struct RebuildScratch {
    /// Cell index per particle.
    cell: Vec<u32>,
    /// Cell start offsets into `sorted` (len cells + 1).
    count: Vec<u32>,
    /// Fill pointers of the counting sort.
    fill: Vec<u32>,
    /// Particle indices sorted by cell.
    sorted: Vec<u32>,
    /// Positions in `sorted` order, m.
    spos: Vec<DVec3>,
    /// Radii in `sorted` order, m.
    srad: Vec<f64>,
    /// The previous pair list's arrays, reused for the next list.
    spare: PairList,
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

/// Particles per neighbour-search work chunk.
const SEARCH_CHUNK: usize = 256;

/// One neighbour-search work chunk: the new pairs of particles `a..b` and the history to carry.
#[derive(Default)]
struct SearchChunk {
    /// Pairs per particle of the chunk.
    counts: Vec<u32>,
    /// Second particle per new pair.
    j: Vec<u32>,
    /// Image shift per new pair.
    shift: Vec<[i8; 2]>,
    /// Per new pair: the storage slot of the same pair in the old list when its old state is not
    /// empty (history to carry over), else `u32::MAX`.
    carry: Vec<u32>,
}

impl Dem {
    /// Create an engine. `table` is the mixed pair table for `n_mat` materials (walls included).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        p: ParticleState,
        table: Vec<PairParams>,
        n_mat: usize,
        lx: f64,
        ly: f64,
        z_bottom: f64,
        z_top: f64,
        wall_material: u8,
        dt: f64,
        skin: f64,
    ) -> Self {
        let n = p.len();
        let pairs = PairList {
            start: vec![0; n],
            end: vec![0; n],
            lrow: vec![0; n + 1],
            ..Default::default()
        };
        Dem {
            p,
            pairs,
            table,
            n_mat,
            lx,
            ly,
            walls: Walls {
                z_bottom,
                z_top,
                bottom_vel: DVec3::ZERO,
                top_drive: WallDrive::Velocity(DVec3::ZERO),
                top_vel: DVec3::ZERO,
                top_active: true,
                material: wall_material,
                bottom: vec![WallHistory::default(); n],
                top: vec![WallHistory::default(); n],
                top_force: 0.0,
                bottom_force: 0.0,
                top_force_avg: 0.0,
                state: vec![0; n],
            },
            dt,
            skin,
            step: 0,
            rebuilds: 0,
            stage: String::from("setup"),
            cohesion: true,
            orientations: true,
            record_pair_outputs: true,
            scratch: RebuildScratch::default(),
            blocks: Blocks::default(),
        }
    }

    /// Pair parameters of two materials.
    #[inline]
    pub fn params(&self, a: u8, b: u8) -> &PairParams {
        &self.table[a as usize * self.n_mat + b as usize]
    }

    /// Minimum-image pair vector `x_i − x_j` for an arbitrary pair, m.
    pub fn min_image(&self, i: usize, j: usize) -> DVec3 {
        self.wrap(self.p.pos[i] - self.p.pos[j])
    }

    /// Minimum image of an arbitrary vector `v` (m) in the periodic x and y directions, m.
    pub fn wrap(&self, mut v: DVec3) -> DVec3 {
        // The shift −L·round(v/L) is zero when |v| < L/2, the usual case for short vectors (fibrils,
        // neighbours): skip the rounding call there.
        if v.x.abs() >= 0.5 * self.lx {
            v.x -= self.lx * (v.x / self.lx).round();
        }
        if v.y.abs() >= 0.5 * self.ly {
            v.y -= self.ly * (v.y / self.ly).round();
        }
        v
    }

    /// First half of velocity Verlet: half-kick and drift (translation and rotation).
    pub fn initial_integrate(&mut self) {
        let dt = self.dt;
        let rotate = self.orientations;
        let p = &mut self.p;
        let c = CHUNK_PARTICLES;
        p.pos
            .par_chunks_mut(c)
            .zip(p.vel.par_chunks_mut(c))
            .zip(p.omega.par_chunks_mut(c))
            .zip(p.quat.par_chunks_mut(c))
            .zip(p.force.par_chunks(c))
            .zip(p.torque.par_chunks(c))
            .zip(p.mass.par_chunks(c))
            .zip(p.radius.par_chunks(c))
            .for_each(|(((((((x, v), w), q), f), t), m), r)| {
                for k in 0..x.len() {
                    v[k] += 0.5 * dt * f[k] / m[k];
                    x[k] += dt * v[k];
                    let inv_i = 1.0 / (0.4 * m[k] * r[k] * r[k]);
                    w[k] += 0.5 * dt * t[k] * inv_i;
                    if !rotate {
                        continue;
                    }
                    let ang = w[k] * dt;
                    let a = ang.length();
                    if a > 0.0 {
                        q[k] = (DQuat::from_axis_angle(ang / a, a) * q[k]).normalize();
                    }
                }
            });
        self.walls.z_bottom += dt * self.walls.bottom_vel.z;
        self.walls.z_top += dt * self.walls.top_vel.z;
    }

    /// Second half of velocity Verlet: the closing half-kick. Checks every particle for non-finite
    /// state and reports the lowest bad index.
    pub fn final_integrate(&mut self) -> Result<(), DemError> {
        let dt = self.dt;
        let p = &mut self.p;
        let c = CHUNK_PARTICLES;
        let bad = p
            .vel
            .par_chunks_mut(c)
            .zip(p.omega.par_chunks_mut(c))
            .zip(p.pos.par_chunks(c))
            .zip(p.force.par_chunks(c))
            .zip(p.torque.par_chunks(c))
            .zip(p.mass.par_chunks(c))
            .zip(p.radius.par_chunks(c))
            .enumerate()
            .filter_map(|(ci, ((((((v, w), x), f), t), m), r))| {
                let mut first = None;
                for k in 0..v.len() {
                    v[k] += 0.5 * dt * f[k] / m[k];
                    w[k] += 0.5 * dt * t[k] / (0.4 * m[k] * r[k] * r[k]);
                    if first.is_none()
                        && !(x[k].is_finite() && v[k].is_finite() && w[k].is_finite())
                    {
                        first = Some(ci * c + k);
                    }
                }
                first
            })
            .min();
        self.finish_step(bad)
    }

    /// Count the step done; report the lowest particle with a non-finite state, if any.
    fn finish_step(&mut self, bad: Option<usize>) -> Result<(), DemError> {
        self.step += 1;
        if let Some(i) = bad {
            let p = &self.p;
            return Err(DemError::NonFinite {
                particle: i,
                step: self.step,
                stage: self.stage.clone(),
                pos: p.pos[i].to_array(),
                vel: p.vel[i].to_array(),
            });
        }
        Ok(())
    }

    /// Largest interaction distance between two particle centres, m.
    fn max_radius(&self) -> f64 {
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
        permute(&mut p.pos, &order);
        permute(&mut p.vel, &order);
        permute(&mut p.omega, &order);
        permute(&mut p.quat, &order);
        permute(&mut p.force, &order);
        permute(&mut p.torque, &order);
        permute(&mut p.radius, &order);
        permute(&mut p.mass, &order);
        permute(&mut p.material, &order);
        permute(&mut p.pos_at_build, &order);
        permute(&mut p.ext_force, &order);
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
        self.p.pos.par_chunks_mut(CHUNK_PARTICLES).for_each(|c| {
            for x in c {
                x.x -= lx * (x.x / lx).floor();
                x.y -= ly * (x.y / ly).floor();
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
        let (cx, cy, cz) = (
            lx / ncx as f64,
            ly / ncy as f64,
            ((zmax - zmin) / ncz as f64).max(edge),
        );
        let r_max = 0.5 * (range - self.skin);
        let cell_of = |x: DVec3| -> (usize, usize, usize) {
            let ix = ((x.x / cx) as usize).min(ncx - 1);
            let iy = ((x.y / cy) as usize).min(ncy - 1);
            let iz = (((x.z - zmin) / cz) as usize).min(ncz - 1);
            (ix, iy, iz)
        };
        let ncell = ncx * ncy * ncz;
        let sc = &mut self.scratch;
        // Counting sort of particles into cells (sequential, deterministic; within a cell particles
        // keep ascending index order).
        sc.cell.resize(n, 0);
        sc.cell
            .par_chunks_mut(CHUNK_PARTICLES)
            .zip(self.p.pos.par_chunks(CHUNK_PARTICLES))
            .for_each(|(c, x)| {
                for (c, &x) in c.iter_mut().zip(x) {
                    let (a, b, cc) = cell_of(x);
                    *c = ((cc * ncy + b) * ncx + a) as u32;
                }
            });
        sc.count.clear();
        sc.count.resize(ncell + 1, 0);
        for &c in &sc.cell {
            sc.count[c as usize + 1] += 1;
        }
        for c in 0..ncell {
            sc.count[c + 1] += sc.count[c];
        }
        sc.fill.clone_from(&sc.count);
        sc.sorted.resize(n, 0);
        for (i, &c) in sc.cell.iter().enumerate() {
            sc.sorted[sc.fill[c as usize] as usize] = i as u32;
            sc.fill[c as usize] += 1;
        }
        // Positions and radii in cell order, so that the candidate scan reads contiguous memory.
        sc.spos.clear();
        sc.spos
            .extend(sc.sorted.iter().map(|&i| self.p.pos[i as usize]));
        sc.srad.clear();
        sc.srad
            .extend(sc.sorted.iter().map(|&i| self.p.radius[i as usize]));
        let pos = &self.p.pos;
        let rad = &self.p.radius;
        let skin = self.skin;
        // Below these |d| the minimum-image shift is certainly zero (|d/L| < 0.5 with margin).
        let (hx, hy) = (0.49 * lx, 0.49 * ly);
        let (count, sorted, spos, srad) = (&sc.count, &sc.sorted, &sc.spos, &sc.srad);
        let old = &self.pairs;
        // Neighbour search and history merge, in parallel over chunks of first particles. A pair
        // (i, j), i < j, is listed when |x_i − x_j| (minimum image) < r_i + r_j + skin; each row is
        // sorted by j and merged with the old row to carry the state over.
        let chunks: Vec<SearchChunk> = (0..n.div_ceil(SEARCH_CHUNK))
            .into_par_iter()
            .map(|ci| {
                let (a, b) = (ci * SEARCH_CHUNK, ((ci + 1) * SEARCH_CHUNK).min(n));
                let mut ch = SearchChunk {
                    counts: Vec::with_capacity(b - a),
                    j: Vec::with_capacity((b - a) * 8),
                    shift: Vec::with_capacity((b - a) * 8),
                    carry: Vec::with_capacity((b - a) * 8),
                };
                // Candidate buffer: every scanned particle is written, the count advances only for
                // kept ones (no unpredictable branch on the index order or the distance test).
                let mut buf: Vec<(u32, i8, i8)> = vec![(0, 0, 0); 256];
                for i in a..b {
                    let xi = pos[i];
                    let ri = rad[i];
                    // Cells overlapping [x − R, x + R] on each axis, R = r_i + r_max + skin: x and
                    // y as (possibly wrapping) index ranges, all cells when the range covers the axis.
                    let reach = ri + r_max + skin;
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
                        for ((&j, &xj), &rj) in
                            sorted[s0..s1].iter().zip(&spos[s0..s1]).zip(&srad[s0..s1])
                        {
                            let mut d = xi - xj;
                            // The minimum image: −round(d/L) (zero unless |d| is near L/2, where
                            // the division decides; skipping the zero shift changes at most the
                            // sign of a zero component, not |d|).
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
                            // Cells x0..=x1 of the row are contiguous in the sorted order unless
                            // the range wraps around the periodic boundary.
                            let (a0, a1) =
                                (x0.rem_euclid(ncx as isize), x1.rem_euclid(ncx as isize));
                            if a0 <= a1 {
                                scan(row0 + a0 as usize, row0 + a1 as usize + 1, &mut buf);
                            } else {
                                scan(row0, row0 + a1 as usize + 1, &mut buf);
                                scan(row0 + a0 as usize, row0 + ncx, &mut buf);
                            }
                        }
                    }
                    let cand = &mut buf[..m];
                    cand.sort_unstable_by_key(|e| e.0);
                    // Merge with the old row of i (also sorted by j).
                    let (mut ko, ke) = if i < old.start.len() {
                        (old.start[i] as usize, old.end[i] as usize)
                    } else {
                        (0, 0)
                    };
                    for &(j, sx, sy) in cand.iter() {
                        while ko < ke && old.j[ko] < j {
                            ko += 1;
                        }
                        let carry = ko < ke && old.j[ko] == j && old.state[ko] != 0;
                        ch.carry.push(if carry { ko as u32 } else { u32::MAX });
                        ch.j.push(j);
                        ch.shift.push([sx, sy]);
                    }
                    ch.counts.push(cand.len() as u32);
                }
                ch
            })
            .collect();
        // Assemble the new list in the spare arrays, the rows of each force block together
        // (block by block, ascending particles within a block).
        let nb = rayon::current_num_threads().clamp(1, n.max(1));
        self.blocks
            .assign(nb, &self.p.pos, self.lx, self.ly, &self.pairs);
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
        set_len_keep(&mut new.xi, total);
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
                    if ko == u32::MAX {
                        continue;
                    }
                    let (kn, ko) = (base + q, ko as usize);
                    let st = old.state[ko];
                    new.state[kn] = st;
                    if st & TOUCHING != 0 {
                        new.xi[kn] = old.xi[ko];
                    }
                    if st & PLASTIC != 0 {
                        new.plastic[kn] = old.plastic[ko];
                    }
                    if st & EVALUATED != 0 {
                        // Force and torques are recomputed before they are used; the rest carries
                        // over.
                        let o = old.out[ko];
                        new.out[kn] = PairOutput {
                            force: DVec3::ZERO,
                            torque_i: DVec3::ZERO,
                            torque_j: DVec3::ZERO,
                            ..o
                        };
                    }
                }
            }
        }
        drop(chunks);
        sc.spare = std::mem::replace(&mut self.pairs, new);
        self.blocks.link(&self.pairs);
        self.blocks.stamp = (self.rebuilds + 1, nb, n, self.pairs.len());
        self.rebuilds += 1;
        Ok(())
    }

    /// Compute all contact forces (pairs and walls), then sum them per particle in a fixed order.
    /// Also updates the top-wall velocity when it is pressure-driven.
    ///
    /// Each particle sums `ext_force`, then its pair forces in list order (ascending `(i, j)`),
    /// then the walls, whatever the thread count. The particles are split into one block per
    /// thread: slabs across the longer periodic axis holding about equal work. A block sweeps, in
    /// list order, the rows of its particles and the *foreign* pairs whose `j` it holds (about 5 %
    /// of the pairs with two slabs): each pair is evaluated and added to whichever of its particles
    /// the block holds, so every particle sees its pairs in order. A pair across two blocks is
    /// evaluated by both with identical inputs: the block of `i` owns it and updates its history
    /// in place, the other evaluates it from a snapshot taken at the start of the step. On one
    /// thread there is one block and no foreign pair.
    pub fn compute_forces(&mut self) {
        let n = self.p.len();
        let nb = rayon::current_num_threads().clamp(1, n.max(1));
        self.update_blocks(nb);
        let record = self.record_pair_outputs;
        let ctx = PairCtx {
            p: ParticleView {
                pos: &self.p.pos,
                vel: &self.p.vel,
                omega: &self.p.omega,
                radius: &self.p.radius,
                mass: &self.p.mass,
                material: &self.p.material,
            },
            table: &self.table,
            n_mat: self.n_mat,
            lx: self.lx,
            ly: self.ly,
            dt: self.dt,
            cohesion: self.cohesion,
        };
        let ext = &self.p.ext_force;
        let pl = &mut self.pairs;
        let (start, end, jv, shift) = (&pl.start, &pl.end, &pl.j, &pl.shift);
        let Blocks {
            of,
            local,
            members,
            foreign,
            snap,
            acc,
            ..
        } = &mut self.blocks;
        // The history of the pairs a block evaluates without owning them, before any changes.
        snap.resize_with(foreign.len(), Vec::new);
        snap.par_iter_mut()
            .zip(foreign.par_iter())
            .for_each(|(sn, fr)| {
                sn.clear();
                sn.extend(fr.iter().map(|&(k, _)| {
                    let k = k as usize;
                    (pl.state[k], pl.xi[k], pl.plastic[k])
                }));
            });
        let state = Exclusive::new(&mut pl.state);
        let xis = Exclusive::new(&mut pl.xi);
        let plastic = Exclusive::new(&mut pl.plastic);
        let outs = Exclusive::new(&mut pl.out);
        let wall_b = Exclusive::new(&mut self.walls.bottom);
        let wall_t = Exclusive::new(&mut self.walls.top);
        let wall_s = Exclusive::new(&mut self.walls.state);
        let wm = self.walls.material;
        let (zb, zt, top_active) = (self.walls.z_bottom, self.walls.z_top, self.walls.top_active);
        let (vb, vt) = (self.walls.bottom_vel, self.walls.top_vel);
        let (of, local) = (&*of, &*local);
        acc.par_iter_mut()
            .zip(members.par_iter())
            .zip(foreign.par_iter())
            .zip(snap.par_iter())
            .enumerate()
            .for_each(|(b, (((acc, mem), fr), sn))| {
                let p = &ctx.p;
                let m = mem.len();
                acc.force.clear();
                acc.force.extend(mem.iter().map(|&q| ext[q as usize]));
                acc.torque.clear();
                acc.torque.resize(m, DVec3::ZERO);
                acc.skipped.clear();
                acc.skipped.resize(m, false);
                let (fc, tc, sk) = (&mut acc.force, &mut acc.torque, &mut acc.skipped);
                // A foreign pair: evaluated from its history at the start of the step, added to j
                // only.
                let foreign_pair = |f: usize, fc: &mut [DVec3], tc: &mut [DVec3]| {
                    let (k, i) = (fr[f].0 as usize, fr[f].1 as usize);
                    let (st, xi, pls) = sn[f];
                    let j = jv[k] as usize;
                    let (d, dist2, apart) = ctx.test(p.pos[i], p.radius[i], j, shift[k], st);
                    if apart {
                        return;
                    }
                    let e = ctx.kernel(i, j, d, dist2, st, xi, pls, false);
                    if e.touching {
                        let lj = local[j] as usize;
                        fc[lj] -= e.force;
                        tc[lj] += e.torque_j;
                    }
                };
                let mut fi = 0usize;
                for (li, &i) in mem.iter().enumerate() {
                    let i = i as usize;
                    let (r0, r1) = (start[i] as usize, end[i] as usize);
                    // Foreign rows before this one (list order is by first particle).
                    while fi < fr.len() && (fr[fi].1 as usize) < i {
                        foreign_pair(fi, fc, tc);
                        fi += 1;
                    }
                    let (pi, ri) = (p.pos[i], p.radius[i]);
                    for k in r0..r1 {
                        let j = jv[k] as usize;
                        // SAFETY (all accesses to pair k below): k is in the row of i, which only
                        // this block sweeps; other blocks use their snapshots.
                        let st = unsafe { state.get(k) };
                        let (d, dist2, apart) = ctx.test(pi, ri, j, shift[k], st);
                        if apart {
                            unsafe { state.set(k, 0) };
                            sk[li] = true;
                            continue;
                        }
                        let xi = if st & TOUCHING != 0 {
                            unsafe { xis.get(k) }
                        } else {
                            DVec3::ZERO
                        };
                        let pls = if st & PLASTIC != 0 {
                            unsafe { plastic.get(k) }
                        } else {
                            PlasticState::default()
                        };
                        let e = ctx.kernel(i, j, d, dist2, st, xi, pls, record);
                        unsafe {
                            state.set(k, e.state);
                            if e.touching {
                                xis.set(k, e.xi);
                            }
                            if e.state & PLASTIC != 0 {
                                plastic.set(k, e.plastic);
                            }
                            if record {
                                outs.set(k, e.out);
                            }
                        }
                        if e.touching {
                            fc[li] += e.force;
                            tc[li] += e.torque_i;
                            if of[j] as usize == b {
                                let lj = local[j] as usize;
                                fc[lj] -= e.force;
                                tc[lj] += e.torque_j;
                            }
                        } else {
                            sk[li] = true;
                        }
                    }
                }
                while fi < fr.len() {
                    foreign_pair(fi, fc, tc);
                    fi += 1;
                }
                // The walls, after all pairs, for the block's particles.
                for (li, &i) in mem.iter().enumerate() {
                    let i = i as usize;
                    let mut fs = fc[li];
                    if sk[li] {
                        // The old gather added +0.0 for every pair that was apart; adding it once
                        // here turns a −0.0 sum into +0.0 exactly as that did, which keeps the
                        // results bit-identical to it.
                        fs += DVec3::ZERO;
                    }
                    let mut ts = tc[li];
                    let pp = &ctx.table[p.material[i] as usize * ctx.n_mat + wm as usize];
                    let r = p.radius[i];
                    // SAFETY (wall arrays): particle i belongs to this block only.
                    let ws0 = unsafe { wall_s.get(i) };
                    let mut ws = ws0;
                    // One wall: overlap `gap` (m), normal `n` into the box, wall velocity `vw`,
                    // its history array and state bit. A clear state bit means a default
                    // history, for which the wall law does nothing while apart.
                    let wall = |gap: f64,
                                n: DVec3,
                                vw: DVec3,
                                hist: &Exclusive<WallHistory>,
                                bit: u8,
                                ws: &mut u8,
                                fs: &mut DVec3,
                                ts: &mut DVec3| {
                        if gap > 0.0 || gap.is_nan() || *ws & bit != 0 {
                            // SAFETY: particle i belongs to this block only.
                            let mut h = unsafe { hist.get(i) };
                            let ran = wall_contact(
                                pp,
                                gap,
                                r,
                                p.mass[i],
                                n,
                                p.vel[i] - vw,
                                p.omega[i],
                                &mut h,
                                ctx.dt,
                                ctx.cohesion,
                                fs,
                                ts,
                            );
                            unsafe { hist.set(i, h) };
                            if ran {
                                *ws |= bit;
                            } else {
                                *ws &= !bit;
                            }
                        }
                    };
                    let db = zb - (p.pos[i].z - r);
                    wall(
                        db,
                        DVec3::Z,
                        vb,
                        &wall_b,
                        WALL_BOTTOM,
                        &mut ws,
                        &mut fs,
                        &mut ts,
                    );
                    if top_active {
                        let dtp = p.pos[i].z + r - zt;
                        wall(
                            dtp,
                            -DVec3::Z,
                            vt,
                            &wall_t,
                            WALL_TOP,
                            &mut ws,
                            &mut fs,
                            &mut ts,
                        );
                    } else if ws & WALL_TOP != 0 {
                        unsafe { wall_t.set(i, WallHistory::default()) };
                        ws &= !WALL_TOP;
                    }
                    if ws != ws0 {
                        unsafe { wall_s.set(i, ws) };
                    }
                    fc[li] = fs;
                    tc[li] = ts;
                }
            });
        // The sums into the particle arrays: one block holds them in particle order already.
        if acc.len() == 1 {
            std::mem::swap(&mut self.p.force, &mut acc[0].force);
            std::mem::swap(&mut self.p.torque, &mut acc[0].torque);
        } else {
            let acc = &*acc;
            let c = CHUNK_PARTICLES;
            self.p
                .force
                .par_chunks_mut(c)
                .zip(self.p.torque.par_chunks_mut(c))
                .enumerate()
                .for_each(|(ci, (fc, tc))| {
                    for l in 0..fc.len() {
                        let i = ci * c + l;
                        let (b, li) = (of[i] as usize, local[i] as usize);
                        fc[l] = acc[b].force[li];
                        tc[l] = acc[b].torque[li];
                    }
                });
        }
        // Wall reactions (sequential for determinism). Particles with a clear state bit have a
        // default history (normal force +0), which would add nothing.
        let mut ft = 0.0;
        let mut fb = 0.0;
        for (k, &st) in self.walls.state.iter().enumerate() {
            if st & WALL_TOP != 0 {
                ft += self.walls.top[k].normal_force;
            }
            if st & WALL_BOTTOM != 0 {
                fb += self.walls.bottom[k].normal_force;
            }
        }
        self.walls.top_force = ft;
        self.walls.bottom_force = fb;
        // Exponential moving average over ~100 steps (what the servo controls and the calender reads).
        self.walls.top_force_avg += 0.01 * (ft - self.walls.top_force_avg);
        if let WallDrive::Pressure {
            pressure,
            max_speed,
            shear,
        } = self.walls.top_drive
        {
            // Proportional servo on the time-averaged wall force (the instantaneous force of a stiff
            // packing rings; averaging over ~100 steps keeps the wall from chattering): speed ∝
            // pressure error, capped (LIGGGHTS-style servo wall).
            let area = self.lx * self.ly;
            let err = (pressure * area - self.walls.top_force_avg) / (pressure * area).max(1e-30);
            let vz = (-err * max_speed).clamp(-max_speed, max_speed);
            self.walls.top_vel = DVec3::new(shear.x, shear.y, vz);
        } else if let WallDrive::Velocity(v) = self.walls.top_drive {
            self.walls.top_vel = v;
        }
    }

    /// Bring the spatial blocks of [`Dem::compute_forces`] up to date when the pair list or the
    /// block count changed since they were made (normally they are made with the pair list).
    fn update_blocks(&mut self, nb: usize) {
        let stamp = (self.rebuilds, nb, self.p.len(), self.pairs.len());
        if self.blocks.stamp == stamp {
            return;
        }
        self.blocks
            .assign(nb, &self.p.pos, self.lx, self.ly, &self.pairs);
        self.blocks.link(&self.pairs);
        self.blocks.stamp = stamp;
    }

    /// One full velocity-Verlet step (no ECS; the ECS schedule calls the same pieces in its slots).
    pub fn step_once(&mut self) -> Result<(), DemError> {
        self.initial_integrate();
        self.maybe_rebuild()?;
        self.compute_forces();
        self.final_integrate()
    }

    /// Total kinetic energy (translational + rotational), J. Sequential sum.
    pub fn kinetic_energy(&self) -> f64 {
        let p = &self.p;
        (0..p.len())
            .map(|i| {
                0.5 * p.mass[i] * p.vel[i].length_squared()
                    + 0.5
                        * 0.4
                        * p.mass[i]
                        * p.radius[i]
                        * p.radius[i]
                        * p.omega[i].length_squared()
            })
            .sum()
    }

    /// Mean particle–particle coordination number (touching pairs × 2 / particles).
    pub fn coordination(&self) -> f64 {
        let c = self.pairs.touching_count();
        2.0 * c as f64 / self.p.len().max(1) as f64
    }

    /// Solid fraction of the particles in the box between the walls.
    pub fn solid_fraction(&self) -> f64 {
        let v: f64 = self
            .p
            .radius
            .iter()
            .map(|r| 4.0 / 3.0 * std::f64::consts::PI * r * r * r)
            .sum();
        v / (self.lx * self.ly * (self.walls.z_top - self.walls.z_bottom))
    }

    /// Height of the highest particle top above the bottom wall, m.
    pub fn film_top(&self) -> f64 {
        self.p
            .pos
            .iter()
            .zip(&self.p.radius)
            .map(|(x, r)| x.z + r)
            .fold(f64::MIN, f64::max)
    }

    /// Remove the film's rigid-body velocity through the thickness: subtract the mass-weighted mean
    /// z velocity (m/s) of the particles of radius ≥ `min_radius` (m) from each of them, as LAMMPS's
    /// `fix momentum` does. Used while a released film relaxes with no top wall: the elastic energy
    /// it gives back pushes it off the bottom wall, and with no gravity (negligible at micron scale)
    /// nothing would stop that drift, which is not springback. Internal motion is untouched;
    /// smaller particles (spent PTFE lumps, which no longer take part in the film) are left out.
    /// Sequential sums (thread-count independent).
    pub fn remove_drift_z(&mut self, min_radius: f64) {
        let p = &mut self.p;
        let (mut m, mut mv) = (0.0f64, 0.0f64);
        for k in 0..p.len() {
            if p.radius[k] >= min_radius {
                m += p.mass[k];
                mv += p.mass[k] * p.vel[k].z;
            }
        }
        if m > 0.0 {
            let vz = mv / m;
            for (v, r) in p.vel.iter_mut().zip(&p.radius) {
                if *r >= min_radius {
                    v.z -= vz;
                }
            }
        }
    }

    /// Translate every particle down so that the lowest bottom of the particles of radius
    /// ≥ `min_radius` (m) rests on the bottom wall (a shift of at most the gap under the film, m;
    /// nothing moves if one already touches it). A free film lies on the bottom wall; the shift
    /// changes no relative position. Returns the shift, m.
    pub fn rest_on_bottom(&mut self, min_radius: f64) -> f64 {
        let low = self
            .p
            .pos
            .iter()
            .zip(&self.p.radius)
            .filter(|(_, r)| **r >= min_radius)
            .map(|(x, r)| x.z - r)
            .fold(f64::MAX, f64::min);
        let gap = low - self.walls.z_bottom;
        if gap > 0.0 && gap.is_finite() {
            for x in self.p.pos.iter_mut() {
                x.z -= gap;
            }
            gap
        } else {
            0.0
        }
    }

    /// Scale the periodic x length by `factor`, moving particles affinely (used for MD elongation).
    pub fn stretch_x(&mut self, factor: f64) {
        self.lx *= factor;
        for x in self.p.pos.iter_mut() {
            x.x *= factor;
        }
        for x in self.p.pos_at_build.iter_mut() {
            x.x *= factor;
        }
    }

    /// Affine scaling of all z positions about the bottom wall (used to compact a loose packing).
    pub fn scale_z(&mut self, factor: f64) {
        let zb = self.walls.z_bottom;
        for x in self.p.pos.iter_mut() {
            x.z = zb + (x.z - zb) * factor;
        }
    }

    /// First 16 hex digits of the sha256 of the dynamic state (the raw bits of every position,
    /// velocity and angular velocity, then the top-wall height): a fingerprint for checking that
    /// two runs (thread counts, builds) are bitwise identical. Orientations are left out (they
    /// feed back into nothing, and [`Dem::orientations`] may turn them off).
    pub fn state_digest(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let p = &self.p;
        for k in 0..p.len() {
            for v in [p.pos[k], p.vel[k], p.omega[k]] {
                for c in v.to_array() {
                    h.update(c.to_bits().to_le_bytes());
                }
            }
        }
        h.update(self.walls.z_top.to_bits().to_le_bytes());
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Number of touching pairs.
    pub fn touching_pairs(&self) -> usize {
        self.pairs.touching_count()
    }
}

/// The particle arrays the force computation reads.
#[derive(Clone, Copy)]
struct ParticleView<'a> {
    pos: &'a [DVec3],
    vel: &'a [DVec3],
    omega: &'a [DVec3],
    radius: &'a [f64],
    mass: &'a [f64],
    material: &'a [u8],
}

/// What the pair kernel needs besides the pair itself.
struct PairCtx<'a> {
    p: ParticleView<'a>,
    table: &'a [PairParams],
    n_mat: usize,
    lx: f64,
    ly: f64,
    dt: f64,
    cohesion: bool,
}

/// One evaluated pair: its force and torques (zero when not touching) and its next-step state,
/// spring, plastic history and output record.
struct Eval {
    touching: bool,
    force: DVec3,
    torque_i: DVec3,
    torque_j: DVec3,
    state: u8,
    xi: DVec3,
    plastic: PlasticState,
    out: PairOutput,
}

impl PairCtx<'_> {
    /// Distance test of pair (i, j) (position `pi`, radius `ri` of i; image shift `sh`; pair
    /// state `state`): the pair vector `d = x_i − x_j + shift` (m), |d|² (m²) and whether the pair
    /// is apart without plastic history (then force, torques and spring are zero and the kernel
    /// is skipped).
    #[inline(always)]
    fn test(&self, pi: DVec3, ri: f64, j: usize, sh: [i8; 2], state: u8) -> (DVec3, f64, bool) {
        let p = &self.p;
        let d = pi - p.pos[j] + DVec3::new(sh[0] as f64 * self.lx, sh[1] as f64 * self.ly, 0.0);
        let dist2 = d.length_squared();
        let sum = ri + p.radius[j];
        (d, dist2, dist2 >= sum * sum && state & PLASTIC == 0)
    }

    /// The contact kernel of pair (i, j) with pair vector `d` and |d|² = `dist2`, from its current
    /// state bits `st`, spring `xi` and plastic history `pl` (each used only where `st` says it is
    /// valid). `record`: fill the output record.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn kernel(
        &self,
        i: usize,
        j: usize,
        d: DVec3,
        dist2: f64,
        st: u8,
        xi: DVec3,
        pl: PlasticState,
        record: bool,
    ) -> Eval {
        let p = &self.p;
        let (ri, rj) = (p.radius[i], p.radius[j]);
        let sum = ri + rj;
        let dist = dist2.sqrt();
        let n = d / dist;
        let delta = sum - dist;
        let pp = &self.table[p.material[i] as usize * self.n_mat + p.material[j] as usize];
        let r_eff = ri * rj / sum;
        let m_eff = p.mass[i] * p.mass[j] / (p.mass[i] + p.mass[j]);
        let vrel = p.vel[i] - p.vel[j];
        let mut xi = if st & TOUCHING != 0 { xi } else { DVec3::ZERO };
        let mut pls = if st & PLASTIC != 0 {
            pl
        } else {
            PlasticState::default()
        };
        let o = contact_force(
            pp,
            delta,
            r_eff,
            m_eff,
            n,
            vrel,
            p.omega[i],
            p.omega[j],
            ri,
            rj,
            &mut pls,
            &mut xi,
            self.dt,
            self.cohesion,
        );
        if delta <= 0.0 {
            pls = PlasticState::default();
        }
        let mut ns = 0;
        if o.touching {
            ns |= TOUCHING;
        }
        if pls.delta_max != 0.0 {
            ns |= PLASTIC;
        }
        let mut out = PairOutput::default();
        if record {
            ns |= EVALUATED;
            out = PairOutput {
                force: o.force,
                torque_i: o.torque_i,
                torque_j: o.torque_j,
                normal_force: o.normal_force,
                contact_radius: o.contact_radius,
                overlap: delta,
            };
        }
        Eval {
            touching: o.touching,
            force: o.force,
            torque_i: o.torque_i,
            torque_j: o.torque_j,
            state: ns,
            xi,
            plastic: pls,
            out,
        }
    }
}

/// Result of one contact evaluation.
#[derive(Debug, Clone, Copy)]
pub struct ContactOut {
    /// Force on body i, N.
    pub force: DVec3,
    /// Torque on i, N·m.
    pub torque_i: DVec3,
    /// Torque on j, N·m.
    pub torque_j: DVec3,
    /// Touching?
    pub touching: bool,
    /// Contact radius, m.
    pub contact_radius: f64,
    /// Signed normal force (positive repulsive), N.
    pub normal_force: f64,
}

/// The full contact force between body i and body j (a sphere or a wall), the pure kernel the engine
/// loops over. `n` points from j to i, `vrel = v_i − v_j` (m/s), `rj = f64::INFINITY`-like walls are
/// handled by passing `rj` only into the lever arm (0 for a wall).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn contact_force(
    pp: &PairParams,
    delta: f64,
    r_eff: f64,
    m_eff: f64,
    n: DVec3,
    vrel: DVec3,
    wi: DVec3,
    wj: DVec3,
    ri: f64,
    rj: f64,
    plastic: &mut PlasticState,
    xi: &mut DVec3,
    dt: f64,
    cohesion: bool,
) -> ContactOut {
    let law = normal_law(pp.normal, pp.y_star, r_eff, delta, plastic);
    let touching = law.force > 0.0 || (delta > 0.0 && plastic.delta_max == 0.0);
    if !touching {
        *xi = DVec3::ZERO;
        return ContactOut {
            force: DVec3::ZERO,
            torque_i: DVec3::ZERO,
            torque_j: DVec3::ZERO,
            touching: false,
            contact_radius: law.radius,
            normal_force: 0.0,
        };
    }
    let vn = vrel.dot(n);
    let gamma = damping_coefficient(pp.beta, pp.y_star, law.stiffness_radius, m_eff);
    let mut fn_ = law.force - gamma * vn;
    if cohesion && pp.surface_energy > 0.0 {
        fn_ -= dmt_adhesion(pp.surface_energy, r_eff);
    }
    let vc = vrel - (ri * wi + rj * wj).cross(n);
    let vt = vc - n * vc.dot(n);
    let kt = 8.0 * pp.g_star * law.stiffness_radius;
    let ft = tangential_force(xi, vt, n, kt, pp.friction, fn_.abs(), dt);
    let mut ti = (-ri * n).cross(ft);
    // Contact point of j is at x_j + r_j n, and j receives −F_t (LAMMPS/LIGGGHTS convention).
    let mut tj = (rj * n).cross(-ft);
    if cohesion && pp.rolling_friction > 0.0 {
        let mr = rolling_torque(pp.rolling_friction, r_eff, fn_.abs(), wi - wj);
        ti += mr;
        tj -= mr;
    }
    ContactOut {
        force: fn_ * n + ft,
        torque_i: ti,
        torque_j: tj,
        touching: true,
        contact_radius: law.radius,
        normal_force: fn_,
    }
}

/// The contact of a sphere with a flat wall; adds the force and torque to `fs`, `ts` and updates
/// the history `h`. Returns whether the contact kernel ran (false: apart without plastic history,
/// `h` reset to the default).
#[allow(clippy::too_many_arguments)]
#[inline]
fn wall_contact(
    pp: &PairParams,
    delta: f64,
    r: f64,
    m: f64,
    n: DVec3,
    vrel: DVec3,
    w: DVec3,
    h: &mut WallHistory,
    dt: f64,
    cohesion: bool,
    fs: &mut DVec3,
    ts: &mut DVec3,
) -> bool {
    if delta <= 0.0 && h.plastic.delta_max == 0.0 {
        *h = WallHistory::default();
        return false;
    }
    let out = contact_force(
        pp,
        delta,
        r,
        m,
        n,
        vrel,
        w,
        DVec3::ZERO,
        r,
        0.0,
        &mut h.plastic,
        &mut h.xi,
        dt,
        cohesion,
    );
    if delta <= 0.0 {
        h.plastic = PlasticState::default();
    }
    h.contact_radius = if out.touching {
        out.contact_radius
    } else {
        0.0
    };
    h.normal_force = out.normal_force;
    *fs += out.force;
    *ts += out.torque_i;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dem::bench::anchor_material;
    use rand::{Rng, SeedableRng};

    /// Every pair within r_i + r_j + skin (minimum image in x and y), listed once with i < j and
    /// the right image shift, for a polydisperse packing (radius ratio 12) in a periodic box whose
    /// cells are smaller than the largest pair range — checked against an all-pairs search.
    #[test]
    fn neighbour_list_matches_all_pairs_search_for_polydisperse_packing() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (lx, ly, h) = (60e-6, 45e-6, 30e-6);
        let mut p = ParticleState::default();
        for k in 0..1500 {
            // Mostly small particles with a few large ones, like PTFE lumps among NPS grains.
            let r = if k % 9 == 0 {
                rng.random_range(3.0e-6..6.0e-6)
            } else {
                rng.random_range(0.5e-6..1.5e-6)
            };
            // Positions a little outside the box too (wrapped by the rebuild).
            let x = DVec3::new(
                rng.random_range(-0.1 * lx..1.1 * lx),
                rng.random_range(-0.1 * ly..1.1 * ly),
                rng.random_range(0.0..h),
            );
            p.push(x, r, 1e-15, 0);
        }
        let mat = anchor_material();
        let table = vec![PairParams::mix(&mat, &mat)];
        let skin = 0.4e-6;
        let mut d = Dem::new(p, table, 1, lx, ly, 0.0, h, 0, 1e-9, skin);
        d.rebuild().unwrap();
        let n = d.p.len();
        let mut want = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                let mut v = d.p.pos[i] - d.p.pos[j];
                let sx = -(v.x / lx).round();
                let sy = -(v.y / ly).round();
                v.x += sx * lx;
                v.y += sy * ly;
                let cut = d.p.radius[i] + d.p.radius[j] + skin;
                if v.length_squared() < cut * cut {
                    want.push((i as u32, j as u32, sx as i8, sy as i8));
                }
            }
        }
        let got: Vec<_> = d.pairs.iter().map(|q| (q.i, q.j, q.sx, q.sy)).collect();
        assert!(want.len() > 1000, "too few pairs to test: {}", want.len());
        assert_eq!(got, want);
    }

    /// Drift removal takes out the mass-weighted mean z velocity and nothing else; resting on the
    /// bottom wall shifts the film down by its gap, rigidly, and never lifts a touching film.
    #[test]
    fn drift_removal_and_rest_on_bottom_are_rigid() {
        let mut p = ParticleState::default();
        p.push(DVec3::new(1e-6, 1e-6, 3e-6), 1e-6, 1e-15, 0);
        p.push(DVec3::new(4e-6, 1e-6, 6e-6), 2e-6, 3e-15, 0);
        let mat = anchor_material();
        let table = vec![PairParams::mix(&mat, &mat)];
        let mut d = Dem::new(p, table, 1, 10e-6, 10e-6, 0.0, 20e-6, 0, 1e-9, 0.2e-6);
        d.p.vel[0] = DVec3::new(0.1, 0.2, 1.0);
        d.p.vel[1] = DVec3::new(-0.3, 0.0, 2.0);
        d.remove_drift_z(0.0);
        let pz: f64 = (0..2).map(|k| d.p.mass[k] * d.p.vel[k].z).sum();
        assert!(pz.abs() < 1e-28, "z momentum left: {pz}");
        // Relative z velocity and in-plane velocities unchanged.
        assert!((d.p.vel[1].z - d.p.vel[0].z - 1.0).abs() < 1e-12);
        assert_eq!(d.p.vel[0].x, 0.1);
        assert_eq!(d.p.vel[1].x, -0.3);
        // Lowest bottom at 2 µm (particle 0: 3 − 1): shifted down by 2 µm.
        let shift = d.rest_on_bottom(0.0);
        assert!((shift - 2e-6).abs() < 1e-15, "shift {shift}");
        assert!((d.p.pos[0].z - 1e-6).abs() < 1e-15);
        assert!((d.p.pos[1].z - 4e-6).abs() < 1e-15);
        // Touching (or pressed into) the wall: no shift.
        d.p.pos[0].z = 0.9e-6;
        assert_eq!(d.rest_on_bottom(0.0), 0.0);
        assert_eq!(d.p.pos[0].z, 0.9e-6);
        // Particles under `min_radius` neither set the floor nor lose their z velocity.
        d.p.pos[0].z = -5e-6;
        d.p.vel[0].z = 3.0;
        let v1 = d.p.vel[1].z;
        d.remove_drift_z(1.5e-6);
        assert_eq!(d.p.vel[0].z, 3.0);
        assert_eq!(
            d.p.vel[1].z, 0.0,
            "the one film particle keeps no drift (was {v1})"
        );
        let shift = d.rest_on_bottom(1.5e-6);
        assert!((shift - 2e-6).abs() < 1e-15, "shift {shift}");
    }
}
