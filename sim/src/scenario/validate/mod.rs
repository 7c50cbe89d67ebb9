//! Validation: [`RawScenario`] (file units, unchecked) → [`Scenario`] (SI, checked).
//!
//! Every field is checked and every problem collected (not just the first). Ranges come from the
//! field docs of [`super::raw`]; on top of them: no NaN or infinity anywhere; `d_min < d50 < d_max`
//! with a non-empty truncated size distribution; material values outside plausible ranges refused
//! unless `powder.allow_implausible: true`; fibril strength above fibril yield; a calender gap
//! schedule that is non-empty, positive, never opening, starts no higher than the initial packing
//! and never squeezes below half the fully dense thickness; a target thickness the film can reach
//! without exceeding 98 % relative density. Pellets skip the film-geometry checks of the calender.

mod checker;
#[rustfmt::skip]
mod fields;
mod geometry;
mod powder;
mod process;
mod settings;

use checker::*;

use super::error::{ErrorKind, ScenarioError};
use super::locate::Locator;
use super::raw::{RawProduct, RawScenario};
use super::validated::*;

/// µm → m (applied as a division by 1e6, which is exact-rounded: 110 µm → exactly `110e-6`).
pub(crate) const UM: f64 = 1e-6;
/// nm → m (division by 1e9).
pub(crate) const NM: f64 = 1e-9;
/// GPa → Pa.
pub(crate) const GPA: f64 = 1e9;
/// MPa → Pa.
pub(crate) const MPA: f64 = 1e6;
/// kPa → Pa.
pub(crate) const KPA: f64 = 1e3;
/// S/cm → S/m.
pub(crate) const S_CM: f64 = 100.0;
/// mg/cm² → kg/m² (1e-6 kg / 1e-4 m²; division by 100).
pub(crate) const MG_CM2: f64 = 1e-2;
/// 0 °C in kelvin.
pub(crate) const ZERO_C: f64 = 273.15;
/// PTFE melting point, °C.
pub(crate) const PTFE_MELT_C: f64 = 327.0;
/// Densest relative density calendering can reach; the target thickness must leave at least this
/// much porosity: h_target > h_s / 0.98.
pub const MAX_RELATIVE_DENSITY: f64 = 0.98;
/// Smallest gap, as a fraction of the fully dense thickness h_s, that a pass may impose.
pub const MIN_GAP_OVER_SOLID: f64 = 0.5;
/// Smallest number fraction of the lognormal distribution that must fall inside the cut-offs.
pub const MIN_FRACTION_INSIDE: f64 = 1e-6;
/// Largest `numerics.fibril_force_interval` accepted, steps.
pub(crate) const MAX_FIBRIL_FORCE_INTERVAL: u32 = 64;

/// Most calender passes a geometric schedule may have.
pub const MAX_PASSES: u32 = 1000;
/// Largest PTFE loading of a film without `allow_implausible`, wt%.
pub const MAX_FILM_WT_PCT: f64 = 20.0;

/// Validates a raw scenario into SI units, collecting every problem.
///
/// `text` is the RON source the raw scenario came from, used to give each error its line and
/// column and to quote values as written; pass `None` for scenarios built in code (errors then
/// point at 1:1). `origin` labels the errors (usually the file name).
pub fn validate(
    raw: &RawScenario,
    text: Option<&str>,
    origin: &str,
) -> Result<Scenario, ScenarioError> {
    let locator = text.map(Locator::new);
    let mut c = Checker {
        loc: locator.as_ref(),
        allow_implausible: raw.powder.allow_implausible,
        errors: Vec::new(),
    };
    let product = match raw.product {
        RawProduct::Film => Product::Film,
        RawProduct::Pellet => Product::Pellet,
    };
    let film = product == Product::Film;
    check_name(&mut c, &raw.name);
    let nps = powder::nps(&mut c, &raw.powder.nps);
    let ptfe = powder::ptfe(&mut c, &raw.powder.ptfe, film);
    let density_ok = c.errors.iter().all(|e| {
        !matches!(
            e.path.as_str(),
            "powder.ptfe.wt_pct" | "powder.ptfe.density_kg_m3" | "powder.nps.density_kg_m3"
        ) || e.kind == ErrorKind::Implausible
    });

    let (domain, domain_ok) = process::domain(&mut c, &raw.domain, &raw.powder.nps);
    let mixing = process::mixing(&mut c, &raw.mixing);
    let fibrillation = process::fibrillation(&mut c, &raw.fibrillation);
    let (calender, gaps) = process::calender(&mut c, &raw.calender);
    let pellet = process::pellet(&mut c, &raw.pellet);
    let properties = settings::properties(&mut c, &raw.properties);
    let numerics = settings::numerics(&mut c, &raw.numerics);
    let output = settings::output(&mut c, &raw.output);
    let scenario = Scenario {
        name: raw.name.clone(),
        seed: raw.seed,
        product,
        nps,
        ptfe,
        allow_implausible: raw.powder.allow_implausible,
        domain,
        mixing,
        fibrillation,
        calender,
        pellet,
        properties,
        numerics,
        output,
    };

    if film && density_ok && domain_ok {
        geometry::film_geometry(&mut c, &scenario, &gaps, &raw.calender);
    }
    if c.errors.is_empty() {
        Ok(scenario)
    } else {
        let mut errors = c.errors;
        // File order where known (stable: code order for equal positions).
        errors.sort_by_key(|e| (e.line, e.column));
        Err(ScenarioError::Invalid {
            origin: origin.to_string(),
            errors,
        })
    }
}

/// `name`: non-empty, no path separators or control characters (it names output files).
fn check_name(c: &mut Checker<'_>, name: &str) {
    let bad_char = name
        .chars()
        .any(|ch| ch == '/' || ch == '\\' || ch.is_control());
    if name.trim().is_empty() || bad_char {
        let value = format!("{name:?}");
        c.push(
            ErrorKind::OutOfRange,
            "name",
            value,
            "a non-empty name without path separators or control characters".into(),
            "the name is used in output file names",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::RawGapSchedule;

    #[test]
    fn number_formatting_and_ranges() {
        assert_eq!(num(1e-10), "1e-10");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(-273.15), "-273.15");
        assert_eq!(num(2e6), "2e6");
        assert_eq!(oc(0.1, 100.0, "µm").describe(), "in (0.1, 100] µm");
        assert_eq!(above(0.0, "").describe(), "in (0, ∞)");
        assert!(co(0.0, 100.0, "").contains(0.0));
        assert!(!co(0.0, 100.0, "").contains(100.0));
        assert!(!above(0.0, "").contains(f64::INFINITY));
        assert!(!cc(0.0, 1.0, "").contains(f64::NAN));
        // Exact-rounded unit conversion: as if the SI literal had been written.
        assert_eq!(to_si(110.0, UM), 110e-6);
        assert_eq!(to_si(22.0, MG_CM2), 0.22);
        assert_eq!(to_si(0.5, GPA), 0.5e9);
        assert!(same_number("NaN", f64::NAN) && same_number("-inf", f64::NEG_INFINITY));
        assert!(same_number("1_000.0", 1000.0) && !same_number("5", 6.0));
    }

    #[test]
    fn values_are_quoted_as_written_only_when_the_text_holds_them() {
        let text = "(powder: (nps: (d50_um: -3.00)))";
        let raw = crate::scenario::parse(text, "t").expect("parses");
        let e = validate(&raw, Some(text), "t").expect_err("invalid");
        assert_eq!(e.field_errors()[0].value, "-3.00");
        // A sweep changed the value but passes the base text: quote the real value.
        let mut swept = raw.clone();
        swept.powder.nps.d50_um = -7.0;
        let e = validate(&swept, Some(text), "t").expect_err("invalid");
        assert_eq!(e.field_errors()[0].value, "-7");
        assert_eq!(
            (e.field_errors()[0].line, e.field_errors()[0].column),
            (1, 17)
        );
    }

    #[test]
    fn geometric_schedule_expansion() {
        let mut raw = RawScenario::default();
        raw.calender.gaps = RawGapSchedule::Geometric {
            start_um: 300.0,
            final_um: 120.0,
            passes: 5,
        };
        let s = validate(&raw, None, "t").expect("valid");
        let g = &s.calender.gaps;
        assert_eq!(g.len(), 5);
        assert_eq!((g[0], g[4]), (300e-6, 120e-6));
        let r = (120.0f64 / 300.0).powf(0.25);
        for w in g.windows(2) {
            assert!((w[1] / w[0] - r).abs() < 1e-12);
        }
        // One pass: start must equal final.
        raw.calender.gaps = RawGapSchedule::Geometric {
            start_um: 200.0,
            final_um: 120.0,
            passes: 1,
        };
        let e = validate(&raw, None, "t").expect_err("1 pass with 2 gaps");
        assert_eq!(e.field_errors()[0].path, "calender.gaps.final_um");
        raw.calender.gaps = RawGapSchedule::Geometric {
            start_um: 150.0,
            final_um: 150.0,
            passes: 1,
        };
        let s = validate(&raw, None, "t").expect("valid single pass");
        assert_eq!(s.calender.gaps, vec![150e-6]);
    }

    #[test]
    fn pellet_skips_film_geometry_and_zeroes_ptfe() {
        let mut raw = RawScenario {
            product: RawProduct::Pellet,
            ..Default::default()
        };
        // ~400 µm pellet: the default gaps are far too small (≤ 0.5·h_s) for a film of this
        // loading; pellets do not care.
        raw.domain.mass_loading_mg_cm2 = 90.0;
        let s = validate(&raw, None, "t").expect("pellet ignores calender geometry");
        assert_eq!(s.ptfe.wt_pct, 0.0);
        assert!((s.solid_thickness() - 0.9 / 2210.0).abs() < 1e-15);
        // The same loading as a film fails on the gaps.
        raw.product = RawProduct::Film;
        let e = validate(&raw, None, "t").expect_err("film gaps too small");
        assert!(e
            .field_errors()
            .iter()
            .any(|f| f.path == "calender.gaps.final_um"));
        // Range errors in film-only sections still count for pellets.
        raw.product = RawProduct::Pellet;
        raw.fibrillation.shear_rate_per_s = -1.0;
        let e = validate(&raw, None, "t").expect_err("typo still an error");
        assert_eq!(e.field_errors()[0].path, "fibrillation.shear_rate_per_s");
    }
}
