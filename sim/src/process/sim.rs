//! The film (and pellet) process on the DEM core: particle generation, mixing, fibrillation,
//! calendering, pellet pressing, and the snapshot of the result. The model is documented in
//! `docs/model.md`; the equations are repeated next to the code that uses them.
//!
//! Fibrils are ECS entities ([`FibrilC`]) anchored to particles; their tensions are computed in the
//! step's `PreForce` slot (into the engine's external-force array, summed in entity order), and
//! fibril drawing from PTFE sources runs in `EndOfStep`, both with run conditions on the active stage.

use super::control::Rest;
use super::fibrillation_law::FibrillationDrive;
use super::materials::PTFE_LUMP;
use super::*;
use crate::dem::contact::rayleigh_time;
use crate::dem::engine::{Dem, ParticleState};
use crate::dem::fibril_law::FibrilLawParams;
use crate::dem::schedule::{step_schedule, world_with, DemWorld, StepSet};
use crate::geom::packing::random_packing;
use crate::scenario::raw::FibrillationDriver;
use crate::scenario::{Product, Scenario};
use crate::snapshot::{Phase, Snapshot};
use bevy_ecs::prelude::*;
use glam::DVec3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use std::f64::consts::PI;

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
    /// Warnings of the run so far (a relaxation stopped at its step cap), for `result.json`.
    pub warnings: Vec<String>,
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

/// The powder drawn for a scenario: NPS diameters from the size distribution, PTFE lumps whose
/// count follows from the lump size and whose diameter is adjusted so that the PTFE mass honours
/// wt% exactly against the NPS mass actually drawn.
struct Powder {
    /// Radii, m, and phases: the NPS grains, then the lumps.
    radii: Vec<f64>,
    phase: Vec<Phase>,
    /// Lump diameter, m, and lump count.
    lump_d: f64,
    n_lumps: usize,
    /// NPS and PTFE mass, kg.
    nps_mass: f64,
    ptfe_mass: f64,
}

impl Powder {
    fn draw(s: &Scenario) -> Result<Self, ProcessError> {
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
        Ok(Self {
            radii,
            phase,
            lump_d,
            n_lumps,
            nps_mass,
            ptfe_mass,
        })
    }

    /// Achieved PTFE loading, wt%.
    fn wt_pct(&self) -> f64 {
        if self.n_lumps > 0 {
            100.0 * self.ptfe_mass / (self.ptfe_mass + self.nps_mass)
        } else {
            0.0
        }
    }
}

/// The engine for a packing: particles with mass-scaled densities, the pair table, walls at 0 and
/// `h0` (m), a time step that is a fraction of the smallest Rayleigh time over the materials, the
/// neighbour skin, and a first neighbour list.
fn engine(
    s: &Scenario,
    pos: &[DVec3],
    radii: &[f64],
    phase: &[Phase],
    lump_d: f64,
    h0: f64,
) -> Result<(Dem, [f64; 2]), ProcessError> {
    let ms = s.numerics.mass_scaling;
    let dens = [s.nps.density * ms, s.ptfe.density * ms];
    let mut p = ParticleState::default();
    for k in 0..radii.len() {
        let r = radii[k];
        let (mat, rho) = if phase[k] == Phase::Nps {
            (Material::Nps.id(), dens[0])
        } else {
            (Material::Ptfe.id(), dens[1])
        };
        p.push(pos[k], r, rho * 4.0 / 3.0 * PI * r * r * r, mat);
    }
    let rmin = radii.iter().cloned().fold(f64::INFINITY, f64::min);
    let mut tr = rayleigh_time(rmin, dens[0], s.nps.youngs_modulus, s.nps.poisson);
    if lump_d > 0.0 {
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
        Material::COUNT,
        s.domain.lx,
        s.domain.ly,
        0.0,
        h0,
        Material::Wall.id(),
        dt,
        skin,
    );
    dem.stage = "setup".into();
    dem.rebuild()?;
    Ok((dem, dens))
}

/// Smallest radius of a particle that is part of the film, m: a twentieth of the smallest NPS
/// diameter (see [`FilmSim::film_radius_floor`]).
pub(crate) fn film_radius_floor(s: &Scenario) -> f64 {
    0.05 * s.nps.d_min
}

/// The fibrillation state of the PTFE lumps at the start (nothing drawn yet), with the scenario's
/// fibril law and drawing settings.
pub(crate) fn ptfe_sources(s: &Scenario, radii: &[f64], phase: &[Phase]) -> PtfeSources {
    let n = radii.len();
    let law = FibrilLawParams::from_strengths(
        s.ptfe.youngs_modulus,
        s.ptfe.fibril_yield,
        s.ptfe.fibril_strength,
        s.ptfe.anchor_strength,
        s.ptfe.fibril_radius,
    );
    let volume: Vec<f64> = (0..n)
        .map(|k| {
            if phase[k] == Phase::Ptfe {
                4.0 / 3.0 * PI * radii[k].powi(3)
            } else {
                0.0
            }
        })
        .collect();
    let drive = match s.ptfe.fibrillation_driver {
        FibrillationDriver::Strain => FibrillationDrive::Strain {
            rate: s.ptfe.fibrillation_rate,
        },
        FibrillationDriver::Work => FibrillationDrive::Work {
            drawing_energy: s.ptfe.fibrillation_energy,
            flow_stress: PTFE_LUMP.yield_pressure,
            amplification: if s.fibrillation.shear_strain > 0.0 {
                s.fibrillation.process_strain / s.fibrillation.shear_strain
            } else {
                1.0
            },
        },
    };
    PtfeSources {
        strain: vec![0.0; n],
        drawn: vec![0; n],
        initial_volume: volume.clone(),
        volume,
        critical_strain: f64::INFINITY,
        drive,
        work: vec![0.0; n],
        pending: vec![0.0; n],
        touched: vec![Vec::new(); n],
        bundles: std::collections::HashMap::new(),
        fibril_radius: s.ptfe.fibril_radius,
        bundle: s.ptfe.fibrils_per_bundle,
        law,
        damping_ratio: s.ptfe.fibril_damping_ratio,
        seed: stream_seed(s.seed, 3),
        next_id: 0,
        broken_in_stage: 0,
        window: 50,
        window_steps: 0,
        window_start: Vec::new(),
        force_interval: u64::from(s.numerics.fibril_force_interval.max(1)),
        force_refresh: true,
        spent_radius: film_radius_floor(s),
    }
}

/// The process's step schedule: the DEM step plus the fibril forces (fibrillation and
/// calendering), fibril drawing (fibrillation) and the stage driver.
fn process_schedule() -> Schedule {
    let mut schedule = step_schedule();
    let fib_active = |st: Res<ActiveStage>| {
        matches!(
            *st,
            ActiveStage::Settle | ActiveStage::Fibrillation | ActiveStage::Calender
        )
    };
    schedule.add_systems(fibril_forces.in_set(StepSet::PreForce).run_if(fib_active));
    schedule.add_systems(
        draw_fibrils
            .in_set(StepSet::EndOfStep)
            .run_if(|st: Res<ActiveStage>| *st == ActiveStage::Fibrillation),
    );
    schedule.add_systems(phase_control.in_set(StepSet::Control).run_if(phase_running));
    schedule
}

impl FilmSim {
    /// Generate particles and the initial random packing for a scenario.
    pub fn new(s: &Scenario) -> Result<Self, ProcessError> {
        let area = s.domain.lx * s.domain.ly;
        let powder = Powder::draw(s)?;
        let (radii, phase) = (&powder.radii, &powder.phase);
        let solid_v: f64 = radii.iter().map(|r| 4.0 / 3.0 * PI * r * r * r).sum();
        let h0 = solid_v / (s.domain.initial_solid_fraction * area);
        let mut prng = ChaCha8Rng::seed_from_u64(stream_seed(s.seed, 2));
        let pos = random_packing(radii, s.domain.lx, s.domain.ly, 0.0, h0, &mut prng)?;
        // Number the particles in space order (layer by layer through the thickness, then by rows
        // across, then along MD), so that neighbours sit close in memory for the contact and fibril
        // loops. The order stays good under shear (particles at one height move together) and the
        // calender's affine MD stretch.
        let order = spatial_order(&pos, radii, s.domain.lx, s.domain.ly);
        let pos: Vec<DVec3> = order.iter().map(|&k| pos[k]).collect();
        let radii: Vec<f64> = order.iter().map(|&k| radii[k]).collect();
        let phase: Vec<Phase> = order.iter().map(|&k| phase[k]).collect();
        let (dem, dens) = engine(s, &pos, &radii, &phase, powder.lump_d, h0)?;
        let ptfe_vol: f64 = (0..radii.len())
            .filter(|&k| phase[k] == Phase::Ptfe)
            .map(|k| 4.0 / 3.0 * PI * radii[k].powi(3))
            .sum();
        let mut world = world_with(dem);
        world.insert_resource(ActiveStage::Idle);
        world.insert_resource(ptfe_sources(s, &radii, &phase));
        world.insert_resource(PhaseControl::default());
        Ok(FilmSim {
            world,
            schedule: process_schedule(),
            scenario: s.clone(),
            phase,
            ptfe_volume0: ptfe_vol,
            achieved_wt_pct: powder.wt_pct(),
            scaled_density: dens,
            pass_snapshots: Vec::new(),
            warnings: Vec::new(),
        })
    }

    /// An independent copy of this simulation's state (engine, fibrils, PTFE sources, active
    /// stage, warnings), with a fresh step schedule: what a destructive test (the tensile test on
    /// the process's mechanics) runs on while the original goes on. The fibrils are spawned in
    /// the original's query order, with their ids; strands drawn later never join a bundle of
    /// the original (the copy's bundle map is empty). Both evaluate every fibril force at their
    /// next step, so that neither depends on loads held by the other's schedule.
    pub fn fork(&mut self) -> FilmSim {
        self.world.resource_mut::<PtfeSources>().force_refresh = true;
        let mut world = world_with(self.dem().clone());
        world.insert_resource(*self.world.resource::<ActiveStage>());
        let mut src = self.world.resource::<PtfeSources>().clone();
        src.bundles.clear();
        world.insert_resource(src);
        world.insert_resource(PhaseControl::default());
        let mut q = self.world.query::<&FibrilC>();
        let fibrils: Vec<FibrilC> = q.iter(&self.world).copied().collect();
        world.spawn_batch(fibrils);
        FilmSim {
            world,
            schedule: process_schedule(),
            scenario: self.scenario.clone(),
            phase: self.phase.clone(),
            ptfe_volume0: self.ptfe_volume0,
            achieved_wt_pct: self.achieved_wt_pct,
            scaled_density: self.scaled_density,
            pass_snapshots: Vec::new(),
            warnings: self.warnings.clone(),
        }
    }

    /// The engine.
    pub fn dem(&self) -> &Dem {
        &self.world.resource::<DemWorld>().0
    }
    /// The engine, mutable.
    pub fn dem_mut(&mut self) -> &mut Dem {
        &mut self.world.resource_mut::<DemWorld>().into_inner().0
    }

    /// Runs `phase` to its end (the stage driver's system, [`super::control`]), reporting
    /// progress for `stage` over `range` (start, span: fractions of the stage).
    pub(crate) fn run_phase(
        &mut self,
        phase: StagePhase,
        stage: &str,
        progress: Progress,
        range: (f64, f64),
    ) -> Result<PhaseRecord, ProcessError> {
        super::control::run_phase(
            &mut self.world,
            &mut self.schedule,
            phase,
            (stage, progress),
            range,
        )
    }

    /// The quasi-static rate rule of this scenario (its largest inertial number, NPS d50 and
    /// scaled NPS density).
    pub fn quasi_static(&self) -> QuasiStatic {
        QuasiStatic {
            max_inertial_number: self.scenario.numerics.max_inertial_number,
            diameter: self.scenario.nps.d50,
            density: self.scaled_density[0],
        }
    }

    /// Runs `hold` ([`Hold`](super::control::Hold)) for `stage`, reporting progress over `range`;
    /// a hold that stops at its step cap before the packing carries the load through its height
    /// adds a warning to [`FilmSim::warnings`].
    ///
    /// # Errors
    /// A DEM failure during the steps ([`ProcessError`]).
    pub fn hold(
        &mut self,
        hold: super::control::Hold,
        stage: &str,
        progress: Progress,
        range: (f64, f64),
    ) -> Result<PhaseRecord, ProcessError> {
        let r = self.run_phase(StagePhase::Hold(hold), stage, progress, range)?;
        if r.capped {
            let (top, bottom) = r.wall_pressures;
            let tol = hold.tolerance * 100.0;
            let aim = match hold.pressure {
                Some(p) => format!("both within {tol:.0}% of {:.4} MPa", p * 1e-6),
                None => format!("within {tol:.0}% of each other"),
            };
            self.warnings.push(format!(
                "{stage}: the hold stopped at its cap of {} steps before the packing carried the \
                 load through its height: top wall {:.4} MPa, bottom wall {:.4} MPa (held: {aim})",
                hold.max_steps,
                top * 1e-6,
                bottom * 1e-6,
            ));
        }
        Ok(r)
    }

    /// Free relaxation of a released film (no top wall) for `steps` time steps: the film's
    /// rigid-body z velocity is removed every 100 steps ([`Dem::remove_drift_z`]) and at the end
    /// it is set down on the bottom wall ([`Dem::rest_on_bottom`]), so that the thickness measured
    /// after it is the film's own (springback), not the height it drifted to. The relaxation
    /// damping of `numerics` (local α and viscous time) is on while it runs. Progress is reported
    /// for `stage` from `range.0` to `range.0 + range.1` (fractions of the stage).
    ///
    /// The relaxation ends when the film is at rest (kinetic energy at most
    /// `numerics.relax_kinetic_tolerance` × its energy scale, J: the largest of `work`, the
    /// external work of its stage, the external work done on the film since set-up (the energy
    /// that shaped it) and the elastic energy stored in its contacts and fibrils when the
    /// relaxation starts, so that a pass whose roll hardly touched the film is not held to a
    /// vanishing kinetic energy; unbalanced-force ratio at most `numerics.relax_force_tolerance`),
    /// checked every [`DRIFT_INTERVAL`](super::control::DRIFT_INTERVAL) steps, or at `steps`,
    /// which then adds a warning to [`FilmSim::warnings`].
    ///
    /// # Errors
    /// A DEM failure during the steps ([`ProcessError`]).
    pub fn relax_free(
        &mut self,
        steps: u64,
        work: f64,
        stage: &str,
        progress: Progress,
        range: (f64, f64),
    ) -> Result<PhaseRecord, ProcessError> {
        let floor = self.film_radius_floor();
        let total_work = self.dem().ledger.external_work();
        let scale = {
            let m = self.energy_mark();
            work.abs().max(total_work.abs()).max(m.contact + m.fibril)
        };
        let nu = &self.scenario.numerics;
        let viscous = if nu.relax_damping_steps > 0.0 {
            1.0 / (nu.relax_damping_steps * self.dem().dt)
        } else {
            0.0
        };
        let damping = (nu.relax_local_damping, viscous);
        let rest = Rest {
            kinetic_energy: nu.relax_kinetic_tolerance * scale,
            unbalanced_force_ratio: nu.relax_force_tolerance,
        };
        let r = self.run_phase(
            StagePhase::RelaxFree {
                steps,
                rest,
                floor,
                damping,
            },
            stage,
            progress,
            range,
        )?;
        if r.capped {
            let (ke, ufr) = r.rest_state;
            self.warnings.push(format!(
                "{stage}: the free relaxation stopped at its cap of {steps} steps (numerics.relax_steps) before the film was at rest: kinetic energy {ke:.3e} J (at rest: ≤ {:.3e} J, numerics.relax_kinetic_tolerance × {scale:.3e} J, the largest of the stage's external work, the external work done on the film since set-up and its stored elastic energy), unbalanced-force ratio {ufr:.3e} (at rest: ≤ {:.1e}, numerics.relax_force_tolerance)",
                rest.kinetic_energy, rest.unbalanced_force_ratio
            ));
        }
        Ok(r)
    }

    /// Inertial number I = γ̇ d / sqrt(p / ρ) with the scaled density (quasi-static when I ≪ 1).
    pub fn inertial_number(&self, rate: f64, pressure: f64) -> f64 {
        self.quasi_static().inertial_number(rate, pressure)
    }

    /// Strain rate, 1/s, at which a packing under `pressure` (Pa) deforms at the scenario's largest
    /// inertial number: γ̇_qs = I_max · sqrt(p / ρ_s) / d50 (GDR MiDi, Eur. Phys. J. E 14, 341, 2004),
    /// with the scaled density ρ_s. Stages never drive the packing faster than this: the simulated
    /// rate is min(scenario rate, γ̇_qs), so the result is the quasi-static one the real (much
    /// slower) process gives, whatever the mass scaling.
    pub fn quasi_static_rate(&self, pressure: f64) -> f64 {
        self.quasi_static().rate(pressure)
    }

    /// Rate, 1/s, a stage actually simulates for a scenario rate `rate` (1/s) under `pressure` (Pa):
    /// `min(rate, γ̇_qs(p))`.
    pub fn simulated_rate(&self, rate: f64, pressure: f64) -> f64 {
        self.quasi_static().simulated(rate, pressure)
    }

    /// Total PTFE volume now (sources + fibrils), m³.
    pub fn ptfe_volume(&mut self) -> f64 {
        let src: f64 = self.world.resource::<PtfeSources>().volume.iter().sum();
        let mut q = self.world.query::<&FibrilC>();
        let fib: f64 = q.iter(&self.world).map(|f| f.count * f.law.volume()).sum();
        src + fib
    }

    /// Smallest radius of a particle that is part of the film, m: a twentieth of the smallest NPS
    /// diameter. Only PTFE lumps drawn down to under 0.2 % of their volume are smaller; such a
    /// spent lump keeps its mass but has no contacts left, so it no longer takes part in the film
    /// (thickness, drift removal).
    pub fn film_radius_floor(&self) -> f64 {
        film_radius_floor(&self.scenario)
    }
}
