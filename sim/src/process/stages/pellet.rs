//! The reference pellet: uniaxial cold pressing to the pellet pressure, quasi-statically, hold
//! until the pressure has come through the whole pellet, release.

use super::super::*;
use crate::process::control::{Compact, Hold, HOLD_MAX_STEPS, HOLD_TOLERANCE};

impl FilmSim {
    /// The pellet's compaction phase: to `pellet.pressure_mpa` at `pellet.strain_rate_per_s`,
    /// capped at the quasi-static rate of the wall pressure floored at the fill's (the mixing
    /// stage's) confining pressure.
    pub fn pellet_compaction(&self) -> Compact {
        let p = &self.scenario.pellet;
        Compact {
            pressure: p.pressure,
            strain_rate: p.strain_rate,
            pressure_floor: self.scenario.mixing.confining_pressure,
            quasi_static: self.quasi_static(),
        }
    }

    /// The pellet's hold phase on the current wall gap: the servo at `pellet.pressure_mpa`, its
    /// speed capped at the quasi-static rate of that pressure times the gap, within
    /// [`HOLD_TOLERANCE`] and [`HOLD_MAX_STEPS`].
    pub fn pellet_hold(&self) -> Hold {
        let p = &self.scenario.pellet;
        let h = self.dem().walls.z_top - self.dem().walls.z_bottom;
        Hold {
            pressure: Some(p.pressure),
            max_speed: self.quasi_static().simulated(p.strain_rate, p.pressure) * h,
            tolerance: HOLD_TOLERANCE,
            max_steps: HOLD_MAX_STEPS,
            settle: false,
        }
    }

    /// Uniaxial cold pressing: the die fill (the packing the mixing stage left, at its confining
    /// pressure) is compacted affinely through its whole height ([`Compact`]) at the scenario's
    /// strain rate, capped at the quasi-static rate of the current wall pressure (the fill's
    /// confining pressure as its floor), until the top wall carries the pellet pressure; the
    /// servo then holds that pressure until the bottom wall carries it too ([`Hold`], within
    /// [`HOLD_TOLERANCE`]), and the top wall is removed for the free relaxation (springback).
    pub fn pellet(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let t0 = std::time::Instant::now();
        *self.world.resource_mut::<ActiveStage>() = ActiveStage::Pellet;
        let p = self.scenario.pellet.clone();
        let (step0, rebuilds0) = (self.dem().step, self.dem().rebuilds);
        let mark = self.energy_mark();
        self.dem_mut().stage = "pellet".into();
        let c = self.run_phase(
            StagePhase::Compact(self.pellet_compaction()),
            "pellet",
            progress,
            (0.0, 0.6),
        )?;
        let held = self.hold(self.pellet_hold(), "pellet", progress, (0.6, 0.2))?;
        {
            let d = self.dem_mut();
            d.remove_top_wall();
            d.walls.top_drive = crate::dem::engine::WallDrive::Velocity(glam::DVec3::ZERO);
        }
        let relax = self.scenario.numerics.relax_steps;
        let work = self.external_work_since(&mark);
        self.relax_free(relax, work, "pellet", progress, (0.8, 0.2))?;
        let thick = self.thickness();
        {
            let d = self.dem_mut();
            d.walls.z_top = d.walls.z_bottom + thick;
        }
        let mut s = self.summary("pellet");
        s.steps = self.dem().step - step0;
        s.neighbour_rebuilds = self.dem().rebuilds - rebuilds0;
        s.peak_pressure_mpa = c.peak_pressure.max(held.peak_pressure) * 1e-6;
        let qs = self.quasi_static();
        let rate = qs.simulated(p.strain_rate, p.pressure);
        s.inertial_number = c.inertial_number.max(qs.inertial_number(rate, p.pressure));
        s.simulated_rate_per_s = rate;
        s.energy = self.energy_since(&mark);
        s.wall_seconds = t0.elapsed().as_secs_f64();
        Ok(s)
    }
}
