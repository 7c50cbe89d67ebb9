//! The domain and the process sections: mixing, fibrillation, calender, pellet.

use super::checker::*;
use super::*;
use crate::scenario::error::ErrorKind;
use crate::scenario::raw::*;
use crate::scenario::validated::*;

/// Temperatures: above absolute zero, below PTFE melting.
const TEMPERATURE: Range = oo(-ZERO_C, PTFE_MELT_C, "°C");

/// `domain`, and whether it validated (the geometry checks need it); a grain may not span half
/// the box (it would touch its own periodic image).
pub(super) fn domain(c: &mut Checker<'_>, d: &RawDomain, n: &RawNps) -> (Domain, bool) {
    let before_domain = c.errors.len();
    let domain = Domain {
        lx: c.num(
            "domain.lx_um",
            d.lx_um,
            cc(5.0, 2000.0, "µm"),
            UM,
            "box length along MD (x)",
        ),
        ly: c.num(
            "domain.ly_um",
            d.ly_um,
            cc(5.0, 2000.0, "µm"),
            UM,
            "box length along TD (y)",
        ),
        mass_loading: c.num(
            "domain.mass_loading_mg_cm2",
            d.mass_loading_mg_cm2,
            oc(0.0, 500.0, "mg/cm²"),
            MG_CM2,
            "solid mass per film area; sets how much powder the box holds",
        ),
        initial_solid_fraction: c.num(
            "domain.initial_solid_fraction",
            d.initial_solid_fraction,
            cc(0.05, 0.5, ""),
            1.0,
            "solid fraction of the initial random packing",
        ),
    };
    let domain_ok = c.errors.len() == before_domain;
    if domain_ok && n.d_max_um.is_finite() && n.d_max_um >= 0.5 * d.lx_um.min(d.ly_um) {
        c.inconsistent(
            "powder.nps.d_max_um",
            n.d_max_um,
            format!(
                "< half the smaller box side = {} µm",
                num(0.5 * d.lx_um.min(d.ly_um))
            ),
            "a particle must not touch its own periodic image; enlarge domain.lx_um/ly_um",
        );
    }
    (domain, domain_ok)
}

/// `mixing`.
pub(super) fn mixing(c: &mut Checker<'_>, m: &RawMixing) -> Mixing {
    Mixing {
        shear_rate: c.num(
            "mixing.shear_rate_per_s",
            m.shear_rate_per_s,
            oc(0.0, 1e6, "1/s"),
            1.0,
            "mixing shear rate",
        ),
        shear_strain: c.num(
            "mixing.shear_strain",
            m.shear_strain,
            cc(0.0, 100.0, ""),
            1.0,
            "total mixing shear strain",
        ),
        confining_pressure: c.num(
            "mixing.confining_pressure_kpa",
            m.confining_pressure_kpa,
            oc(0.0, 1e5, "kPa"),
            KPA,
            "confining pressure on the top wall while mixing",
        ),
    }
}

/// `fibrillation` (range checks apply to pellets too: a typo is still a typo).
pub(super) fn fibrillation(c: &mut Checker<'_>, f: &RawFibrillation) -> Fibrillation {
    Fibrillation {
        temperature: c.num(
            "fibrillation.temperature_c",
            f.temperature_c,
            TEMPERATURE,
            1.0,
            "fibrillation temperature: above absolute zero (−273.15 °C), below PTFE melting (327 °C)",
        ) + ZERO_C,
        shear_rate: c.num(
            "fibrillation.shear_rate_per_s",
            f.shear_rate_per_s,
            oc(0.0, 1e6, "1/s"),
            1.0,
            "fibrillation shear rate",
        ),
        shear_strain: c.num(
            "fibrillation.shear_strain",
            f.shear_strain,
            cc(0.0, 100.0, ""),
            1.0,
            "total fibrillation shear strain",
        ),
        shear_direction: c.num(
            "fibrillation.shear_direction_deg",
            f.shear_direction_deg,
            co(0.0, 180.0, "°"),
            1.0,
            "in-plane shear direction from MD",
        )
        .to_radians(),
        confining_pressure: c.num(
            "fibrillation.confining_pressure_kpa",
            f.confining_pressure_kpa,
            oc(0.0, 1e5, "kPa"),
            KPA,
            "confining pressure while fibrillating",
        ),
    }
}

/// `calender`, with each gap (m) and the path to blame for it (empty when the schedule is
/// invalid).
pub(super) fn calender(c: &mut Checker<'_>, k: &RawCalender) -> (Calender, Vec<(String, f64)>) {
    let gaps = check_gaps(c, &k.gaps);
    let calender = Calender {
        gaps: gaps.iter().map(|g| g.1).collect(),
        target_thickness: c.num(
            "calender.target_thickness_um",
            k.target_thickness_um,
            cc(5.0, 5000.0, "µm"),
            UM,
            "free-standing film thickness after the last pass",
        ),
        strain_rate: c.num(
            "calender.strain_rate_per_s",
            k.strain_rate_per_s,
            oc(0.0, 1e6, "1/s"),
            1.0,
            "through-thickness strain rate imposed by the rolls",
        ),
        roll_temperature: c.num(
            "calender.roll_temperature_c",
            k.roll_temperature_c,
            TEMPERATURE,
            1.0,
            "roll temperature: above absolute zero (−273.15 °C), below PTFE melting (327 °C)",
        ) + ZERO_C,
        md_elongation_exponent: c.num(
            "calender.md_elongation_exponent",
            k.md_elongation_exponent,
            cc(0.0, 1.0, ""),
            1.0,
            "fraction of each pass's thinning that elongates the film along MD",
        ),
        turn_90_between_passes: k.turn_90_between_passes,
    };
    (calender, gaps)
}

/// `pellet`.
pub(super) fn pellet(c: &mut Checker<'_>, pl: &RawPellet) -> Pellet {
    Pellet {
        pressure: c.num(
            "pellet.pressure_mpa",
            pl.pressure_mpa,
            oc(0.0, 2000.0, "MPa"),
            MPA,
            "peak pellet pressing pressure",
        ),
        strain_rate: c.num(
            "pellet.strain_rate_per_s",
            pl.strain_rate_per_s,
            oc(0.0, 1e6, "1/s"),
            1.0,
            "compressive strain rate of pellet pressing",
        ),
    }
}

/// Checks a gap schedule; returns each gap (m) with the path to blame for it. Empty when invalid.
pub(super) fn check_gaps(c: &mut Checker<'_>, schedule: &RawGapSchedule) -> Vec<(String, f64)> {
    let before = c.errors.len();
    let mut out = Vec::new();
    match schedule {
        RawGapSchedule::List(list) => {
            if list.is_empty() {
                c.push(
                    ErrorKind::OutOfRange,
                    "calender.gaps",
                    "List([])".into(),
                    "at least 1 pass".into(),
                    "give one roll gap (µm) per calender pass",
                );
            }
            let mut prev: Option<f64> = None;
            for (i, &g) in list.iter().enumerate() {
                let path = format!("calender.gaps[{i}]");
                c.num(
                    &path,
                    g,
                    above(0.0, "µm"),
                    UM,
                    "roll gap of a calender pass",
                );
                if let Some(p) = prev {
                    if g.is_finite() && p.is_finite() && g > p {
                        c.inconsistent(
                            &path,
                            g,
                            format!("≤ the previous gap {} µm", num(p)),
                            "gaps must not open: each pass is at most as wide as the one before",
                        );
                    }
                }
                prev = Some(g);
                out.push((path, to_si(g, UM)));
            }
        }
        RawGapSchedule::Geometric {
            start_um,
            final_um,
            passes,
        } => {
            let (ps, pf, pn) = (
                "calender.gaps.start_um",
                "calender.gaps.final_um",
                "calender.gaps.passes",
            );
            c.num(ps, *start_um, above(0.0, "µm"), UM, "first roll gap");
            c.num(pf, *final_um, above(0.0, "µm"), UM, "last roll gap");
            if *passes == 0 || *passes > MAX_PASSES {
                c.push(
                    ErrorKind::OutOfRange,
                    pn,
                    passes.to_string(),
                    format!("an integer in [1, {MAX_PASSES}]"),
                    "number of calender passes",
                );
            }
            if c.errors.len() == before {
                if final_um > start_um {
                    c.inconsistent(
                        pf,
                        *final_um,
                        format!("≤ start_um = {} µm", num(*start_um)),
                        "gaps must not open: the schedule shrinks from start_um to final_um",
                    );
                } else if *passes == 1 && final_um != start_um {
                    c.inconsistent(
                        pf,
                        *final_um,
                        format!("= start_um = {} µm for a single pass", num(*start_um)),
                        "one pass has one gap; use passes ≥ 2 or equal start_um and final_um",
                    );
                }
            }
            if c.errors.len() == before {
                let n = *passes as usize;
                let ratio = final_um / start_um;
                for i in 0..n {
                    let path = match i {
                        0 => ps,
                        _ if i + 1 == n => pf,
                        _ => "calender.gaps",
                    };
                    let g = if i + 1 == n {
                        *final_um
                    } else {
                        start_um * ratio.powf(i as f64 / (n - 1) as f64)
                    };
                    out.push((path.to_string(), to_si(g, UM)));
                }
            }
        }
    }
    if c.errors.len() == before {
        out
    } else {
        Vec::new()
    }
}
