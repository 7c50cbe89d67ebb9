//! Scenario files: strict parsing, validation into SI units, and error reporting with file
//! positions.
//!
//! - [`raw`]: the mirror of the RON file (units in the field names, `deny_unknown_fields`).
//! - [`defaults`]: the one place where default values live.
//! - [`validate()`]: raw → [`Scenario`] (SI units, every value checked, every error collected).
//! - [`load_file`] / [`load_str`]: read + parse + validate, keeping the text and its SHA-256.
//! - [`locate`]: maps field paths to line/column in the RON text for error messages.
//!
//! Not in scope: running anything; the process stages read the validated [`Scenario`].

pub mod defaults;
mod error;
pub mod locate;
pub mod raw;
mod validate;
mod validated;

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use error::{ErrorKind, FieldError, ScenarioError};
pub use raw::RawScenario;
pub use validate::{
    validate, MAX_FILM_WT_PCT, MAX_PASSES, MAX_RELATIVE_DENSITY, MIN_FRACTION_INSIDE,
    MIN_GAP_OVER_SOLID,
};
pub use validated::{
    erfc, lognormal_fraction_inside, mixture_density, normal_prob_between,
    truncated_lognormal_moment, Calender, Domain, Fibrillation, Mixing, Nps, Numerics, Output,
    Pellet, Product, Properties, Ptfe, Scenario, LARGE_PARTICLE_COUNT, PTFE_TRANSITION_C,
};

use locate::{Locator, Pos};

/// Largest scenario file accepted, bytes (16 MiB; real scenarios are a few kB).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A scenario read from text: the validated scenario plus what it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated scenario (SI units).
    pub scenario: Scenario,
    /// The raw mirror as parsed (file units), e.g. for sweeps that vary one field.
    pub raw: RawScenario,
    /// The scenario text as read.
    pub text: String,
    /// Lower-case hex SHA-256 of the file bytes (of the text's UTF-8 bytes for [`load_str`]).
    pub hash: String,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads, parses and validates a scenario file. Errors name `path` as written.
pub fn load_file(path: &Path) -> Result<Loaded, ScenarioError> {
    let origin = path.display().to_string();
    let io = |error| ScenarioError::Io {
        origin: origin.clone(),
        error,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // Read at most one byte past the limit, so that /dev/zero or a huge file cannot exhaust memory.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let read = bytes.len() as u64;
        // Devices report length 0: never claim less than was read.
        let size = std::fs::metadata(path).map_or(read, |m| m.len().max(read));
        return Err(ScenarioError::TooLarge {
            origin,
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    let hash = sha256_hex(&bytes);
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // The valid prefix is UTF-8 by construction; count lines/columns in it.
            let prefix = String::from_utf8_lossy(good);
            let pos = end_position(&prefix);
            return Err(ScenarioError::Invalid {
                origin,
                errors: vec![FieldError {
                    kind: ErrorKind::Syntax,
                    path: String::new(),
                    value: "the file is not UTF-8 text".into(),
                    allowed: "UTF-8 RON text".into(),
                    hint: "is this a scenario file?".into(),
                    line: pos.line,
                    column: pos.column,
                }],
            });
        }
    };
    load_text(text, &origin, hash)
}

/// Parses and validates scenario text; `origin` labels errors (a file name or e.g. `"<sweep>"`).
pub fn load_str(text: &str, origin: &str) -> Result<Loaded, ScenarioError> {
    load_text(text.to_string(), origin, sha256_hex(text.as_bytes()))
}

fn load_text(text: String, origin: &str, hash: String) -> Result<Loaded, ScenarioError> {
    let raw = parse(&text, origin)?;
    let scenario = validate(&raw, Some(&text), origin)?;
    Ok(Loaded {
        scenario,
        raw,
        text,
        hash,
    })
}

/// Parses RON text into the raw mirror without validating values. Syntax, type and unknown-field
/// errors become one [`FieldError`] with the field path where the locator can derive it.
pub fn parse(text: &str, origin: &str) -> Result<RawScenario, ScenarioError> {
    ron::Options::default()
        .from_str::<RawScenario>(text)
        .map_err(|e| ScenarioError::Invalid {
            origin: origin.to_string(),
            errors: vec![ron_error(text, &e, &SCENARIO_FILE)],
        })
}

/// What a kind of RON file is called in parse-error hints.
#[derive(Debug, Clone, Copy)]
pub struct FileKind {
    /// The file's top-level shape, e.g. `a scenario file is one RON struct: ( name: "...", ... )`.
    pub shape: &'static str,
    /// Where its fields' types are documented, e.g. `docs/scenario-reference.md`.
    pub reference: &'static str,
}

/// Scenario files, for [`ron_error`].
pub const SCENARIO_FILE: FileKind = FileKind {
    shape: "a scenario file is one RON struct: `( name: \"...\", powder: (...), ... )`",
    reference: "docs/scenario-reference.md",
};

/// Position at the end of `s` (1-based, columns in characters).
fn end_position(s: &str) -> Pos {
    let line = 1 + s.matches('\n').count();
    let column = 1 + s.rsplit('\n').next().map_or(0, |l| l.chars().count());
    Pos { line, column }
}

/// Levenshtein edit distance between two short ASCII-ish names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(ca != cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// A ron parse error of `text` (a file of kind `kind`) as a [`FieldError`]: its position, the
/// field path the locator finds there, and for an unknown field the closest known name.
pub fn ron_error(text: &str, e: &ron::error::SpannedError, kind: &FileKind) -> FieldError {
    use ron::Error as E;
    let pos = Pos {
        line: e.span.start.line.max(1),
        column: e.span.start.col.max(1),
    };
    let locator = Locator::new(text);
    let path = locator.path_at(pos).unwrap_or("").to_string();
    let (kind, value, allowed, hint) = match &e.code {
        E::NoSuchStructField {
            expected, found, ..
        } => {
            let closest = expected
                .iter()
                .map(|name| (edit_distance(found, name), *name))
                .min()
                .filter(|(d, _)| *d <= 3.max(found.len() / 3));
            let hint = closest.map_or(String::new(), |(_, n)| format!("did you mean `{n}`?"));
            let allowed = format!("one of: {}", expected.join(", "));
            (ErrorKind::UnknownField, found.clone(), allowed, hint)
        }
        code @ (E::InvalidValueForType { .. }
        | E::ExpectedFloat
        | E::ExpectedInteger
        | E::ExpectedBoolean
        | E::ExpectedString
        | E::ExpectedArray
        | E::ExpectedStructLike
        | E::ExpectedNamedStructLike(_)
        | E::ExpectedDifferentStructName { .. }
        | E::NoSuchEnumVariant { .. }
        | E::IntegerOutOfBounds
        | E::ExpectedUnit
        | E::ExpectedOption
        | E::ExpectedMap) => {
            let found = locator
                .value_text(&path)
                .filter(|t| !t.is_empty() && t.len() <= 40);
            let value = match found {
                Some(t) => format!("{code}, found `{t}`"),
                None => code.to_string(),
            };
            let hint = if path.is_empty() {
                kind.shape.to_string()
            } else {
                format!("see {} for the field's type", kind.reference)
            };
            (ErrorKind::WrongType, value, String::new(), hint)
        }
        code => {
            let hint = "check the punctuation and the value's type at or just before this point";
            (
                ErrorKind::Syntax,
                code.to_string(),
                String::new(),
                hint.to_string(),
            )
        }
    };
    // An unknown field is blamed on its key; the locator records typos too.
    let (line, column) = if kind == ErrorKind::UnknownField {
        let p = locator.find(&path).unwrap_or(pos);
        (p.line, p.column)
    } else {
        (pos.line, pos.column)
    };
    FieldError {
        kind,
        path,
        value,
        allowed,
        hint,
        line,
        column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_derived_geometry() {
        let raw = RawScenario::default();
        let s = validate(&raw, None, "<default>").expect("defaults must validate");
        // 22 mg/cm² = 0.22 kg/m²; 1 wt% PTFE: 1/ρ = 0.99/2210 + 0.01/2200.
        let rho = 1.0 / (0.99 / 2210.0 + 0.01 / 2200.0);
        assert!((s.solid_thickness() - 0.22 / rho).abs() < 1e-15);
        assert!((s.initial_height() - 0.22 / rho / 0.3).abs() < 1e-15);
        assert_eq!(s.calender.gaps.len(), 4);
        assert_eq!(s.calender.gaps[0], 250e-6);
        assert_eq!(s.calender.gaps[3], 110e-6);
        let r = (110.0f64 / 250.0).powf(1.0 / 3.0);
        assert!((s.calender.gaps[1] / s.calender.gaps[0] - r).abs() < 1e-12);
        assert!((s.fibrillation.temperature - 363.15).abs() < 1e-12);
        // S/cm → S/m: the default 4.56e-4 S/cm is 0.0456 S/m.
        assert!((s.nps.sigma_ion_bulk / 0.0456 - 1.0).abs() < 1e-12);
        assert!(s.estimated_nps_count() > 1000.0);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("d50_mu", "d50_um"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("seed", "seed"), 0);
    }

    #[test]
    fn end_position_counts_chars() {
        assert_eq!(end_position("ab\nµx"), Pos { line: 2, column: 3 });
        assert_eq!(end_position(""), Pos { line: 1, column: 1 });
    }
}
