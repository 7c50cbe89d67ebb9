//! The domain and the process sections: mixing, fibrillation, calender, pellet.

use super::checker::*;
use super::fields::*;
use super::*;
use crate::scenario::error::ErrorKind;
use crate::scenario::raw::*;
use crate::scenario::validated::*;

/// `domain`, and whether it validated (the geometry checks need it); a grain may not span half
/// the box (it would touch its own periodic image).
pub(super) fn domain(c: &mut Checker<'_>, d: &RawDomain, n: &RawNps) -> (Domain, bool) {
    let before_domain = c.errors.len();
    let domain = Domain {
        lx: c.check(&domain::LX, d.lx_um),
        ly: c.check(&domain::LY, d.ly_um),
        mass_loading: c.check(&domain::MASS_LOADING, d.mass_loading_mg_cm2),
        initial_solid_fraction: c.check(&domain::SOLID_FRACTION, d.initial_solid_fraction),
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
        shear_rate: c.check(&mixing::SHEAR_RATE, m.shear_rate_per_s),
        shear_strain: c.check(&mixing::SHEAR_STRAIN, m.shear_strain),
        confining_pressure: c.check(&mixing::PRESSURE, m.confining_pressure_kpa),
    }
}

/// `fibrillation` (range checks apply to pellets too: a typo is still a typo).
pub(super) fn fibrillation(c: &mut Checker<'_>, f: &RawFibrillation) -> Fibrillation {
    Fibrillation {
        temperature: c.check(&fibrillation::TEMPERATURE, f.temperature_c) + ZERO_C,
        shear_rate: c.check(&fibrillation::SHEAR_RATE, f.shear_rate_per_s),
        shear_strain: c.check(&fibrillation::SHEAR_STRAIN, f.shear_strain),
        shear_direction: c
            .check(&fibrillation::DIRECTION, f.shear_direction_deg)
            .to_radians(),
        confining_pressure: c.check(&fibrillation::PRESSURE, f.confining_pressure_kpa),
        process_strain: {
            let before = c.errors.len();
            let x = c.check(&fibrillation::PROCESS_STRAIN, f.process_strain);
            if c.errors.len() == before && f.shear_strain.is_finite() && x < f.shear_strain {
                c.inconsistent(
                    "fibrillation.process_strain",
                    x,
                    format!("≥ shear_strain = {}", num(f.shear_strain)),
                    "the simulated shear is a sample of the real process's",
                );
            }
            x
        },
    }
}

/// `calender`, with each gap (m) and the path to blame for it (empty when the schedule is
/// invalid).
pub(super) fn calender(c: &mut Checker<'_>, k: &RawCalender) -> (Calender, Vec<(String, f64)>) {
    let gaps = check_gaps(c, &k.gaps);
    let calender = Calender {
        gaps: gaps.iter().map(|g| g.1).collect(),
        target_thickness: c.check(&calender::TARGET, k.target_thickness_um),
        strain_rate: c.check(&calender::STRAIN_RATE, k.strain_rate_per_s),
        roll_temperature: c.check(&calender::ROLL_TEMPERATURE, k.roll_temperature_c) + ZERO_C,
        md_elongation_exponent: c.check(&calender::MD_EXPONENT, k.md_elongation_exponent),
        turn_90_between_passes: k.turn_90_between_passes,
    };
    (calender, gaps)
}

/// `pellet`.
pub(super) fn pellet(c: &mut Checker<'_>, pl: &RawPellet) -> Pellet {
    Pellet {
        pressure: c.check(&pellet::PRESSURE, pl.pressure_mpa),
        strain_rate: c.check(&pellet::STRAIN_RATE, pl.strain_rate_per_s),
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
                c.check_at(&calender::GAP, &path, g);
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
            c.check(&calender::GAP_START, *start_um);
            c.check(&calender::GAP_FINAL, *final_um);
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
