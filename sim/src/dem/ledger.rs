//! The energy ledger of the DEM: what the walls and imposed deformations put in, what is stored
//! (kinetic energy, elastic energy of the contacts), what is dissipated (contact damping, Coulomb
//! sliding, rolling resistance, plastic flow, relaxation damping) and what model events change
//! (a PTFE lump resized as it is drawn into fibrils). Fibrils book their own terms into the same
//! book ([`EnergyBook`]); the process compares marks of it ([`EnergyBook`] plus the state
//! energies) at the start and end of each stage. docs/model.md, "Energy ledger".
//!
//! Determinism: the contact terms are summed per particle in pair-list order by the block that
//! owns the particle, then over the particles in index order, so the book is bitwise identical on
//! any thread count.

use super::contact::{contact_energy_and_flow, ContactDissipation, ContactSpring};
use super::engine::Dem;
use super::pairs::{PLASTIC, TOUCHING};
use super::state::{WALL_BOTTOM, WALL_TOP};
use glam::DVec3;
use rayon::prelude::*;

/// Energy booked since the engine was created, J. Each field is a running total.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct EnergyBook {
    /// Work of the walls on the particles, `Σ F_wall · v_wall Δt`, J.
    #[serde(rename = "wall_work_J")]
    pub wall_work: f64,
    /// Work of imposed deformations of the box (the calender's MD stretch): the elastic energy
    /// they change at fixed contacts and fibrils, J.
    #[serde(rename = "imposed_work_J")]
    pub imposed_work: f64,
    /// Energy added by model events (a PTFE lump's contacts as it shrinks, strands joining a
    /// stretched bundle, a spent lump stopped), J; negative when they remove energy.
    #[serde(rename = "model_events_J")]
    pub events: f64,
    /// Normal viscous damping at contacts (walls included), J.
    #[serde(rename = "contact_damping_J")]
    pub contact_damping: f64,
    /// Coulomb sliding at contacts, J.
    #[serde(rename = "friction_J")]
    pub friction: f64,
    /// Rolling resistance, J.
    #[serde(rename = "rolling_J")]
    pub rolling: f64,
    /// Plastic flow of contacts, J.
    #[serde(rename = "plasticity_J")]
    pub plastic: f64,
    /// Relaxation damping of a released film (local and viscous damping, drift removal), J.
    #[serde(rename = "relaxation_damping_J")]
    pub relaxation_damping: f64,
    /// Axial dashpots of the fibril bundles, J.
    #[serde(rename = "fibril_dashpot_J")]
    pub fibril_dashpot: f64,
    /// Plastic drawing of fibrils (yield and node drawing lengthen the rest length), J.
    #[serde(rename = "fibril_drawing_J")]
    pub fibril_drawing: f64,
    /// Elastic energy of the bundles that broke or detached, J.
    #[serde(rename = "fibril_breakage_J")]
    pub fibril_breakage: f64,
}

impl EnergyBook {
    /// External work: the walls' and the imposed deformations', J.
    pub fn external_work(&self) -> f64 {
        self.wall_work + self.imposed_work
    }

    /// The sum of the dissipation terms, J.
    pub fn dissipated(&self) -> f64 {
        self.contact_damping
            + self.friction
            + self.rolling
            + self.plastic
            + self.relaxation_damping
            + self.fibril_dashpot
            + self.fibril_drawing
            + self.fibril_breakage
    }

    /// The energy that flowed through what was booked, J: the larger of |external work| and the
    /// energy dissipated (a released film dissipates stored energy with almost no external work).
    pub fn flow(&self) -> f64 {
        self.external_work().abs().max(self.dissipated())
    }

    /// Each term of `self` less the same term of `earlier`: what was booked in between, J.
    pub fn since(&self, earlier: &EnergyBook) -> EnergyBook {
        EnergyBook {
            wall_work: self.wall_work - earlier.wall_work,
            imposed_work: self.imposed_work - earlier.imposed_work,
            events: self.events - earlier.events,
            contact_damping: self.contact_damping - earlier.contact_damping,
            friction: self.friction - earlier.friction,
            rolling: self.rolling - earlier.rolling,
            plastic: self.plastic - earlier.plastic,
            relaxation_damping: self.relaxation_damping - earlier.relaxation_damping,
            fibril_dashpot: self.fibril_dashpot - earlier.fibril_dashpot,
            fibril_drawing: self.fibril_drawing - earlier.fibril_drawing,
            fibril_breakage: self.fibril_breakage - earlier.fibril_breakage,
        }
    }

    /// Adds one step's per-particle contact terms.
    pub(crate) fn add_particle(&mut self, l: &ParticleLedger) {
        let c = &l.contact;
        self.contact_damping += c.damping;
        self.friction += c.friction;
        self.rolling += c.rolling;
        self.plastic += c.plastic;
        self.wall_work += l.wall_work;
    }
}

/// One particle's share of one step's contact terms (the pairs of its own row and its wall
/// contacts): their dissipation and the walls' work, J.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ParticleLedger {
    pub(crate) contact: ContactDissipation,
    pub(crate) wall_work: f64,
    /// The particle's credited share of the sliding work at its contacts
    /// ([`Dem::credited_work`]), J.
    pub(crate) credited: f64,
}

impl ParticleLedger {
    /// Adds a contact's dissipation.
    #[inline(always)]
    pub(crate) fn add_contact(&mut self, d: &ContactDissipation) {
        let c = &mut self.contact;
        c.damping += d.damping;
        c.friction += d.friction;
        c.rolling += d.rolling;
        c.plastic += d.plastic;
    }
}

/// Share of a contact's sliding work credited to a particle of material `own` whose
/// partner is of material `other`, when particles of material `credit` are credited
/// ([`Dem::credited_work`]): all of it against another material, half between two credited
/// particles, none to the others.
#[inline(always)]
pub(crate) fn credit_share(credit: Option<u8>, own: u8, other: u8) -> f64 {
    match credit {
        Some(m) if own == m => {
            if other == m {
                0.5
            } else {
                1.0
            }
        }
        _ => 0.0,
    }
}

/// For each particle, the storage slots of the pairs in which it is the second particle (CSR),
/// built on demand for the pair list of one rebuild.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReverseIndex {
    /// Rebuild count it was built for (`None`: never built).
    stamp: Option<u64>,
    /// Offsets per particle (len n + 1).
    start: Vec<u32>,
    /// (slot, first particle) per entry.
    slots: Vec<(u32, u32)>,
}

impl Dem {
    /// Elastic energy of the pair in storage slot `k` with first particle `i`, and the plastic flow
    /// its next evaluation will book, J ([`contact_energy_and_flow`] at the current positions and
    /// stored history). A pair that was apart at its last evaluation and overlaps now (moved
    /// there by an imposed remap) counts as the fresh contact its next evaluation will make.
    fn pair_energy(&self, i: usize, k: usize) -> (f64, f64) {
        let pl = &self.pairs;
        let st = pl.state[k];
        let j = pl.j[k] as usize;
        let [sx, sy] = pl.shift[k];
        let p = &self.p;
        let d = p.pos[i] - p.pos[j] + DVec3::new(sx as f64 * self.lx, sy as f64 * self.ly, 0.0);
        let (ri, rj) = (p.radius[i], p.radius[j]);
        let delta = ri + rj - d.length();
        if st & (TOUCHING | PLASTIC) == 0 && delta <= 0.0 {
            return (0.0, 0.0);
        }
        let spring = if st & TOUCHING != 0 {
            pl.spring[k]
        } else {
            ContactSpring::default()
        };
        let hist = if st & PLASTIC != 0 {
            pl.plastic[k]
        } else {
            Default::default()
        };
        let pp = self.params(p.material[i], p.material[j]);
        contact_energy_and_flow(pp, delta, ri * rj / (ri + rj), &hist, spring, self.cohesion)
    }

    /// Elastic energy of particle `i`'s contact with the bottom wall (`top` false) or the top
    /// wall (`top` true; 0 while it is not active), and the plastic flow its next evaluation will
    /// book, J. As in the force loop, a clear state bit means a default history.
    fn one_wall_energy(&self, i: usize, top: bool) -> (f64, f64) {
        let w = &self.walls;
        let p = &self.p;
        let r = p.radius[i];
        let (gap, bit, hist) = if top {
            if !w.top_active {
                return (0.0, 0.0);
            }
            (p.pos[i].z + r - w.z_top, WALL_TOP, &w.top[i])
        } else {
            (w.z_bottom - (p.pos[i].z - r), WALL_BOTTOM, &w.bottom[i])
        };
        let (plastic, spring) = if w.state[i] & bit != 0 {
            (hist.plastic, hist.spring)
        } else if gap > 0.0 {
            (Default::default(), ContactSpring::default())
        } else {
            return (0.0, 0.0);
        };
        let pp = self.params(p.material[i], w.material);
        contact_energy_and_flow(pp, gap, r, &plastic, spring, self.cohesion)
    }

    /// Elastic energy of particle `i`'s wall contacts, and the plastic flow their next evaluation
    /// will book, J.
    fn wall_energy(&self, i: usize) -> (f64, f64) {
        let (b, t) = (
            self.one_wall_energy(i, false),
            self.one_wall_energy(i, true),
        );
        (b.0 + t.0, b.1 + t.1)
    }

    /// Elastic energy of the top wall's contacts, J (0 while it is not active).
    fn top_wall_energy(&self) -> f64 {
        (0..self.p.len())
            .map(|i| self.one_wall_energy(i, true).0)
            .sum()
    }

    /// Elastic energy stored in all contacts (pairs and walls), J. Each particle's row is summed in
    /// parallel, then the rows in particle order (thread-count independent).
    pub fn contact_energy(&self) -> f64 {
        self.contact_sums().0
    }

    /// [`Dem::contact_energy`] plus the plastic flow the next force evaluation will book at the
    /// current positions, J: the work an imposed move of the positions (a remap) does on the
    /// contacts is the change of this sum.
    pub fn contact_energy_with_flow(&self) -> f64 {
        let (u, flow) = self.contact_sums();
        u + flow
    }

    /// (elastic energy, pending plastic flow) summed over all contacts, J: each particle's row in
    /// parallel, then the rows in particle order (thread-count independent).
    fn contact_sums(&self) -> (f64, f64) {
        let pl = &self.pairs;
        let rows: Vec<(f64, f64)> = (0..self.p.len())
            .into_par_iter()
            .map(|i| {
                let mut row = (0.0, 0.0);
                if i < pl.particles() {
                    for k in pl.start[i] as usize..pl.end[i] as usize {
                        let (u, flow) = self.pair_energy(i, k);
                        row.0 += u;
                        row.1 += flow;
                    }
                }
                let wall = self.wall_energy(i);
                (row.0 + wall.0, row.1 + wall.1)
            })
            .collect();
        rows.iter().fold((0.0, 0.0), |a, r| (a.0 + r.0, a.1 + r.1))
    }

    /// Elastic energy of the contacts of particle `p` (its pairs and walls), J.
    fn particle_contact_energy(&mut self, p: usize) -> f64 {
        if self.rev.stamp != Some(self.rebuilds) || self.rev.start.len() != self.p.len() + 1 {
            self.build_reverse_index();
        }
        let pl = &self.pairs;
        let mut u = self.wall_energy(p).0;
        if p < pl.particles() {
            for k in pl.start[p] as usize..pl.end[p] as usize {
                u += self.pair_energy(p, k).0;
            }
        }
        let (a, b) = (self.rev.start[p] as usize, self.rev.start[p + 1] as usize);
        for e in a..b {
            let (k, i) = self.rev.slots[e];
            u += self.pair_energy(i as usize, k as usize).0;
        }
        u
    }

    /// Builds [`ReverseIndex`] for the current pair list.
    fn build_reverse_index(&mut self) {
        let n = self.p.len();
        let pl = &self.pairs;
        let r = &mut self.rev;
        r.start.clear();
        r.start.resize(n + 1, 0);
        for i in 0..pl.particles() {
            for k in pl.start[i] as usize..pl.end[i] as usize {
                r.start[pl.j[k] as usize + 1] += 1;
            }
        }
        for i in 0..n {
            r.start[i + 1] += r.start[i];
        }
        let mut fill = r.start.clone();
        r.slots.clear();
        r.slots.resize(pl.len(), (0, 0));
        for i in 0..pl.particles() {
            for k in pl.start[i] as usize..pl.end[i] as usize {
                let j = pl.j[k] as usize;
                r.slots[fill[j] as usize] = (k as u32, i as u32);
                fill[j] += 1;
            }
        }
        r.stamp = Some(self.rebuilds);
    }

    /// Sets particle `p`'s radius (m) and material, booking in [`EnergyBook::events`] the change of
    /// its contacts' elastic energy at fixed positions and history (a PTFE lump shrinking as its
    /// PTFE is drawn into fibrils, or leaving the film).
    pub fn set_radius_booked(&mut self, p: usize, radius: f64, material: u8) {
        let before = self.particle_contact_energy(p);
        self.p.radius[p] = radius;
        self.p.material[p] = material;
        let after = self.particle_contact_energy(p);
        self.ledger.events += after - before;
    }

    /// Takes the top wall away (a roll lifted off the film, a press opened), booking the elastic
    /// energy its contacts held as (negative) wall work: it leaves with the wall.
    pub fn remove_top_wall(&mut self) {
        self.ledger.wall_work -= self.top_wall_energy();
        self.walls.top_active = false;
    }

    /// Puts the top wall in place at height `z` (m) and activates it, booking the elastic energy
    /// of the contacts it makes (particles standing above `z`) as wall work.
    pub fn place_top_wall(&mut self, z: f64) {
        let before = self.top_wall_energy();
        self.walls.top_active = true;
        self.walls.z_top = z;
        self.ledger.wall_work += self.top_wall_energy() - before;
    }

    /// Stops particle `p` (velocity and spin set to zero), booking its kinetic energy as removed
    /// by a model event.
    pub fn stop_booked(&mut self, p: usize) {
        self.ledger.events -= self.particle_kinetic_energy(p);
        self.p.vel[p] = DVec3::ZERO;
        self.p.omega[p] = DVec3::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dem::bench::anchor_material;
    use crate::dem::contact::{MaterialProps, PairParams};
    use crate::dem::state::ParticleState;

    /// Kinetic plus contact energy plus what the ledger booked as dissipated, less the walls'
    /// work: the quantity a closed ledger keeps constant, J.
    fn total(d: &Dem) -> f64 {
        d.kinetic_energy() + d.contact_energy() + d.ledger.dissipated() - d.ledger.wall_work
    }

    /// Two grains collide obliquely and spinning (damping, rolling resistance, adhesion, plastic
    /// flow; no Coulomb friction) with time step `dt` (s) for 0.4 µs; returns the largest
    /// departure of [`total`] from its start (J) and the book.
    fn collide(dt: f64) -> (f64, EnergyBook) {
        let mut p = ParticleState::default();
        p.push(DVec3::new(20e-6, 20e-6, 20e-6), 2e-6, 7e-14, 0);
        p.push(DVec3::new(24.5e-6, 20.6e-6, 20.2e-6), 2e-6, 7e-14, 0);
        p.vel[1] = DVec3::new(-3.0, 0.4, -1.0);
        p.omega[1] = DVec3::new(1e5, 3e5, -2e5);
        let mat = MaterialProps {
            surface_energy: 0.05,
            yield_pressure: Some(0.3e9),
            rolling_friction: 0.1,
            friction: 0.0,
            ..anchor_material()
        };
        let table = vec![PairParams::mix(&mat, &mat); 4];
        let mut d = Dem::new(p, table, 2, 40e-6, 40e-6, 0.0, 40e-6, 1, dt, 0.2e-6);
        d.walls.top_active = false;
        let e0 = total(&d);
        let mut worst: f64 = 0.0;
        for _ in 0..(0.4e-6 / dt) as usize {
            d.step_once().unwrap();
            worst = worst.max((total(&d) - e0).abs());
        }
        assert_eq!(d.touching_pairs(), 0, "the grains part");
        (worst, d.ledger)
    }

    /// The ledger of a plastic, adhesive, damped, rolling collision closes to 1 % of the energy
    /// dissipated at every step, and its error is the time integration's: it halves with the
    /// time step. (Coulomb friction is left out: the Mindlin spring, whose stiffness follows the
    /// contact radius, is not conservative; docs/model.md, "Energy ledger".)
    #[test]
    fn a_plastic_oblique_collision_closes_the_ledger() {
        let (worst, b) = collide(1e-10);
        assert!(
            b.contact_damping > 0.0 && b.rolling > 0.0 && b.plastic > 0.0,
            "{b:?}"
        );
        assert!(
            worst < 0.01 * b.dissipated(),
            "ledger off by {worst:.3e} J of {:.3e} J dissipated: {b:?}",
            b.dissipated()
        );
        let (half, _) = collide(0.5e-10);
        assert!(
            half < 0.6 * worst,
            "error {worst:.3e} J -> {half:.3e} J at half the step"
        );
    }

    /// A squeeze imposed by remapping positions (the pellet's compaction) does work on a plastic
    /// contact beyond the elastic energy it changes: [`Dem::contact_energy_with_flow`] counts the
    /// plastic flow the next force evaluation books, so that its change is that work.
    #[test]
    fn an_imposed_squeeze_is_booked_with_the_plastic_flow_it_causes() {
        let mut p = ParticleState::default();
        p.push(DVec3::new(20e-6, 20e-6, 20e-6), 2e-6, 7e-14, 0);
        p.push(DVec3::new(20e-6, 20e-6, 23.9e-6), 2e-6, 7e-14, 0);
        let mat = MaterialProps {
            yield_pressure: Some(0.3e9),
            ..anchor_material()
        };
        let table = vec![PairParams::mix(&mat, &mat); 4];
        let mut d = Dem::new(p, table, 2, 40e-6, 40e-6, 0.0, 40e-6, 1, 1e-14, 0.2e-6);
        d.walls.top_active = false;
        d.step_once().unwrap();
        let (u0, flow0) = d.contact_sums();
        assert!(
            flow0.abs() < 1e-6 * u0,
            "nothing pending after an evaluation: {flow0:e}"
        );
        let plastic0 = d.ledger.plastic;
        d.scale_z(0.97);
        let (u1, flow1) = d.contact_sums();
        assert!(
            flow1 > u1 - u0,
            "the squeeze flows more than it stores: {flow1:e} vs {:e}",
            u1 - u0
        );
        d.step_once().unwrap();
        let booked = d.ledger.plastic - plastic0;
        assert!(
            (booked - flow1).abs() < 1e-3 * flow1,
            "booked {booked:e} J, pending {flow1:e} J"
        );
        assert!((d.contact_energy() - u1).abs() < 1e-3 * u1);
    }

    /// A PTFE lump (material 1, held) sheared between two NPS grains (material 0) that orbit it
    /// on opposite sides at constant overlap and speed `v`, held on their circle, `steps` steps
    /// after 100 steps of loading. Returns the work credited to each particle over the
    /// measured steps and its analytic value, the Coulomb slip work `μ Σ|F_n| v Δt` (J), and the
    /// ledger's sliding work over the same steps.
    fn shear_lump(steps: usize) -> ([f64; 3], f64, f64) {
        let c = DVec3::new(20e-6, 20e-6, 20e-6);
        let (r_lump, r_grain, overlap) = (1e-6, 2e-6, 20e-9);
        let orbit = r_lump + r_grain - overlap;
        let (v, dt) = (1.0, 1e-10);
        let heavy = 1e3; // kg: no contact force moves the particles measurably.
        let mut p = ParticleState::default();
        p.push(c, r_lump, heavy, 1);
        p.push(c + DVec3::Z * orbit, r_grain, heavy, 0);
        p.push(c - DVec3::Z * orbit, r_grain, heavy, 0);
        let grain = MaterialProps {
            restitution: 1.0,
            ..anchor_material()
        };
        let lump = MaterialProps {
            youngs_modulus: 0.5e9,
            poisson: 0.46,
            restitution: 1.0,
            friction: 0.1,
            yield_pressure: Some(10e6),
            ..anchor_material()
        };
        let mats = [grain, lump];
        let table = (0..4)
            .map(|k| PairParams::mix(&mats[k / 2], &mats[k % 2]))
            .collect();
        let mut d = Dem::new(p, table, 2, 40e-6, 40e-6, 0.0, 40e-6, 1, dt, 0.2e-6);
        d.walls.top_active = false;
        d.work_credit = Some(1);
        let omega = v / orbit;
        let place = |d: &mut Dem, step: usize| {
            let th = omega * dt * step as f64;
            let (radial, tangent) = (
                DVec3::new(th.sin(), 0.0, th.cos()),
                DVec3::new(th.cos(), 0.0, -th.sin()),
            );
            d.p.pos[0] = c;
            d.p.vel[0] = DVec3::ZERO;
            for (k, sign) in [(1, 1.0), (2, -1.0)] {
                d.p.pos[k] = c + sign * orbit * radial;
                d.p.vel[k] = sign * v * tangent;
            }
            for w in d.p.omega.iter_mut() {
                *w = DVec3::ZERO;
            }
        };
        for step in 0..100 {
            place(&mut d, step);
            d.step_once().unwrap();
        }
        let book0 = d.ledger;
        d.credited_work = vec![0.0; 3];
        let mut analytic = 0.0;
        for step in 100..100 + steps {
            place(&mut d, step);
            d.step_once().unwrap();
            let fn_sum: f64 = d
                .pairs
                .iter_touching()
                .map(|pr| pr.normal_force.abs())
                .sum();
            analytic += 0.1 * fn_sum * v * dt;
        }
        let b = d.ledger.since(&book0);
        let w = &d.credited_work;
        ([w[0], w[1], w[2]], analytic, b.friction)
    }

    /// The work credited to a PTFE lump sheared between two grains is the Coulomb slip work of
    /// its two contacts within 2 %, the grains get none, and all of the ledger's sliding work is
    /// credited; the same on two threads (foreign pairs included).
    #[test]
    fn a_sheared_lump_is_credited_the_slip_work_of_its_contacts() {
        let (w, analytic, booked) = shear_lump(10_000);
        assert!(analytic > 0.0);
        assert!(
            (w[0] - analytic).abs() < 0.02 * analytic,
            "credited {:.4e} J, slip work {analytic:.4e} J",
            w[0]
        );
        assert_eq!((w[1], w[2]), (0.0, 0.0), "grains are not credited");
        assert!(
            (w[0] - booked).abs() < 1e-9 * booked,
            "credited {:.6e} J, ledger {booked:.6e} J",
            w[0]
        );
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| shear_lump(10_000));
        assert_eq!(
            two.0[0].to_bits(),
            w[0].to_bits(),
            "thread-count independent"
        );
    }
}
