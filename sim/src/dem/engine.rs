//! The DEM engine on contiguous arrays: particle state (structure of arrays), the Verlet pair list
//! with contact history, walls, and the velocity-Verlet step split into the integrator's slots.
//!
//! Determinism: every particle sums `ext.force`, then its pair forces in the list order of the pairs
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

use super::contact::{PairParams, PairTable};
use super::neighbours::{Blocks, RebuildScratch};
pub use super::pair_kernel::{contact_force, ContactOut};
pub use super::pairs::{Pair, PairList, PairOutput};
pub use super::state::*;
use glam::{DQuat, DVec3};
use rayon::prelude::*;

/// Particles per work chunk of the per-particle loops (integration, force copy, skin check).
pub(crate) const CHUNK_PARTICLES: usize = 1024;

/// One chunk of [`CHUNK_PARTICLES`] particles as the integrator's per-particle loops see it:
/// positions `x` (m), velocities `v` (m/s), angular velocities `w` (rad/s) and orientations `q`
/// to update; forces `f` (N), torques `t` (N·m), masses `m` (kg) and radii `r` (m) to read.
struct IntegrateChunk<'a> {
    x: &'a mut [DVec3],
    v: &'a mut [DVec3],
    w: &'a mut [DVec3],
    q: &'a mut [DQuat],
    f: &'a [DVec3],
    t: &'a [DVec3],
    m: &'a [f64],
    r: &'a [f64],
}

/// The particle arrays in chunks of [`CHUNK_PARTICLES`], each with the index of its first particle.
fn integrate_chunks(
    p: &mut ParticleState,
) -> impl IndexedParallelIterator<Item = (usize, IntegrateChunk<'_>)> {
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
        .enumerate()
        .map(move |(ci, (((((((x, v), w), q), f), t), m), r))| {
            let ch = IntegrateChunk {
                x,
                v,
                w,
                q,
                f,
                t,
                m,
                r,
            };
            (ci * c, ch)
        })
}

/// The whole DEM state on contiguous arrays.
#[derive(Debug, Clone)]
pub struct Dem {
    /// Particle arrays.
    pub p: ParticleState,
    /// Verlet pair list with contact history and last outputs (hot/cold split).
    pub pairs: PairList,
    /// Pair parameter table of the materials (walls included).
    pub table: PairTable,
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
    /// Local non-viscous damping coefficient α (Cundall 1987; Itasca PFC's "local damping"),
    /// dimensionless in [0, 1): after the force computation every force and torque component is
    /// reduced by `α |F| sign(v)`. It removes kinetic energy without changing a static equilibrium
    /// (where the forces vanish); the process turns it on only while a released film relaxes to
    /// rest. 0 (default) = off.
    pub local_damping: f64,
    /// Viscous background damping rate `c`, 1/s: with [`Dem::local_damping`], every particle also
    /// feels `−c m v` and `−c I ω`, which stops motion that carries no net force (free rolling
    /// in a pore), which local damping cannot. Used only while a released film relaxes; 0
    /// (default) = off.
    pub viscous_damping: f64,
    /// Whether the force computation books the contacts' dissipation and the walls' work in
    /// [`Dem::ledger`] (default true; the DEM benchmark turns it off, like the codes it is
    /// compared with). The dynamics do not depend on it.
    pub track_energy: bool,
    /// The energy ledger: running totals of work and dissipation, J ([`super::ledger`]).
    pub ledger: super::ledger::EnergyBook,
    /// The material whose particles are credited with the work dissipated at their contacts
    /// ([`Dem::credited_work`]); `None` (default): nothing is credited. Booked only while
    /// [`Dem::track_energy`] is on. The dynamics do not depend on it.
    pub work_credit: Option<u8>,
    /// Work dissipated by Coulomb sliding at each particle's contacts with other
    /// particles since it was last reset, J (plastic flow, rolling and damping are not credited), for the particles of [`Dem::work_credit`]'s material
    /// (0 for the others): a contact with a particle of another material credits all of its work,
    /// a contact between two credited particles half to each. Walls credit nothing. Summed in
    /// pair-list order per particle, so bitwise identical on any thread count; empty until
    /// something is credited.
    pub credited_work: Vec<f64>,
    /// Pairs by second particle, for the energy of one particle's contacts.
    pub(crate) rev: super::ledger::ReverseIndex,
    /// Buffers of the neighbour rebuild, kept between rebuilds to avoid reallocation.
    pub(crate) scratch: super::neighbours::RebuildScratch,
    /// The spatial blocks of [`Dem::compute_forces`].
    pub(crate) blocks: super::neighbours::Blocks,
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
            table: PairTable {
                params: table,
                n_mat,
            },
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
            local_damping: 0.0,
            viscous_damping: 0.0,
            track_energy: true,
            ledger: Default::default(),
            work_credit: None,
            credited_work: Vec::new(),
            rev: Default::default(),
            scratch: RebuildScratch::default(),
            blocks: Blocks::default(),
        }
    }

    /// Pair parameters of two materials.
    #[inline]
    pub fn params(&self, a: u8, b: u8) -> &PairParams {
        self.table.get(a, b)
    }

    /// Minimum-image pair vector `x_i − x_j` for an arbitrary pair, m.
    pub fn min_image(&self, i: usize, j: usize) -> DVec3 {
        self.wrap(self.p.pos[i] - self.p.pos[j])
    }

    /// Offset, m, that takes the raw vector from particle `i` to particle `j` (`pos[j] − pos[i]`)
    /// to the periodic image `shift` (box lengths in x and y) of their unwrapped positions: the
    /// particles' own image counters plus `shift`, times the box lengths.
    pub fn image_offset(&self, i: usize, j: usize, shift: [i32; 2]) -> DVec3 {
        let n = self.image_between(i, j, shift);
        DVec3::new(f64::from(n[0]) * self.lx, f64::from(n[1]) * self.ly, 0.0)
    }

    /// The periodic image, box lengths (x, y), of particle `j` relative to particle `i` for their
    /// current (wrapped) positions: the difference of their image counters plus `shift`.
    pub fn image_between(&self, i: usize, j: usize, shift: [i32; 2]) -> [i32; 2] {
        let (a, b) = (self.p.image[i], self.p.image[j]);
        [b[0] - a[0] + shift[0], b[1] - a[1] + shift[1]]
    }

    /// The image shift (box lengths in x and y) that [`Dem::image_offset`] needs to take the raw
    /// vector `raw` (m) from particle `i` to particle `j` to its minimum image now.
    pub fn min_image_shift(&self, i: usize, j: usize, raw: DVec3) -> [i32; 2] {
        let n = self.wrap(raw) - raw;
        let own = self.image_between(i, j, [0, 0]);
        [
            (n.x / self.lx).round() as i32 - own[0],
            (n.y / self.ly).round() as i32 - own[1],
        ]
    }

    /// Minimum image of an arbitrary vector `v` (m) in the periodic x and y directions, m.
    pub fn wrap(&self, v: DVec3) -> DVec3 {
        crate::geom::min_image(v, self.lx, self.ly)
    }

    /// First half of velocity Verlet: half-kick and drift (translation and rotation).
    pub fn initial_integrate(&mut self) {
        let dt = self.dt;
        let rotate = self.orientations;
        integrate_chunks(&mut self.p).for_each(|(_, ch)| {
            let IntegrateChunk {
                x,
                v,
                w,
                q,
                f,
                t,
                m,
                r,
            } = ch;
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
        let bad = integrate_chunks(&mut self.p)
            .filter_map(|(start, ch)| {
                let IntegrateChunk {
                    x,
                    v,
                    w,
                    f,
                    t,
                    m,
                    r,
                    ..
                } = ch;
                let mut first = None;
                for k in 0..v.len() {
                    v[k] += 0.5 * dt * f[k] / m[k];
                    w[k] += 0.5 * dt * t[k] / (0.4 * m[k] * r[k] * r[k]);
                    if first.is_none()
                        && !(x[k].is_finite() && v[k].is_finite() && w[k].is_finite())
                    {
                        first = Some(start + k);
                    }
                }
                first
            })
            .min();
        self.finish_step(bad)
    }

    /// Count the step done; report the lowest particle with a non-finite state, if any.
    pub(crate) fn finish_step(&mut self, bad: Option<usize>) -> Result<(), DemError> {
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

    /// One full velocity-Verlet step (no ECS; the ECS schedule calls the same pieces in its slots).
    pub fn step_once(&mut self) -> Result<(), DemError> {
        self.initial_integrate();
        self.maybe_rebuild()?;
        self.compute_forces();
        self.final_integrate()
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
        self.stretch(0, factor);
    }

    /// Stretches the periodic y length by `factor`, scaling all y positions affinely (TD).
    pub fn stretch_y(&mut self, factor: f64) {
        self.stretch(1, factor);
    }

    /// Stretches periodic direction `axis` (0 = x, 1 = y) by `factor`, scaling the box length and
    /// every position along it (and the positions of the last list build) affinely.
    fn stretch(&mut self, axis: usize, factor: f64) {
        let l = if axis == 0 {
            &mut self.lx
        } else {
            &mut self.ly
        };
        *l *= factor;
        for x in self.p.pos.iter_mut().chain(self.p.pos_at_build.iter_mut()) {
            x[axis] *= factor;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dem::bench::anchor_material;
    use crate::dem::contact::MaterialProps;
    use rand::{RngExt, SeedableRng};

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

    /// Two grains that collide obliquely and spinning, press each other plastically, part and meet
    /// again follow the same trajectory to the last bit whether the neighbour skin is 2 % or 80 %
    /// of a radius: the contact history (tangential spring, plastic flattening) ends when the pair
    /// separates, whatever the list holds.
    #[test]
    fn contact_history_ends_at_separation_whatever_the_skin() {
        let run = |skin: f64| {
            let mut p = ParticleState::default();
            p.push(DVec3::new(20e-6, 20e-6, 20e-6), 2e-6, 7e-14, 0);
            p.push(DVec3::new(24.5e-6, 20.6e-6, 20.2e-6), 2e-6, 7e-14, 0);
            p.vel[1] = DVec3::new(-3.0, 0.4, 0.1);
            p.omega[1] = DVec3::new(1e5, 3e5, -2e5);
            let mat = MaterialProps {
                surface_energy: 0.05,
                yield_pressure: Some(0.3e9),
                ..anchor_material()
            };
            let table = vec![PairParams::mix(&mat, &mat); 4];
            let mut d = Dem::new(p, table, 2, 40e-6, 40e-6, 0.0, 40e-6, 1, 1e-10, skin);
            let mut touches = Vec::new();
            for step in 0..40_000 {
                if step == 20_000 {
                    // Send them back at each other.
                    let v = d.p.vel[1] - d.p.vel[0];
                    d.p.vel[0] = 0.5 * v;
                    d.p.vel[1] = -0.5 * v;
                }
                d.initial_integrate();
                d.maybe_rebuild().unwrap();
                d.compute_forces();
                d.final_integrate().unwrap();
                touches.push(d.p.force[1].length() > 0.0);
            }
            let parted = touches.windows(2).filter(|w| w[0] && !w[1]).count();
            (d.p.pos, d.p.vel, d.p.omega, d.rebuilds, parted)
        };
        let (small, large) = (run(0.04e-6), run(1.6e-6));
        assert!(small.3 > large.3, "rebuilds {} vs {}", small.3, large.3);
        assert!(small.4 >= 2, "the grains part twice ({} times)", small.4);
        assert_eq!((small.0, small.1, small.2), (large.0, large.1, large.2));
    }
}
