//! The shear stages: mixing (low shear, PTFE distributed between the grains) and fibrillation
//! (high shear at the scenario temperature, fibrils drawn), both between a pressure-held top wall
//! and the bottom wall.

use super::super::*;
use crate::dem::engine::WallDrive;
use crate::process::control::{Hold, HOLD_MAX_STEPS, HOLD_TOLERANCE};
use bevy_ecs::prelude::*;
use glam::DVec3;

/// The shear a stage imposes.
struct Shear {
    /// Shear rate γ̇ asked for, 1/s (the simulated rate may be lower, for quasi-static shear).
    rate: f64,
    /// Shear strain imposed, dimensionless.
    strain: f64,
    /// Confining pressure the top wall's servo holds, Pa.
    pressure: f64,
    /// In-plane direction of the top wall's motion, rad from MD.
    direction: f64,
}

impl FilmSim {
    /// Shear between the walls: top wall servo-controlled at the shear's pressure and moving
    /// in-plane along its direction at γ̇·H, for its strain.
    fn shear_stage(
        &mut self,
        (name, stage): (&str, ActiveStage),
        shear: Shear,
        progress: Progress,
    ) -> Result<StageSummary, ProcessError> {
        let Shear {
            rate,
            strain,
            pressure,
            direction,
        } = shear;
        let t0 = std::time::Instant::now();
        let rebuilds0 = self.dem().rebuilds;
        let mark = self.energy_mark();
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
        // Settle under the confining pressure first: this only brings the packing to the confining
        // pressure (filling the mixer, or the fibrillator's higher pressure), not a process step, so
        // the servo may compact at ten times the quasi-static rate (wall speed 10·γ̇_qs·h). It ends
        // when the packing carries the pressure through its height, or holds it with the wall
        // stopped (a settling hold); nothing is drawn while it settles. The shear itself is quasi-static.
        let qs = self.quasi_static_rate(pressure);
        let vmax = 10.0 * qs * h;
        *self.world.resource_mut::<ActiveStage>() = ActiveStage::Settle;
        let hold = Hold {
            pressure: Some(pressure),
            max_speed: vmax,
            tolerance: HOLD_TOLERANCE,
            max_steps: HOLD_MAX_STEPS,
            settle: true,
        };
        let settle = self.hold(hold, name, progress, (0.0, 0.3))?.steps;
        *self.world.resource_mut::<ActiveStage>() = stage;
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
        self.run_phase(StagePhase::Run { steps }, name, progress, (0.3, 0.7))?;
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
        s.energy = self.energy_since(&mark);
        s.wall_seconds = t0.elapsed().as_secs_f64();
        Ok(s)
    }

    /// Low-shear mixing (PTFE is distributed between the NPS grains; no fibrils).
    pub fn mixing(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let m = self.scenario.mixing.clone();
        let shear = Shear {
            rate: m.shear_rate,
            strain: m.shear_strain,
            pressure: m.confining_pressure,
            direction: 0.0,
        };
        self.shear_stage(("mixing", ActiveStage::Mixing), shear, progress)
    }

    /// Arms the fibrillation law for the scenario's fibrillation: the critical strain at its
    /// temperature, the lumps' strain and credited work reset, the strain window (0.02 of imposed
    /// shear strain at the simulated rate) restarted, and the lumps credited with the work at
    /// their contacts (the work-driven law's driver, and a diagnostic of the strain-driven one).
    /// Fibrils are drawn at the steps run while the active stage is
    /// [`ActiveStage::Fibrillation`], until [`FilmSim::disarm_drawing`].
    pub fn arm_drawing(&mut self) {
        let f = self.scenario.fibrillation.clone();
        let rate = self.simulated_rate(f.shear_rate, f.confining_pressure);
        let window = ((0.02 / (rate * self.dem().dt)).ceil() as u64).max(1);
        {
            let mut src = self.world.resource_mut::<PtfeSources>();
            let src = &mut *src;
            src.critical_strain = critical_fibrillation_strain(f.temperature);
            for s in src.strain.iter_mut().chain(src.work.iter_mut()) {
                *s = 0.0;
            }
            src.window = window;
            src.window_steps = 0;
            src.window_start.clear();
        }
        self.dem_mut().work_credit = Some(Material::Ptfe.id());
    }

    /// Stops crediting the lumps with their contacts' work ([`FilmSim::arm_drawing`]).
    pub fn disarm_drawing(&mut self) {
        let d = self.dem_mut();
        d.work_credit = None;
        d.credited_work = Vec::new();
    }

    /// High-shear fibrillation at the scenario temperature.
    pub fn fibrillation(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let f = self.scenario.fibrillation.clone();
        self.arm_drawing();
        let shear = Shear {
            rate: f.shear_rate,
            strain: f.shear_strain,
            pressure: f.confining_pressure,
            direction: f.shear_direction,
        };
        let stage = ("fibrillation", ActiveStage::Fibrillation);
        let summary = self.shear_stage(stage, shear, progress);
        self.disarm_drawing();
        summary
    }
}
