//! The DEM engine on contiguous arrays: particle state (structure of arrays), the Verlet pair list
//! with contact history, walls, and the velocity-Verlet step split into the integrator's slots.
//!
//! Determinism: pair forces are computed independently per pair (in parallel), then each particle
//! sums its own pairs in a fixed order (a CSR index built sequentially at each neighbour rebuild), so
//! results are bitwise identical on any number of threads. Reductions over particles (wall forces,
//! energies) are sequential.
//!
//! Periodicity: x and y are periodic with lengths `lx`, `ly`; positions are wrapped into the box only
//! at neighbour rebuilds, and each pair stores its integer image shift, so the pair vector is
//! `d = x_i − x_j + (s_x lx, s_y ly, 0)` between rebuilds. z is bounded by two flat walls.

use super::contact::{
    damping_coefficient, dmt_adhesion, normal_law, rolling_torque, tangential_force, PairParams,
    PlasticState,
};
use glam::{DQuat, DVec3};
use rayon::prelude::*;

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

/// One particle–particle pair of the Verlet list with its contact history and last force.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pair {
    /// First particle (i < j).
    pub i: u32,
    /// Second particle.
    pub j: u32,
    /// Periodic image shift in x (multiples of lx added to x_i − x_j).
    pub sx: i8,
    /// Periodic image shift in y.
    pub sy: i8,
    /// Tangential spring, m.
    pub xi: DVec3,
    /// Plastic history.
    pub plastic: PlasticState,
    /// Force on i (j receives −force), N.
    pub force: DVec3,
    /// Torque on i, N·m.
    pub torque_i: DVec3,
    /// Torque on j, N·m.
    pub torque_j: DVec3,
    /// Contact radius, m (0 when not touching).
    pub contact_radius: f64,
    /// Signed normal force (positive repulsive), N.
    pub normal_force: f64,
    /// Normal overlap, m.
    pub overlap: f64,
    /// True while the particles touch.
    pub touching: bool,
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
    /// Verlet pair list with history.
    pub pairs: Vec<Pair>,
    /// CSR start offsets into `csr` per particle (len n + 1).
    pub csr_start: Vec<u32>,
    /// CSR entries: pair index, with the top bit set when the particle is `j` of the pair.
    pub csr: Vec<u32>,
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
}

const J_BIT: u32 = 1 << 31;

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
        Dem {
            p,
            pairs: Vec::new(),
            csr_start: vec![0; n + 1],
            csr: Vec::new(),
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
            },
            dt,
            skin,
            step: 0,
            rebuilds: 0,
            stage: String::from("setup"),
            cohesion: true,
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
        let p = &mut self.p;
        p.pos
            .par_iter_mut()
            .zip(p.vel.par_iter_mut())
            .zip(p.omega.par_iter_mut())
            .zip(p.quat.par_iter_mut())
            .zip(p.force.par_iter())
            .zip(p.torque.par_iter())
            .zip(p.mass.par_iter())
            .zip(p.radius.par_iter())
            .for_each(|(((((((x, v), w), q), f), t), m), r)| {
                *v += 0.5 * dt * *f / *m;
                *x += dt * *v;
                let inv_i = 1.0 / (0.4 * *m * r * r);
                *w += 0.5 * dt * *t * inv_i;
                let ang = *w * dt;
                let a = ang.length();
                if a > 0.0 {
                    *q = (DQuat::from_axis_angle(ang / a, a) * *q).normalize();
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
        p.vel
            .par_iter_mut()
            .zip(p.omega.par_iter_mut())
            .zip(p.force.par_iter())
            .zip(p.torque.par_iter())
            .zip(p.mass.par_iter())
            .zip(p.radius.par_iter())
            .for_each(|(((((v, w), f), t), m), r)| {
                *v += 0.5 * dt * *f / *m;
                *w += 0.5 * dt * *t / (0.4 * *m * r * r);
            });
        self.step += 1;
        let bad = (0..p.len()).into_par_iter().find_first(|&i| {
            !(p.pos[i].is_finite() && p.vel[i].is_finite() && p.omega[i].is_finite())
        });
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
                .par_iter()
                .zip(self.p.pos_at_build.par_iter())
                .any(|(a, b)| (*a - *b).length_squared() > h2);
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
        for x in self.p.pos.iter_mut() {
            x.x -= lx * (x.x / lx).floor();
            x.y -= ly * (x.y / ly).floor();
        }
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
        // Counting sort of particles into cells (sequential, deterministic).
        let mut count = vec![0u32; ncell + 1];
        let cells: Vec<usize> = self
            .p
            .pos
            .iter()
            .map(|&x| {
                let (a, b, c) = cell_of(x);
                (c * ncy + b) * ncx + a
            })
            .collect();
        for &c in &cells {
            count[c + 1] += 1;
        }
        for c in 0..ncell {
            count[c + 1] += count[c];
        }
        let mut fill = count.clone();
        let mut sorted = vec![0u32; n];
        for (i, &c) in cells.iter().enumerate() {
            sorted[fill[c] as usize] = i as u32;
            fill[c] += 1;
        }
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
        let new_lists: Vec<Vec<(u32, i8, i8)>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let xi = pos[i];
                let (ix, iy, iz) = cell_of(xi);
                let mut out: Vec<(u32, i8, i8)> = Vec::new();
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
                        for &dx in &ox {
                            let jx = if ncx >= 3 {
                                (ix as isize + dx).rem_euclid(ncx as isize)
                            } else {
                                dx
                            };
                            let c = ((jz as usize * ncy) + jy as usize) * ncx + jx as usize;
                            for &j in &sorted[count[c] as usize..count[c + 1] as usize] {
                                if j as usize <= i {
                                    continue;
                                }
                                let mut d = xi - pos[j as usize];
                                let sx = -(d.x / lx).round();
                                let sy = -(d.y / ly).round();
                                d.x += sx * lx;
                                d.y += sy * ly;
                                let cut = rad[i] + rad[j as usize] + skin;
                                if d.length_squared() < cut * cut {
                                    out.push((j, sx as i8, sy as i8));
                                }
                            }
                        }
                    }
                }
                out.sort_unstable_by_key(|e| e.0);
                out
            })
            .collect();
        // Merge with the old list (both sorted by (i, j)) to carry history over.
        let old = std::mem::take(&mut self.pairs);
        let mut pairs = Vec::with_capacity(old.len().max(n * 8));
        let mut k = 0usize;
        for (i, list) in new_lists.iter().enumerate() {
            for &(j, sx, sy) in list {
                let key = (i as u32, j);
                while k < old.len() && (old[k].i, old[k].j) < key {
                    k += 1;
                }
                let mut pr = Pair {
                    i: i as u32,
                    j,
                    sx,
                    sy,
                    ..Default::default()
                };
                if k < old.len() && (old[k].i, old[k].j) == key {
                    let o = &old[k];
                    pr.xi = o.xi;
                    pr.plastic = o.plastic;
                    pr.touching = o.touching;
                    pr.contact_radius = o.contact_radius;
                    pr.normal_force = o.normal_force;
                    pr.overlap = o.overlap;
                }
                pairs.push(pr);
            }
        }
        self.pairs = pairs;
        // CSR: per particle, its pairs in pair order.
        let mut deg = vec![0u32; n + 1];
        for pr in &self.pairs {
            deg[pr.i as usize + 1] += 1;
            deg[pr.j as usize + 1] += 1;
        }
        for i in 0..n {
            deg[i + 1] += deg[i];
        }
        let mut fillc = deg.clone();
        let mut csr = vec![0u32; deg[n] as usize];
        for (k, pr) in self.pairs.iter().enumerate() {
            csr[fillc[pr.i as usize] as usize] = k as u32;
            fillc[pr.i as usize] += 1;
            csr[fillc[pr.j as usize] as usize] = k as u32 | J_BIT;
            fillc[pr.j as usize] += 1;
        }
        self.csr_start = deg;
        self.csr = csr;
        self.rebuilds += 1;
        Ok(())
    }

    /// Compute all contact forces (pairs and walls), then gather them per particle in a fixed order.
    /// Also updates the top-wall velocity when it is pressure-driven.
    pub fn compute_forces(&mut self) {
        let dt = self.dt;
        let (lx, ly) = (self.lx, self.ly);
        let cohesion = self.cohesion;
        {
            let p = &self.p;
            let table = &self.table;
            let n_mat = self.n_mat;
            self.pairs.par_iter_mut().for_each(|pr| {
                let (i, j) = (pr.i as usize, pr.j as usize);
                let d = p.pos[i] - p.pos[j] + DVec3::new(pr.sx as f64 * lx, pr.sy as f64 * ly, 0.0);
                let dist2 = d.length_squared();
                let (ri, rj) = (p.radius[i], p.radius[j]);
                let sum = ri + rj;
                if dist2 >= sum * sum && pr.plastic.delta_max == 0.0 {
                    pr.force = DVec3::ZERO;
                    pr.torque_i = DVec3::ZERO;
                    pr.torque_j = DVec3::ZERO;
                    pr.touching = false;
                    pr.contact_radius = 0.0;
                    pr.normal_force = 0.0;
                    pr.overlap = sum - dist2.sqrt();
                    pr.xi = DVec3::ZERO;
                    return;
                }
                let dist = dist2.sqrt();
                let n = d / dist;
                let delta = sum - dist;
                let pp = &table[p.material[i] as usize * n_mat + p.material[j] as usize];
                let r_eff = ri * rj / sum;
                let m_eff = p.mass[i] * p.mass[j] / (p.mass[i] + p.mass[j]);
                let vrel = p.vel[i] - p.vel[j];
                let out = contact_force(
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
                    &mut pr.plastic,
                    &mut pr.xi,
                    dt,
                    cohesion,
                );
                pr.force = out.force;
                pr.torque_i = out.torque_i;
                pr.torque_j = out.torque_j;
                pr.touching = out.touching;
                pr.contact_radius = out.contact_radius;
                pr.normal_force = out.normal_force;
                pr.overlap = delta;
                if delta <= 0.0 {
                    pr.plastic = PlasticState::default();
                }
            });
        }
        // Walls and gather, per particle.
        let wm = self.walls.material;
        let (zb, zt, top_active) = (self.walls.z_bottom, self.walls.z_top, self.walls.top_active);
        let (vb, vt) = (self.walls.bottom_vel, self.walls.top_vel);
        let p = &mut self.p;
        let pairs = &self.pairs;
        let csr = &self.csr;
        let cs = &self.csr_start;
        let table = &self.table;
        let n_mat = self.n_mat;
        let pos = &p.pos;
        let vel = &p.vel;
        let omega = &p.omega;
        let radius = &p.radius;
        let mass = &p.mass;
        let material = &p.material;
        let ext = &p.ext_force;
        p.force
            .par_iter_mut()
            .zip(p.torque.par_iter_mut())
            .zip(self.walls.bottom.par_iter_mut())
            .zip(self.walls.top.par_iter_mut())
            .enumerate()
            .for_each(|(i, (((f, t), wb), wt))| {
                let mut fs = ext[i];
                let mut ts = DVec3::ZERO;
                for &e in &csr[cs[i] as usize..cs[i + 1] as usize] {
                    let pr = &pairs[(e & !J_BIT) as usize];
                    if e & J_BIT == 0 {
                        fs += pr.force;
                        ts += pr.torque_i;
                    } else {
                        fs -= pr.force;
                        ts += pr.torque_j;
                    }
                }
                let pp = &table[material[i] as usize * n_mat + wm as usize];
                let r = radius[i];
                // Bottom wall: normal +z.
                let db = zb - (pos[i].z - r);
                wall_contact(
                    pp,
                    db,
                    r,
                    mass[i],
                    DVec3::Z,
                    vel[i] - vb,
                    omega[i],
                    wb,
                    dt,
                    cohesion,
                    &mut fs,
                    &mut ts,
                );
                if top_active {
                    let dtp = pos[i].z + r - zt;
                    wall_contact(
                        pp,
                        dtp,
                        r,
                        mass[i],
                        -DVec3::Z,
                        vel[i] - vt,
                        omega[i],
                        wt,
                        dt,
                        cohesion,
                        &mut fs,
                        &mut ts,
                    );
                } else {
                    *wt = WallHistory::default();
                }
                *f = fs;
                *t = ts;
            });
        // Wall reactions (sequential for determinism).
        let mut ft = 0.0;
        let mut fb = 0.0;
        for k in 0..self.walls.top.len() {
            ft += self.walls.top[k].normal_force;
            fb += self.walls.bottom[k].normal_force;
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
        let c = self.pairs.iter().filter(|p| p.touching).count();
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
    /// velocity, angular velocity and orientation, then the top-wall height): a fingerprint for
    /// checking that two runs (thread counts, builds) are bitwise identical.
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
            for c in p.quat[k].to_array() {
                h.update(c.to_bits().to_le_bytes());
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
        self.pairs.iter().filter(|p| p.touching).count()
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
#[inline]
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
) {
    if delta <= 0.0 && h.plastic.delta_max == 0.0 {
        *h = WallHistory::default();
        return;
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
}
