//! The powder sections: NPS size distribution and material, PTFE loading and material.

use super::checker::*;
use super::*;
use crate::scenario::error::ErrorKind;
use crate::scenario::raw::*;
use crate::scenario::validated::*;

/// `powder.nps`: the truncated lognormal size distribution (a non-empty one) and the material.
pub(super) fn nps(c: &mut Checker<'_>, n: &RawNps) -> Nps {
    let before_nps = c.errors.len();
    let d50 = c.num(
        "powder.nps.d50_um",
        n.d50_um,
        oc(0.1, 100.0, "µm"),
        UM,
        "median NPS diameter",
    );
    let gsd = c.num(
        "powder.nps.gsd",
        n.gsd,
        cc(1.0, 4.0, ""),
        1.0,
        "geometric standard deviation of the NPS size distribution; 1 is monodisperse",
    );
    let d_min = c.num(
        "powder.nps.d_min_um",
        n.d_min_um,
        above(0.0, "µm"),
        UM,
        "smallest NPS diameter kept",
    );
    let d_max = c.num(
        "powder.nps.d_max_um",
        n.d_max_um,
        above(0.0, "µm"),
        UM,
        "largest NPS diameter kept",
    );
    if c.errors.len() == before_nps {
        if n.d_min_um >= n.d_max_um {
            c.inconsistent(
                "powder.nps.d_min_um",
                n.d_min_um,
                format!("< d_max_um = {} µm", num(n.d_max_um)),
                "empty size distribution: the cut-offs leave no diameter",
            );
        } else {
            if n.d_min_um >= n.d50_um {
                c.inconsistent(
                    "powder.nps.d_min_um",
                    n.d_min_um,
                    format!("< d50_um = {} µm", num(n.d50_um)),
                    "the lower cut-off must lie below the median diameter",
                );
            }
            if n.d_max_um <= n.d50_um {
                c.inconsistent(
                    "powder.nps.d_max_um",
                    n.d_max_um,
                    format!("> d50_um = {} µm", num(n.d50_um)),
                    "the upper cut-off must lie above the median diameter",
                );
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
    let nps_density = c.material(
        "powder.nps.density_kg_m3",
        n.density_kg_m3,
        above(0.0, "kg/m³"),
        cc(500.0, 20000.0, "kg/m³"),
        1.0,
        "true density of NPS (2210 kg/m³ for tetragonal Na3PS4)",
    );
    Nps {
        d50,
        gsd,
        d_min,
        d_max,
        density: nps_density,
        youngs_modulus: c.material(
            "powder.nps.youngs_modulus_gpa",
            n.youngs_modulus_gpa,
            above(0.0, "GPa"),
            cc(1.0, 200.0, "GPa"),
            GPA,
            "Young's modulus of NPS",
        ),
        poisson: c.num(
            "powder.nps.poisson",
            n.poisson,
            co(0.0, 0.5, ""),
            1.0,
            "Poisson's ratio of NPS",
        ),
        yield_pressure: c.material(
            "powder.nps.yield_pressure_mpa",
            n.yield_pressure_mpa,
            above(0.0, "MPa"),
            oc(0.0, 5000.0, "MPa"),
            MPA,
            "contact yield pressure (hardness) of NPS",
        ),
        restitution: c.num(
            "powder.nps.restitution",
            n.restitution,
            oc(0.0, 1.0, ""),
            1.0,
            "coefficient of restitution of NPS impacts",
        ),
        friction: c.num(
            "powder.nps.friction",
            n.friction,
            cc(0.0, 2.0, ""),
            1.0,
            "sliding friction",
        ),
        rolling_friction: c.num(
            "powder.nps.rolling_friction",
            n.rolling_friction,
            cc(0.0, 1.0, ""),
            1.0,
            "rolling-resistance coefficient",
        ),
        surface_energy: c.material(
            "powder.nps.surface_energy_j_m2",
            n.surface_energy_j_m2,
            Range {
                lo: End::Closed(0.0),
                hi: End::Unbounded,
                unit: "J/m²",
            },
            cc(0.0, 1.0, "J/m²"),
            1.0,
            "work of adhesion of NPS contacts",
        ),
        sigma_ion_bulk: c.material(
            "powder.nps.sigma_ion_bulk_s_cm",
            n.sigma_ion_bulk_s_cm,
            above(0.0, "S/cm"),
            oc(0.0, 1.0, "S/cm"),
            S_CM,
            "bulk Na+ conductivity of an NPS grain",
        ),
        sigma_e: c.material(
            "powder.nps.sigma_e_s_cm",
            n.sigma_e_s_cm,
            above(0.0, "S/cm"),
            oc(0.0, 1e-3, "S/cm"),
            S_CM,
            "electronic conductivity of NPS",
        ),
    }
}

/// `powder.ptfe`: loading (none in a pellet), material and the fibril and bridge laws' values.
pub(super) fn ptfe(c: &mut Checker<'_>, p: &RawPtfe, film: bool) -> Ptfe {
    let before_wt = c.errors.len();
    let mut wt_pct = c.num(
        "powder.ptfe.wt_pct",
        p.wt_pct,
        co(0.0, 100.0, "wt%"),
        1.0,
        "PTFE loading as percent of the total solid mass",
    );
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
    let ptfe_density = c.material(
        "powder.ptfe.density_kg_m3",
        p.density_kg_m3,
        above(0.0, "kg/m³"),
        cc(500.0, 20000.0, "kg/m³"),
        1.0,
        "true density of PTFE (about 2200 kg/m³)",
    );
    let fibril_yield = c.material(
        "powder.ptfe.fibril_yield_mpa",
        p.fibril_yield_mpa,
        above(0.0, "MPa"),
        oc(0.0, 500.0, "MPa"),
        MPA,
        "drawing yield stress of a PTFE fibril",
    );
    let before_strength = c.errors.len();
    let fibril_strength = c.material(
        "powder.ptfe.fibril_strength_mpa",
        p.fibril_strength_mpa,
        above(0.0, "MPa"),
        oc(0.0, 5000.0, "MPa"),
        MPA,
        "breaking true stress of a PTFE fibril",
    );
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
        lump_diameter: c.num(
            "powder.ptfe.lump_diameter_um",
            p.lump_diameter_um,
            cc(0.2, 20.0, "µm"),
            UM,
            "diameter of a PTFE agglomerate",
        ),
        density: ptfe_density,
        youngs_modulus: c.material(
            "powder.ptfe.youngs_modulus_gpa",
            p.youngs_modulus_gpa,
            above(0.0, "GPa"),
            cc(0.05, 5.0, "GPa"),
            GPA,
            "Young's modulus of bulk PTFE (about 0.5 GPa)",
        ),
        poisson: c.num(
            "powder.ptfe.poisson",
            p.poisson,
            co(0.0, 0.5, ""),
            1.0,
            "Poisson's ratio of PTFE",
        ),
        fibril_radius: c.num(
            "powder.ptfe.fibril_radius_nm",
            p.fibril_radius_nm,
            cc(5.0, 500.0, "nm"),
            NM,
            "radius of a freshly drawn fibril",
        ),
        fibrillation_rate: c.num(
            "powder.ptfe.fibrillation_rate",
            p.fibrillation_rate,
            cc(0.0, 1000.0, ""),
            1.0,
            "fraction of a lump's remaining PTFE drawn per unit local shear strain",
        ),
        fibrils_per_bundle: c.num(
            "powder.ptfe.fibrils_per_bundle",
            p.fibrils_per_bundle,
            cc(1.0, 10000.0, ""),
            1.0,
            "real fibrils per model fibril (bundle multiplicity)",
        ),
        fibril_yield,
        fibril_strength,
        anchor_strength: c.material(
            "powder.ptfe.anchor_strength_n_m",
            p.anchor_strength_n_m,
            above(0.0, "N/m"),
            oc(0.0, 100.0, "N/m"),
            1.0,
            "anchor detachment force per unit fibril circumference",
        ),
        bridge_strength: c.num(
            "powder.ptfe.bridge_strength_mpa",
            p.bridge_strength_mpa,
            cc(0.0, 200.0, "MPa"),
            1e6,
            "tensile strength of the PTFE bridging a covered NPS contact",
        ),
        wrap_fraction: c.num(
            "powder.ptfe.wrap_fraction",
            p.wrap_fraction,
            cc(0.0, 1.0, ""),
            1.0,
            "fraction of a grain's circumference a fibril strand wraps",
        ),
        reduced_sigma_e: c.material(
            "powder.ptfe.reduced_sigma_e_s_cm",
            p.reduced_sigma_e_s_cm,
            above(0.0, "S/cm"),
            oc(0.0, 1e3, "S/cm"),
            S_CM,
            "electronic conductivity of PTFE reduced to carbon",
        ),
    }
}
