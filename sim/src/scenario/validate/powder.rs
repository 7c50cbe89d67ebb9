//! The powder sections: NPS size distribution and material, PTFE loading and material.

use super::checker::*;
use super::fields::*;
use super::*;
use crate::scenario::error::ErrorKind;
use crate::scenario::raw::*;
use crate::scenario::validated::*;

/// `powder.nps`: the truncated lognormal size distribution (a non-empty one) and the material.
pub(super) fn nps(c: &mut Checker<'_>, n: &RawNps) -> Nps {
    let before_nps = c.errors.len();
    let d50 = c.check(&nps::D50, n.d50_um);
    let gsd = c.check(&nps::GSD, n.gsd);
    let d_min = c.check(&nps::D_MIN, n.d_min_um);
    let d_max = c.check(&nps::D_MAX, n.d_max_um);
    if c.errors.len() == before_nps {
        if n.d_min_um >= n.d_max_um {
            c.inconsistent(
                "powder.nps.d_min_um",
                n.d_min_um,
                format!("< d_max_um = {} µm", num(n.d_max_um)),
                "empty size distribution: the cut-offs leave no diameter",
            );
        } else {
            let cut_offs = [
                (
                    n.d_min_um >= n.d50_um,
                    "powder.nps.d_min_um",
                    n.d_min_um,
                    format!("< d50_um = {} µm", num(n.d50_um)),
                    "the lower cut-off must lie below the median diameter",
                ),
                (
                    n.d_max_um <= n.d50_um,
                    "powder.nps.d_max_um",
                    n.d_max_um,
                    format!("> d50_um = {} µm", num(n.d50_um)),
                    "the upper cut-off must lie above the median diameter",
                ),
            ];
            for (wrong, path, v, allowed, hint) in cut_offs {
                if wrong {
                    c.inconsistent(path, v, allowed, hint);
                }
            }
        }
        if c.errors.len() == before_nps {
            let inside = lognormal_fraction_inside(d50, gsd, d_min, d_max);
            if inside.is_nan() || inside < MIN_FRACTION_INSIDE {
                c.inconsistent(
                    "powder.nps.gsd",
                    n.gsd,
                    format!(
                        "such that ≥ {} of the lognormal lies in [d_min_um, d_max_um] (now {})",
                        num(MIN_FRACTION_INSIDE),
                        num(inside)
                    ),
                    "empty size distribution: the cut-offs keep almost no particles; widen them \
                     or lower gsd",
                );
            }
        }
    }
    let nps_density = c.check(&nps::DENSITY, n.density_kg_m3);
    Nps {
        d50,
        gsd,
        d_min,
        d_max,
        density: nps_density,
        youngs_modulus: c.check(&nps::MODULUS, n.youngs_modulus_gpa),
        poisson: c.check(&nps::POISSON, n.poisson),
        yield_pressure: c.check(&nps::YIELD, n.yield_pressure_mpa),
        restitution: c.check(&nps::RESTITUTION, n.restitution),
        friction: c.check(&nps::FRICTION, n.friction),
        rolling_friction: c.check(&nps::ROLLING, n.rolling_friction),
        surface_energy: c.check(&nps::SURFACE_ENERGY, n.surface_energy_j_m2),
        sigma_ion_bulk: c.check(&nps::SIGMA_ION, n.sigma_ion_bulk_s_cm),
        sigma_e: c.check(&nps::SIGMA_E, n.sigma_e_s_cm),
    }
}

/// `powder.ptfe`: loading (none in a pellet), material and the fibril and bridge laws' values.
pub(super) fn ptfe(c: &mut Checker<'_>, p: &RawPtfe, film: bool) -> Ptfe {
    let before_wt = c.errors.len();
    let mut wt_pct = c.check(&ptfe::WT_PCT, p.wt_pct);
    if c.errors.len() == before_wt {
        if film && p.wt_pct > MAX_FILM_WT_PCT && !c.allow_implausible {
            c.push(
                ErrorKind::Implausible,
                "powder.ptfe.wt_pct",
                c.written("powder.ptfe.wt_pct", p.wt_pct),
                format!("≤ {} wt% for a film", num(MAX_FILM_WT_PCT)),
                "dry films use 0.2–5 wt% PTFE; set powder.allow_implausible: true if intended",
            );
        }
        if !film && p.wt_pct != 0.0 {
            // Pellets contain no PTFE. A written non-zero loading is a mistake; the untouched
            let explicit = match c.loc {
                Some(l) => l.contains("powder.ptfe.wt_pct"),
                None => p.wt_pct != RawScenario::default().powder.ptfe.wt_pct,
            };
            if explicit {
                c.inconsistent(
                    "powder.ptfe.wt_pct",
                    p.wt_pct,
                    "0 for a pellet".into(),
                    "pellets are pressed from NPS alone; remove the field or use product: Film",
                );
            }
        }
    }
    if !film {
        wt_pct = 0.0;
    }
    let ptfe_density = c.check(&ptfe::DENSITY, p.density_kg_m3);
    let fibril_yield = c.check(&ptfe::FIBRIL_YIELD, p.fibril_yield_mpa);
    let before_strength = c.errors.len();
    let fibril_strength = c.check(&ptfe::FIBRIL_STRENGTH, p.fibril_strength_mpa);
    if c.errors.len() == before_strength
        && p.fibril_yield_mpa.is_finite()
        && p.fibril_strength_mpa <= p.fibril_yield_mpa
    {
        c.inconsistent(
            "powder.ptfe.fibril_strength_mpa",
            p.fibril_strength_mpa,
            format!("> fibril_yield_mpa = {} MPa", num(p.fibril_yield_mpa)),
            "a fibril must be able to draw before it breaks",
        );
    }
    Ptfe {
        wt_pct,
        lump_diameter: c.check(&ptfe::LUMP_DIAMETER, p.lump_diameter_um),
        density: ptfe_density,
        youngs_modulus: c.check(&ptfe::MODULUS, p.youngs_modulus_gpa),
        poisson: c.check(&ptfe::POISSON, p.poisson),
        fibril_radius: c.check(&ptfe::FIBRIL_RADIUS, p.fibril_radius_nm),
        fibrillation_rate: c.check(&ptfe::RATE, p.fibrillation_rate),
        fibrillation_driver: p.fibrillation_driver,
        fibrillation_energy: c.check(&ptfe::DRAWING_ENERGY, p.fibrillation_energy_mj_m3),
        fibrils_per_bundle: c.check(&ptfe::PER_BUNDLE, p.fibrils_per_bundle),
        fibril_yield,
        fibril_strength,
        anchor_strength: c.check(&ptfe::ANCHOR, p.anchor_strength_n_m),
        bridge_strength: c.check(&ptfe::BRIDGE, p.bridge_strength_mpa),
        wrap_fraction: c.check(&ptfe::WRAP, p.wrap_fraction),
        fibril_damping_ratio: c.check(&ptfe::DAMPING, p.fibril_damping_ratio),
        reduced_sigma_e: c.check(&ptfe::REDUCED_SIGMA_E, p.reduced_sigma_e_s_cm),
    }
}
