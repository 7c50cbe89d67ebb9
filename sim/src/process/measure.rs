//! What the process measures on the film: thickness, relative density, fibril statistics, PTFE
//! dispersion, and the per-stage and per-pass reports.

use super::*;
use crate::dem::engine::Dem;
use crate::dem::schedule::DemWorld;
use crate::snapshot::{FibrilState, Phase};
use std::f64::consts::PI;

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
    /// Energy balance of the pass (closing, hold, release, springback).
    pub energy: super::EnergyReport,
    /// Steps of the free relaxation (springback) that ended the pass.
    pub relax_steps_run: u64,
    /// Whether that relaxation stopped at its cap (`numerics.relax_steps`) before the film was at
    /// rest (a warning of the run, see `FilmSim::relax_free`).
    pub relax_capped: bool,
    /// Kinetic energy of the film when the roll left it (start of the springback), J.
    pub released_kinetic_energy: f64,
    /// Kinetic energy of the film at the end of the springback, J.
    pub rest_kinetic_energy: f64,
    /// The springback's decay: steps since the roll left and the film's kinetic energy (J) at
    /// each rest check (every 100 steps and at its end). Not written to the summary.
    #[serde(skip)]
    pub springback_kinetic_trace: Vec<(u64, f64)>,
}

impl PassReport {
    /// The film's kinetic energy (J) `steps` after the roll left it, if the springback had a rest
    /// check then (every 100 steps while it ran).
    pub fn kinetic_energy_after(&self, steps: u64) -> Option<f64> {
        (self.springback_kinetic_trace.iter())
            .find(|c| c.0 == steps)
            .map(|c| c.1)
    }

    /// The springback's decay in words: its kinetic energy (J) every `every` steps after the
    /// release, e.g. `"9.2e-14 1.7e-14 …"`.
    pub fn springback_decay(&self, every: u64) -> String {
        let at: Vec<String> = (self.springback_kinetic_trace.iter())
            .filter(|c| c.0.is_multiple_of(every))
            .map(|c| format!("{:.1e}", c.1))
            .collect();
        at.join(" ")
    }
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
    /// PTFE lumps still in the film (spent lumps, whose PTFE is all in fibrils, left it).
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
    /// Mean accumulated local shear strain of the PTFE lumps at the end of the stage (the driver
    /// of the fibrillation law, `PtfeSources::strain`: the tangential displacement of the touching
    /// NPS grains relative to each lump, summed over the strain windows), dimensionless; spent
    /// lumps included, 0 before fibrillation.
    pub ptfe_local_shear_strain_mean: f64,
    /// Work dissipated by Coulomb sliding at the PTFE lumps' contacts during
    /// fibrillation (the work-driven law's driver, `PtfeSources::work`) per unit of initial PTFE
    /// volume, MJ/m³ (= J/cm³); 0 before fibrillation.
    pub ptfe_contact_work_mj_m3: f64,
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
    /// Solid fraction of each tenth of the thickness at the end of the stage, bottom to top
    /// ([`FilmSim::solid_fraction_profile`]), dimensionless.
    pub solid_fraction_profile: Vec<f64>,
    /// Energy balance of the stage.
    pub energy: super::EnergyReport,
}

impl FilmSim {
    /// Film thickness, m: the 99th percentile of the tops of the film's particles (radius ≥
    /// [`FilmSim::film_radius_floor`]) above the bottom wall (robust to a few loose particles on
    /// the surface).
    pub fn thickness(&self) -> f64 {
        self.film_percentile(0.99, |z, r| z + r) - self.dem().walls.z_bottom
    }

    /// Solid fraction of each of `slabs` equal slabs of the film's thickness ([`FilmSim::thickness`]
    /// above the bottom wall), bottom to top, dimensionless: [`slab_solid_fractions`] (grains and
    /// lumps; fibril volume left out).
    pub fn solid_fraction_profile(&self, slabs: usize) -> Vec<f64> {
        let zb = self.dem().walls.z_bottom;
        slab_solid_fractions(self.dem(), zb, zb + self.thickness(), slabs)
    }

    /// The `q` quantile (0..=1; index `⌊n q⌋`, at most the last) of `f(z, r)` (m) over the film's
    /// particles (radius ≥ [`FilmSim::film_radius_floor`]): centre height `z` and radius `r`, m.
    fn film_percentile(&self, q: f64, f: impl Fn(f64, f64) -> f64) -> f64 {
        let d = self.dem();
        let floor = self.film_radius_floor();
        let mut v: Vec<f64> =
            d.p.pos
                .iter()
                .zip(&d.p.radius)
                .filter(|(_, r)| **r >= floor)
                .map(|(x, r)| f(x.z, *r))
                .collect();
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
    }

    /// Mean normal stress of the film along `axis` (0 = x, MD; 1 = y, TD), Pa, tension positive:
    /// the virial `σ_aa = (1/V) [Σ_contacts F_a (x_j − x_i)_a + Σ_bundles T (c_a)² / L]` over the
    /// film volume `V = lx·ly·thickness`, with `F` the last force on grain `i` from grain `j`
    /// (minimum image), and a bundle's elastic tension `T = n k (L − L₀)⁺` along its chord `c`
    /// (length `L`, anchor to anchor on its own periodic image). Wall contacts are left out.
    pub fn stress(&mut self, axis: usize) -> f64 {
        let h = self.film_percentile(0.99, |z, r| z + r) - self.film_percentile(0.01, |z, r| z - r);
        let v = {
            let d = self.dem();
            d.lx * d.ly * h
        };
        let law = self.world.resource::<PtfeSources>().law;
        let mut q = self.world.query::<&FibrilC>();
        let d = &self.world.resource::<crate::dem::schedule::DemWorld>().0;
        let contacts: f64 = d
            .pairs
            .iter_touching()
            .map(|c| -c.force[axis] * d.min_image(c.i as usize, c.j as usize)[axis])
            .sum();
        let bundles: f64 = q
            .iter(&self.world)
            .filter(|f| f.state == FibrilState::Intact)
            .map(|f| {
                let g = super::fibril_forces::fibril_geometry(d, f);
                let t = f.count * f.law.stiffness(&law) * (g.length - f.law.rest_length).max(0.0);
                t * g.length * g.unit[axis] * g.unit[axis]
            })
            .sum();
        (contacts + bundles) / v
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
            let (_, u, len) = fibril_vector(dem, &f.a, &f.b, f.shift);
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

    pub(crate) fn summary(&mut self, name: &str) -> StageSummary {
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
            ptfe_particles: {
                let material = &self.dem().p.material;
                self.phase
                    .iter()
                    .zip(material)
                    .filter(|&(p, &m)| *p == Phase::Ptfe && m != Material::Spent.id())
                    .count()
            },
            fibrils_intact: nf,
            fibrils_failed: failed,
            fibril_strands: strands,
            ptfe_fibrillated_fraction: if v > 0.0 { fib_vol / v } else { 0.0 },
            ptfe_local_shear_strain_mean: {
                let strain = &self.world.resource::<PtfeSources>().strain;
                let (sum, n) = self
                    .phase
                    .iter()
                    .zip(strain)
                    .filter(|(p, _)| **p == Phase::Ptfe)
                    .fold((0.0, 0usize), |(s, n), (_, x)| (s + x, n + 1));
                if n == 0 {
                    0.0
                } else {
                    sum / n as f64
                }
            },
            ptfe_contact_work_mj_m3: if self.ptfe_volume0 > 0.0 {
                let work: f64 = self.world.resource::<PtfeSources>().work.iter().sum();
                work / self.ptfe_volume0 * 1e-6
            } else {
                0.0
            },
            fibril_mean_length_um: len * 1e6,
            fibril_mean_radius_nm: rad * 1e9,
            fibril_orientation_md: p2,
            ptfe_dispersion: disp,
            thickness_um: self.thickness() * 1e6,
            relative_density: self.relative_density(),
            ptfe_mass_error: err,
            fibril_stiff_fraction: self.fibril_stiff_fraction(),
            solid_fraction_profile: self.solid_fraction_profile(10),
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
}

/// Solid fraction of each of `slabs` equal slabs between the heights `z0 < z1` (m), bottom to
/// top, dimensionless: the volume of every sphere cut by the slab's planes
/// (`π (r² z − z³/3)` between the cuts) over the slab's volume `lx·ly·(z1 − z0)/slabs`. Overlaps
/// count twice, as in the relative density.
pub fn slab_solid_fractions(d: &Dem, z0: f64, z1: f64, slabs: usize) -> Vec<f64> {
    let h = (z1 - z0) / slabs as f64;
    // Volume of the sphere of radius r (centre at 0) between the planes a < b.
    let cut = |r: f64, a: f64, b: f64| {
        let (a, b) = (a.max(-r), b.min(r));
        let f = |z: f64| PI * (r * r * z - z * z * z / 3.0);
        if b > a {
            f(b) - f(a)
        } else {
            0.0
        }
    };
    let mut v = vec![0.0; slabs];
    for (x, &r) in d.p.pos.iter().zip(&d.p.radius) {
        // The slabs the sphere reaches: from the one holding its bottom to the one holding its top.
        let lo = ((x.z - r - z0) / h).floor().max(0.0) as usize;
        let hi = (((x.z + r - z0) / h).ceil().max(0.0) as usize).min(slabs);
        for (k, vk) in v.iter_mut().enumerate().take(hi).skip(lo) {
            let lo = z0 + k as f64 * h;
            *vk += cut(r, lo - x.z, lo + h - x.z);
        }
    }
    v.iter().map(|x| x / (d.lx * d.ly * h)).collect()
}
