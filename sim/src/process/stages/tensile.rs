//! The tensile test on the process's own mechanics: the calendered film, taken off its walls,
//! stretched along MD or TD at a quasi-static rate with the contact law, the fibril law, rotation
//! and the calendered prestress of the process, its stress read from the virial
//! ([`FilmSim::stress`]). docs/solvers-tensile.md, "Tensile test on the process mechanics".

use super::super::*;
use crate::dem::engine::WallDrive;
use crate::results::StressStrainCurve;
use glam::DVec3;

/// Stress readings averaged into one sample of the curve.
const SUBSAMPLES: u64 = 10;

/// Settings of the process tensile test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StretchTest {
    /// 0 = MD (x), 1 = TD (y).
    pub axis: u8,
    /// Largest true strain, dimensionless.
    pub max_strain: f64,
    /// The test ends when the smoothed stress has not risen above its peak for this much strain
    /// (a film that failed or flows), dimensionless.
    pub stop_strain_window: f64,
    /// Samples of the running mean whose peak is the strength (the dynamic stress scatters from
    /// sample to sample), ≥ 1.
    pub smoothing_samples: usize,
    /// Steps per stress sample (the mean of 10 readings spread over them) and rate update.
    pub sample_steps: u64,
    /// Floor of the stress that sets the quasi-static rate, Pa.
    pub pressure_floor: f64,
}

impl Default for StretchTest {
    fn default() -> Self {
        Self {
            axis: 0,
            max_strain: 0.2,
            stop_strain_window: 0.05,
            smoothing_samples: 8,
            sample_steps: 100,
            pressure_floor: 1e4,
        }
    }
}

/// The outcome of a process tensile test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StretchOutcome {
    /// True strain and stress (Pa, tension positive; the prestress at zero strain included) of
    /// each sample; the peak is the peak of the running mean of the stress over
    /// `smoothing_samples`: the strength.
    pub curve: StressStrainCurve,
    /// Steps run.
    pub steps: u64,
    /// Largest inertial number of the stretch, dimensionless.
    pub inertial_number: f64,
}

impl FilmSim {
    /// Stretches the film (after calendering) along `test.axis` until its smoothed stress has not
    /// risen above its peak for `stop_strain_window` of strain (it failed or flows) or it reaches
    /// `max_strain`. The strength is the peak of the running mean
    /// of the sampled stress; the stress is absolute (the in-plane prestress calendering left in
    /// the periodic box is part of it). The walls
    /// are moved off the film (the bottom wall two largest diameters below its lowest grain, the
    /// top wall off), fibril forces act, nothing is drawn, and the strain rate is the quasi-static
    /// rate of the process at the current stress: `γ̇ = I_max sqrt(max(|σ|, floor)/ρ)/d`, updated
    /// every `sample_steps`. The film's rigid-body z drift is removed at each sample.
    ///
    /// # Errors
    /// A DEM failure during the steps.
    pub fn tensile_process(
        &mut self,
        test: &StretchTest,
        progress: Progress,
    ) -> Result<StretchOutcome, ProcessError> {
        *self.world.resource_mut::<ActiveStage>() = ActiveStage::Calender;
        let floor = self.film_radius_floor();
        let qs = self.quasi_static();
        let axis = usize::from(test.axis.min(1));
        {
            let d = self.dem_mut();
            d.stage = "tensile".into();
            // The test reports no energy balance: no ledger, so that the stretch of every step
            // does not pay two passes over the contacts and bundles to book its imposed work.
            d.track_energy = false;
            d.remove_top_wall();
            d.walls.top_drive = WallDrive::Velocity(DVec3::ZERO);
            let low = d.p.pos.iter().zip(&d.p.radius);
            let low = low.map(|(x, r)| x.z - r).fold(f64::MAX, f64::min);
            let dmax = 2.0 * d.p.radius.iter().cloned().fold(0.0, f64::max);
            d.walls.z_bottom = d.walls.z_bottom.min(low) - 2.0 * dmax;
        }
        let mut out = StretchOutcome::default();
        let mut curve = StressStrainCurve::default();
        let mut strain = 0.0;
        let mut sigma = self.stress(axis);
        curve.push(0.0, sigma);
        let dt = self.dem().dt;
        let n_avg = test.smoothing_samples.max(1);
        curve.peak_stress_pa = f64::NEG_INFINITY;
        while strain < test.max_strain {
            let p = sigma.abs().max(test.pressure_floor);
            let rate = qs.rate(p);
            out.inertial_number = out.inertial_number.max(qs.inertial_number(rate, p));
            // The stress of a sample is the mean of `SUBSAMPLES` readings spread over its steps
            // (the dynamic stress scatters from step to step).
            let sub = (test.sample_steps / SUBSAMPLES).max(1);
            let mut sum = 0.0;
            for k in 0..SUBSAMPLES {
                let phase = StagePhase::Stretch {
                    steps: sub,
                    axis: axis as u8,
                    rate,
                };
                let frac = strain / test.max_strain;
                self.run_phase(phase, "tensile", progress, (frac, 0.0))?;
                if k + 1 == SUBSAMPLES {
                    self.dem_mut().remove_drift_z(floor);
                }
                sum += self.stress(axis);
            }
            strain += (sub * SUBSAMPLES) as f64 * (rate * dt).ln_1p();
            out.steps += sub * SUBSAMPLES;
            sigma = sum / SUBSAMPLES as f64;
            curve.push(strain, sigma);
            let k = curve.stress_pa.len();
            if k < n_avg {
                continue;
            }
            let mean = curve.stress_pa[k - n_avg..].iter().sum::<f64>() / n_avg as f64;
            if mean > curve.peak_stress_pa {
                curve.peak_stress_pa = mean;
                curve.strain_at_peak = 0.5 * (curve.strain[k - n_avg] + strain);
            }
            if strain - curve.strain_at_peak >= test.stop_strain_window {
                break;
            }
        }
        if !curve.peak_stress_pa.is_finite() {
            // Fewer samples than the running mean needs: the largest sample.
            curve.peak_stress_pa = curve
                .stress_pa
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
        }
        out.curve = curve;
        Ok(out)
    }
}
