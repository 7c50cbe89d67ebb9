//! Calibration: fitting named model parameters to measured points with a bounded Nelder–Mead
//! search, each evaluation running the simulations.
//!
//! In scope:
//! - the RON calibration data file ([`DataFile`]): measured points (a base scenario file, a
//!   `result.json` quantity, its value and weight or uncertainty), the parameters to fit by
//!   their scenario field path with bounds and linear or log scale, optional seeds to average
//!   over, the residual form, and optional prediction scenarios run once with the fitted values;
//! - its validation before anything runs ([`Calibration::load`]): empty lists, inverted or
//!   non-positive log bounds, unknown field paths and quantities, and the full scenario
//!   validation of every base scenario at each parameter's start, lower and upper bound;
//! - the optimiser ([`nelder_mead`]), pure and tested on analytic functions;
//! - the calibration loop ([`calibrate`]) with the simulation injected as a
//!   [`PointRunner`](crate::sweep::engine::PointRunner), so tests use closed-form models;
//! - the outputs ([`write_outputs`]): `fitted.ron` (the fitted values as a scenario override list
//!   by field path, applied with [`apply_overrides`]) and `calibration.json` (every evaluation,
//!   final residuals per point, predictions).
//!
//! Not in scope: the simulation (injected) and scenario validation (delegated to
//! [`crate::scenario::validate`]). Parameter values are set at their field paths with the sweep's
//! [`crate::sweep::spec::set_path`], so a calibration parameter is any numeric scenario field.
//!
//! # Objective
//! With model value `m_k` and measured value `y_k` of point `k`, weight `w_k` and relative standard
//! uncertainty `u_k` (default 1), the objective is the weighted sum of squared residuals
//!
//! `F(θ) = Σ_k (w_k / u_k²) · r_k(θ)²`, with `r_k = (m_k − y_k) / y_k` (relative) or
//! `r_k = ln(m_k / y_k)` (log; a non-positive model value gives `F = +∞`).
//!
//! With a Gaussian error model of relative standard deviation `u_k` this is −2 ln of the
//! likelihood up to a constant, so the minimiser is the maximum-likelihood fit (e.g. Bevington &
//! Robinson, *Data Reduction and Error Analysis*, 3rd ed., ch. 8). When seeds are given, `m_k` is
//! the mean over seeds (booleans count as 0/1).
//!
//! # Search space
//! Each parameter `θ_j ∈ [lo_j, hi_j]` is mapped to the unit interval, linearly
//! `u = (θ − lo)/(hi − lo)` or logarithmically `u = (ln θ − ln lo)/(ln hi − ln lo)`, and the
//! Nelder–Mead simplex moves in the unit box `[0, 1]ⁿ`, every trial point projected onto the box.
//! The log map makes a step a fixed factor, which suits parameters spanning decades
//! (conductivities, surface energies).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

mod data;
mod optimizer;
mod report;
mod run;

pub use data::*;
pub use optimizer::*;
pub use report::*;
pub use run::*;

/// Everything that can go wrong in a calibration.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The data file could not be parsed (RON syntax, unknown or missing fields).
    #[error("{path}: {message}")]
    Parse {
        /// The data file.
        path: PathBuf,
        /// What the parser said, with line and column.
        message: String,
    },
    /// The data file parsed but its content is refused. Every problem found is listed.
    #[error("invalid calibration data {origin}:\n  - {}", .problems.join("\n  - "))]
    Invalid {
        /// The data file.
        origin: String,
        /// One line per problem.
        problems: Vec<String>,
    },
    /// A thread pool could not be built.
    #[error("thread pool: {0}")]
    Threads(String),
    /// Every evaluation failed, so there is nothing to report.
    #[error("every evaluation failed; the first error: {0}")]
    AllFailed(String),
}

pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CalibrateError + '_ {
    move |e| CalibrateError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Nelder–Mead
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Calibration loop
// ---------------------------------------------------------------------------------------------
