//! The film (and pellet) process on the DEM core: particle generation, mixing, fibrillation,
//! calendering, pellet pressing, and the snapshot of the result. The model is documented in
//! `docs/model.md`; the equations are repeated next to the code that uses them.
//!
//! Fibrils are ECS entities ([`FibrilC`]) anchored to particles; their tensions are computed in the
//! step's `PreForce` slot (into the engine's external-force array, summed in entity order), and
//! fibril drawing from PTFE sources runs in `EndOfStep`, both with run conditions on the active stage.

use super::packing::random_packing;
use crate::dem::contact::{rayleigh_time, MaterialProps, PairParams};
use crate::dem::engine::{Dem, ParticleState, WallDrive};
use crate::dem::fibril_law::{fibril_response, FibrilEvent, FibrilLawParams, FibrilLawState};
use crate::dem::schedule::{run_steps, step_schedule, world_with, DemWorld, StepSet};
use crate::dem::DemError;
use crate::process::coverage::{contact_coverage, wrapped_fraction};
use crate::scenario::{Product, Scenario};
use crate::snapshot::{
    self, Anchor, Contact, Fibril, FibrilState, ParticleArrays, Phase, SimBox, Snapshot,
    SnapshotMaterials, Wall, WallContact,
};
use bevy_ecs::prelude::*;
use glam::{DQuat, DVec3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use rayon::iter::{
    IndexedParallelIterator, IntoParallelRefIterator, IntoParallelRefMutIterator, ParallelIterator,
};
use std::f64::consts::PI;

/// Material index of NPS in the pair table.
pub const MAT_NPS: u8 = 0;
/// Material index of PTFE.
pub const MAT_PTFE: u8 = 1;
/// Material index of the walls/rolls (steel).
pub const MAT_WALL: u8 = 2;

/// Errors of the process.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The DEM step failed.
    #[error(transparent)]
    Dem(#[from] DemError),
    /// The initial packing failed.
    #[error(transparent)]
    Packing(#[from] super::packing::PackingError),
    /// Something about the set-up is impossible.
    #[error("{0}")]
    Setup(String),
}

/// A fibril as an ECS component.
#[derive(Component, Debug, Clone, Copy)]
pub struct FibrilC {
    /// Index in creation order (stable id).
    pub id: u32,
    /// End A.
    pub a: Anchor,
    /// End B.
    pub b: Anchor,
    /// PTFE source particle.
    pub source: u32,
    /// Bond-law state of one strand (rest length m, radius m).
    pub law: FibrilLawState,
    /// Parallel strands in this model fibril (bundle multiplicity, dimensionless ≥ 1): volume and
    /// force are `count` times the single strand's.
    pub count: f64,
    /// Current tension of the whole bundle, N.
    pub tension: f64,
    /// Current length, m.
    pub length: f64,
    /// Intact, broken or detached.
    pub state: FibrilState,
}

/// Which stage is running (a resource; stage systems have run conditions on it).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveStage {
    /// No process stage (plain DEM).
    Idle,
    /// Low-shear mixing.
    Mixing,
    /// High-shear fibrillation.
    Fibrillation,
    /// Calendering.
    Calender,
    /// Pellet pressing.
    Pellet,
}

/// PTFE source bookkeeping and the fibrillation model's parameters (a resource).
#[derive(Resource, Debug, Clone)]
pub struct PtfeSources {
    /// Accumulated local shear strain of each particle (only PTFE entries are used).
    pub strain: Vec<f64>,
    /// Fibrils drawn so far from each particle.
    pub drawn: Vec<u32>,
    /// Remaining PTFE volume of each source particle, m³.
    pub volume: Vec<f64>,
    /// Critical local shear strain for drawing at the current temperature (∞ below 19 °C).
    pub critical_strain: f64,
    /// Fibrillation rate κ: fraction of the remaining lump drawn per unit local shear strain past
    /// the critical strain, per unit strain.
    pub rate: f64,
    /// PTFE volume of each source already due to be drawn but not yet spawned as a fibril, m³
    /// (bookkeeping only: the volume stays in the lump until a fibril takes it).
    pub pending: Vec<f64>,
    /// NPS grains each source has touched during fibrillation, oldest first (at most
    /// [`TOUCH_MEMORY`] distinct grains): a lump sheared through the packing smears PTFE onto the
    /// grains it passes, and a fibril is drawn between a grain it touches now and one it touched.
    pub touched: Vec<Vec<u32>>,
    /// The intact fibril (bundle) each source has drawn between a pair of grains, keyed by
    /// (source, lower grain, higher grain): strands drawn again between the same two grains join
    /// it instead of spawning a new entity.
    pub bundles: std::collections::HashMap<(u32, u32, u32), Entity>,
    /// Initial fibril radius, m.
    pub fibril_radius: f64,
    /// Strands per model fibril (bundle multiplicity, dimensionless).
    pub bundle: f64,
    /// Fibril law.
    pub law: FibrilLawParams,
    /// Seed for the drawing RNG.
    pub seed: u64,
    /// Next fibril id.
    pub next_id: u32,
    /// Fibrils that failed during the current stage/pass.
    pub broken_in_stage: u32,
    /// Steps per strain-sampling window: local strains are measured from neighbour displacements
    /// over this many steps (set by the fibrillation stage to 0.02 of imposed shear strain).
    pub window: u64,
    /// Steps taken in the current window.
    pub window_steps: u64,
    /// Particle positions at the start of the current window, m (empty: start a new window).
    pub window_start: Vec<DVec3>,
    /// Time steps between fibril-force evaluations (`numerics.fibril_force_interval`, ≥ 1): the
    /// tensions in the external-force array are held in between (multiple time stepping).
    pub force_interval: u64,
    /// Evaluate the fibril forces at the next step whatever the interval (set when a stage starts
    /// and when the film is turned, so that no held force outlives a change of frame).
    pub force_refresh: bool,
}

impl PtfeSources {
    /// Move `vol` (m³) of source `p`'s PTFE into a fibril: the lump and the volume due shrink by
    /// it and one more draw is counted. Returns the lump's new radius, m.
    fn take(&mut self, p: usize, vol: f64) -> f64 {
        self.pending[p] = (self.pending[p] - vol).max(0.0);
        self.volume[p] -= vol;
        self.drawn[p] += 1;
        lump_radius(self.volume[p])
    }
}

/// Number of distinct NPS grains a PTFE source remembers having touched (the possible far anchors
/// of the fibrils it draws).
pub const TOUCH_MEMORY: usize = 8;

/// Critical local shear strain for PTFE fibrillation at temperature `t_kelvin`.
///
/// Model (from Luo et al., RSC Adv. 2021: chains untwist above a strain of ~0.6, a stable oriented
/// network forms above ~0.9, and the critical strain falls as temperature rises; no fibrillation below
/// the 19 °C triclinic→hexagonal transition): ε_c = ∞ below 19 °C, then falls linearly from 0.9 at
/// 19 °C to 0.4 at 100 °C and stays at 0.4 above.
pub fn critical_fibrillation_strain(t_kelvin: f64) -> f64 {
    let t_c = t_kelvin - 273.15;
    if t_c < 19.0 {
        return f64::INFINITY;
    }
    let s = ((t_c - 19.0) / (100.0 - 19.0)).clamp(0.0, 1.0);
    0.9 - 0.5 * s
}

/// Wall pressure, Pa, the roll backs off to when it releases the film after a pass (the pass ends
/// its unloading once the averaged wall load is at or below it).
const RELEASE_PRESSURE: f64 = 1.0e3;

/// Per-stage, per-pass report of the calender.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PassReport {
    /// Pass number (1-based); correction passes continue the numbering.
    pub pass: usize,
    /// Whether this pass was added to reach the target thickness.
    pub correction: bool,
    /// Roll gap, µm.
    pub gap_um: f64,
    /// Thickness after springback, µm.
    pub thickness_um: f64,
    /// Relative density after springback.
    pub relative_density: f64,
    /// Springback: thickness gained on release, % of the thickness under the roll.
    pub springback_pct: f64,
    /// Peak wall pressure, MPa.
    pub peak_pressure_mpa: f64,
    /// Fibril orientation order parameter ⟨P2(cos θ)⟩ with respect to MD.
    pub fibril_orientation_md: f64,
    /// Fibrils that broke or detached in this pass.
    pub fibrils_broken: u32,
    /// MD box length after the pass, µm.
    pub lx_um: f64,
    /// Largest inertial number seen in the pass.
    pub inertial_number: f64,
    /// Wall-clock time of the pass (closing, hold, release, relaxation), s.
    pub wall_seconds: f64,
}

/// Summary of one stage.
#[derive(Debug, Clone, serde::Serialize, Default)]
pub struct StageSummary {
    /// Stage name.
    pub stage: String,
    /// DEM steps.
    pub steps: u64,
    /// Neighbour-list rebuilds during the stage (a particle moved half the skin since the last).
    pub neighbour_rebuilds: u64,
    /// Wall time, s.
    pub wall_seconds: f64,
    /// Particles (NPS, PTFE).
    pub nps_particles: usize,
    /// PTFE source particles.
    pub ptfe_particles: usize,
    /// Intact fibrils at the end.
    pub fibrils_intact: usize,
    /// Fibrils broken or detached during the stage.
    pub fibrils_failed: u32,
    /// Strands in the intact fibrils (Σ bundle counts), dimensionless.
    pub fibril_strands: f64,
    /// Fraction of the PTFE volume held by intact fibrils, dimensionless (the rest is in the
    /// lumps and in broken fibrils).
    pub ptfe_fibrillated_fraction: f64,
    /// Mean intact fibril length, µm.
    pub fibril_mean_length_um: f64,
    /// Mean fibril radius, nm.
    pub fibril_mean_radius_nm: f64,
    /// ⟨P2⟩ of fibrils w.r.t. MD.
    pub fibril_orientation_md: f64,
    /// Fraction of PTFE particles touching two or more NPS particles (dispersion).
    pub ptfe_dispersion: f64,
    /// Film thickness at the end, µm.
    pub thickness_um: f64,
    /// Relative density at the end.
    pub relative_density: f64,
    /// Largest inertial number of the stage.
    pub inertial_number: f64,
    /// PTFE mass conservation error (relative) at the end of the stage.
    pub ptfe_mass_error: f64,
    /// Calender passes (calender stage only).
    pub passes: Vec<PassReport>,
    /// Pellet pressing pressure reached, MPa (pellet only).
    pub peak_pressure_mpa: f64,
    /// Shear or compaction rate actually simulated, 1/s: the scenario's rate capped at the
    /// quasi-static rate (see [`FilmSim::quasi_static_rate`]).
    pub simulated_rate_per_s: f64,
    /// Fraction of the intact fibrils at the end of the stage that are evaluated every step because
    /// a held tension would lag their motion by more than [`FIBRIL_HOLD_PHASE`] (the rest are
    /// evaluated every `numerics.fibril_force_interval` steps), dimensionless.
    pub fibril_stiff_fraction: f64,
}

/// Progress callback: (stage, done fraction 0..1).
pub type Progress<'a> = &'a (dyn Fn(&str, f64) + Sync);

/// The process simulation: an ECS world holding the DEM engine and the fibril entities.
pub struct FilmSim {
    /// The world.
    pub world: World,
    /// The step schedule with the stage systems plugged in.
    pub schedule: Schedule,
    /// The scenario.
    pub scenario: Scenario,
    /// Phase per particle.
    pub phase: Vec<Phase>,
    /// Total PTFE volume at set-up, m³ (the conserved quantity).
    pub ptfe_volume0: f64,
    /// Achieved PTFE wt%.
    pub achieved_wt_pct: f64,
    /// Scaled densities (kg/m³) NPS, PTFE.
    pub scaled_density: [f64; 2],
    /// Snapshots taken after each calender pass (drained by the pipeline).
    pub pass_snapshots: Vec<Snapshot>,
}

fn pair_table(s: &Scenario) -> Vec<PairParams> {
    let nps = MaterialProps {
        youngs_modulus: s.nps.youngs_modulus,
        poisson: s.nps.poisson,
        restitution: s.nps.restitution,
        friction: s.nps.friction,
        rolling_friction: s.nps.rolling_friction,
        surface_energy: s.nps.surface_energy,
        yield_pressure: Some(s.nps.yield_pressure),
    };
    // PTFE lumps: soft, cohesive, flow at ~10 MPa (bulk PTFE yield; the brief's 14–34 MPa tensile).
    let ptfe = MaterialProps {
        youngs_modulus: s.ptfe.youngs_modulus,
        poisson: s.ptfe.poisson,
        restitution: 0.3,
        friction: 0.1,
        rolling_friction: 0.05,
        surface_energy: s.nps.surface_energy,
        yield_pressure: Some(10e6),
    };
    // Steel rolls/walls.
    let wall = MaterialProps {
        youngs_modulus: 200e9,
        poisson: 0.3,
        restitution: 0.5,
        friction: 0.3,
        rolling_friction: 0.0,
        surface_energy: 0.0,
        yield_pressure: None,
    };
    let mats = [nps, ptfe, wall];
    let mut t = Vec::with_capacity(9);
    for a in &mats {
        for b in &mats {
            t.push(PairParams::mix(a, b));
        }
    }
    t
}

/// Seed of a named subsystem's RNG stream derived from the scenario seed (SplitMix64 of seed ⊕ tag).
pub fn stream_seed(seed: u64, tag: u64) -> u64 {
    let mut z = seed ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Draw NPS diameters (m) from the truncated lognormal until `mass` (kg) of NPS is reached.
pub fn draw_nps_diameters<R: Rng>(s: &Scenario, mass: f64, rng: &mut R) -> Vec<f64> {
    let ln = LogNormal::new(s.nps.d50.ln(), s.nps.gsd.ln().max(1e-12))
        .expect("validated lognormal parameters");
    let mut out = Vec::new();
    let mut m = 0.0;
    while m < mass {
        let d: f64 = ln.sample(rng);
        if d < s.nps.d_min || d > s.nps.d_max {
            continue;
        }
        let md = s.nps.density * PI / 6.0 * d * d * d;
        if m + md > mass && m + 0.5 * md > mass {
            break;
        }
        m += md;
        out.push(d);
    }
    out
}

impl FilmSim {
    /// Generate particles and the initial random packing for a scenario.
    pub fn new(s: &Scenario) -> Result<Self, ProcessError> {
        let area = s.domain.lx * s.domain.ly;
        let total_mass = s.domain.mass_loading * area;
        let film = s.product == Product::Film;
        let wt = if film { s.ptfe.wt_pct / 100.0 } else { 0.0 };
        let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(s.seed, 1));
        let nps_d = draw_nps_diameters(s, total_mass * (1.0 - wt), &mut rng);
        if nps_d.is_empty() {
            return Err(ProcessError::Setup("the domain holds no NPS particle: raise domain.mass_loading_mg_cm2 or the box size".into()));
        }
        let nps_mass: f64 = nps_d
            .iter()
            .map(|d| s.nps.density * PI / 6.0 * d * d * d)
            .sum();
        // PTFE lumps: count from the lump size, diameter adjusted so the PTFE mass honours wt%
        // exactly against the NPS mass actually drawn.
        let ptfe_mass = if wt > 0.0 {
            nps_mass * wt / (1.0 - wt)
        } else {
            0.0
        };
        let lump_m = s.ptfe.density * PI / 6.0 * s.ptfe.lump_diameter.powi(3);
        let n_lumps = if ptfe_mass > 0.0 {
            ((ptfe_mass / lump_m).round() as usize).max(1)
        } else {
            0
        };
        let lump_d = if n_lumps > 0 {
            (6.0 * ptfe_mass / (PI * s.ptfe.density * n_lumps as f64)).cbrt()
        } else {
            0.0
        };
        let mut radii: Vec<f64> = nps_d.iter().map(|d| 0.5 * d).collect();
        let mut phase = vec![Phase::Nps; radii.len()];
        radii.extend(std::iter::repeat_n(0.5 * lump_d, n_lumps));
        phase.extend(std::iter::repeat_n(Phase::Ptfe, n_lumps));
        let solid_v: f64 = radii.iter().map(|r| 4.0 / 3.0 * PI * r * r * r).sum();
        let h0 = solid_v / (s.domain.initial_solid_fraction * area);
        let mut prng = ChaCha8Rng::seed_from_u64(stream_seed(s.seed, 2));
        let pos = random_packing(&radii, s.domain.lx, s.domain.ly, 0.0, h0, &mut prng)?;
        // Number the particles in space order (layer by layer through the thickness, then by rows
        // across, then along MD), so that neighbours sit close in memory for the contact and fibril
        // loops. The order stays good under shear (particles at one height move together) and the
        // calender's affine MD stretch.
        let order = spatial_order(&pos, &radii, s.domain.lx, s.domain.ly);
        let pos: Vec<DVec3> = order.iter().map(|&k| pos[k]).collect();
        let radii: Vec<f64> = order.iter().map(|&k| radii[k]).collect();
        let phase: Vec<Phase> = order.iter().map(|&k| phase[k]).collect();
        let ms = s.numerics.mass_scaling;
        let dens = [s.nps.density * ms, s.ptfe.density * ms];
        let mut p = ParticleState::default();
        for k in 0..radii.len() {
            let r = radii[k];
            let (mat, rho) = if phase[k] == Phase::Nps {
                (MAT_NPS, dens[0])
            } else {
                (MAT_PTFE, dens[1])
            };
            p.push(pos[k], r, rho * 4.0 / 3.0 * PI * r * r * r, mat);
        }
        // Time step: a fraction of the smallest Rayleigh time over the materials (scaled densities).
        let rmin = radii.iter().cloned().fold(f64::INFINITY, f64::min);
        let mut tr = rayleigh_time(rmin, dens[0], s.nps.youngs_modulus, s.nps.poisson);
        if n_lumps > 0 {
            tr = tr.min(rayleigh_time(
                0.5 * lump_d,
                dens[1],
                s.ptfe.youngs_modulus,
                s.ptfe.poisson,
            ));
        }
        let dt = s.numerics.rayleigh_fraction * tr;
        let skin = s.numerics.skin_fraction * 2.0 * rmin;
        let mut dem = Dem::new(
            p,
            pair_table(s),
            3,
            s.domain.lx,
            s.domain.ly,
            0.0,
            h0,
            MAT_WALL,
            dt,
            skin,
        );
        dem.stage = "setup".into();
        dem.rebuild()?;
        let n = radii.len();
        let ptfe_vol: f64 = (0..n)
            .filter(|&k| phase[k] == Phase::Ptfe)
            .map(|k| 4.0 / 3.0 * PI * radii[k].powi(3))
            .sum();
        let mut world = world_with(dem);
        world.insert_resource(ActiveStage::Idle);
        let law = FibrilLawParams::from_strengths(
            s.ptfe.youngs_modulus,
            s.ptfe.fibril_yield,
            s.ptfe.fibril_strength,
            s.ptfe.anchor_strength,
            s.ptfe.fibril_radius,
        );
        world.insert_resource(PtfeSources {
            strain: vec![0.0; n],
            drawn: vec![0; n],
            volume: (0..n)
                .map(|k| {
                    if phase[k] == Phase::Ptfe {
                        4.0 / 3.0 * PI * radii[k].powi(3)
                    } else {
                        0.0
                    }
                })
                .collect(),
            critical_strain: f64::INFINITY,
            rate: s.ptfe.fibrillation_rate,
            pending: vec![0.0; n],
            touched: vec![Vec::new(); n],
            bundles: std::collections::HashMap::new(),
            fibril_radius: s.ptfe.fibril_radius,
            bundle: s.ptfe.fibrils_per_bundle,
            law,
            seed: stream_seed(s.seed, 3),
            next_id: 0,
            broken_in_stage: 0,
            window: 50,
            window_steps: 0,
            window_start: Vec::new(),
            force_interval: u64::from(s.numerics.fibril_force_interval.max(1)),
            force_refresh: true,
        });
        let mut schedule = step_schedule();
        let fib_active =
            |st: Res<ActiveStage>| matches!(*st, ActiveStage::Fibrillation | ActiveStage::Calender);
        schedule.add_systems(fibril_forces.in_set(StepSet::PreForce).run_if(fib_active));
        schedule.add_systems(
            draw_fibrils
                .in_set(StepSet::EndOfStep)
                .run_if(|st: Res<ActiveStage>| *st == ActiveStage::Fibrillation),
        );
        let achieved = if n_lumps > 0 {
            100.0 * ptfe_mass / (ptfe_mass + nps_mass)
        } else {
            0.0
        };
        Ok(FilmSim {
            world,
            schedule,
            scenario: s.clone(),
            phase,
            ptfe_volume0: ptfe_vol,
            achieved_wt_pct: achieved,
            scaled_density: dens,
            pass_snapshots: Vec::new(),
        })
    }

    /// The engine.
    pub fn dem(&self) -> &Dem {
        &self.world.resource::<DemWorld>().0
    }
    /// The engine, mutable.
    pub fn dem_mut(&mut self) -> &mut Dem {
        &mut self.world.resource_mut::<DemWorld>().into_inner().0
    }

    fn run_chunked(
        &mut self,
        steps: u64,
        stage: &str,
        progress: Progress,
        base: f64,
        span: f64,
    ) -> Result<(), ProcessError> {
        self.run_chunked_with(steps, 200, stage, progress, (base, span), |_| {})
    }

    /// `steps` steps in chunks of `chunk`, calling `after` on the simulation after each chunk and
    /// reporting progress from `base` to `base + span` (`(base, span)`, fractions of the stage).
    fn run_chunked_with(
        &mut self,
        steps: u64,
        chunk: u64,
        stage: &str,
        progress: Progress,
        (base, span): (f64, f64),
        mut after: impl FnMut(&mut Self),
    ) -> Result<(), ProcessError> {
        let mut done = 0;
        while done < steps {
            let k = chunk.min(steps - done);
            run_steps(&mut self.world, &mut self.schedule, k)?;
            after(self);
            done += k;
            progress(stage, base + span * done as f64 / steps.max(1) as f64);
        }
        Ok(())
    }

    /// Free relaxation of a released film (no top wall) for `steps` time steps: the film's
    /// rigid-body z velocity is removed every 100 steps ([`Dem::remove_drift_z`]) and at the end
    /// it is set down on the bottom wall ([`Dem::rest_on_bottom`]), so that the thickness measured
    /// after it is the film's own (springback), not the height it drifted to. Progress is reported
    /// for `stage` from `range.0` to `range.0 + range.1` (fractions of the stage).
    ///
    /// # Errors
    /// A DEM failure during the steps ([`ProcessError`]).
    pub fn relax_free(
        &mut self,
        steps: u64,
        stage: &str,
        progress: Progress,
        range: (f64, f64),
    ) -> Result<(), ProcessError> {
        let floor = self.film_radius_floor();
        self.dem_mut().remove_drift_z(floor);
        self.run_chunked_with(steps, 100, stage, progress, range, |sim| {
            sim.dem_mut().remove_drift_z(floor)
        })?;
        self.dem_mut().rest_on_bottom(floor);
        Ok(())
    }

    /// Inertial number I = γ̇ d / sqrt(p / ρ) with the scaled density (quasi-static when I ≪ 1).
    pub fn inertial_number(&self, rate: f64, pressure: f64) -> f64 {
        let d = self.scenario.nps.d50;
        rate * d / (pressure.max(1.0) / self.scaled_density[0]).sqrt()
    }

    /// Strain rate, 1/s, at which a packing under `pressure` (Pa) deforms at the scenario's largest
    /// inertial number: γ̇_qs = I_max · sqrt(p / ρ_s) / d50 (GDR MiDi, Eur. Phys. J. E 14, 341, 2004),
    /// with the scaled density ρ_s. Stages never drive the packing faster than this: the simulated
    /// rate is min(scenario rate, γ̇_qs), so the result is the quasi-static one the real (much
    /// slower) process gives, whatever the mass scaling.
    pub fn quasi_static_rate(&self, pressure: f64) -> f64 {
        let d = self.scenario.nps.d50;
        self.scenario.numerics.max_inertial_number
            * (pressure.max(1.0) / self.scaled_density[0]).sqrt()
            / d
    }

    /// Rate, 1/s, a stage actually simulates for a scenario rate `rate` (1/s) under `pressure` (Pa):
    /// `min(rate, γ̇_qs(p))`.
    pub fn simulated_rate(&self, rate: f64, pressure: f64) -> f64 {
        rate.min(self.quasi_static_rate(pressure))
    }

    /// Total PTFE volume now (sources + fibrils), m³.
    pub fn ptfe_volume(&mut self) -> f64 {
        let src: f64 = self.world.resource::<PtfeSources>().volume.iter().sum();
        let mut q = self.world.query::<&FibrilC>();
        let fib: f64 = q.iter(&self.world).map(|f| f.count * f.law.volume()).sum();
        src + fib
    }

    /// Shear between the walls: top wall servo-controlled at `pressure` (Pa) and moving in-plane
    /// along `direction` (rad from MD) at γ̇·H, for `strain` of shear.
    #[allow(clippy::too_many_arguments)]
    fn shear_stage(
        &mut self,
        name: &str,
        stage: ActiveStage,
        rate: f64,
        strain: f64,
        pressure: f64,
        direction: f64,
        progress: Progress,
    ) -> Result<StageSummary, ProcessError> {
        let t0 = std::time::Instant::now();
        let rebuilds0 = self.dem().rebuilds;
        *self.world.resource_mut::<ActiveStage>() = stage;
        {
            let mut src = self.world.resource_mut::<PtfeSources>();
            src.broken_in_stage = 0;
            src.force_refresh = true;
        }
        let (dt, h) = {
            let d = self.dem_mut();
            d.stage = name.into();
            (d.dt, d.walls.z_top - d.walls.z_bottom)
        };
        // Settle under the confining pressure first: this only brings the loose random insertion to
        // the confining pressure (filling the mixer), not a process step, so the servo may compact
        // at ten times the quasi-static rate (wall speed 10·γ̇_qs·h); settling runs long enough for it
        // to close the loose packing to ~0.5 solid fraction. The shear itself is quasi-static.
        let qs = self.quasi_static_rate(pressure);
        let vmax = 10.0 * qs * h;
        let phi = self.dem().solid_fraction();
        let travel = (h * (1.0 - phi / 0.5)).max(0.0);
        let settle = self.scenario.numerics.relax_steps + (travel / (vmax * dt)).ceil() as u64;
        {
            let d = self.dem_mut();
            d.walls.top_drive = WallDrive::Pressure {
                pressure,
                max_speed: vmax,
                shear: DVec3::ZERO,
            };
        }
        self.run_chunked(settle, name, progress, 0.0, 0.3)?;
        let h = {
            let d = self.dem();
            (d.walls.z_top - d.walls.z_bottom).min(h)
        };
        let rate = self.simulated_rate(rate, pressure);
        let v = rate * h;
        let shear = DVec3::new(v * direction.cos(), v * direction.sin(), 0.0);
        let steps = ((strain / rate) / dt).ceil() as u64;
        self.dem_mut().walls.top_drive = WallDrive::Pressure {
            pressure,
            max_speed: vmax,
            shear,
        };
        self.run_chunked(steps, name, progress, 0.3, 0.7)?;
        self.dem_mut().walls.top_drive = WallDrive::Pressure {
            pressure,
            max_speed: vmax,
            shear: DVec3::ZERO,
        };
        let mut s = self.summary(name);
        s.steps = settle + steps;
        s.neighbour_rebuilds = self.dem().rebuilds - rebuilds0;
        s.inertial_number = self.inertial_number(rate, pressure);
        s.simulated_rate_per_s = rate;
        s.wall_seconds = t0.elapsed().as_secs_f64();
        Ok(s)
    }

    /// Low-shear mixing (PTFE is distributed between the NPS grains; no fibrils).
    pub fn mixing(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let m = self.scenario.mixing.clone();
        self.shear_stage(
            "mixing",
            ActiveStage::Mixing,
            m.shear_rate,
            m.shear_strain,
            m.confining_pressure,
            0.0,
            progress,
        )
    }

    /// High-shear fibrillation at the scenario temperature.
    pub fn fibrillation(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let f = self.scenario.fibrillation.clone();
        {
            let mut src = self.world.resource_mut::<PtfeSources>();
            src.critical_strain = critical_fibrillation_strain(f.temperature);
            for s in src.strain.iter_mut() {
                *s = 0.0;
            }
        }
        // Strain-sampling window: 0.02 of imposed shear at the simulated (quasi-static) rate.
        let rate = self.simulated_rate(f.shear_rate, f.confining_pressure);
        let window = ((0.02 / (rate * self.dem().dt)).ceil() as u64).max(1);
        {
            let mut src = self.world.resource_mut::<PtfeSources>();
            src.window = window;
            src.window_steps = 0;
            src.window_start.clear();
        }
        self.shear_stage(
            "fibrillation",
            ActiveStage::Fibrillation,
            f.shear_rate,
            f.shear_strain,
            f.confining_pressure,
            f.shear_direction,
            progress,
        )
    }

    /// Compress the film to `gap` (m) at the calender strain rate, elongating MD, then release the roll
    /// and let the film spring back. Returns the pass report.
    fn calender_pass(
        &mut self,
        pass: usize,
        gap: f64,
        correction: bool,
        progress: Progress,
    ) -> Result<PassReport, ProcessError> {
        let t0 = std::time::Instant::now();
        let c = self.scenario.calender.clone();
        self.world.resource_mut::<PtfeSources>().broken_in_stage = 0;
        let name = format!("calender pass {pass}");
        {
            let d = self.dem_mut();
            d.stage = name.clone();
            d.walls.top_active = true;
            // Put the roll just above the film if it was lifted.
            let top = d.film_top();
            if d.walls.z_top > top {
                d.walls.z_top = top;
            }
        }
        let h_start = self.dem().walls.z_top - self.dem().walls.z_bottom;
        // The dough's confining pressure is the floor of the pressure that sets the quasi-static rate
        // (a loose film under the roll is held at least that hard).
        let p_floor = self.scenario.fibrillation.confining_pressure.max(1.0e4);
        let mut peak: f64 = 0.0;
        let mut i_max: f64 = 0.0;
        if gap < h_start {
            // Roll closing: each 50-step chunk the wall speed is set from the current wall pressure,
            // ε̇ = min(scenario rate, γ̇_qs(p)), so the film is pressed at the largest inertial number
            // allowed, whatever its stiffness so far.
            let chunk = 50u64;
            let mut h_prev = h_start;
            let mut steps = 0u64;
            loop {
                let (p_now, h) = {
                    let d = self.dem();
                    (
                        (d.walls.top_force_avg / (d.lx * d.ly)).max(p_floor),
                        d.walls.z_top - d.walls.z_bottom,
                    )
                };
                if h <= gap {
                    break;
                }
                let rate = self.simulated_rate(c.strain_rate, p_now);
                i_max = i_max.max(self.inertial_number(rate, p_now));
                self.dem_mut().walls.top_drive =
                    WallDrive::Velocity(DVec3::new(0.0, 0.0, -rate * h));
                run_steps(&mut self.world, &mut self.schedule, chunk)?;
                steps += chunk;
                let d = self.dem_mut();
                if d.walls.z_top - d.walls.z_bottom <= gap {
                    d.walls.z_top = d.walls.z_bottom + gap;
                }
                let h = d.walls.z_top - d.walls.z_bottom;
                // MD elongation: Lx ← Lx (h_prev/h)^α.
                if c.md_elongation_exponent > 0.0 && h < h_prev {
                    d.stretch_x((h_prev / h).powf(c.md_elongation_exponent));
                }
                h_prev = h;
                peak = peak.max(d.walls.top_force / (d.lx * d.ly));
                let frac = ((h_start - h) / (h_start - gap)).clamp(0.0, 1.0);
                progress(&name, 0.6 * frac);
                if steps > 50_000_000 {
                    return Err(ProcessError::Setup(format!(
                        "{name}: the roll did not reach the {:.1} µm gap in {steps} steps",
                        gap * 1e6
                    )));
                }
            }
        }
        // Hold at the gap briefly.
        let relax = self.scenario.numerics.relax_steps;
        self.dem_mut().walls.top_drive = WallDrive::Velocity(DVec3::ZERO);
        self.run_chunked(relax / 4, &name, progress, 0.6, 0.05)?;
        // Thickness under the roll, measured like the free thickness (99th percentile of tops), so
        // that springback compares like with like.
        let loaded = self.thickness();
        peak = peak.max({
            let d = self.dem();
            d.walls.top_force / (d.lx * d.ly)
        });
        // Quasi-static release: the roll backs off under force control toward zero load, never faster
        // than the quasi-static rate at the dough's confining pressure, so the film springs back
        // against a retreating surface instead of being let go at full load.
        {
            let h = self.dem().walls.z_top - self.dem().walls.z_bottom;
            let v_up = self.quasi_static_rate(p_floor) * h;
            let d = self.dem_mut();
            d.walls.top_drive = WallDrive::Pressure {
                pressure: RELEASE_PRESSURE,
                max_speed: v_up,
                shear: DVec3::ZERO,
            };
        }
        let chunk = 100u64;
        let mut done = 0u64;
        let unload_max = 4 * relax.max(chunk);
        // The released film must not ride the retreating roll up as a body (see relax_free).
        let floor = self.film_radius_floor();
        while done < unload_max {
            run_steps(&mut self.world, &mut self.schedule, chunk)?;
            self.dem_mut().remove_drift_z(floor);
            done += chunk;
            let d = self.dem();
            if d.walls.top_force_avg <= RELEASE_PRESSURE * d.lx * d.ly {
                break;
            }
            progress(&name, 0.65 + 0.1 * done as f64 / unload_max as f64);
        }
        {
            let d = self.dem_mut();
            d.walls.top_active = false;
            d.walls.top_drive = WallDrive::Velocity(DVec3::ZERO);
        }
        self.relax_free(relax, &name, progress, (0.75, 0.25))?;
        let thick = self.thickness();
        let report = PassReport {
            pass,
            correction,
            gap_um: gap * 1e6,
            thickness_um: thick * 1e6,
            relative_density: self.relative_density(),
            springback_pct: 100.0 * (thick - loaded) / loaded,
            peak_pressure_mpa: peak * 1e-6,
            fibril_orientation_md: self.fibril_stats().2,
            fibrils_broken: self.world.resource::<PtfeSources>().broken_in_stage,
            lx_um: self.dem().lx * 1e6,
            inertial_number: i_max,
            wall_seconds: t0.elapsed().as_secs_f64(),
        };
        // Top wall parked at the film surface for the snapshot.
        let d = self.dem_mut();
        d.walls.z_top = d.walls.z_bottom + thick;
        Ok(report)
    }

    /// Rotate the film 90° in-plane (fold-and-turn between passes): (x, y) → (y, Lx − x).
    pub fn turn_90(&mut self) {
        // Held fibril forces point along the old axes: evaluate them afresh at the next step.
        self.world.resource_mut::<PtfeSources>().force_refresh = true;
        let d = self.dem_mut();
        let (lx, ly) = (d.lx, d.ly);
        // Positions map (x, y) → (y, Lx − x): a rotation by −90° about z; vectors and orientations
        // must turn the same way.
        let q = DQuat::from_rotation_z(-std::f64::consts::FRAC_PI_2);
        for k in 0..d.p.len() {
            let x = d.p.pos[k];
            d.p.pos[k] = DVec3::new(x.y, lx - x.x, x.z);
            d.p.vel[k] = q * d.p.vel[k];
            d.p.omega[k] = q * d.p.omega[k];
            d.p.quat[k] = (q * d.p.quat[k]).normalize();
        }
        d.pairs.rotate_history(q);
        d.walls.rotate_history(q);
        d.lx = ly;
        d.ly = lx;
        // Rebuild with the contact history carried over (pairs keep their (i, j) keys; the image
        // shifts are recomputed), so plastic necks and tangential springs survive the turn.
        let _ = d.rebuild();
    }

    /// The calender stage: every pass of the schedule, then correction passes until the film is
    /// within 2% of the target thickness (at most 4), like an operator closing the gap.
    pub fn calender(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let t0 = std::time::Instant::now();
        *self.world.resource_mut::<ActiveStage>() = ActiveStage::Calender;
        self.world.resource_mut::<PtfeSources>().force_refresh = true;
        let c = self.scenario.calender.clone();
        let (step0, rebuilds0) = (self.dem().step, self.dem().rebuilds);
        let mut passes = Vec::new();
        let mut failed = 0;
        let mut last_gap = f64::INFINITY;
        for (k, &gap) in c.gaps.iter().enumerate() {
            if k > 0 && c.turn_90_between_passes {
                self.turn_90();
            }
            let r = self.calender_pass(k + 1, gap, false, progress)?;
            failed += r.fibrils_broken;
            last_gap = gap;
            let snap = self.snapshot(&format!("calender_pass_{}", k + 1));
            self.pass_snapshots.push(snap);
            passes.push(r);
        }
        let target = c.target_thickness;
        for extra in 0..4 {
            let t = self.thickness();
            if t <= target * 1.02 {
                break;
            }
            // Close the gap by the excess plus the springback seen in the last pass.
            // Springback of the last pass in which the roll really pressed the film.
            let sb = passes
                .iter()
                .rev()
                .find(|p| p.peak_pressure_mpa > 1.0)
                .map(|p| p.springback_pct / 100.0)
                .unwrap_or(0.05)
                .max(0.0);
            let gap = (target / (1.0 + sb)).min(last_gap * 0.99);
            if c.turn_90_between_passes {
                self.turn_90();
            }
            let r = self.calender_pass(c.gaps.len() + extra + 1, gap, true, progress)?;
            failed += r.fibrils_broken;
            last_gap = gap;
            let snap = self.snapshot(&format!("calender_pass_{}", r.pass));
            self.pass_snapshots.push(snap);
            passes.push(r);
        }
        let mut s = self.summary("calender");
        s.steps = self.dem().step - step0;
        s.neighbour_rebuilds = self.dem().rebuilds - rebuilds0;
        s.fibrils_failed = failed;
        s.inertial_number = passes.iter().map(|p| p.inertial_number).fold(0.0, f64::max);
        s.passes = passes;
        s.wall_seconds = t0.elapsed().as_secs_f64();
        Ok(s)
    }

    /// Uniaxial cold pressing to the pellet pressure (servo-controlled top wall), hold, release.
    pub fn pellet(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let t0 = std::time::Instant::now();
        *self.world.resource_mut::<ActiveStage>() = ActiveStage::Pellet;
        let p = self.scenario.pellet.clone();
        let (step0, rebuilds0) = (self.dem().step, self.dem().rebuilds);
        let dt = self.dem().dt;
        let h = self.dem().walls.z_top - self.dem().walls.z_bottom;
        let vmax = p.strain_rate * h;
        {
            let d = self.dem_mut();
            d.stage = "pellet".into();
            d.walls.top_drive = WallDrive::Pressure {
                pressure: p.pressure,
                max_speed: vmax,
                shear: DVec3::ZERO,
            };
        }
        // Enough steps to close the loose packing at the strain rate, then hold.
        let steps = ((1.0 / p.strain_rate) / dt).ceil() as u64 + self.scenario.numerics.relax_steps;
        let mut peak: f64 = 0.0;
        let chunk = 100;
        let mut done = 0;
        while done < steps {
            let k = chunk.min(steps - done);
            run_steps(&mut self.world, &mut self.schedule, k)?;
            done += k;
            let d = self.dem();
            peak = peak.max(d.walls.top_force / (d.lx * d.ly));
            progress("pellet", 0.8 * done as f64 / steps as f64);
        }
        {
            let d = self.dem_mut();
            d.walls.top_active = false;
            d.walls.top_drive = WallDrive::Velocity(DVec3::ZERO);
        }
        let relax = self.scenario.numerics.relax_steps;
        self.relax_free(relax, "pellet", progress, (0.8, 0.2))?;
        let thick = self.thickness();
        {
            let d = self.dem_mut();
            d.walls.z_top = d.walls.z_bottom + thick;
        }
        let mut s = self.summary("pellet");
        s.steps = self.dem().step - step0;
        s.neighbour_rebuilds = self.dem().rebuilds - rebuilds0;
        s.peak_pressure_mpa = peak * 1e-6;
        s.inertial_number = self.inertial_number(p.strain_rate, p.pressure);
        s.wall_seconds = t0.elapsed().as_secs_f64();
        Ok(s)
    }

    /// Smallest radius of a particle that is part of the film, m: a twentieth of the smallest NPS
    /// diameter. Only PTFE lumps drawn down to under 0.2 % of their volume are smaller; such a
    /// spent lump keeps its mass but has no contacts left, so it no longer takes part in the film
    /// (thickness, drift removal).
    pub fn film_radius_floor(&self) -> f64 {
        0.05 * self.scenario.nps.d_min
    }

    /// Film thickness, m: the 99th percentile of the tops of the film's particles (radius ≥
    /// [`FilmSim::film_radius_floor`]) above the bottom wall (robust to a few loose particles on
    /// the surface).
    pub fn thickness(&self) -> f64 {
        let d = self.dem();
        let floor = self.film_radius_floor();
        let mut tops: Vec<f64> =
            d.p.pos
                .iter()
                .zip(&d.p.radius)
                .filter(|(_, r)| **r >= floor)
                .map(|(x, r)| x.z + r - d.walls.z_bottom)
                .collect();
        tops.sort_by(f64::total_cmp);
        let k = ((tops.len() as f64 * 0.99) as usize).min(tops.len() - 1);
        tops[k]
    }

    /// Relative density: solid (particles + fibrils) volume over lx·ly·thickness.
    pub fn relative_density(&mut self) -> f64 {
        let t = self.thickness();
        let d = self.dem();
        let vp: f64 = d.p.radius.iter().map(|r| 4.0 / 3.0 * PI * r * r * r).sum();
        let (lx, ly) = (d.lx, d.ly);
        let mut q = self.world.query::<&FibrilC>();
        let vf: f64 = q
            .iter(&self.world)
            .filter(|f| f.state == FibrilState::Intact)
            .map(|f| f.count * f.law.volume())
            .sum();
        (vp + vf) / (lx * ly * t)
    }

    /// (intact count, mean length m, ⟨P2⟩ w.r.t. MD, mean radius m) of the fibrils.
    pub fn fibril_stats(&mut self) -> (usize, f64, f64, f64) {
        let mut q = self.world.query::<&FibrilC>();
        let (mut n, mut l, mut p2, mut r) = (0usize, 0.0, 0.0, 0.0);
        let dem = &self.world.resource::<DemWorld>().0;
        for f in q.iter(&self.world) {
            if f.state != FibrilState::Intact {
                continue;
            }
            let (_, u, len) = fibril_vector(dem, &f.a, &f.b);
            n += 1;
            l += len;
            r += f.law.radius;
            let c = u.x;
            p2 += 1.5 * c * c - 0.5;
        }
        if n == 0 {
            return (0, 0.0, 0.0, 0.0);
        }
        (n, l / n as f64, p2 / n as f64, r / n as f64)
    }

    fn summary(&mut self, name: &str) -> StageSummary {
        let (nf, len, p2, rad) = self.fibril_stats();
        let v = self.ptfe_volume();
        let err = if self.ptfe_volume0 > 0.0 {
            (v - self.ptfe_volume0).abs() / self.ptfe_volume0
        } else {
            0.0
        };
        let disp = self.ptfe_dispersion();
        let failed = self.world.resource::<PtfeSources>().broken_in_stage;
        let (mut strands, mut fib_vol) = (0.0, 0.0);
        for f in self.world.query::<&FibrilC>().iter(&self.world) {
            if f.state == FibrilState::Intact {
                strands += f.count;
                fib_vol += f.count * f.law.area() * f.law.rest_length;
            }
        }
        StageSummary {
            stage: name.into(),
            nps_particles: self.phase.iter().filter(|p| **p == Phase::Nps).count(),
            ptfe_particles: self.phase.iter().filter(|p| **p == Phase::Ptfe).count(),
            fibrils_intact: nf,
            fibrils_failed: failed,
            fibril_strands: strands,
            ptfe_fibrillated_fraction: if v > 0.0 { fib_vol / v } else { 0.0 },
            fibril_mean_length_um: len * 1e6,
            fibril_mean_radius_nm: rad * 1e9,
            fibril_orientation_md: p2,
            ptfe_dispersion: disp,
            thickness_um: self.thickness() * 1e6,
            relative_density: self.relative_density(),
            ptfe_mass_error: err,
            fibril_stiff_fraction: self.fibril_stiff_fraction(),
            ..Default::default()
        }
    }

    /// Fraction of the intact fibrils (bundles) stiff enough to be evaluated every step rather than
    /// held: ω·Δt_hold > [`FIBRIL_HOLD_PHASE`], with ω = sqrt(k/m_red) for the bundle's elastic
    /// stiffness k = n E π r² / L₀ and Δt_hold = `numerics.fibril_force_interval` · dt; 0 without
    /// fibrils or with an interval of 1.
    pub fn fibril_stiff_fraction(&mut self) -> f64 {
        let (e, interval) = {
            let src = self.world.resource::<PtfeSources>();
            (src.law.modulus, src.force_interval)
        };
        let mut q = self.world.query::<&FibrilC>();
        let d = &self.world.resource::<DemWorld>().0;
        let hold = interval as f64 * d.dt;
        let (mut n, mut stiff) = (0usize, 0usize);
        for f in q.iter(&self.world) {
            if f.state != FibrilState::Intact {
                continue;
            }
            n += 1;
            if interval > 1 && hold_phase(d, f, e, hold) > FIBRIL_HOLD_PHASE {
                stiff += 1;
            }
        }
        if n == 0 {
            0.0
        } else {
            stiff as f64 / n as f64
        }
    }

    /// Fraction of PTFE particles touching two or more NPS particles.
    pub fn ptfe_dispersion(&self) -> f64 {
        let d = self.dem();
        let mut cnt = vec![0u32; d.p.len()];
        for pr in d.pairs.iter_touching() {
            let (i, j) = (pr.i as usize, pr.j as usize);
            if self.phase[i] == Phase::Ptfe && self.phase[j] == Phase::Nps {
                cnt[i] += 1;
            }
            if self.phase[j] == Phase::Ptfe && self.phase[i] == Phase::Nps {
                cnt[j] += 1;
            }
        }
        let n = self.phase.iter().filter(|p| **p == Phase::Ptfe).count();
        if n == 0 {
            return 0.0;
        }
        (0..d.p.len())
            .filter(|&k| self.phase[k] == Phase::Ptfe && cnt[k] >= 2)
            .count() as f64
            / n as f64
    }

    /// Build the snapshot of the current state.
    pub fn snapshot(&mut self, stage: &str) -> Snapshot {
        let s = self.scenario.clone();
        let mut fibs: Vec<FibrilC> = {
            let mut q = self.world.query::<&FibrilC>();
            q.iter(&self.world).copied().collect()
        };
        fibs.sort_by_key(|f| f.id);
        let d = self.dem();
        let n = d.p.len();
        let sim_box = SimBox {
            lx: d.lx,
            ly: d.ly,
            z_bottom: d.walls.z_bottom,
            z_top: d.walls.z_top,
        };
        // Per-particle stress from the contact virial (Pa): σ = (1/V_i) Σ ½ f ⊗ d over its contacts.
        let mut stress = vec![[0.0f64; 6]; n];
        let mut contacts = Vec::new();
        // PTFE coverage per NPS contact (process::coverage): patches wrapped on either grain,
        // fibrils anchored on both, PTFE lumps touching both.
        // Σ n·r_f of the fibrils across each grain pair, and each grain's wrapped fraction.
        let mut fib_pairs: std::collections::HashMap<(u32, u32), f64> =
            std::collections::HashMap::new();
        let mut wrapped = vec![0.0f64; n];
        for f in fibs.iter().filter(|f| f.state == FibrilState::Intact) {
            let key = (
                f.a.particle.min(f.b.particle),
                f.a.particle.max(f.b.particle),
            );
            *fib_pairs.entry(key).or_insert(0.0) += f.count * f.law.radius;
            for k in [f.a.particle as usize, f.b.particle as usize] {
                wrapped[k] +=
                    wrapped_fraction(f.count, f.law.radius, s.ptfe.wrap_fraction, d.p.radius[k]);
            }
        }
        let mut lump_touch: Vec<Vec<u32>> = vec![Vec::new(); n];
        for pr in d.pairs.iter_touching() {
            let (i, j) = (pr.i as usize, pr.j as usize);
            if self.phase[i] == Phase::Ptfe && self.phase[j] == Phase::Nps {
                lump_touch[j].push(i as u32);
            } else if self.phase[j] == Phase::Ptfe && self.phase[i] == Phase::Nps {
                lump_touch[i].push(j as u32);
            }
        }
        for pr in d.pairs.iter() {
            let (i, j) = (pr.i as usize, pr.j as usize);
            if !pr.touching && pr.contact_radius == 0.0 {
                continue;
            }
            let dv =
                d.p.pos[i] - d.p.pos[j] + DVec3::new(pr.sx as f64 * d.lx, pr.sy as f64 * d.ly, 0.0);
            let f = pr.force;
            let t = [
                f.x * dv.x,
                f.y * dv.y,
                f.z * dv.z,
                f.x * dv.y,
                f.x * dv.z,
                f.y * dv.z,
            ];
            for (k, v) in t.iter().enumerate() {
                stress[i][k] += 0.5 * v;
                stress[j][k] += 0.5 * v;
            }
            if self.phase[i] == Phase::Nps && self.phase[j] == Phase::Nps && pr.contact_radius > 0.0
            {
                let a = pr.contact_radius;
                let across = fib_pairs.get(&(i as u32, j as u32)).copied().unwrap_or(0.0);
                let lumps = lump_touch[i]
                    .iter()
                    .filter(|l| lump_touch[j].contains(l))
                    .map(|&l| d.p.radius[l as usize]);
                let theta = contact_coverage(a, wrapped[i], wrapped[j], across, lumps);
                contacts.push(Contact {
                    i: i as u32,
                    j: j as u32,
                    radius: a,
                    overlap: pr.overlap,
                    normal_force: pr.normal_force,
                    ptfe_coverage: theta,
                });
            }
        }
        for (k, st) in stress.iter_mut().enumerate() {
            let v = 4.0 / 3.0 * PI * d.p.radius[k].powi(3);
            for x in st.iter_mut() {
                *x /= v;
            }
        }
        // Electrode contacts: the measuring electrodes are pressed on both faces of the free-standing
        // film, so every NPS particle whose surface lies within 2% of the thickness of a face touches
        // that electrode, with the contact radius of a sphere flattened by the remaining distance
        // (at least 0.1 r).
        let mut wall_contacts = Vec::new();
        let (zb, top) = (sim_box.z_bottom, sim_box.z_top);
        let tol = 0.02 * (top - zb);
        for (wall, face) in [(Wall::Bottom, zb), (Wall::Top, top)] {
            for k in 0..n {
                if self.phase[k] != Phase::Nps {
                    continue;
                }
                let r = d.p.radius[k];
                let z = d.p.pos[k].z;
                let gap = if wall == Wall::Bottom {
                    (z - r) - face
                } else {
                    face - (z + r)
                };
                if gap <= tol {
                    let a = (r * (tol - gap).max(0.0)).sqrt().clamp(0.1 * r, r);
                    let nf = if wall == Wall::Bottom {
                        d.walls.bottom[k].normal_force
                    } else {
                        d.walls.top[k].normal_force
                    };
                    wall_contacts.push(WallContact {
                        i: k as u32,
                        wall,
                        radius: a,
                        normal_force: nf,
                    });
                }
            }
        }
        let particles = ParticleArrays {
            pos: d
                .p
                .pos
                .iter()
                .map(|x| [x.x.rem_euclid(d.lx), x.y.rem_euclid(d.ly), x.z])
                .collect(),
            radius: d.p.radius.clone(),
            phase: self.phase.clone(),
            orientation: d.p.quat.iter().map(|q| [q.x, q.y, q.z, q.w]).collect(),
            vel: d.p.vel.iter().map(|v| v.to_array()).collect(),
            force: d.p.force.iter().map(|v| v.to_array()).collect(),
            stress,
        };
        let fibrils: Vec<Fibril> = fibs
            .iter()
            .map(|f| {
                let (_, _, len) = fibril_vector(d, &f.a, &f.b);
                Fibril {
                    a: f.a,
                    b: f.b,
                    source: f.source,
                    radius: f.law.radius,
                    rest_length: f.law.rest_length,
                    count: f.count,
                    length: len,
                    tension: f.tension,
                    state: f.state,
                }
            })
            .collect();
        let fibril_contacts = fibril_crossings(d, &fibs);
        Snapshot {
            format: snapshot::SNAPSHOT_FORMAT.into(),
            version: snapshot::SNAPSHOT_VERSION,
            stage: stage.into(),
            scenario: s.name.clone(),
            seed: s.seed,
            ptfe_wt_pct: self.achieved_wt_pct,
            sim_box,
            materials: SnapshotMaterials {
                nps_sigma_ion: s.nps.sigma_ion_bulk,
                nps_sigma_e: s.nps.sigma_e,
                reduced_ptfe_sigma_e: s.ptfe.reduced_sigma_e,
                nps_density: s.nps.density,
                ptfe_density: s.ptfe.density,
                fibril_strength: s.ptfe.fibril_strength,
                fibril_yield: s.ptfe.fibril_yield,
                ptfe_modulus: s.ptfe.youngs_modulus,
                anchor_strength: s.ptfe.anchor_strength,
                ptfe_bridge_strength: s.ptfe.bridge_strength,
                nps_modulus: s.nps.youngs_modulus,
                nps_poisson: s.nps.poisson,
                nps_yield_pressure: s.nps.yield_pressure,
                nps_surface_energy: s.nps.surface_energy,
                nps_friction: s.nps.friction,
            },
            particles,
            contacts,
            wall_contacts,
            fibrils,
            fibril_contacts,
        }
    }
}

/// World position of an anchor, m.
/// Radius, m, of a PTFE lump holding `volume` (m³): the sphere of that volume. A spent lump keeps
/// 1 pm so the engine's arrays stay valid (its volume is 0, so nothing more is drawn from it).
/// Fibrils per parallel work item of the fibril force passes.
const FIBRIL_CHUNK: usize = 512;

/// Indices of the particles at `pos` (radii `radii`, m) sorted by (layer, row, x): layers and rows
/// one largest diameter thick, in z and in y (wrapped into the periodic box `lx` × `ly`, m), and x
/// within a row.
fn spatial_order(pos: &[DVec3], radii: &[f64], lx: f64, ly: f64) -> Vec<usize> {
    let cell = 2.0 * radii.iter().cloned().fold(0.0, f64::max);
    let zmin = pos.iter().map(|p| p.z).fold(f64::INFINITY, f64::min);
    let key = |k: usize| {
        let p = pos[k];
        (
            ((p.z - zmin) / cell) as u64,
            (p.y.rem_euclid(ly) / cell) as u64,
            p.x.rem_euclid(lx),
        )
    };
    let mut order: Vec<usize> = (0..pos.len()).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        (ka.0, ka.1)
            .cmp(&(kb.0, kb.1))
            .then(ka.2.total_cmp(&kb.2))
            .then(a.cmp(&b))
    });
    order
}

fn lump_radius(volume: f64) -> f64 {
    (volume.max(0.0) * 3.0 / (4.0 * PI)).cbrt().max(1e-12)
}

fn anchor_pos(d: &Dem, a: &Anchor) -> DVec3 {
    let k = a.particle as usize;
    d.p.pos[k] + d.p.quat[k] * DVec3::from_array(a.local)
}

/// (vector from a to b with minimum image, unit vector, length m).
fn fibril_vector(d: &Dem, a: &Anchor, b: &Anchor) -> (DVec3, DVec3, f64) {
    let v = d.wrap(anchor_pos(d, b) - anchor_pos(d, a));
    let l = v.length();
    (v, if l > 0.0 { v / l } else { DVec3::X }, l)
}

/// Fibril–fibril contacts: intact fibrils whose axes pass closer than the sum of their (bundle) radii plus
/// 10 nm (entanglement capture distance). Returned as pairs of indices into `fibs`, ascending
/// (lexicographic), whatever the storage.
///
/// Candidates come from a cell grid over the segment midpoints (periodic in x and y) with cells at
/// least 2h + 10 nm wide, h the 98th percentile of the half-extents L/2 + r, so every pair of
/// fibrils within h that can touch lies in neighbouring cells; the few longer fibrils are checked
/// against all others. Each candidate is checked on its midpoint distance (minimum image), then on
/// the exact segment–segment distance.
pub fn fibril_crossings(d: &Dem, fibs: &[FibrilC]) -> Vec<[u32; 2]> {
    // (index, start, axis vector, bundle radius, midpoint)
    let segs: Vec<(usize, DVec3, DVec3, f64, DVec3)> = fibs
        .iter()
        .enumerate()
        .filter(|(_, f)| f.state == FibrilState::Intact)
        .map(|(k, f)| {
            let a = anchor_pos(d, &f.a);
            let (v, _, _) = fibril_vector(d, &f.a, &f.b);
            (k, a, v, f.law.radius * f.count.max(1.0).sqrt(), a + 0.5 * v)
        })
        .collect();
    if segs.len() < 2 {
        return Vec::new();
    }
    let half: Vec<f64> = segs.iter().map(|s| 0.5 * s.2.length() + s.3).collect();
    let h_cut = {
        let mut h = half.clone();
        h.sort_by(f64::total_cmp);
        h[(h.len() * 98 / 100).min(h.len() - 1)]
    };
    let long: Vec<bool> = half.iter().map(|&h| h > h_cut).collect();
    let reach_max = 2.0 * h_cut + 1e-8;
    let zmin = segs.iter().map(|s| s.4.z).fold(f64::INFINITY, f64::min);
    let zmax = segs.iter().map(|s| s.4.z).fold(f64::NEG_INFINITY, f64::max);
    let cells = |len: f64| ((len / reach_max).floor() as usize).clamp(1, 1 << 10);
    let (nx, ny, nz) = (cells(d.lx), cells(d.ly), cells(zmax - zmin) + 1);
    let cell_of = |m: DVec3| -> (usize, usize, usize) {
        let ix = ((m.x.rem_euclid(d.lx) / d.lx * nx as f64) as usize).min(nx - 1);
        let iy = ((m.y.rem_euclid(d.ly) / d.ly * ny as f64) as usize).min(ny - 1);
        let iz = (((m.z - zmin) / reach_max) as usize).min(nz - 1);
        (ix, iy, iz)
    };
    let mut bucket: Vec<Vec<usize>> = vec![Vec::new(); nx * ny * nz];
    let home: Vec<(usize, usize, usize)> = segs.iter().map(|s| cell_of(s.4)).collect();
    for (x, &(ix, iy, iz)) in home.iter().enumerate() {
        bucket[(iz * ny + iy) * nx + ix].push(x);
    }
    let mut out = Vec::new();
    let check = |x: usize, y: usize, out: &mut Vec<[u32; 2]>| {
        let (k1, a1, v1, r1, m1) = segs[x];
        let (k2, a2, v2, r2, m2) = segs[y];
        let dm = d.wrap(m2 - m1);
        let reach = 0.5 * (v1.length() + v2.length()) + r1 + r2 + 1e-8;
        if dm.length_squared() > reach * reach {
            return;
        }
        let shift = dm - (m2 - m1);
        if segment_distance(a1, v1, a2 + shift, v2) < r1 + r2 + 1e-8 {
            out.push([k1 as u32, k2 as u32]);
        }
    };
    // Long fibrils against every other fibril (each pair once, the lower index first).
    for x in (0..segs.len()).filter(|&x| long[x]) {
        for (y, &long_y) in long.iter().enumerate() {
            if y != x && (!long_y || y > x) {
                if y > x {
                    check(x, y, &mut out);
                } else {
                    check(y, x, &mut out);
                }
            }
        }
    }
    let mut near: Vec<usize> = Vec::with_capacity(27);
    for (x, &(ix, iy, iz)) in home.iter().enumerate() {
        if long[x] {
            continue;
        }
        near.clear();
        for dz in -1i64..=1 {
            let cz = iz as i64 + dz;
            if cz < 0 || cz >= nz as i64 {
                continue;
            }
            for dy in -1i64..=1 {
                let cy = (iy as i64 + dy).rem_euclid(ny as i64) as usize;
                for dx in -1i64..=1 {
                    let cx = (ix as i64 + dx).rem_euclid(nx as i64) as usize;
                    near.push((cz as usize * ny + cy) * nx + cx);
                }
            }
        }
        // Fewer than three cells across a periodic direction repeat a cell.
        near.sort_unstable();
        near.dedup();
        for &c in &near {
            for &y in bucket[c].iter().filter(|&&y| y > x && !long[y]) {
                check(x, y, &mut out);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Distance between segments p + s·u and q + t·v, s, t ∈ [0, 1], m.
pub fn segment_distance(p: DVec3, u: DVec3, q: DVec3, v: DVec3) -> f64 {
    let w = p - q;
    let (a, b, c, dd, e) = (u.dot(u), u.dot(v), v.dot(v), u.dot(w), v.dot(w));
    let den = a * c - b * b;
    let mut s = if den > 1e-30 {
        ((b * e - c * dd) / den).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut t = if c > 0.0 {
        ((b * s + e) / c).clamp(0.0, 1.0)
    } else {
        0.0
    };
    if a > 0.0 {
        s = ((b * t - dd) / a).clamp(0.0, 1.0);
        t = if c > 0.0 {
            ((b * s + e) / c).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    (w + s * u - t * v).length()
}

/// Largest phase, rad, by which a bundle's held tension may lag its motion: a bundle whose
/// ω·Δt_hold (ω = sqrt(k/m_red), Δt_hold = `fibril_force_interval`·dt) exceeds it is evaluated
/// every step. A force held for Δt_hold acts on average Δt_hold/2 late, i.e. as a negative damping
/// of ratio ω·Δt_hold/4 ≤ 0.025 here, well under the contacts' damping (docs/model.md).
pub const FIBRIL_HOLD_PHASE: f64 = 0.1;

/// Phase, rad, by which bundle `f`'s tension held for `hold` (s) lags its motion: ω·hold, with
/// ω = sqrt(k/m_red) for its elastic stiffness k = n E π r² / L₀ (`modulus` E, Pa) between its two
/// grains (reduced scaled mass m_red, kg).
fn hold_phase(d: &Dem, f: &FibrilC, modulus: f64, hold: f64) -> f64 {
    let (a, b) = (f.a.particle as usize, f.b.particle as usize);
    let k = f.count * modulus * f.law.area() / f.law.rest_length.max(1e-12);
    let m_red = d.p.mass[a] * d.p.mass[b] / (d.p.mass[a] + d.p.mass[b]);
    (k / m_red).sqrt() * hold
}

/// Scratch of [`fibril_forces`] kept between steps.
#[derive(Default)]
struct FibrilScratch {
    /// Per evaluated bundle: unit vector and length, then force on end A and a tag.
    geo: Vec<(DVec3, f64)>,
    /// Bundles stiff enough to be evaluated every step, in id order (set at each full evaluation).
    fast: bevy_ecs::entity::index_set::EntityIndexSet,
    /// Per particle, the held sum of the other (slow) bundles' forces, N.
    slow: Vec<DVec3>,
}

/// PreForce system: fibril tensions (bond law) into the external-force array.
///
/// Multiple time stepping: every `force_interval` steps (and at the first step of a stage or after
/// a turn) all intact bundles are evaluated and sorted into stiff ones, whose held force would lag
/// by more than [`FIBRIL_HOLD_PHASE`], and the rest, whose forces are summed per particle and held
/// until the next full evaluation; in between only the stiff bundles are evaluated. Bundles drawn
/// in between start stress-free and join at the next full evaluation.
///
/// Each evaluation runs four passes over the bundles in id (creation) order: (1) in parallel, each
/// intact fibril's end-to-end vector; (2) in order, node drawing from the fibrils' source lumps
/// (several fibrils share a lump, so the order matters); (3) in parallel, the bond law; (4) in
/// order, the forces added to the particles. Every sum therefore runs in the same order on any
/// thread count.
fn fibril_forces(
    mut dem: ResMut<DemWorld>,
    mut src: ResMut<PtfeSources>,
    mut q: Query<(Entity, &mut FibrilC)>,
    mut scratch: Local<FibrilScratch>,
) {
    let d = &mut dem.0;
    let FibrilScratch { geo, fast, slow } = &mut *scratch;
    let full = src.force_refresh || d.step.is_multiple_of(src.force_interval);
    src.force_refresh = false;
    let n = d.p.len();
    if slow.len() != n {
        slow.clear();
        slow.resize(n, DVec3::ZERO);
    }
    let law = src.law;
    if full {
        // Fibrils are summed in id (creation) order so the force sums do not depend on storage.
        // They are never despawned and keep their components, so the query already yields them in
        // spawn order; sort only if that ever stops being true.
        let mut fibs: Vec<(Entity, &mut FibrilC)> =
            q.iter_mut().map(|(e, m)| (e, m.into_inner())).collect();
        if !fibs.windows(2).all(|w| w[0].1.id < w[1].1.id) {
            fibs.sort_by_key(|(_, f)| f.id);
        }
        let (ents, mut refs): (Vec<Entity>, Vec<&mut FibrilC>) = fibs.into_iter().unzip();
        let failed = evaluate_fibrils(d, &mut src, &law, &mut refs, geo);
        src.broken_in_stage += failed;
        // Sort into stiff (evaluated every step) and held bundles; sum the held forces.
        let hold = src.force_interval as f64 * d.dt;
        fast.clear();
        slow.iter_mut().for_each(|f| *f = DVec3::ZERO);
        let mut stiff = Vec::new();
        for ((f, &(force, tag)), e) in refs.iter().zip(geo.iter()).zip(ents) {
            if f.state != FibrilState::Intact {
                continue;
            }
            let (a, b) = (f.a.particle as usize, f.b.particle as usize);
            if src.force_interval > 1 && hold_phase(d, f, law.modulus, hold) > FIBRIL_HOLD_PHASE {
                fast.insert(e);
                stiff.push((a, b, force, tag));
            } else if tag == 0.0 {
                slow[a] += force;
                slow[b] -= force;
            }
        }
        held_plus_stiff(&mut d.p.ext_force, slow, stiff);
    } else {
        let mut refs: Vec<&mut FibrilC> = q
            .iter_many_unique_mut(&*fast)
            // Bundles are never despawned, so every listed entity is found.
            .filter_map(|r| r.ok().map(|(_, m)| m.into_inner()))
            .collect();
        let failed = evaluate_fibrils(d, &mut src, &law, &mut refs, geo);
        src.broken_in_stage += failed;
        let stiff = refs
            .iter()
            .zip(geo.iter())
            .map(|(f, &(force, tag))| (f.a.particle as usize, f.b.particle as usize, force, tag));
        held_plus_stiff(&mut d.p.ext_force, slow, stiff);
    }
}

/// Pass (4) of [`fibril_forces`]: the external forces are the held sums `slow` (N, per particle)
/// plus, in order, the force of each stiff bundle (ends a and b, force on a in N, tag 0 = apply).
fn held_plus_stiff(
    ext: &mut [DVec3],
    slow: &[DVec3],
    stiff: impl IntoIterator<Item = (usize, usize, DVec3, f64)>,
) {
    ext.copy_from_slice(slow);
    for (a, b, force, tag) in stiff {
        if tag == 0.0 {
            ext[a] += force;
            ext[b] -= force;
        }
    }
}

/// Passes (1)–(3) of [`fibril_forces`] on `fibs` (in id order): leaves in `geo[k]` the force of
/// bundle k on its end A, N, and a tag (0 = apply, 1 = failed in this step, NaN = not intact);
/// returns the number of bundles that failed.
fn evaluate_fibrils(
    d: &mut Dem,
    src: &mut PtfeSources,
    law: &FibrilLawParams,
    fibs: &mut [&mut FibrilC],
    geo: &mut Vec<(DVec3, f64)>,
) -> u32 {
    // (1) Unit vector and length of every intact fibril.
    {
        let d: &Dem = d;
        fibs.par_iter()
            .with_min_len(FIBRIL_CHUNK)
            .map(|f| {
                if f.state == FibrilState::Intact {
                    let (_, u, len) = fibril_vector(d, &f.a, &f.b);
                    (u, len)
                } else {
                    (DVec3::ZERO, f64::NAN)
                }
            })
            .collect_into_vec(geo);
    }
    // (2) Node drawing: while its source lump still holds PTFE, a fibril stretched past the drawing
    // stress pulls new material out of the lump at constant radius (the node–fibril structure of
    // drawn PTFE) instead of thinning: its rest length grows to L₀' = L·E/(E + σ_y), the length at
    // which it carries exactly σ_y, and the lump gives up π r² (L₀' − L₀).
    for (f, &(_, len)) in fibs.iter_mut().zip(geo.iter()) {
        let s = f.source as usize;
        if f.state != FibrilState::Intact || src.volume[s] <= 0.0 || !len.is_finite() {
            continue;
        }
        let area = f.count * f.law.area();
        let l0_node = len * law.modulus / (law.modulus + law.yield_stress);
        if l0_node > f.law.rest_length {
            let take = (area * (l0_node - f.law.rest_length)).min(src.volume[s]);
            f.law.rest_length += take / area;
            src.volume[s] -= take;
            d.p.radius[s] = lump_radius(src.volume[s]);
        }
    }
    // (3) The bond law; the geometry slot is overwritten with the bundle's force on end A and a
    // tag: 0 = apply the force, 1 = the fibril failed in this step, NaN = not intact.
    fibs.par_iter_mut()
        .zip(geo.par_iter_mut())
        .with_min_len(FIBRIL_CHUNK)
        .for_each(|(f, g)| {
            if f.state != FibrilState::Intact {
                return;
            }
            let (u, len) = *g;
            let out = fibril_response(len, f.law, law);
            f.law = out.state;
            f.length = len;
            f.tension = f.count * out.tension;
            *g = match out.event {
                FibrilEvent::Broke => {
                    f.state = FibrilState::Broken;
                    (DVec3::ZERO, 1.0)
                }
                FibrilEvent::Detached => {
                    f.state = FibrilState::Detached;
                    (DVec3::ZERO, 1.0)
                }
                _ => (f.count * out.tension * u, 0.0),
            };
        });
    geo.iter().filter(|g| g.1 == 1.0).count() as u32
}

/// EndOfStep system (fibrillation only). Every `window` steps (0.02 of imposed shear strain), each
/// PTFE particle P's local shear strain grows by the mean over its touching NPS grains k of
/// |Δu_t,k| / (r_P + r_k), with Δu_t,k the part of k's displacement relative to P over the window
/// that is tangential to the P–k line. Measuring displacements over a window rather than
/// instantaneous velocities keeps contact rattling (which depends on the time step) out of the strain.
/// Past ε_c(T) the lump's undrawn PTFE falls as exp(−κ (γ_P − ε_c)) (first-order kinetics, κ =
/// `powder.ptfe.fibrillation_rate`); whenever the volume due covers one more fibril (bundle), it is
/// drawn between two NPS neighbours of P (chosen by a per-particle RNG stream), anchored on their
/// surfaces facing P, stress-free at creation, its volume n π r_f² L taken from P (P shrinks so
/// PTFE volume is conserved exactly).
fn draw_fibrils(
    mut commands: Commands,
    mut dem: ResMut<DemWorld>,
    mut src: ResMut<PtfeSources>,
    mut fibrils: Query<&mut FibrilC>,
) {
    let d = &mut dem.0;
    if !src.critical_strain.is_finite() {
        return;
    }
    let n = d.p.len();
    if src.window_start.len() != n {
        src.window_start = d.p.pos.clone();
        src.window_steps = 0;
        return;
    }
    src.window_steps += 1;
    if src.window_steps < src.window {
        return;
    }
    src.window_steps = 0;
    // Displacement of every particle over the window (minimum image: a window moves particles far
    // less than half the box).
    let disp: Vec<DVec3> = (0..n)
        .map(|k| d.wrap(d.p.pos[k] - src.window_start[k]))
        .collect();
    // Neighbour NPS lists of PTFE particles (touching), in pair order, and the local shear strain
    // of the window: the tangential part of each neighbour's displacement relative to P.
    let mut incr = vec![0.0f64; n];
    let mut cnt = vec![0u32; n];
    let mut neigh: Vec<Vec<u32>> = vec![Vec::new(); n];
    for pr in d.pairs.iter_touching() {
        let (i, j) = (pr.i as usize, pr.j as usize);
        let (pi, pj) = (d.p.material[i], d.p.material[j]);
        for (p, k) in [(i, j), (j, i)] {
            let (mp, mk) = if p == i { (pi, pj) } else { (pj, pi) };
            if mp == MAT_PTFE && mk == MAT_NPS {
                let nrm = d.min_image(k, p).normalize_or_zero();
                let du = disp[k] - disp[p];
                let ut = du - nrm * du.dot(nrm);
                incr[p] += ut.length() / (d.p.radius[p] + d.p.radius[k]);
                cnt[p] += 1;
                neigh[p].push(k as u32);
            }
        }
    }
    src.window_start.copy_from_slice(&d.p.pos);
    for (p, nb) in neigh.iter().enumerate() {
        for &k in nb {
            let t = &mut src.touched[p];
            if let Some(at) = t.iter().position(|&x| x == k) {
                t.remove(at);
            } else if t.len() == TOUCH_MEMORY {
                t.remove(0);
            }
            t.push(k);
        }
    }
    let fr = src.fibril_radius;
    // Bundles created in this window with their keys (spawned at the end, in creation order).
    let mut fresh: Vec<((u32, u32, u32), FibrilC)> = Vec::new();
    let mut fresh_of: std::collections::HashMap<(u32, u32, u32), usize> =
        std::collections::HashMap::new();
    for p in 0..n {
        if cnt[p] == 0 || src.volume[p] <= 0.0 {
            continue;
        }
        // First-order fibrillation kinetics on the local strain past ε_c: the lump's undrawn PTFE
        // V_u = V − pending falls by the factor exp(−κ Δγ_eff) over the window.
        let before = src.strain[p].max(src.critical_strain);
        src.strain[p] += incr[p] / cnt[p] as f64;
        let d_eff = (src.strain[p] - before).max(0.0);
        if d_eff > 0.0 {
            let undrawn = (src.volume[p] - src.pending[p]).max(0.0);
            src.pending[p] += undrawn * -(-src.rate * d_eff).exp_m1();
        }
        // Spawn fibrils (bundles) while the volume due covers the next one (at most 64 per window;
        // the rest waits for the next window).
        for _ in 0..64 {
            if src.touched[p].len() < 2 || src.volume[p] <= 0.0 || src.pending[p] <= 0.0 {
                break;
            }
            let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(
                src.seed,
                ((p as u64) << 20) ^ src.drawn[p] as u64,
            ));
            // One end on a grain P touches now, the other on a grain it has touched (now or
            // before): the PTFE smeared on the earlier grain is drawn out to the present one.
            let nb = &neigh[p];
            let a = nb[rng.random_range(0..nb.len())];
            let t = &src.touched[p];
            let mut b = t[rng.random_range(0..t.len())];
            if a == b {
                b = t[(t.iter().position(|&x| x == a).unwrap_or(0) + 1) % t.len()];
            }
            let anchor_on = |k: u32| -> Anchor {
                let k = k as usize;
                let world = d.min_image(p, k).normalize_or_zero() * d.p.radius[k];
                Anchor {
                    particle: k as u32,
                    local: (d.p.quat[k].inverse() * world).to_array(),
                }
            };
            // Strands drawn again between the same two grains join that pair's intact bundle
            // (same anchors; they take the bundle's rest length and radius, so the volume
            // n π r² L₀ added is exact).
            let key = (p as u32, a.min(b), a.max(b));
            let mut existing = fresh_of.get(&key).map(|&i| &mut fresh[i].1);
            let mut stored;
            if existing.is_none() {
                stored = src.bundles.get(&key).and_then(|&e| fibrils.get_mut(e).ok());
                existing = stored.as_deref_mut();
            }
            if let Some(f) = existing.filter(|f| f.state == FibrilState::Intact) {
                let nb = src.bundle;
                let vol = nb * f.law.area() * f.law.rest_length;
                // Wait until the volume due covers a strand; a spent lump gives no more.
                if vol > src.volume[p] || (vol > src.pending[p] && src.pending[p] < src.volume[p]) {
                    break;
                }
                f.count += nb;
                d.p.radius[p] = src.take(p, vol);
                continue;
            }
            let (aa, ab) = (anchor_on(a), anchor_on(b));
            let (_, _, len) = fibril_vector(d, &aa, &ab);
            if len <= 0.0 {
                break;
            }
            let nb = src.bundle;
            let vol = nb * PI * fr * fr * len;
            if vol > src.pending[p] && src.pending[p] < src.volume[p] {
                break;
            }
            let (vol, radius) = if vol <= src.volume[p] {
                (vol, fr)
            } else {
                // The last bundle takes whatever is left; its strands' radius follows from n π r² L = V.
                (src.volume[p], (src.volume[p] / (nb * PI * len)).sqrt())
            };
            d.p.radius[p] = src.take(p, vol);
            let id = src.next_id;
            src.next_id += 1;
            fresh_of.insert(key, fresh.len());
            fresh.push((
                key,
                FibrilC {
                    id,
                    a: aa,
                    b: ab,
                    source: p as u32,
                    law: FibrilLawState {
                        rest_length: len,
                        radius,
                    },
                    count: nb,
                    tension: 0.0,
                    length: len,
                    state: FibrilState::Intact,
                },
            ));
        }
    }
    for (key, f) in fresh {
        let e = commands.spawn(f).id();
        src.bundles.insert(key, e);
    }
}
