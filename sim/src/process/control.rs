//! The stage drivers as a system of the step schedule: each stage is a sequence of phases (settle,
//! shear, roll closing, hold, release, free relaxation, pressing), and the running phase is the
//! [`PhaseControl`] resource. The [`phase_control`] system, in the step's last slot
//! ([`StepSet::Control`](crate::dem::schedule::StepSet::Control)), counts the phase's steps, acts
//! on the walls where the phase says (the roll's speed from the wall pressure, the film's drift)
//! and ends the phase on its criterion (a step count, the gap reached, the roll unloaded). The stage
//! functions (`stages/`) only set a phase up and run steps until it has ended ([`run_phase`]).

use bevy_ecs::prelude::*;
use glam::DVec3;

use crate::dem::engine::{Dem, WallDrive};
use crate::dem::schedule::{DemWorld, StepError};

use super::fibril_forces::fibril_energy;
use super::{FibrilC, ProcessError, PtfeSources};

/// Steps between the drift removals of a released film.
pub const DRIFT_INTERVAL: u64 = 100;
/// Steps between the roll speed updates while the roll closes.
pub const ROLL_INTERVAL: u64 = 50;
/// Steps between the checks of a releasing roll's load and of a pressing wall's peak.
pub const RELEASE_INTERVAL: u64 = 100;
/// Largest number of steps a roll may take to close, after which the pass fails.
pub const MAX_ROLL_STEPS: u64 = 50_000_000;
/// Relative tolerance of a hold's force balance ([`Hold`]): the wall loads, averaged over
/// [`RELEASE_INTERVAL`] steps, agree within this fraction, dimensionless.
pub const HOLD_TOLERANCE: f64 = 0.02;
/// Step cap of a hold and of a roll's release; a phase that reaches it adds a warning.
pub const HOLD_MAX_STEPS: u64 = 200_000;
/// A settling hold's wall has stopped ([`Hold::settle`]) when it moved less than this fraction of
/// the distance its top speed covers in an interval, dimensionless.
pub const STALL_FRACTION: f64 = 0.01;

/// The quasi-static rate rule (GDR MiDi, Eur. Phys. J. E 14, 341, 2004): a packing under pressure
/// `p` deforms quasi-statically while its inertial number `I = γ̇ d / sqrt(p / ρ)` stays below
/// `max_inertial_number`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuasiStatic {
    /// Largest inertial number accepted (`numerics.max_inertial_number`), dimensionless.
    pub max_inertial_number: f64,
    /// Grain diameter, m (the NPS d50).
    pub diameter: f64,
    /// Scaled grain density, kg/m³.
    pub density: f64,
}

impl QuasiStatic {
    /// Inertial number `I = γ̇ d / sqrt(p / ρ)` at rate `rate` (1/s) and pressure `pressure` (Pa,
    /// at least 1), dimensionless.
    pub fn inertial_number(&self, rate: f64, pressure: f64) -> f64 {
        rate * self.diameter / (pressure.max(1.0) / self.density).sqrt()
    }

    /// Strain rate, 1/s, at which a packing under `pressure` (Pa) deforms at the largest inertial
    /// number: `γ̇_qs = I_max · sqrt(p / ρ) / d`.
    pub fn rate(&self, pressure: f64) -> f64 {
        self.max_inertial_number * (pressure.max(1.0) / self.density).sqrt() / self.diameter
    }

    /// Rate actually simulated for a requested `rate` (1/s) under `pressure` (Pa):
    /// `min(rate, γ̇_qs(p))`.
    pub fn simulated(&self, rate: f64, pressure: f64) -> f64 {
        rate.min(self.rate(pressure))
    }
}

/// The roll closing to a gap: every [`ROLL_INTERVAL`] steps its speed is set from the wall
/// pressure so that the film is pressed at the largest inertial number allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollClose {
    /// The gap, m.
    pub gap: f64,
    /// The scenario's calender strain rate, 1/s.
    pub strain_rate: f64,
    /// Floor of the pressure that sets the rate, Pa (the dough's confining pressure).
    pub pressure_floor: f64,
    /// MD elongation exponent α: `Lx ← Lx (h_prev/h)^α` as the film thins under the roll.
    pub md_elongation_exponent: f64,
    /// The film's free thickness when the roll starts closing (99th percentile of the particle
    /// tops above the bottom wall), m: the film thins, and elongates, only once the roll is below
    /// it, not while the roll travels down to it.
    pub film_thickness: f64,
    /// The quasi-static rate rule.
    pub quasi_static: QuasiStatic,
}

/// A phase of a stage and the criterion that ends it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StagePhase {
    /// `steps` steps with the walls as they are.
    Run {
        /// Steps.
        steps: u64,
    },
    /// Free relaxation of a released film until it is at rest (`rest`, checked every
    /// [`DRIFT_INTERVAL`] steps) or for at most `steps` steps (then `capped`): its rigid-body z
    /// velocity is removed
    /// at the start and every [`DRIFT_INTERVAL`] steps (particles of radius ≥ `floor`, m), and at
    /// the end it is set down on the bottom wall.
    RelaxFree {
        /// Step cap.
        steps: u64,
        /// When the film is at rest.
        rest: Rest,
        /// Smallest radius of a film particle, m.
        floor: f64,
        /// Damping while it relaxes: the local damping coefficient α and the viscous damping
        /// rate, 1/s ([`Dem::local_damping`], [`Dem::viscous_damping`]); both off afterwards.
        damping: (f64, f64),
    },
    /// The roll closing to its gap ([`RollClose`]); ends when the gap is reached.
    RollClose(RollClose),
    /// A roll backing off under force control: every [`RELEASE_INTERVAL`] steps the film's drift is
    /// removed; ends when the averaged wall load is at most `pressure` (Pa) over the box, or after
    /// `max_steps` (then `capped`).
    Release {
        /// Load, Pa, at which the release ends.
        pressure: f64,
        /// Step cap.
        max_steps: u64,
        /// Smallest radius of a film particle, m.
        floor: f64,
    },
    /// The periodic box stretched along `axis` (0 = x, MD; 1 = y, TD) at the true strain rate
    /// `rate` (1/s): every step the box length and the positions along the axis are scaled by
    /// `1 + rate·dt` (affine); ends after `steps` steps. The tensile test on the process's
    /// mechanics (`stages/tensile.rs`).
    Stretch {
        /// Steps.
        steps: u64,
        /// 0 = x (MD), 1 = y (TD).
        axis: u8,
        /// True strain rate, 1/s.
        rate: f64,
    },
    /// Uniaxial compaction of the whole packing ([`Compact`]): every step every z position and
    /// the top wall are scaled towards the bottom wall by `1 − ε̇·dt` (affine), so that a loose
    /// column is compacted through its whole height at once instead of by a front running down
    /// from a moving wall; ends when the top wall's averaged pressure reaches the target.
    Compact(Compact),
    /// The top wall held at a pressure by its servo until the packing carries it through its whole
    /// height ([`Hold`]).
    Hold(Hold),
}

/// Affine uniaxial compaction to a pressure ([`StagePhase::Compact`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compact {
    /// Top-wall pressure at which the compaction ends (the wall's load at the step, or its
    /// average [`Walls::top_force_avg`](crate::dem::state::Walls), whichever first), Pa.
    pub pressure: f64,
    /// The scenario's compressive strain rate, the largest the compaction takes, 1/s.
    pub strain_rate: f64,
    /// Floor of the pressure that sets the quasi-static rate, Pa (the fill's confining pressure:
    /// a loose fill carries almost nothing, and would otherwise be compacted at a vanishing rate).
    pub pressure_floor: f64,
    /// The quasi-static rate rule: the true strain rate is `min(strain_rate, γ̇_qs(max(p, floor)))`.
    pub quasi_static: QuasiStatic,
}

/// A packing held between the walls until it carries the top wall's load through its whole
/// height ([`StagePhase::Hold`]). With a `pressure`, the top wall's servo holds it and the phase
/// ends when, averaged over [`RELEASE_INTERVAL`] steps, the top wall's load and the bottom wall's
/// (the load that came through the whole packing) both lie within `tolerance × pressure` of the
/// pressure; without one the top wall stands still (a roll at its gap) and the phase ends when the
/// two averaged loads agree within `tolerance` × the larger of them (a film the roll does not
/// touch is held at once). Or after `max_steps` steps (then `capped`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hold {
    /// Pressure held by the servo, Pa; `None`: the top wall stands still.
    pub pressure: Option<f64>,
    /// Largest speed of the servo, m/s.
    pub max_speed: f64,
    /// Relative tolerance of the balance, dimensionless.
    pub tolerance: f64,
    /// Step cap.
    pub max_steps: u64,
    /// A settling hold (with a `pressure`): it also ends when the top wall carries the pressure
    /// and has stopped, having moved over the last interval less than [`STALL_FRACTION`] of the
    /// distance its top speed covers: a cohesive packing that holds the pressure above a loose
    /// region the load has not reached (no gravity settles it: a tall die fill).
    pub settle: bool,
}

/// A released film at rest: kinetic energy (J) and unbalanced-force ratio at or below these.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rest {
    /// Largest kinetic energy, J.
    pub kinetic_energy: f64,
    /// Largest unbalanced-force ratio ([`Dem::unbalanced_force_ratio`]), dimensionless.
    pub unbalanced_force_ratio: f64,
}

/// What a phase recorded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhaseRecord {
    /// Steps run.
    pub steps: u64,
    /// Peak top-wall pressure seen at the phase's checks, Pa.
    pub peak_pressure: f64,
    /// Largest inertial number the phase imposed, dimensionless.
    pub inertial_number: f64,
    /// Free relaxation: the kinetic energy (J) and unbalanced-force ratio at its last check.
    pub rest_state: (f64, f64),
    /// Free relaxation: the steps run and the kinetic energy (J) at each of its checks (every
    /// [`DRIFT_INTERVAL`] steps and at its end), the decay of the released film's motion.
    pub kinetic_trace: Vec<(u64, f64)>,
    /// Free relaxation, hold or release: whether it stopped at its step cap before meeting its
    /// criterion.
    pub capped: bool,
    /// Hold: the top and bottom wall pressures (Pa) averaged over the last
    /// [`RELEASE_INTERVAL`] steps.
    pub wall_pressures: (f64, f64),
}

/// The running phase (a resource; [`phase_control`] runs while it holds one).
#[derive(Resource, Debug, Default)]
pub struct PhaseControl {
    /// The phase, `None` between phases.
    pub phase: Option<StagePhase>,
    /// Whether the phase has met its criterion.
    pub done: bool,
    /// What the phase recorded so far.
    pub record: PhaseRecord,
    /// Roll closing: the roll height above the bottom wall at the last update; hold: the wall gap
    /// at the last check, m.
    h_prev: f64,
    /// Roll closing: the film's thickness under the roll so far, m (the smaller of its free
    /// thickness at the start and the lowest roll height).
    h_film: f64,
    /// Hold: the top and bottom wall loads summed since the last check, N.
    load_sums: (f64, f64),
    /// Why the phase failed, if it did.
    pub error: Option<String>,
}

impl PhaseControl {
    /// Starts `phase` on `dem`: the actions due before its first step. It may already be done.
    pub fn start(&mut self, phase: StagePhase, dem: &mut Dem) {
        *self = Self {
            phase: Some(phase),
            ..Self::default()
        };
        match phase {
            StagePhase::Run { steps } | StagePhase::Stretch { steps, .. } => self.done = steps == 0,
            StagePhase::Compact(_) => dem.walls.top_drive = WallDrive::Velocity(DVec3::ZERO),
            StagePhase::Hold(h) => {
                dem.walls.top_drive = match h.pressure {
                    Some(pressure) => WallDrive::Pressure {
                        pressure,
                        max_speed: h.max_speed,
                        shear: DVec3::ZERO,
                    },
                    None => WallDrive::Velocity(DVec3::ZERO),
                };
                self.h_prev = dem.walls.z_top - dem.walls.z_bottom;
                self.done = h.max_steps == 0;
            }
            StagePhase::RelaxFree {
                steps,
                floor,
                damping,
                ..
            } => {
                dem.remove_drift_z(floor);
                (dem.local_damping, dem.viscous_damping) = damping;
                if steps == 0 {
                    dem.rest_on_bottom(floor);
                    (dem.local_damping, dem.viscous_damping) = (0.0, 0.0);
                    self.done = true;
                }
            }
            StagePhase::RollClose(r) => {
                self.h_prev = dem.walls.z_top - dem.walls.z_bottom;
                self.h_film = self.h_prev.min(r.film_thickness);
                self.set_roll_speed(&r, dem);
            }
            StagePhase::Release { .. } => {}
        }
    }

    /// Roll closing: ends the phase at the gap, else sets the roll's speed for the next interval.
    fn set_roll_speed(&mut self, r: &RollClose, d: &mut Dem) {
        let p_now = (d.walls.top_force_avg / (d.lx * d.ly)).max(r.pressure_floor);
        let h = d.walls.z_top - d.walls.z_bottom;
        if h <= r.gap {
            self.done = true;
            return;
        }
        let rate = r.quasi_static.simulated(r.strain_rate, p_now);
        let i = r.quasi_static.inertial_number(rate, p_now);
        self.record.inertial_number = self.record.inertial_number.max(i);
        d.walls.top_drive = WallDrive::Velocity(DVec3::new(0.0, 0.0, -rate * h));
    }

    /// The actions after one more step of the running phase, and its end criterion.
    /// `fibril_energy` gives the elastic energy of the fibrils (J) of an engine state: a move the
    /// phase imposes (the MD stretch, the roll set to its gap, the compaction's remap) books as
    /// imposed work in the energy ledger the elastic energy it changes and the plastic flow it
    /// causes ([`Dem::contact_energy_with_flow`]).
    pub fn after_step(&mut self, d: &mut Dem, fibril_energy: &dyn Fn(&Dem) -> f64) {
        let imposed = |d: &mut Dem, change: &dyn Fn(&mut Dem)| {
            let before = d.contact_energy_with_flow() + fibril_energy(d);
            change(d);
            d.ledger.imposed_work += d.contact_energy_with_flow() + fibril_energy(d) - before;
        };
        let Some(phase) = self.phase.filter(|_| !self.done) else {
            return;
        };
        self.record.steps += 1;
        let n = self.record.steps;
        let wall_pressure = |d: &Dem| d.walls.top_force / (d.lx * d.ly);
        match phase {
            StagePhase::Run { steps } => self.done = n >= steps,
            StagePhase::Stretch { steps, axis, rate } => {
                let f = 1.0 + rate * d.dt;
                let stretch = |d: &mut Dem| match axis {
                    0 => d.stretch_x(f),
                    _ => d.stretch_y(f),
                };
                if d.track_energy {
                    imposed(d, &stretch);
                } else {
                    stretch(d);
                }
                self.done = n >= steps;
            }
            StagePhase::RelaxFree {
                steps, floor, rest, ..
            } => {
                let check = n.is_multiple_of(DRIFT_INTERVAL) || n >= steps;
                if check {
                    d.remove_drift_z(floor);
                    self.record.rest_state = (d.kinetic_energy(), d.unbalanced_force_ratio(floor));
                    self.record
                        .kinetic_trace
                        .push((n, self.record.rest_state.0));
                }
                let (ke, ufr) = self.record.rest_state;
                let at_rest =
                    check && ke <= rest.kinetic_energy && ufr <= rest.unbalanced_force_ratio;
                if at_rest || n >= steps {
                    self.record.capped = !at_rest;
                    d.rest_on_bottom(floor);
                    (d.local_damping, d.viscous_damping) = (0.0, 0.0);
                    self.done = true;
                }
            }
            StagePhase::Compact(c) => {
                if n.is_multiple_of(RELEASE_INTERVAL) {
                    self.record.peak_pressure = self.record.peak_pressure.max(wall_pressure(d));
                }
                let p = d.walls.top_force_avg / (d.lx * d.ly);
                if wall_pressure(d).max(p) >= c.pressure {
                    self.record.peak_pressure = self.record.peak_pressure.max(wall_pressure(d));
                    self.done = true;
                    return;
                }
                let p_rate = p.max(c.pressure_floor);
                let rate = c.quasi_static.simulated(c.strain_rate, p_rate);
                let i = c.quasi_static.inertial_number(rate, p_rate);
                self.record.inertial_number = self.record.inertial_number.max(i);
                let f = 1.0 - rate * d.dt;
                let squeeze = |d: &mut Dem| {
                    d.scale_z(f);
                    d.walls.z_top = d.walls.z_bottom + (d.walls.z_top - d.walls.z_bottom) * f;
                };
                if d.track_energy {
                    imposed(d, &squeeze);
                } else {
                    squeeze(d);
                }
                if n > MAX_ROLL_STEPS {
                    self.error = Some(format!(
                        "the compaction did not reach {:.1} MPa in {n} steps",
                        c.pressure * 1e-6
                    ));
                    self.done = true;
                }
            }
            StagePhase::Hold(h) => {
                self.load_sums.0 += d.walls.top_force;
                self.load_sums.1 += d.walls.bottom_force;
                if !n.is_multiple_of(RELEASE_INTERVAL) && n < h.max_steps {
                    return;
                }
                self.record.peak_pressure = self.record.peak_pressure.max(wall_pressure(d));
                let count = (n - 1) % RELEASE_INTERVAL + 1;
                let per = 1.0 / (count as f64 * d.lx * d.ly);
                let (top, bottom) = (self.load_sums.0 * per, self.load_sums.1 * per);
                self.load_sums = (0.0, 0.0);
                self.record.wall_pressures = (top, bottom);
                let gap = d.walls.z_top - d.walls.z_bottom;
                let moved = (gap - self.h_prev).abs();
                self.h_prev = gap;
                let held = match h.pressure {
                    Some(p) => {
                        let band = h.tolerance * p;
                        let stalled =
                            h.settle && moved <= STALL_FRACTION * h.max_speed * count as f64 * d.dt;
                        (top - p).abs() <= band && ((bottom - p).abs() <= band || stalled)
                    }
                    None => (top - bottom).abs() <= h.tolerance * top.abs().max(bottom.abs()),
                };
                if held || n >= h.max_steps {
                    self.record.capped = !held;
                    self.done = true;
                }
            }
            StagePhase::Release {
                pressure,
                max_steps,
                floor,
            } => {
                if n.is_multiple_of(RELEASE_INTERVAL) || n >= max_steps {
                    d.remove_drift_z(floor);
                    let released = d.walls.top_force_avg <= pressure * d.lx * d.ly;
                    self.done = released || n >= max_steps;
                    self.record.capped = !released;
                }
            }
            StagePhase::RollClose(r) => {
                if !n.is_multiple_of(ROLL_INTERVAL) {
                    return;
                }
                if d.walls.z_top - d.walls.z_bottom <= r.gap {
                    imposed(d, &|d| d.walls.z_top = d.walls.z_bottom + r.gap);
                }
                let h = d.walls.z_top - d.walls.z_bottom;
                // MD elongation as the film thins: Lx ← Lx (h_film/h)^α.
                if r.md_elongation_exponent > 0.0 && h < self.h_film {
                    let f = (self.h_film / h).powf(r.md_elongation_exponent);
                    imposed(d, &|d| d.stretch_x(f));
                }
                self.h_film = self.h_film.min(h);
                self.h_prev = h;
                self.record.peak_pressure = self.record.peak_pressure.max(wall_pressure(d));
                if n > MAX_ROLL_STEPS {
                    self.error = Some(format!(
                        "the roll did not reach the {:.1} µm gap in {n} steps",
                        r.gap * 1e6
                    ));
                    self.done = true;
                    return;
                }
                self.set_roll_speed(&r, d);
            }
        }
    }

    /// Fraction of the phase done (for progress reports), 0..=1.
    pub fn fraction(&self, h_start: f64) -> f64 {
        let n = self.record.steps as f64;
        match self.phase {
            Some(
                StagePhase::Run { steps }
                | StagePhase::Stretch { steps, .. }
                | StagePhase::RelaxFree { steps, .. },
            ) => n / steps.max(1) as f64,
            Some(
                StagePhase::Release { max_steps, .. } | StagePhase::Hold(Hold { max_steps, .. }),
            ) => (n / max_steps.max(1) as f64).min(1.0),
            Some(StagePhase::Compact(c)) => {
                let p = self.record.peak_pressure.max(c.pressure_floor);
                ((p.ln() - c.pressure_floor.ln()) / (c.pressure.ln() - c.pressure_floor.ln()))
                    .clamp(0.0, 1.0)
            }
            Some(StagePhase::RollClose(r)) => {
                ((h_start - self.h_prev) / (h_start - r.gap)).clamp(0.0, 1.0)
            }
            None => 1.0,
        }
    }
}

/// The stage driver's system (slot `StepSet::Control`): one more step of the running phase.
pub fn phase_control(
    mut ctl: ResMut<PhaseControl>,
    mut dem: ResMut<DemWorld>,
    err: Res<StepError>,
    fibrils: Query<&FibrilC>,
    src: Option<Res<PtfeSources>>,
) {
    if err.0.is_none() {
        let energy = |d: &Dem| match &src {
            Some(src) => fibril_energy(d, fibrils.iter(), &src.law),
            None => 0.0,
        };
        ctl.after_step(&mut dem.0, &energy);
    }
}

/// Whether a phase is running (the run condition of [`phase_control`]).
pub fn phase_running(ctl: Res<PhaseControl>) -> bool {
    ctl.phase.is_some() && !ctl.done
}

/// Runs `phase` to its end on `world` with `schedule`, reporting progress for `stage` from
/// `range.0` to `range.0 + range.1` (fractions of the stage) every `report_every` steps. Returns
/// what the phase recorded.
///
/// # Errors
/// A DEM failure during a step, or a phase that failed (a roll that never reaches its gap).
pub fn run_phase(
    world: &mut World,
    schedule: &mut Schedule,
    phase: StagePhase,
    (stage, progress): (&str, super::Progress),
    (base, span): (f64, f64),
) -> Result<PhaseRecord, ProcessError> {
    let h_start = {
        let d = &world.resource::<DemWorld>().0;
        d.walls.z_top - d.walls.z_bottom
    };
    world_start(world, phase);
    let report_every = match phase {
        StagePhase::Run { .. } => 200,
        StagePhase::RollClose(_) => ROLL_INTERVAL,
        _ => DRIFT_INTERVAL,
    };
    crate::par::with_hot_workers(|| -> Result<(), ProcessError> {
        while !world.resource::<PhaseControl>().done {
            schedule.run(world);
            if let Some(e) = world.resource_mut::<StepError>().0.take() {
                return Err(e.into());
            }
            let ctl = world.resource::<PhaseControl>();
            if ctl.done || ctl.record.steps.is_multiple_of(report_every) {
                progress(stage, base + span * ctl.fraction(h_start));
            }
        }
        Ok(())
    })?;
    let mut ctl = world.resource_mut::<PhaseControl>();
    ctl.phase = None;
    match ctl.error.take() {
        Some(e) => Err(ProcessError::Setup(format!("{stage}: {e}"))),
        None => Ok(std::mem::take(&mut ctl.record)),
    }
}

/// Starts `phase` in `world`'s [`PhaseControl`] on its DEM.
fn world_start(world: &mut World, phase: StagePhase) {
    world.resource_scope(|world, mut ctl: Mut<PhaseControl>| {
        let d = &mut world.resource_mut::<DemWorld>().into_inner().0;
        ctl.start(phase, d);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dem::bench::anchor_material;
    use crate::dem::contact::PairParams;
    use crate::dem::state::ParticleState;

    /// A free relaxation of two grains apart, one moving at `speed` (m/s), with rest criteria and a
    /// cap of 1000 steps: the steps it ran and whether it stopped at its cap.
    fn relax(speed: f64) -> (u64, bool) {
        let mut p = ParticleState::default();
        p.push(DVec3::new(10e-6, 10e-6, 10e-6), 2e-6, 7e-14, 0);
        p.push(DVec3::new(30e-6, 30e-6, 10e-6), 2e-6, 7e-14, 0);
        p.vel[1] = DVec3::new(speed, 0.0, 0.0);
        let table = vec![PairParams::mix(&anchor_material(), &anchor_material()); 4];
        let mut d = Dem::new(p, table, 2, 40e-6, 40e-6, 0.0, 40e-6, 1, 1e-10, 0.2e-6);
        d.walls.top_active = false;
        let rest = Rest {
            kinetic_energy: 1e-20,
            unbalanced_force_ratio: 1e-3,
        };
        let phase = StagePhase::RelaxFree {
            steps: 1000,
            rest,
            floor: 1e-7,
            damping: (0.0, 0.0),
        };
        let mut ctl = PhaseControl::default();
        ctl.start(phase, &mut d);
        while !ctl.done {
            d.step_once().unwrap();
            ctl.after_step(&mut d, &|_| 0.0);
        }
        (ctl.record.steps, ctl.record.capped)
    }

    /// A film at rest ends its relaxation at the first check; one that keeps moving runs to the
    /// cap and says so.
    #[test]
    fn a_free_relaxation_ends_at_rest_or_warns_at_its_cap() {
        assert_eq!(relax(0.0), (DRIFT_INTERVAL, false));
        assert_eq!(relax(1e-3), (1000, true));
    }
}
