//! Validation: [`RawScenario`] (file units, unchecked) → [`Scenario`] (SI, checked).
//!
//! Every field is checked and every problem collected (not just the first). Ranges come from the
//! field docs of [`super::raw`]; on top of them: no NaN or infinity anywhere; `d_min < d50 < d_max`
//! with a non-empty truncated size distribution; material values outside plausible ranges refused
//! unless `powder.allow_implausible: true`; fibril strength above fibril yield; a calender gap
//! schedule that is non-empty, positive, never opening, starts no higher than the initial packing
//! and never squeezes below half the fully dense thickness; a target thickness the film can reach
//! without exceeding 98 % relative density. Pellets skip the film-geometry checks of the calender.

use super::error::{ErrorKind, FieldError, ScenarioError};
use super::locate::Locator;
use super::raw::{RawGapSchedule, RawProduct, RawScenario};
use super::validated::*;

/// µm → m (applied as a division by 1e6, which is exact-rounded: 110 µm → exactly `110e-6`).
const UM: f64 = 1e-6;
/// nm → m (division by 1e9).
const NM: f64 = 1e-9;
/// GPa → Pa.
const GPA: f64 = 1e9;
/// MPa → Pa.
const MPA: f64 = 1e6;
/// kPa → Pa.
const KPA: f64 = 1e3;
/// S/cm → S/m.
const S_CM: f64 = 100.0;
/// mg/cm² → kg/m² (1e-6 kg / 1e-4 m²; division by 100).
const MG_CM2: f64 = 1e-2;
/// 0 °C in kelvin.
const ZERO_C: f64 = 273.15;
/// PTFE melting point, °C.
const PTFE_MELT_C: f64 = 327.0;
/// Densest relative density calendering can reach; the target thickness must leave at least this
/// much porosity: h_target > h_s / 0.98.
pub const MAX_RELATIVE_DENSITY: f64 = 0.98;
/// Smallest gap, as a fraction of the fully dense thickness h_s, that a pass may impose.
pub const MIN_GAP_OVER_SOLID: f64 = 0.5;
/// Smallest number fraction of the lognormal distribution that must fall inside the cut-offs.
pub const MIN_FRACTION_INSIDE: f64 = 1e-6;
/// Largest `numerics.fibril_force_interval` accepted, steps.
const MAX_FIBRIL_FORCE_INTERVAL: u32 = 64;

/// Most calender passes a geometric schedule may have.
pub const MAX_PASSES: u32 = 1000;
/// Largest PTFE loading of a film without `allow_implausible`, wt%.
pub const MAX_FILM_WT_PCT: f64 = 20.0;

/// One end of an interval.
#[derive(Clone, Copy)]
enum End {
    Open(f64),
    Closed(f64),
    Unbounded,
}

/// A valid interval with its unit label, e.g. `(0.1, 100] µm`.
#[derive(Clone, Copy)]
struct Range {
    lo: End,
    hi: End,
    unit: &'static str,
}

const fn oo(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Open(lo),
        hi: End::Open(hi),
        unit,
    }
}
const fn oc(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Open(lo),
        hi: End::Closed(hi),
        unit,
    }
}
const fn cc(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Closed(lo),
        hi: End::Closed(hi),
        unit,
    }
}
const fn co(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Closed(lo),
        hi: End::Open(hi),
        unit,
    }
}
/// (lo, ∞).
const fn above(lo: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Open(lo),
        hi: End::Unbounded,
        unit,
    }
}

impl Range {
    fn contains(&self, v: f64) -> bool {
        if !v.is_finite() {
            return false;
        }
        let lo_ok = match self.lo {
            End::Open(a) => v > a,
            End::Closed(a) => v >= a,
            End::Unbounded => true,
        };
        let hi_ok = match self.hi {
            End::Open(b) => v < b,
            End::Closed(b) => v <= b,
            End::Unbounded => true,
        };
        lo_ok && hi_ok
    }

    fn describe(&self) -> String {
        let (l, a) = match self.lo {
            End::Open(a) => ('(', num(a)),
            End::Closed(a) => ('[', num(a)),
            End::Unbounded => ('(', "-∞".to_string()),
        };
        let (r, b) = match self.hi {
            End::Open(b) => (')', num(b)),
            End::Closed(b) => (']', num(b)),
            End::Unbounded => (')', "∞".to_string()),
        };
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        format!("in {l}{a}, {b}{r}{unit}")
    }
}

/// Formats a number compactly: plain for moderate magnitudes, scientific otherwise.
fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-3..1e6).contains(&a) || !v.is_finite() {
        let s = format!("{v}");
        // Trim float noise such as 0.30000000000000004.
        if s.len() > 12 && v.is_finite() {
            format!("{}", (v * 1e9).round() / 1e9)
        } else {
            s
        }
    } else {
        format!("{v:e}")
    }
}

/// Converts `v` to SI with the factor `scale`. Factors below 1 are the inverse of a power of ten
/// and applied as a division by that power (exact-rounded: 110 µm gives exactly 110e-6 m, as the
/// literal would); others multiply.
fn to_si(v: f64, scale: f64) -> f64 {
    if scale < 1.0 {
        v / (1.0 / scale).round()
    } else {
        v * scale
    }
}

/// Whether the RON literal `t` denotes `v` (NaN matches NaN).
fn same_number(t: &str, v: f64) -> bool {
    match t.replace('_', "").parse::<f64>() {
        Ok(x) => x == v || (x.is_nan() && v.is_nan()),
        Err(_) => false,
    }
}

/// Collects field errors, attaching positions from the locator.
struct Checker<'a> {
    loc: Option<&'a Locator>,
    allow_implausible: bool,
    errors: Vec<FieldError>,
}

impl Checker<'_> {
    /// The value as written in the text when the text really holds `v` there (a sweep may
    /// validate a modified raw scenario against its base file's text), else `v` formatted.
    fn written(&self, path: &str, v: f64) -> String {
        let text = self.loc.and_then(|l| l.value_text(path));
        match text {
            Some(t) if same_number(t, v) => t.to_string(),
            _ => num(v),
        }
    }

    fn push(&mut self, kind: ErrorKind, path: &str, value: String, allowed: String, hint: &str) {
        let pos = self.loc.and_then(|l| l.find_or_parent(path));
        let (line, column) = pos.map_or((1, 1), |p| (p.line, p.column));
        self.errors.push(FieldError {
            kind,
            path: path.to_string(),
            value,
            allowed,
            hint: hint.to_string(),
            line,
            column,
        });
    }

    /// Checks `v` (file units) against `range`; returns `v·scale` (SI).
    fn num(&mut self, path: &str, v: f64, range: Range, scale: f64, hint: &str) -> f64 {
        if !range.contains(v) {
            let value = self.written(path, v);
            self.push(ErrorKind::OutOfRange, path, value, range.describe(), hint);
        }
        to_si(v, scale)
    }

    /// Like [`Self::num`] with a hard `range` and a narrower `plausible` range that is enforced
    /// unless `powder.allow_implausible` is true.
    fn material(
        &mut self,
        path: &str,
        v: f64,
        range: Range,
        plausible: Range,
        scale: f64,
        hint: &str,
    ) -> f64 {
        if !range.contains(v) {
            let value = self.written(path, v);
            self.push(ErrorKind::OutOfRange, path, value, range.describe(), hint);
        } else if !plausible.contains(v) && !self.allow_implausible {
            let value = self.written(path, v);
            let hint = format!("{hint}; set powder.allow_implausible: true if this is intended");
            self.push(
                ErrorKind::Implausible,
                path,
                value,
                plausible.describe(),
                &hint,
            );
        }
        to_si(v, scale)
    }

    fn inconsistent(&mut self, path: &str, v: f64, allowed: String, hint: &str) {
        let value = self.written(path, v);
        self.push(ErrorKind::Inconsistent, path, value, allowed, hint);
    }
}

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

    // Name.
    let bad_char = raw
        .name
        .chars()
        .any(|ch| ch == '/' || ch == '\\' || ch.is_control());
    if raw.name.trim().is_empty() || bad_char {
        let value = format!("{:?}", raw.name);
        c.push(
            ErrorKind::OutOfRange,
            "name",
            value,
            "a non-empty name without path separators or control characters".into(),
            "the name is used in output file names",
        );
    }

    // Size distribution and NPS material.
    let n = &raw.powder.nps;
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
    let nps = Nps {
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
    };

    // PTFE.
    let p = &raw.powder.ptfe;
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
            // default (or a code-built default) is silently ignored.
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
    let ptfe = Ptfe {
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
    };
    let density_ok = c.errors.iter().all(|e| {
        !matches!(
            e.path.as_str(),
            "powder.ptfe.wt_pct" | "powder.ptfe.density_kg_m3" | "powder.nps.density_kg_m3"
        ) || e.kind == ErrorKind::Implausible
    });

    // Domain.
    let d = &raw.domain;
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

    // Mixing.
    let m = &raw.mixing;
    let mixing = Mixing {
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
    };

    // Fibrillation (range checks apply to pellets too: a typo is still a typo).
    let f = &raw.fibrillation;
    let temp_range = oo(-ZERO_C, PTFE_MELT_C, "°C");
    let fibrillation = Fibrillation {
        temperature: c.num(
            "fibrillation.temperature_c",
            f.temperature_c,
            temp_range,
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
    };

    // Calender.
    let k = &raw.calender;
    let gaps = check_gaps(&mut c, &k.gaps);
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
            temp_range,
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

    // Pellet.
    let pl = &raw.pellet;
    let pellet = Pellet {
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
    };

    // Properties, numerics, output.
    let pr = &raw.properties;
    let properties = Properties {
        voxel_size: c.num(
            "properties.voxel_size_um",
            pr.voxel_size_um,
            cc(0.05, 10.0, "µm"),
            UM,
            "voxel size of the voxel solve",
        ),
        tensile: pr.tensile,
        tensile_strain_step: c.num(
            "properties.tensile_strain_step",
            pr.tensile_strain_step,
            oc(0.0, 0.05, ""),
            1.0,
            "tensile strain increment per step",
        ),
        solver_tolerance: c.num(
            "properties.solver_tolerance",
            pr.solver_tolerance,
            cc(1e-14, 1e-3, ""),
            1.0,
            "relative tolerance of the conjugate-gradient solves",
        ),
    };
    let nu = &raw.numerics;
    let numerics = Numerics {
        rayleigh_fraction: c.num(
            "numerics.rayleigh_fraction",
            nu.rayleigh_fraction,
            oc(0.0, 0.5, ""),
            1.0,
            "time step as a fraction of the Rayleigh time",
        ),
        mass_scaling: c.num(
            "numerics.mass_scaling",
            nu.mass_scaling,
            cc(1.0, 1e12, ""),
            1.0,
            "mass scaling factor",
        ),
        skin_fraction: c.num(
            "numerics.skin_fraction",
            nu.skin_fraction,
            oc(0.0, 1.0, ""),
            1.0,
            "neighbour-list skin as a fraction of the smallest diameter",
        ),
        max_inertial_number: c.num(
            "numerics.max_inertial_number",
            nu.max_inertial_number,
            oc(0.0, 1.0, ""),
            1.0,
            "largest inertial number accepted as quasi-static",
        ),
        relax_steps: nu.relax_steps,
        fibril_force_interval: nu.fibril_force_interval,
    };
    if !(1..=MAX_FIBRIL_FORCE_INTERVAL).contains(&nu.fibril_force_interval) {
        c.push(
            ErrorKind::OutOfRange,
            "numerics.fibril_force_interval",
            nu.fibril_force_interval.to_string(),
            format!("an integer in [1, {MAX_FIBRIL_FORCE_INTERVAL}]"),
            "time steps between fibril-force evaluations",
        );
    }
    let o = &raw.output;
    let px_per_um = c.num(
        "output.px_per_um",
        o.px_per_um,
        cc(0.5, 50.0, "px/µm"),
        1.0,
        "image resolution",
    );
    for (i, &s) in o.slice_fractions.iter().enumerate() {
        c.num(
            &format!("output.slice_fractions[{i}]"),
            s,
            cc(0.0, 1.0, ""),
            1.0,
            "slice position as a fraction of the box",
        );
    }
    let output = Output {
        images: o.images,
        px_per_um,
        slice_fractions: o.slice_fractions.clone(),
        exports: o.exports,
    };

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

    // Film geometry: the gap schedule and target against the thickness of the powder bed.
    let target_ok = !c
        .errors
        .iter()
        .any(|e| e.path == "calender.target_thickness_um");
    if film && density_ok && domain_ok && !gaps.is_empty() {
        let h_s = scenario.solid_thickness();
        let h_0 = scenario.initial_height();
        let (first_path, first) = &gaps[0];
        if *first > h_0 * (1.0 + 1e-12) {
            c.inconsistent(
                first_path,
                first * 1e6,
                format!("≤ the initial powder height {} µm", num(h_0 * 1e6)),
                "a gap larger than the film never touches it; lower the first gap or raise \
                 domain.mass_loading_mg_cm2",
            );
        }
        for (path, g) in &gaps {
            if *g <= MIN_GAP_OVER_SOLID * h_s {
                c.inconsistent(
                    path,
                    g * 1e6,
                    format!(
                        "> {} × the fully dense thickness = {} µm",
                        num(MIN_GAP_OVER_SOLID),
                        num(MIN_GAP_OVER_SOLID * h_s * 1e6)
                    ),
                    "the rolls would squeeze the solid far below full density",
                );
            }
        }
        if target_ok && scenario.calender.target_thickness <= h_s / MAX_RELATIVE_DENSITY {
            c.inconsistent(
                "calender.target_thickness_um",
                k.target_thickness_um,
                format!(
                    "> fully dense thickness / {} = {} µm",
                    num(MAX_RELATIVE_DENSITY),
                    num(h_s / MAX_RELATIVE_DENSITY * 1e6)
                ),
                "a film cannot be denser than 98 %; raise the target or lower the mass loading",
            );
        }
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

/// Checks a gap schedule; returns each gap (m) with the path to blame for it. Empty when invalid.
fn check_gaps(c: &mut Checker<'_>, schedule: &RawGapSchedule) -> Vec<(String, f64)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
