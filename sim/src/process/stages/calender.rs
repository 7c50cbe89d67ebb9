//! The calender: passes through a closing roll gap (MD elongation, a quasi-static release, free
//! springback), 90° turns between passes, and correction passes to the target thickness.

use super::super::control::{Hold, HOLD_MAX_STEPS, HOLD_TOLERANCE};
use super::super::*;
use crate::dem::engine::WallDrive;
use bevy_ecs::prelude::*;
use glam::{DQuat, DVec3};

/// Wall pressure, Pa, the roll backs off to when it releases the film after a pass (the pass ends
/// its unloading once the averaged wall load is at or below it).
const RELEASE_PRESSURE: f64 = 1.0e3;

impl FilmSim {
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
            // A roll still on the film (after fibrillation) stays where it is, or comes down to
            // the film's top; a lifted roll comes back just above the film's highest particle and
            // closes from there, so no grain is ever found inside it.
            let z = if d.walls.top_active {
                d.walls.z_top.min(d.film_top())
            } else {
                d.film_top()
            };
            d.place_top_wall(z);
        }
        let mark = self.energy_mark();
        let h_start = self.dem().walls.z_top - self.dem().walls.z_bottom;
        // The dough's confining pressure is the floor of the pressure that sets the quasi-static rate
        // (a loose film under the roll is held at least that hard).
        let p_floor = self.scenario.fibrillation.confining_pressure.max(1.0e4);
        let mut peak: f64 = 0.0;
        let mut i_max: f64 = 0.0;
        if gap < h_start {
            // Roll closing: every 50 steps the wall speed is set from the current wall pressure,
            // ε̇ = min(scenario rate, γ̇_qs(p)), so the film is pressed at the largest inertial number
            // allowed, whatever its stiffness so far.
            let roll = RollClose {
                gap,
                strain_rate: c.strain_rate,
                pressure_floor: p_floor,
                md_elongation_exponent: c.md_elongation_exponent,
                film_thickness: self.thickness(),
                quasi_static: self.quasi_static(),
            };
            let r = self.run_phase(StagePhase::RollClose(roll), &name, progress, (0.0, 0.6))?;
            peak = r.peak_pressure;
            i_max = r.inertial_number;
        }
        // Hold at the gap until the film carries the roll's load through its thickness.
        let hold = Hold {
            pressure: None,
            max_speed: 0.0,
            tolerance: HOLD_TOLERANCE,
            max_steps: HOLD_MAX_STEPS,
            settle: false,
        };
        self.hold(hold, &name, progress, (0.6, 0.05))?;
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
        // The released film must not ride the retreating roll up as a body (see relax_free).
        let release = StagePhase::Release {
            pressure: RELEASE_PRESSURE,
            max_steps: HOLD_MAX_STEPS,
            floor: self.film_radius_floor(),
        };
        if self
            .run_phase(release, &name, progress, (0.65, 0.1))?
            .capped
        {
            self.warnings.push(format!(
                "{name}: the roll's release stopped at its cap of {HOLD_MAX_STEPS} steps before \
                 the film's load on it fell to {RELEASE_PRESSURE} Pa"
            ));
        }
        {
            let d = self.dem_mut();
            d.remove_top_wall();
            d.walls.top_drive = WallDrive::Velocity(DVec3::ZERO);
        }
        let work = self.external_work_since(&mark);
        let relax = self.scenario.numerics.relax_steps;
        let released_ke = self.dem().kinetic_energy();
        let rest = self.relax_free(relax, work, &name, progress, (0.75, 0.25))?;
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
            energy: self.energy_since(&mark),
            relax_steps_run: rest.steps,
            relax_capped: rest.capped,
            released_kinetic_energy: released_ke,
            rest_kinetic_energy: rest.rest_state.0,
            springback_kinetic_trace: rest.kinetic_trace,
        };
        // Top wall parked at the film surface for the snapshot.
        let d = self.dem_mut();
        d.walls.z_top = d.walls.z_bottom + thick;
        Ok(report)
    }

    /// Rotate the film 90° in-plane (fold-and-turn between passes): (x, y) → (y, Lx − x). Image
    /// counters and the fibrils' image shifts turn with it: (n_x, n_y) → (n_y, −n_x).
    pub fn turn_90(&mut self) {
        // Held fibril forces point along the old axes: evaluate them afresh at the next step.
        self.world.resource_mut::<PtfeSources>().force_refresh = true;
        let turn = |n: [i32; 2]| [n[1], -n[0]];
        for mut f in self.world.query::<&mut FibrilC>().iter_mut(&mut self.world) {
            f.shift = turn(f.shift);
        }
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
            d.p.image[k] = turn(d.p.image[k]);
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
    /// within 2% of the target thickness (at most 4), like an operator closing the gap. A film
    /// that rose by `s = h/g − 1` above the last gap `g` is pressed to
    /// `min(0.99 g, 1.01 h_t / (1 + s/2))` (`h_t` the target): a film pressed again near its last
    /// gap springs back less than the first time (it was compacted there), and one pressed too
    /// thin cannot be thickened, so the correction counts half the springback and aims 1% high.
    pub fn calender(&mut self, progress: Progress) -> Result<StageSummary, ProcessError> {
        let t0 = std::time::Instant::now();
        *self.world.resource_mut::<ActiveStage>() = ActiveStage::Calender;
        self.world.resource_mut::<PtfeSources>().force_refresh = true;
        let c = self.scenario.calender.clone();
        let (step0, rebuilds0) = (self.dem().step, self.dem().rebuilds);
        let mark = self.energy_mark();
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
            let rise = (t / last_gap - 1.0).max(0.0);
            let gap = (1.01 * target / (1.0 + 0.5 * rise)).min(0.99 * last_gap);
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
        s.energy = self.energy_since(&mark);
        s.wall_seconds = t0.elapsed().as_secs_f64();
        Ok(s)
    }
}
