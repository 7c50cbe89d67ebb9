//! Checking a sweep before anything runs: every problem of the sweep file, of its base scenario
//! and of every expanded point, each with the file, line and column where it can be fixed.
//!
//! - A problem of the sweep file itself (syntax, unknown key, an axis path the scenario does not
//!   have, an empty axis, a value of the wrong type, seeds given twice) points into the sweep file.
//! - A point the scenario validation refuses points at the axis value that set the refused field
//!   (`axes[0].values[3]`), or, when the refused field is not swept, at the field in the base
//!   scenario file. One problem is reported once, with the points it concerns.
//!
//! Used by `dryfilm check` (which recognises a sweep file by its top-level `base` or `axes` key,
//! [`is_sweep_text`]) and by `dryfilm sweep` before it runs or emits anything.

use std::collections::BTreeMap;

use serde::Serialize;

use super::spec::SweepPlan;
use super::SweepError;
use crate::scenario::locate::Locator;
use crate::scenario::FieldError;

/// One problem of a sweep, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    /// The file to fix: the sweep file, or its base scenario for a field the sweep does not set.
    pub file: String,
    /// 1-based line in that file (1 when unknown).
    pub line: usize,
    /// 1-based column in characters (1 when unknown).
    pub column: usize,
    /// Dotted path of the field at that position (`axes[1].values[2]`, `powder.nps.d50_um`);
    /// empty when the problem is not one field's.
    pub path: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl Problem {
    /// A problem at the field `path` of `file`, positioned by `locator` (at the closest enclosing
    /// field that is written; 1:1 without a locator or a match).
    pub fn at(file: &str, locator: Option<&Locator>, path: &str, message: String) -> Self {
        let pos = locator.and_then(|l| l.find_or_parent(path));
        Self {
            file: file.to_string(),
            line: pos.map_or(1, |p| p.line),
            column: pos.map_or(1, |p| p.column),
            path: path.to_string(),
            message,
        }
    }

    /// A scenario field error of `file`, keeping its position.
    pub fn from_field(file: &str, e: &FieldError) -> Self {
        Self {
            file: file.to_string(),
            line: e.line,
            column: e.column,
            path: e.path.clone(),
            message: e.describe(),
        }
    }
}

/// Whether RON `text` is a sweep file rather than a scenario: it has a top-level `base` or
/// `axes` key (scenario files have neither).
pub fn is_sweep_text(text: &str) -> bool {
    let loc = Locator::new(text);
    loc.contains("base") || loc.contains("axes")
}

/// A sweep axis path (`calender.gaps.2`) written as scenario error paths are (`calender.gaps[2]`).
pub fn error_path_of(axis_path: &str) -> String {
    let mut out = String::new();
    for seg in axis_path.split('.') {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Whether a field error at `error_path` concerns the field `swept` (the same field or inside it).
fn concerns(error_path: &str, swept: &str) -> bool {
    error_path == swept
        || error_path
            .strip_prefix(swept)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Point names listed in one problem before "and N more".
const LISTED_POINTS: usize = 4;

impl SweepPlan {
    /// Validates the scenario of every point with the scenario validation and returns every
    /// problem, positioned in the sweep file (swept fields) or the base scenario (the rest).
    pub fn check(&self) -> Result<(), SweepError> {
        let spec_loc = Locator::new(&self.sources.spec_text);
        let base_loc = Locator::new(&self.sources.base_text);
        let spec_file = self.spec_path.display().to_string();
        let base_file = &self.sources.base_origin;
        let axis_paths: Vec<String> = self
            .manifest
            .axis_paths
            .iter()
            .map(|p| error_path_of(p))
            .collect();
        // What the base scenario refuses by itself (an error that only some points have is
        // caused by their swept values, which the report then shows).
        let in_base: Vec<String> = match crate::scenario::validate(
            &self.sources.base_scenario()?,
            Some(&self.sources.base_text),
            base_file,
        ) {
            Ok(_) => Vec::new(),
            Err(e) => e.field_errors().iter().map(FieldError::describe).collect(),
        };
        // One problem (file, position, text) → the points that have it.
        let mut found: BTreeMap<Problem, Vec<usize>> = BTreeMap::new();
        for (p, point) in self.manifest.points.iter().enumerate() {
            let Some(run) = self.manifest.runs.iter().position(|r| r.point == p) else {
                continue;
            };
            let Err(e) = crate::scenario::validate(
                &self.scenarios[run],
                Some(&self.sources.base_text),
                base_file,
            ) else {
                continue;
            };
            for fe in e.field_errors() {
                let axis = axis_paths.iter().position(|a| concerns(&fe.path, a));
                let problem = match axis {
                    Some(i) => {
                        let k = self.point_value_index[p][i];
                        Problem::at(
                            &spec_file,
                            Some(&spec_loc),
                            &format!("axes[{i}].values[{k}]"),
                            format!(
                                "{} = {} makes the point invalid: {}",
                                self.manifest.axis_paths[i],
                                super::spec::value_text(&point.values[i]),
                                fe.describe()
                            ),
                        )
                    }
                    None if self.sources.base_text.is_empty() => {
                        Problem::at(base_file, None, &fe.path, fe.describe())
                    }
                    None => {
                        let mut pr = Problem::from_field(base_file, fe);
                        if !base_loc.contains(&fe.path) {
                            pr.message
                                .push_str(" (not written in the base: its default)");
                        }
                        pr
                    }
                };
                found.entry(problem).or_default().push(p);
            }
        }
        if found.is_empty() {
            return Ok(());
        }
        let problems = found
            .into_iter()
            .map(|(mut pr, points)| {
                let caused_by_sweep = pr.file == *base_file && !in_base.contains(&pr.message);
                pr.message = format!("{} [{}]", pr.message, self.which(&points, caused_by_sweep));
                pr
            })
            .collect();
        Err(SweepError::InvalidSpec {
            origin: spec_file,
            problems,
        })
    }
}

impl SweepPlan {
    /// The points a problem concerns, e.g. `points p0001, p0004` or `every point (6)`; with
    /// `values`, each listed point with its swept values.
    fn which(&self, points: &[usize], values: bool) -> String {
        let m = &self.manifest;
        if points.len() == m.points.len() && m.points.len() > 1 && !values {
            return format!("every point ({})", m.points.len());
        }
        let name = |&p: &usize| {
            if !values {
                return format!("p{p:04}");
            }
            let set: Vec<String> = m
                .axis_paths
                .iter()
                .zip(&m.points[p].values)
                .map(|(a, v)| format!("{a} = {}", super::spec::value_text(v)))
                .collect();
            format!("p{p:04} with {}", set.join(", "))
        };
        let listed: Vec<String> = points.iter().take(LISTED_POINTS).map(name).collect();
        let more = points.len().saturating_sub(LISTED_POINTS);
        let noun = if points.len() == 1 { "point" } else { "points" };
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let sep = if values { "; " } else { ", " };
        format!("{noun} {}{tail}", listed.join(sep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_paths_become_error_paths() {
        assert_eq!(error_path_of("calender.gaps.2"), "calender.gaps[2]");
        assert_eq!(error_path_of("powder.ptfe.wt_pct"), "powder.ptfe.wt_pct");
        assert_eq!(
            error_path_of("output.slice_fractions.0"),
            "output.slice_fractions[0]"
        );
        assert!(concerns("calender.gaps[2]", "calender.gaps"));
        assert!(concerns("calender.gaps", "calender.gaps"));
        assert!(!concerns("calender.gaps_um", "calender.gaps"));
        assert!(!concerns("calender", "calender.gaps"));
    }

    #[test]
    fn sweep_files_are_told_from_scenarios() {
        assert!(is_sweep_text("(base: \"a.ron\", axes: [])"));
        assert!(is_sweep_text(
            "// c\n(\n  axes: [(path: \"seed\", values: List([1]))],\n)"
        ));
        assert!(!is_sweep_text(
            "(name: \"x\", powder: (nps: (d50_um: 4.0)))"
        ));
        // A nested `base` key is not a sweep's.
        assert!(!is_sweep_text("(name: \"x\", output: (base: 1))"));
    }

    #[test]
    fn list_values_are_located_element_by_element() {
        let text = "(\n  base: \"b.ron\",\n  axes: [\n    (path: \"p\", values: List([1.0, 2.0])),\n    (path: \"q\", values: Linear(start: 1.0, stop: 2.0, n: 3)),\n  ],\n)";
        let loc = Locator::new(text);
        let p = Problem::at("s.ron", Some(&loc), "axes[0].values[1]", "m".into());
        assert_eq!((p.line, p.column), (4, 36));
        let p = Problem::at("s.ron", Some(&loc), "axes[1].values[2]", "m".into());
        assert_eq!(p.line, 5);
        assert_eq!(p.to_string(), format!("s.ron:5:{}: m", p.column));
    }
}
