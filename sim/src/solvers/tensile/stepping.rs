//! Strain stepping of the tensile test: the stress, bond breakage and avalanches, adaptive steps,
//! and the stop criteria.

use super::*;
use crate::dem::fibril_law::{fibril_load, FibrilEvent};

impl Model {
    /// Virial stress along the test axis, Pa (engineering: current length × initial section).
    pub(super) fn stress(&self) -> f64 {
        let d = self.axis;
        let eval = &self.eval;
        let w = det_sum(eval.len(), |g| eval[g].f[d] * eval[g].b[d]);
        w / (self.lbox[0] * self.lbox[1] * self.thickness)
    }

    /// Load ratios of every bond (0 for dead bonds).
    pub(super) fn ratios(&self) -> Vec<f64> {
        self.eval.iter().map(|e| e.ratio).collect()
    }

    /// Break every bond with ratio ≥ 1; returns (contacts, fibrils broken, fibrils detached).
    pub(super) fn break_overloaded(&mut self) -> (usize, usize, usize) {
        let nc = self.c.i.len();
        let (mut bc, mut bf, mut df) = (0, 0, 0);
        for g in 0..self.eval.len() {
            if self.eval[g].ratio < 1.0 {
                continue;
            }
            if g < nc {
                if self.c.alive[g] {
                    self.c.alive[g] = false;
                    bc += 1;
                }
            } else {
                let k = g - nc;
                if self.fb.alive[k] {
                    let len = self.eval[g].len;
                    let out = fibril_load(len, self.fb.state[k], &self.law);
                    self.fb.alive[k] = false;
                    if out.event == FibrilEvent::Detached {
                        df += 1;
                    } else {
                        bf += 1;
                    }
                }
            }
        }
        (bc, bf, df)
    }

    /// Commit the plastic state of the fibrils at the current (relaxed) configuration.
    pub(super) fn commit_fibrils(&mut self) {
        let nc = self.c.i.len();
        for k in 0..self.fb.a.len() {
            if self.fb.alive[k] {
                let len = self.eval[nc + k].len;
                self.fb.state[k] = fibril_load(len, self.fb.state[k], &self.law).state;
            }
        }
    }

    pub(super) fn any_alive(&self) -> bool {
        self.c.alive.iter().any(|&a| a) || self.fb.alive.iter().any(|&a| a)
    }

    /// Scale positions and the periodic length along the axis by `lambda`.
    pub(super) fn scale(&mut self, lambda: f64) {
        let d = self.axis;
        self.lbox[d] *= lambda;
        for_chunks(&mut self.pos, |_, xs| {
            xs.iter_mut().for_each(|x| x[d] *= lambda)
        });
    }

    pub(super) fn run(&mut self) -> Result<TensileResult, TensileError> {
        let mut res = TensileResult {
            axis: if self.axis == 0 { Axis::X } else { Axis::Y },
            curve: StressStrainCurve::default(),
            failed: false,
            broken: Breakage::default(),
            work: RelaxationWork::default(),
            work_at_peak: RelaxationWork::default(),
        };
        let l_ref = self.lbox[self.axis];
        // Zero strain: relax (fibril prestress against contacts) and break what is overloaded.
        self.relax()?;
        self.avalanche(&mut res)?;
        self.commit_fibrils();
        let residual = if self.params.subtract_residual {
            self.stress()
        } else {
            0.0
        };
        res.curve.push(0.0, self.stress() - residual);
        res.work_at_peak = self.work;
        let p = self.params;
        let mut step = p.strain_step;
        let mut ratios_acc = self.ratios();
        let mut failed = !self.any_alive();
        // Strain at which the stress last fell below the stop fraction of the peak.
        let mut low_since: Option<f64> = None;
        // Non-affine displacement per unit strain of the last step without breakage: the
        // predictor that starts each relaxation (smooth drawing repeats step after step).
        let mut predictor: Option<Vec<[f64; 3]>> = None;
        while !failed && self.strain < p.max_strain * (1.0 - 1e-12) {
            let pos_acc = self.pos.clone();
            let l_acc = self.lbox[self.axis];
            let mut trial;
            let mut retries = 0;
            loop {
                trial = (self.strain + step).min(p.max_strain);
                self.pos.clone_from(&pos_acc);
                self.lbox[self.axis] = l_acc;
                self.scale(l_ref * (1.0 + trial) / l_acc);
                if let Some(pred) = &predictor {
                    let de = trial - self.strain;
                    for_chunks(&mut self.pos, |off, xs| {
                        for (q, x) in xs.iter_mut().enumerate() {
                            for d in 0..3 {
                                x[d] += de * pred[off + q][d];
                            }
                        }
                    });
                }
                let saved = self.strain;
                self.strain = trial;
                self.relax()?;
                self.strain = saved;
                let ratios = self.ratios();
                let max_r = ratios.iter().fold(0.0f64, |a, &b| a.max(b));
                if max_r <= 1.0 + p.overshoot_tolerance
                    || step <= p.min_strain_step
                    || retries >= 12
                {
                    break;
                }
                // Strain fraction at which the first bond reaches 1 + tol/2 (linear estimate).
                let target = 1.0 + 0.5 * p.overshoot_tolerance;
                let mut s_min: f64 = 1.0;
                for (r0, r1) in ratios_acc.iter().zip(&ratios) {
                    if *r1 > target && r1 > r0 {
                        s_min = s_min.min(((target - r0) / (r1 - r0)).max(0.0));
                    }
                }
                let new_step =
                    (step * s_min).clamp(p.min_strain_step, (0.5 * step).max(p.min_strain_step));
                step = new_step;
                retries += 1;
                self.work.retries += 1;
            }
            // Predictor for the next step (from this step's non-affine motion), unless bonds broke.
            let de = trial - self.strain;
            let broke_now = self.eval.iter().any(|e| e.ratio >= 1.0);
            predictor = if broke_now || de <= 0.0 {
                None
            } else {
                let (d, lam) = (self.axis, l_ref * (1.0 + trial) / l_acc);
                Some(
                    self.pos
                        .iter()
                        .zip(&pos_acc)
                        .map(|(x, x0)| {
                            let mut aff = *x0;
                            aff[d] *= lam;
                            [
                                (x[0] - aff[0]) / de,
                                (x[1] - aff[1]) / de,
                                (x[2] - aff[2]) / de,
                            ]
                        })
                        .collect(),
                )
            };
            self.strain = trial;
            // Stress before breaking (the peak of a brittle step), then the avalanche.
            let before = self.stress() - residual;
            let broke = self.eval.iter().any(|e| e.ratio >= 1.0);
            if broke {
                res.curve.push_max(trial, before);
                self.avalanche(&mut res)?;
            }
            self.commit_fibrils();
            ratios_acc = self.ratios();
            let after = self.stress() - residual;
            res.curve.push_max(trial, after);
            let peak = res.curve.peak_stress_pa;
            if res.curve.strain_at_peak == trial {
                res.work_at_peak = self.work;
            }
            if peak > 0.0 && after < p.stop_fraction * peak {
                let since = *low_since.get_or_insert(trial);
                if trial - since >= p.stop_strain_window {
                    failed = true;
                }
            } else {
                low_since = None;
            }
            if !self.any_alive() {
                failed = true;
            }
            step = (step * 2.0).min(p.strain_step);
        }
        res.failed = failed;
        res.work = self.work;
        Ok(res)
    }

    /// Break overloaded bonds and re-relax until none is overloaded (or the round cap).
    /// Between rounds the film relaxes to `avalanche_force_tolerance` where one is set; the
    /// avalanche then ends on a relaxation at the force tolerance that breaks nothing more.
    pub(super) fn avalanche(&mut self, res: &mut TensileResult) -> Result<(), TensileError> {
        let loose = self
            .params
            .avalanche_force_tolerance
            .filter(|&t| t > self.params.force_tolerance);
        // Whether the last relaxation reached the force tolerance.
        let mut tight = true;
        for _ in 0..self.params.max_avalanche_rounds {
            let (bc, bf, df) = self.break_overloaded();
            if bc + bf + df == 0 {
                if tight {
                    return Ok(());
                }
                self.relax()?;
                tight = true;
                continue;
            }
            res.broken.contacts += bc;
            res.broken.fibrils += bf;
            res.broken.detached += df;
            self.work.avalanche += 1;
            match loose {
                Some(t) => {
                    self.relax_to(t)?;
                    tight = false;
                }
                None => {
                    self.relax()?;
                }
            }
        }
        if !tight {
            self.relax()?;
        }
        Ok(())
    }
}
