//! The reference pellet: uniaxial cold pressing to the pellet pressure, hold, release.

use super::super::*;
use crate::dem::engine::WallDrive;
use bevy_ecs::prelude::*;
use glam::DVec3;

impl FilmSim {
    /// Uniaxial cold pressing to the pellet pressure (servo-controlled top wall), hold, release.
    pub fn pellet(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let t0 = std::time::Instant::now();
        *self.world.resource_mut::<ActiveStage>() = ActiveStage::Pellet;
        let p = self.scenario.pellet.clone();
        let (step0, rebuilds0) = (self.dem().step, self.dem().rebuilds);
        let mark = self.energy_mark();
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
        let peak = self
            .run_phase(StagePhase::Press { steps }, "pellet", progress, (0.0, 0.8))?
            .peak_pressure;
        {
            let d = self.dem_mut();
            d.remove_top_wall();
            d.walls.top_drive = WallDrive::Velocity(DVec3::ZERO);
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
        s.peak_pressure_mpa = peak * 1e-6;
        s.inertial_number = self.inertial_number(p.strain_rate, p.pressure);
        s.energy = self.energy_since(&mark);
        s.wall_seconds = t0.elapsed().as_secs_f64();
        Ok(s)
    }
}
