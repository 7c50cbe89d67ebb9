//! The validation toolkit: intervals with their units, number formatting, exact unit conversion,
//! and the [`Checker`] that collects field errors with their positions.

use crate::scenario::error::{ErrorKind, FieldError};
use crate::scenario::locate::Locator;

/// One end of an interval.
#[derive(Clone, Copy)]
pub(crate) enum End {
    Open(f64),
    Closed(f64),
    Unbounded,
}

/// A valid interval with its unit label, e.g. `(0.1, 100] µm`.
#[derive(Clone, Copy)]
pub(crate) struct Range {
    pub(crate) lo: End,
    pub(crate) hi: End,
    pub(crate) unit: &'static str,
}

pub(crate) const fn oo(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Open(lo),
        hi: End::Open(hi),
        unit,
    }
}
pub(crate) const fn oc(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Open(lo),
        hi: End::Closed(hi),
        unit,
    }
}
pub(crate) const fn cc(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Closed(lo),
        hi: End::Closed(hi),
        unit,
    }
}
pub(crate) const fn co(lo: f64, hi: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Closed(lo),
        hi: End::Open(hi),
        unit,
    }
}
/// [lo, ∞).
pub(crate) const fn at_least(lo: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Closed(lo),
        hi: End::Unbounded,
        unit,
    }
}
/// (lo, ∞).
pub(crate) const fn above(lo: f64, unit: &'static str) -> Range {
    Range {
        lo: End::Open(lo),
        hi: End::Unbounded,
        unit,
    }
}

/// One numeric scenario field (a row of the table in `fields.rs`).
#[derive(Clone, Copy)]
pub(crate) struct Field {
    /// Dotted path, e.g. `powder.nps.d50_um`.
    pub(crate) path: &'static str,
    /// Valid interval, file units.
    pub(crate) range: Range,
    /// Narrower plausible interval of a material value, enforced unless
    /// `powder.allow_implausible` is true; `None` for other fields.
    pub(crate) plausible: Option<Range>,
    /// Factor from file units to SI.
    pub(crate) scale: f64,
    /// What the field means (the error's hint).
    pub(crate) hint: &'static str,
}

impl Field {
    /// A field refused outside `range`.
    pub(crate) const fn num(
        path: &'static str,
        range: Range,
        scale: f64,
        hint: &'static str,
    ) -> Self {
        Self {
            plausible: None,
            ..Self::material(path, range, range, scale, hint)
        }
    }

    /// A material value: refused outside `range`, and outside `plausible` unless allowed.
    pub(crate) const fn material(
        path: &'static str,
        range: Range,
        plausible: Range,
        scale: f64,
        hint: &'static str,
    ) -> Self {
        Self {
            path,
            range,
            plausible: Some(plausible),
            scale,
            hint,
        }
    }
}

impl Range {
    pub(crate) fn contains(&self, v: f64) -> bool {
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

    pub(crate) fn describe(&self) -> String {
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
pub(crate) fn num(v: f64) -> String {
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
pub(crate) fn to_si(v: f64, scale: f64) -> f64 {
    if scale < 1.0 {
        v / (1.0 / scale).round()
    } else {
        v * scale
    }
}

/// Whether the RON literal `t` denotes `v` (NaN matches NaN).
pub(crate) fn same_number(t: &str, v: f64) -> bool {
    match t.replace('_', "").parse::<f64>() {
        Ok(x) => x == v || (x.is_nan() && v.is_nan()),
        Err(_) => false,
    }
}

/// Collects field errors, attaching positions from the locator.
pub(crate) struct Checker<'a> {
    pub(crate) loc: Option<&'a Locator>,
    pub(crate) allow_implausible: bool,
    pub(crate) errors: Vec<FieldError>,
}

impl Checker<'_> {
    /// The value as written in the text when the text really holds `v` there (a sweep may
    /// validate a modified raw scenario against its base file's text), else `v` formatted.
    pub(crate) fn written(&self, path: &str, v: f64) -> String {
        let text = self.loc.and_then(|l| l.value_text(path));
        match text {
            Some(t) if same_number(t, v) => t.to_string(),
            _ => num(v),
        }
    }

    pub(crate) fn push(
        &mut self,
        kind: ErrorKind,
        path: &str,
        value: String,
        allowed: String,
        hint: &str,
    ) {
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

    /// Checks `v` (file units) against the field's ranges; returns it in SI.
    pub(crate) fn check(&mut self, f: &Field, v: f64) -> f64 {
        self.check_at(f, f.path, v)
    }

    /// [`Self::check`] for an element of a list field, reported at `path` (e.g. `calender.gaps[2]`).
    /// Outside the valid range: out of range; inside it but outside a material field's plausible
    /// range: implausible, unless `powder.allow_implausible` is true.
    pub(crate) fn check_at(&mut self, f: &Field, path: &str, v: f64) -> f64 {
        if !f.range.contains(v) {
            let value = self.written(path, v);
            self.push(
                ErrorKind::OutOfRange,
                path,
                value,
                f.range.describe(),
                f.hint,
            );
        } else if let Some(p) = f
            .plausible
            .filter(|p| !p.contains(v) && !self.allow_implausible)
        {
            let value = self.written(path, v);
            let hint = format!(
                "{}; set powder.allow_implausible: true if this is intended",
                f.hint
            );
            self.push(ErrorKind::Implausible, path, value, p.describe(), &hint);
        }
        to_si(v, f.scale)
    }

    pub(crate) fn inconsistent(&mut self, path: &str, v: f64, allowed: String, hint: &str) {
        let value = self.written(path, v);
        self.push(ErrorKind::Inconsistent, path, value, allowed, hint);
    }
}
