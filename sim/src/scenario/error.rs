//! Errors of scenario loading and validation.
//!
//! Reading a file can fail once ([`ScenarioError::Io`]); everything after that is reported as a
//! list of [`FieldError`]s ([`ScenarioError::Invalid`]): ron stops at its first syntax, type or
//! unknown-field error, but validation of a file that parsed collects every bad field at once.

use std::fmt;

use serde::Serialize;

/// What kind of problem a [`FieldError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not RON (unbalanced brackets, bad token, not UTF-8, ...).
    Syntax,
    /// A value of the wrong type (a string where a number is expected, a float for an integer, ...).
    WrongType,
    /// A field name that the scenario format does not have (usually a typo).
    UnknownField,
    /// A number outside its valid range, or not finite.
    OutOfRange,
    /// A material value outside the physically plausible range; accepted with
    /// `powder.allow_implausible: true`.
    Implausible,
    /// Values that are each fine but contradict each other (a gap larger than the film, ...).
    Inconsistent,
}

/// One problem in a scenario, with where it is and what would be accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Kind of problem.
    pub kind: ErrorKind,
    /// Dotted path of the field as written in the file (`powder.nps.d50_um`, `calender.gaps[2]`);
    /// empty when the position cannot be attributed to a field.
    pub path: String,
    /// The offending value as written (or as parsed), or what ron found.
    pub value: String,
    /// What would be accepted, with units, e.g. `in (0.1, 100] µm`.
    pub allowed: String,
    /// What the field means and how to fix it.
    pub hint: String,
    /// 1-based line in the file (1 when unknown).
    pub line: usize,
    /// 1-based column in characters (1 when unknown).
    pub column: usize,
}

impl FieldError {
    /// Renders the error on one line, prefixed by `origin:line:column:`.
    pub fn render(&self, origin: &str) -> String {
        format!(
            "{origin}:{}:{}: {}",
            self.line,
            self.column,
            self.describe()
        )
    }

    /// The error on one line without its position: `path = value: must be allowed (hint)`.
    pub fn describe(&self) -> String {
        let path = if self.path.is_empty() {
            "(scenario)"
        } else {
            self.path.as_str()
        };
        let hint = if self.hint.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.hint)
        };
        match self.kind {
            ErrorKind::Syntax | ErrorKind::WrongType => format!("{path}: {}{hint}", self.value),
            ErrorKind::UnknownField => {
                format!(
                    "{path}: unknown field `{}`; expected {}{hint}",
                    self.value, self.allowed
                )
            }
            ErrorKind::OutOfRange | ErrorKind::Implausible | ErrorKind::Inconsistent => {
                format!("{path} = {}: must be {}{hint}", self.value, self.allowed)
            }
        }
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read (missing, a directory, no permission...).
    #[error("{origin}: cannot read scenario file: {error}")]
    Io {
        /// The path as given.
        origin: String,
        /// The underlying I/O error (shown in the message, so not chained as a source).
        error: std::io::Error,
    },
    /// The file is larger than any scenario could be (probably not a scenario).
    #[error("{origin}: {size} bytes is too large for a scenario file (limit {limit} bytes)")]
    TooLarge {
        /// The path as given.
        origin: String,
        /// Size of the file, bytes.
        size: u64,
        /// Largest accepted size, bytes.
        limit: u64,
    },
    /// The text was read but is not a valid scenario: one or more problems, all listed.
    #[error("{}", DisplayErrors { origin, errors })]
    Invalid {
        /// File name (or other origin label) used as the prefix of every line.
        origin: String,
        /// Every problem found, in file order where positions are known.
        errors: Vec<FieldError>,
    },
}

impl ScenarioError {
    /// The field errors (empty for I/O errors).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ScenarioError::Io { .. } | ScenarioError::TooLarge { .. } => &[],
            ScenarioError::Invalid { errors, .. } => errors,
        }
    }
}

struct DisplayErrors<'a> {
    origin: &'a str,
    errors: &'a [FieldError],
}

impl fmt::Display for DisplayErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(&e.render(self.origin))?;
        }
        Ok(())
    }
}
