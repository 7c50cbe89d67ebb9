//! The DEM engine on contiguous arrays: particle state (structure of arrays), the Verlet pair list
//! with contact history, walls, and the velocity-Verlet step split into the integrator's slots.
//!
//! Determinism: pair forces are computed independently per pair (in parallel), then each particle
//! sums its own pairs in ascending pair order (its `j`-side pairs from the transpose, then its own
//! row; both built at each neighbour rebuild), so results are bitwise identical on any number of
//! threads. Reductions over particles (wall forces, energies) are sequential.
//!
//! Storage: the pair list is split hot/cold ([`PairList`]): the per-step distance test reads 7 bytes
//! per pair; history and outputs are touched only for pairs in contact.
//!
//! Periodicity: x and y are periodic with lengths `lx`, `ly`; positions are wrapped into the box only
//! at neighbour rebuilds, and each pair stores its integer image shift, so the pair vector is
//! `d = x_i − x_j + (s_x lx, s_y ly, 0)` between rebuilds. z is bounded by two flat walls.

use super::contact::{
    damping_coefficient, dmt_adhesion, normal_law, rolling_torque, tangential_force, NormalModel,
    PairParams, PlasticState,
};
use super::lanes::{self, LaneIn, LaneOut, LANES};
use super::pairs::{split_at_offsets, PairForce, CHUNK_PAIRS, EVALUATED, PLASTIC, TOUCHING};
pub use super::pairs::{Pair, PairList, PairOutput};
use glam::{DQuat, DVec3};
use rayon::prelude::*;

/// Particles per work chunk of the per-particle loops (integration, force gather).
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

/// One neighbour-search work chunk: the new pairs of particles `a..b` and the history to carry.
#[derive(Default)]
struct SearchChunk {
    /// Pairs per particle of the chunk.
    counts: Vec<u32>,
    /// Second particle per new pair.
    j: Vec<u32>,
    /// Image shift per new pair.
    shift: Vec<[i8; 2]>,
    /// (new pair index within the chunk, old pair index) of pairs whose old state is not empty.
    carry: Vec<(u32, u32)>,
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
            row: vec![0; n + 1],
            col_start: vec![0; n + 1],
            chunks: vec![n as u32],
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
        }
    }

    /// Pair parameters of two materials.
    #[inline]
    pub fn params(&self, a: u8, b: u8) -> &PairParams {
        &self.table[a as usize * self.n_mat + b as usize]
    }

    /// Minimum-image pair vector `x_i − x_j` for an arbitrary pair, m.
    pub fn min_image(&self, i: usize, j: usize) -> DVec3 {
        let mut d = self.p.pos[i] - self.p.pos[j];
        d.x -= self.lx * (d.x / self.lx).round();
        d.y -= self.ly * (d.y / self.ly).round();
        d
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
        self.step += 1;
        if let Some(i) = bad {
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
        let ncx = ((lx / range).floor() as usize).max(1);
        let ncy = ((ly / range).floor() as usize).max(1);
        let ncz = (((zmax - zmin) / range).floor() as usize + 1).max(1);
        let (cx, cy, cz) = (
            lx / ncx as f64,
            ly / ncy as f64,
            ((zmax - zmin) / ncz as f64).max(range),
        );
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
        let offs = |nc: usize| -> Vec<isize> {
            if nc >= 3 {
                vec![-1, 0, 1]
            } else {
                (0..nc as isize).collect()
            }
        };
        let (ox, oy) = (offs(ncx), offs(ncy));
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
        const SEARCH_CHUNK: usize = 256;
        let chunks: Vec<SearchChunk> = (0..n.div_ceil(SEARCH_CHUNK))
            .into_par_iter()
            .map(|ci| {
                let (a, b) = (ci * SEARCH_CHUNK, ((ci + 1) * SEARCH_CHUNK).min(n));
                let mut ch = SearchChunk {
                    counts: Vec::with_capacity(b - a),
                    j: Vec::with_capacity((b - a) * 12),
                    shift: Vec::with_capacity((b - a) * 12),
                    carry: Vec::new(),
                };
                // Candidate buffer: every scanned particle is written, the count advances only for
                // kept ones (no unpredictable branch on the index order or the distance test).
                let mut buf: Vec<(u32, i8, i8)> = vec![(0, 0, 0); 256];
                for i in a..b {
                    let xi = pos[i];
                    let ri = rad[i];
                    let (ix, iy, iz) = cell_of(xi);
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
                    for dz in -1isize..=1 {
                        let jz = iz as isize + dz;
                        if jz < 0 || jz >= ncz as isize {
                            continue;
                        }
                        for &dy in &oy {
                            let jy = if ncy >= 3 {
                                (iy as isize + dy).rem_euclid(ncy as isize)
                            } else {
                                dy
                            };
                            let row0 = (jz as usize * ncy + jy as usize) * ncx;
                            if ncx >= 3 && ix >= 1 && ix + 1 < ncx {
                                // Cells ix − 1, ix, ix + 1 are contiguous in the sorted order.
                                scan(row0 + ix - 1, row0 + ix + 2, &mut buf);
                            } else {
                                for &dx in &ox {
                                    let jx = if ncx >= 3 {
                                        (ix as isize + dx).rem_euclid(ncx as isize)
                                    } else {
                                        dx
                                    };
                                    let c = row0 + jx as usize;
                                    scan(c, c + 1, &mut buf);
                                }
                            }
                        }
                    }
                    let cand = &mut buf[..m];
                    cand.sort_unstable_by_key(|e| e.0);
                    // Merge with the old row of i (also sorted by j).
                    let (mut ko, ke) = if i + 1 < old.row.len() {
                        (old.row[i] as usize, old.row[i + 1] as usize)
                    } else {
                        (0, 0)
                    };
                    for &(j, sx, sy) in cand.iter() {
                        while ko < ke && old.j[ko] < j {
                            ko += 1;
                        }
                        if ko < ke && old.j[ko] == j && old.state[ko] != 0 {
                            ch.carry.push((ch.j.len() as u32, ko as u32));
                        }
                        ch.j.push(j);
                        ch.shift.push([sx, sy]);
                    }
                    ch.counts.push(cand.len() as u32);
                }
                ch
            })
            .collect();
        // Assemble the new list in the spare arrays.
        let mut new = std::mem::take(&mut sc.spare);
        let total: usize = chunks.iter().map(|c| c.j.len()).sum();
        new.row.clear();
        new.row.reserve(n + 1);
        new.row.push(0);
        new.j.clear();
        new.j.reserve(total);
        new.shift.clear();
        new.shift.reserve(total);
        new.state.clear();
        new.state.resize(total, 0);
        set_len_keep(&mut new.xi, total);
        set_len_keep(&mut new.plastic, total);
        set_len_keep(&mut new.out, total);
        let mut acc = 0u32;
        for ch in &chunks {
            let base = new.j.len();
            for &c in &ch.counts {
                acc += c;
                new.row.push(acc);
            }
            new.j.extend_from_slice(&ch.j);
            new.shift.extend_from_slice(&ch.shift);
            for &(kn, ko) in &ch.carry {
                let (kn, ko) = (base + kn as usize, ko as usize);
                let st = old.state[ko];
                new.state[kn] = st;
                if st & TOUCHING != 0 {
                    new.xi[kn] = old.xi[ko];
                }
                if st & PLASTIC != 0 {
                    new.plastic[kn] = old.plastic[ko];
                }
                if st & EVALUATED != 0 {
                    // Force and torques are recomputed before they are used; the rest carries over.
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
        drop(chunks);
        // Transpose: per particle, the pairs in which it is j, ascending.
        new.col_start.clear();
        new.col_start.resize(n + 1, 0);
        for &j in &new.j {
            new.col_start[j as usize + 1] += 1;
        }
        for p in 0..n {
            new.col_start[p + 1] += new.col_start[p];
        }
        sc.fill.clear();
        sc.fill.extend_from_slice(&new.col_start[..n]);
        new.col.resize(total, 0);
        for (k, &j) in new.j.iter().enumerate() {
            new.col[sc.fill[j as usize] as usize] = k as u32;
            sc.fill[j as usize] += 1;
        }
        // Work chunks of the pair loop: consecutive particles with about CHUNK_PAIRS pairs.
        new.chunks.clear();
        let mut last = 0u32;
        for i in 1..=n {
            if new.row[i] - last >= CHUNK_PAIRS || i == n {
                new.chunks.push(i as u32);
                last = new.row[i];
            }
        }
        if n == 0 {
            new.chunks.push(0);
        }
        sc.spare = std::mem::replace(&mut self.pairs, new);

        self.rebuilds += 1;
        Ok(())
    }

    /// Compute all contact forces (pairs and walls), then sum them per particle in a fixed order.
    /// Also updates the top-wall velocity when it is pressure-driven.
    ///
    /// Each particle sums `ext_force`, then its pair forces in ascending pair index, then the walls,
    /// whatever the thread count. The particles are split into one contiguous block per thread.
    /// Phase 1 evaluates in parallel the *cross* pairs (i in a block, j in a later one) and stores
    /// their forces. Phase 2 runs each block as one task: a particle starts from its stored cross
    /// contributions as `j` (all of which precede the block's rows), then the block's rows are
    /// swept in order, evaluating in-block pairs and adding them to both particles at once, and
    /// adding the stored cross forces at the end of each row. On one thread everything is phase 2.
    pub fn compute_forces(&mut self) {
        let n = self.p.len();
        let ctx = PairCtx {
            p: ParticleView {
                pos: &self.p.pos,
                vel: &self.p.vel,
                omega: &self.p.omega,
                radius: &self.p.radius,
                mass: &self.p.mass,
                material: &self.p.material,
                ext_force: &self.p.ext_force,
            },
            table: &self.table,
            n_mat: self.n_mat,
            lx: self.lx,
            ly: self.ly,
            dt: self.dt,
            cohesion: self.cohesion,
            simple: self.table.iter().all(|pp| {
                pp.normal == NormalModel::Hertz
                    && !(self.cohesion && pp.surface_energy > 0.0)
                    && !(self.cohesion && pp.rolling_friction > 0.0)
            }),
            isa: lanes::detect(),
            record: self.record_pair_outputs,
        };
        let nb = rayon::current_num_threads().clamp(1, n.max(1));
        let pb: Vec<usize> = (0..=nb).map(|b| b * n / nb).collect();
        let pl = &mut self.pairs;
        let npairs = pl.j.len();
        let row = &pl.row;
        let jv = &pl.j;
        let shift = &pl.shift;
        // Phase 1: cross pairs, the end j ≥ (end of i's block) of each row of blocks 0..nb−1.
        if nb > 1 {
            pl.xflag.resize(npairs, 0);
            set_len_keep(&mut pl.xforce, npairs);
            let last = pb[nb - 1];
            let mut firsts: Vec<u32> = vec![0];
            firsts.extend(pl.chunks.iter().copied().filter(|&c| (c as usize) < last));
            firsts.push(last as u32);
            let bounds: Vec<u32> = firsts[1..].iter().map(|&i| row[i as usize]).collect();
            let nl = row[last] as usize;
            let state = split_at_offsets(&mut pl.state[..nl], &bounds);
            let xis = split_at_offsets(&mut pl.xi[..nl], &bounds);
            let plastic = split_at_offsets(&mut pl.plastic[..nl], &bounds);
            let outs = split_at_offsets(&mut pl.out[..nl], &bounds);
            let xflag = split_at_offsets(&mut pl.xflag[..nl], &bounds);
            let xforce = split_at_offsets(&mut pl.xforce[..nl], &bounds);
            state
                .into_par_iter()
                .zip(xis)
                .zip(plastic)
                .zip(outs)
                .zip(xflag)
                .zip(xforce)
                .enumerate()
                .for_each(|(ci, (((((state, xis), plastic), outs), xflag), xforce))| {
                    let (ia, ib) = (firsts[ci] as usize, firsts[ci + 1] as usize);
                    let base = row[ia] as usize;
                    let mut b = pb.partition_point(|&s| s <= ia) - 1;
                    let mut pend: Vec<Pending> = Vec::new();
                    for i in ia..ib {
                        while i >= pb[b + 1] {
                            b += 1;
                        }
                        let end = pb[b + 1] as u32;
                        let (r0, r1) = (row[i] as usize, row[i + 1] as usize);
                        let first_cross = r0 + jv[r0..r1].partition_point(|&j| j < end);
                        let (pi, ri) = (ctx.p.pos[i], ctx.p.radius[i]);
                        for k in first_cross..r1 {
                            let kl = k - base;
                            let j = jv[k] as usize;
                            let (d, dist2, apart) = ctx.test(pi, ri, j, shift[k], state[kl]);
                            xflag[kl] = 0;
                            if apart {
                                state[kl] = 0;
                            } else {
                                pend.push(Pending {
                                    kl: kl as u32,
                                    i: i as u32,
                                    j: j as u32,
                                    d,
                                    dist2,
                                });
                            }
                        }
                    }
                    let mut touch = vec![false; pend.len()];
                    let mut res = vec![PairForce::default(); pend.len()];
                    ctx.kernels(&pend, state, xis, plastic, outs, &mut touch, &mut res);
                    for (u, pe) in pend.iter().enumerate() {
                        if touch[u] {
                            xflag[pe.kl as usize] = 1;
                            xforce[pe.kl as usize] = res[u];
                        }
                    }
                });
        }
        // Phase 2: one task per block.
        let wm = self.walls.material;
        let (zb, zt, top_active) = (self.walls.z_bottom, self.walls.z_top, self.walls.top_active);
        let (vb, vt) = (self.walls.bottom_vel, self.walls.top_vel);
        let pbounds: Vec<u32> = pb[1..].iter().map(|&i| i as u32).collect();
        let rbounds: Vec<u32> = pb[1..].iter().map(|&i| row[i]).collect();
        let state = split_at_offsets(&mut pl.state, &rbounds);
        let xis = split_at_offsets(&mut pl.xi, &rbounds);
        let plastic = split_at_offsets(&mut pl.plastic, &rbounds);
        let outs = split_at_offsets(&mut pl.out, &rbounds);
        let (col, cs, xflag, xforce) = (&pl.col, &pl.col_start, &pl.xflag, &pl.xforce);
        let forces = split_at_offsets(&mut self.p.force, &pbounds);
        let torques = split_at_offsets(&mut self.p.torque, &pbounds);
        let wbs = split_at_offsets(&mut self.walls.bottom, &pbounds);
        let wts = split_at_offsets(&mut self.walls.top, &pbounds);
        let wss = split_at_offsets(&mut self.walls.state, &pbounds);
        let p = &ctx.p;
        state
            .into_par_iter()
            .zip(xis)
            .zip(plastic)
            .zip(outs)
            .zip(forces)
            .zip(torques)
            .zip(wbs)
            .zip(wts)
            .zip(wss)
            .enumerate()
            .for_each(
                |(b, ((((((((state, xis), plastic), outs), fc), tc), wbc), wtc), wsc))| {
                    let (s, e) = (pb[b], pb[b + 1]);
                    let base = row[s] as usize;
                    let mut skipped_i = vec![false; e - s];
                    // Start: ext_force, then the stored cross pairs where the particle is j (their
                    // rows precede the block, so they come first in pair order). Pairs not touching
                    // contribute exact zeros and are skipped; adding +0 to the force only turns a
                    // −0 into +0, which `skipped_i` reproduces for the i side (on the j side,
                    // subtracting +0 changes nothing, and torques start at +0).
                    for q in s..e {
                        let mut fs = p.ext_force[q];
                        let mut ts = DVec3::ZERO;
                        for &k in &col[cs[q] as usize..cs[q + 1] as usize] {
                            if k as usize >= base {
                                break;
                            }
                            if xflag[k as usize] != 0 {
                                let o = &xforce[k as usize];
                                fs -= o.force;
                                ts += o.torque_j;
                            }
                        }
                        fc[q - s] = fs;
                        tc[q - s] = ts;
                    }
                    // The block's rows in order, in groups of about GROUP_PAIRS pairs: (A) the
                    // distance tests of the in-block pairs, (B) the kernels of those not apart,
                    // (C) the sums in pair order: in-block pairs to both particles, cross pairs
                    // (the end of each row) from phase 1.
                    let mut pend: Vec<Pending> = Vec::new();
                    let mut touch: Vec<bool> = Vec::new();
                    let mut res: Vec<PairForce> = Vec::new();
                    let mut i0 = s;
                    while i0 < e {
                        let mut i1 = i0 + 1;
                        while i1 < e && row[i1] - row[i0] < GROUP_PAIRS {
                            i1 += 1;
                        }
                        // (A)
                        let npair = (row[i1] - row[i0]) as usize;
                        if pend.len() < npair {
                            pend.resize(npair, Pending::default());
                            touch.resize(npair, false);
                            res.resize(npair, PairForce::default());
                        }
                        let mut m = 0usize;
                        for i in i0..i1 {
                            let (pi, ri) = (p.pos[i], p.radius[i]);
                            for k in row[i] as usize..row[i + 1] as usize {
                                let j = jv[k] as usize;
                                if j >= e {
                                    break;
                                }
                                let kl = k - base;
                                let (d, dist2, apart) = ctx.test(pi, ri, j, shift[k], state[kl]);
                                if apart {
                                    state[kl] = 0;
                                }
                                pend[m] = Pending {
                                    kl: kl as u32,
                                    i: i as u32,
                                    j: j as u32,
                                    d,
                                    dist2,
                                };
                                m += !apart as usize;
                            }
                        }
                        // (B)
                        ctx.kernels(
                            &pend[..m],
                            state,
                            xis,
                            plastic,
                            outs,
                            &mut touch[..m],
                            &mut res[..m],
                        );
                        // (C)
                        let mut u = 0usize;
                        for i in i0..i1 {
                            let li = i - s;
                            for k in row[i] as usize..row[i + 1] as usize {
                                let j = jv[k] as usize;
                                if j < e {
                                    if u < m && pend[u].kl as usize == k - base {
                                        if touch[u] {
                                            let o = &res[u];
                                            fc[li] += o.force;
                                            tc[li] += o.torque_i;
                                            fc[j - s] -= o.force;
                                            tc[j - s] += o.torque_j;
                                        } else {
                                            skipped_i[li] = true;
                                        }
                                        u += 1;
                                    } else {
                                        skipped_i[li] = true;
                                    }
                                } else if xflag[k] != 0 {
                                    let o = &xforce[k];
                                    fc[li] += o.force;
                                    tc[li] += o.torque_i;
                                } else {
                                    skipped_i[li] = true;
                                }
                            }
                        }
                        i0 = i1;
                    }
                    // Walls.
                    for l in 0..e - s {
                        let i = s + l;
                        let mut fs = fc[l];
                        let mut ts = tc[l];
                        if skipped_i[l] {
                            fs += DVec3::ZERO;
                        }
                        let pp = &ctx.table[p.material[i] as usize * ctx.n_mat + wm as usize];
                        let r = p.radius[i];
                        let ws = &mut wsc[l];
                        // Bottom wall: normal +z. A clear state bit means a default history, for
                        // which the wall law does nothing while apart.
                        let db = zb - (p.pos[i].z - r);
                        if db > 0.0 || db.is_nan() || *ws & WALL_BOTTOM != 0 {
                            let ran = wall_contact(
                                pp,
                                db,
                                r,
                                p.mass[i],
                                DVec3::Z,
                                p.vel[i] - vb,
                                p.omega[i],
                                &mut wbc[l],
                                ctx.dt,
                                ctx.cohesion,
                                &mut fs,
                                &mut ts,
                            );
                            if ran {
                                *ws |= WALL_BOTTOM;
                            } else {
                                *ws &= !WALL_BOTTOM;
                            }
                        }
                        if top_active {
                            let dtp = p.pos[i].z + r - zt;
                            if dtp > 0.0 || dtp.is_nan() || *ws & WALL_TOP != 0 {
                                let ran = wall_contact(
                                    pp,
                                    dtp,
                                    r,
                                    p.mass[i],
                                    -DVec3::Z,
                                    p.vel[i] - vt,
                                    p.omega[i],
                                    &mut wtc[l],
                                    ctx.dt,
                                    ctx.cohesion,
                                    &mut fs,
                                    &mut ts,
                                );
                                if ran {
                                    *ws |= WALL_TOP;
                                } else {
                                    *ws &= !WALL_TOP;
                                }
                            }
                        } else if *ws & WALL_TOP != 0 {
                            wtc[l] = WallHistory::default();
                            *ws &= !WALL_TOP;
                        }
                        fc[l] = fs;
                        tc[l] = ts;
                    }
                },
            );
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
            self.walls.top_force_avg += 0.01 * (ft - self.walls.top_force_avg);
            let err = (pressure * area - self.walls.top_force_avg) / (pressure * area).max(1e-30);
            let vz = (-err * max_speed).clamp(-max_speed, max_speed);
            self.walls.top_vel = DVec3::new(shear.x, shear.y, vz);
        } else if let WallDrive::Velocity(v) = self.walls.top_drive {
            self.walls.top_vel = v;
        }
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
    ext_force: &'a [DVec3],
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
    /// Every material pair is elastic Hertz without adhesion or rolling resistance: the lane
    /// kernel applies to pairs without plastic history.
    simple: bool,
    /// Instruction set of the lane kernel.
    isa: lanes::Isa,
    /// Store the output records of evaluated pairs ([`Dem::record_pair_outputs`]).
    record: bool,
}

/// A pair not found apart by the distance test, waiting for the contact kernel.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    /// Pair index within the slices handed to [`PairCtx::kernels`].
    kl: u32,
    /// First particle.
    i: u32,
    /// Second particle.
    j: u32,
    /// Pair vector, m.
    d: DVec3,
    /// |d|², m².
    dist2: f64,
}

/// Pairs per group of rows in phase 2 of [`Dem::compute_forces`]: the distance tests of a group
/// first, then the kernels of the pairs in contact back to back, then the sums.
const GROUP_PAIRS: u32 = 128;

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

    /// Run the contact kernel on the pending pairs `pend` (`kl` indexes the slices): updates
    /// their state bits, springs, plastic history and (when recording) output records, and
    /// writes per pending pair whether it touches and its force and torques (zero when not
    /// touching) into `touch` and `res`. With `simple`, pairs without plastic history go through
    /// the lane kernel [`LANES`] at a time; the results are those of the scalar kernel.
    #[allow(clippy::too_many_arguments)]
    fn kernels(
        &self,
        pend: &[Pending],
        state: &mut [u8],
        xis: &mut [DVec3],
        plastic: &mut [PlasticState],
        outs: &mut [PairOutput],
        touch: &mut [bool],
        res: &mut [PairForce],
    ) {
        let p = &self.p;
        let mut inp = LaneIn::default();
        let mut out = LaneOut::default();
        // Lane → pending index.
        let mut lane_of = [0usize; LANES];
        let mut q = 0usize;
        let mut flush = |q: usize,
                         inp: &mut LaneIn,
                         lane_of: &[usize; LANES],
                         state: &mut [u8],
                         xis: &mut [DVec3],
                         outs: &mut [PairOutput],
                         touch: &mut [bool],
                         res: &mut [PairForce]| {
            // Unused lanes repeat lane 0 (valid numbers; their results are dropped).
            for l in q..LANES {
                for c in 0..3 {
                    inp.d[c][l] = inp.d[c][0];
                    inp.vrel[c][l] = inp.vrel[c][0];
                    inp.wi[c][l] = inp.wi[c][0];
                    inp.wj[c][l] = inp.wj[c][0];
                    inp.xi[c][l] = inp.xi[c][0];
                }
                inp.dist2[l] = inp.dist2[0];
                inp.ri[l] = inp.ri[0];
                inp.rj[l] = inp.rj[0];
                inp.mi[l] = inp.mi[0];
                inp.mj[l] = inp.mj[0];
                inp.y_star[l] = inp.y_star[0];
                inp.g_star[l] = inp.g_star[0];
                inp.beta[l] = inp.beta[0];
                inp.mu[l] = inp.mu[0];
            }
            lanes::hertz(self.isa, inp, self.dt, &mut out);
            for (l, &u) in lane_of.iter().enumerate().take(q) {
                let kl = pend[u].kl as usize;
                let t = out.touching[l];
                let f = PairForce {
                    force: DVec3::new(out.f[0][l], out.f[1][l], out.f[2][l]),
                    torque_i: DVec3::new(out.ti[0][l], out.ti[1][l], out.ti[2][l]),
                    torque_j: DVec3::new(out.tj[0][l], out.tj[1][l], out.tj[2][l]),
                };
                let mut ns = if t { TOUCHING } else { 0 };
                if t {
                    xis[kl] = DVec3::new(out.xi[0][l], out.xi[1][l], out.xi[2][l]);
                }
                if self.record {
                    ns |= EVALUATED;
                    outs[kl] = PairOutput {
                        force: f.force,
                        torque_i: f.torque_i,
                        torque_j: f.torque_j,
                        normal_force: out.normal_force[l],
                        contact_radius: out.contact_radius[l],
                        overlap: out.delta[l],
                    };
                }
                state[kl] = ns;
                touch[u] = t;
                res[u] = f;
            }
        };
        for (u, pe) in pend.iter().enumerate() {
            let kl = pe.kl as usize;
            let st = state[kl];
            let (i, j) = (pe.i as usize, pe.j as usize);
            if !self.simple || st & PLASTIC != 0 {
                let (t, f) = self.kernel(
                    i,
                    j,
                    pe.d,
                    pe.dist2,
                    &mut state[kl],
                    &mut xis[kl],
                    &mut plastic[kl],
                    &mut outs[kl],
                );
                touch[u] = t;
                res[u] = f;
                continue;
            }
            let pp = &self.table[p.material[i] as usize * self.n_mat + p.material[j] as usize];
            let vrel = p.vel[i] - p.vel[j];
            let xi = if st & TOUCHING != 0 {
                xis[kl]
            } else {
                DVec3::ZERO
            };
            let (wi, wj) = (p.omega[i], p.omega[j]);
            for (c, v) in [pe.d, vrel, wi, wj, xi].iter().enumerate() {
                let a = v.to_array();
                let dst = match c {
                    0 => &mut inp.d,
                    1 => &mut inp.vrel,
                    2 => &mut inp.wi,
                    3 => &mut inp.wj,
                    _ => &mut inp.xi,
                };
                dst[0][q] = a[0];
                dst[1][q] = a[1];
                dst[2][q] = a[2];
            }
            inp.dist2[q] = pe.dist2;
            inp.ri[q] = p.radius[i];
            inp.rj[q] = p.radius[j];
            inp.mi[q] = p.mass[i];
            inp.mj[q] = p.mass[j];
            inp.y_star[q] = pp.y_star;
            inp.g_star[q] = pp.g_star;
            inp.beta[q] = pp.beta;
            inp.mu[q] = pp.friction;
            lane_of[q] = u;
            q += 1;
            if q == LANES {
                flush(q, &mut inp, &lane_of, state, xis, outs, touch, res);
                q = 0;
            }
        }
        if q > 0 {
            flush(q, &mut inp, &lane_of, state, xis, outs, touch, res);
        }
    }

    /// The scalar contact kernel of pair (i, j) with pair vector `d` and |d|² = `dist2`: updates
    /// the state bits, spring, plastic history and (when recording) the output record; returns
    /// whether the particles touch, and the force and torques (zero when not touching).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn kernel(
        &self,
        i: usize,
        j: usize,
        d: DVec3,
        dist2: f64,
        state: &mut u8,
        xis: &mut DVec3,
        plastic: &mut PlasticState,
        out: &mut PairOutput,
    ) -> (bool, PairForce) {
        let p = &self.p;
        let st = *state;
        let (ri, rj) = (p.radius[i], p.radius[j]);
        let sum = ri + rj;
        let dist = dist2.sqrt();
        let n = d / dist;
        let delta = sum - dist;
        let pp = &self.table[p.material[i] as usize * self.n_mat + p.material[j] as usize];
        let r_eff = ri * rj / sum;
        let m_eff = p.mass[i] * p.mass[j] / (p.mass[i] + p.mass[j]);
        let vrel = p.vel[i] - p.vel[j];
        let mut xi = if st & TOUCHING != 0 {
            *xis
        } else {
            DVec3::ZERO
        };
        let mut pls = if st & PLASTIC != 0 {
            *plastic
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
            *xis = xi;
        }
        if pls.delta_max != 0.0 {
            ns |= PLASTIC;
            *plastic = pls;
        }
        if self.record {
            ns |= EVALUATED;
            *out = PairOutput {
                force: o.force,
                torque_i: o.torque_i,
                torque_j: o.torque_j,
                normal_force: o.normal_force,
                contact_radius: o.contact_radius,
                overlap: delta,
            };
        }
        *state = ns;
        (
            o.touching,
            PairForce {
                force: o.force,
                torque_i: o.torque_i,
                torque_j: o.torque_j,
            },
        )
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
