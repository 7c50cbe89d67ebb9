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
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::scenario::raw::RawScenario;
use crate::sweep::engine::PointRunner;
use crate::sweep::merge::as_number;
use crate::sweep::spec::{lookup, set_path};

/// The numeric and boolean fields of the pipeline's `result.json` that a calibration point may
/// name as its quantity (see `pipeline::run_to_dir`). Booleans count as 0 or 1.
pub const RESULT_QUANTITIES: &[&str] = &[
    "ptfe_wt_pct",
    "thickness_um",
    "relative_density",
    "sigma_ion_S_cm",
    "sigma_ion_md_S_cm",
    "sigma_ion_td_S_cm",
    "ion_percolates",
    "tortuosity_factor",
    "tensile_strength_md_kPa",
    "tensile_strength_td_kPa",
    "ptfe_spanning",
    "ptfe_clusters",
    "sigma_e_S_cm",
    "short_circuit",
    "fibril_count",
    "fibril_mean_length_um",
    "fibril_orientation_md",
    "nps_particles",
    "ptfe_particles",
];

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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CalibrateError + '_ {
    move |e| CalibrateError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// How a parameter is mapped to the optimiser's unit interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Scale {
    /// `u = (θ − lo)/(hi − lo)`.
    #[default]
    Linear,
    /// `u = (ln θ − ln lo)/(ln hi − ln lo)`; needs `0 < lo`.
    Log,
}

/// The residual form of every point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Residual {
    /// `r = (m − y)/y`. Needs `y ≠ 0`.
    #[default]
    Relative,
    /// `r = ln(m / y)`. Needs `y > 0`; symmetric in factors, suited to conductivities.
    Log,
}

/// One measured point of the data file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSpec {
    /// A short unique name used in tables and `calibration.json`.
    pub name: String,
    /// The base scenario file, relative to the data file.
    pub scenario: String,
    /// The `result.json` field compared, one of [`RESULT_QUANTITIES`].
    pub quantity: String,
    /// The measured value, in the unit of the quantity's field (e.g. S/cm, kPa).
    pub value: f64,
    /// Relative standard uncertainty `u` of the measurement (dimensionless, > 0); the point's
    /// weight is divided by `u²`. Default 1.
    #[serde(default)]
    pub uncertainty: Option<f64>,
    /// Extra weight (≥ 0, dimensionless). Default 1.
    #[serde(default)]
    pub weight: Option<f64>,
}

/// One parameter to fit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// The dotted scenario field path, e.g. `"powder.nps.sigma_ion_bulk_s_cm"`, in the units of
    /// that field.
    pub path: String,
    /// Lower bound, in the field's unit.
    pub lower: f64,
    /// Upper bound, in the field's unit (> `lower`).
    pub upper: f64,
    /// Linear or log mapping. Default linear.
    #[serde(default)]
    pub scale: Scale,
    /// Start value (inside the bounds). Default: the value in the first point's base scenario,
    /// clamped into the bounds.
    #[serde(default)]
    pub start: Option<f64>,
}

/// A measured value to compare a prediction with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// The `result.json` field.
    pub quantity: String,
    /// The measured value (unit of the field).
    pub value: f64,
}

/// A scenario run once with the fitted values, not fitted to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictSpec {
    /// A short unique name.
    pub name: String,
    /// The scenario file, relative to the data file.
    pub scenario: String,
    /// Measured values to compare with, if any.
    #[serde(default)]
    pub measured: Vec<Compare>,
}

/// Optimiser settings of the data file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerSpec {
    /// Maximum number of objective evaluations (each runs every point's simulations). Default 40.
    pub max_evals: usize,
    /// Initial simplex edge in the unit box (0 < step ≤ 0.5). Default 0.15.
    pub initial_step: f64,
    /// Stop when every vertex is within this distance of the best in the unit box (∞-norm).
    /// Default 1e-3.
    pub xtol: f64,
    /// … and every vertex's objective within this of the best. Default 1e-6.
    pub ftol: f64,
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        Self {
            max_evals: 40,
            initial_step: 0.15,
            xtol: 1e-3,
            ftol: 1e-6,
        }
    }
}

/// The calibration data file (RON). See `docs/calibration.md` for an example.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    /// Optional name of the calibration.
    #[serde(default)]
    pub name: Option<String>,
    /// The measured points fitted to (at least one).
    pub points: Vec<PointSpec>,
    /// The parameters fitted (at least one).
    pub params: Vec<ParamSpec>,
    /// Seeds every point is run and averaged over; empty: each scenario's own seed.
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// Residual form. Default relative.
    #[serde(default)]
    pub residual: Residual,
    /// Scenarios run once with the fitted values (predictions).
    #[serde(default)]
    pub predict: Vec<PredictSpec>,
    /// Optimiser settings.
    #[serde(default)]
    pub optimizer: OptimizerSpec,
}

impl DataFile {
    /// Parses data-file text. Optional fields are written bare (`uncertainty: 0.05`, RON's
    /// implicit `Some`); errors carry line and column.
    pub fn parse(text: &str) -> Result<Self, String> {
        ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
            .map_err(|e| e.to_string())
    }
}

/// A validated calibration: the data file and its base scenarios.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The data file as parsed.
    pub data: DataFile,
    /// The data file's path (labels errors and outputs).
    pub origin: String,
    /// The distinct base scenarios of the points, in order of first use: (path as written,
    /// scenario as JSON value).
    pub bases: Vec<(String, Value)>,
    /// For each point, the index into `bases`.
    pub point_base: Vec<usize>,
    /// The prediction scenarios as JSON values, in the order of `data.predict`.
    pub predict_bases: Vec<Value>,
    /// Start values of the parameters (field units).
    pub start: Vec<f64>,
}

/// Checks a scenario built in code: the sweep's and CLI's single source of truth.
pub type Validator<'a> = &'a (dyn Fn(&RawScenario) -> Result<(), String> + Sync);

impl Calibration {
    /// Reads, parses and validates a data file and its base scenarios. `validate` is called on
    /// each base scenario with each parameter at its start and at both bounds (pass the full
    /// scenario validation); every problem is collected.
    pub fn load(path: &Path, validate: Validator) -> Result<Self, CalibrateError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let data = DataFile::parse(&text).map_err(|message| CalibrateError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::from_data(data, dir, &path.display().to_string(), validate)
    }

    /// Validates a parsed data file whose relative scenario paths start at `dir`.
    pub fn from_data(
        data: DataFile,
        dir: &Path,
        origin: &str,
        validate: Validator,
    ) -> Result<Self, CalibrateError> {
        let mut problems = Vec::new();
        if data.points.is_empty() {
            problems.push("`points` is empty: give at least one measured point".into());
        }
        if data.params.is_empty() {
            problems.push("`params` is empty: give at least one parameter to fit".into());
        }
        let o = data.optimizer;
        if o.max_evals < data.params.len() + 1 {
            problems.push(format!(
                "optimizer.max_evals = {} is below the {} evaluations of the first simplex",
                o.max_evals,
                data.params.len() + 1
            ));
        }
        if !(o.initial_step > 0.0 && o.initial_step <= 0.5) {
            problems.push(format!(
                "optimizer.initial_step = {} must be in (0, 0.5] (unit box)",
                o.initial_step
            ));
        }
        if !(o.xtol >= 0.0 && o.ftol >= 0.0) {
            problems.push("optimizer.xtol and ftol must be ≥ 0".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, p) in data.points.iter().enumerate() {
            let at = format!("points[{i}] ({:?})", p.name);
            if !names.insert(p.name.clone()) {
                problems.push(format!("{at}: duplicate point name"));
            }
            check_quantity(&at, &p.quantity, &mut problems);
            if !p.value.is_finite() || p.value == 0.0 {
                problems.push(format!(
                    "{at}: value {} must be finite and non-zero",
                    p.value
                ));
            }
            if data.residual == Residual::Log && p.value <= 0.0 {
                problems.push(format!(
                    "{at}: value {} must be > 0 with residual: Log",
                    p.value
                ));
            }
            if let Some(u) = p.uncertainty {
                if !(u.is_finite() && u > 0.0) {
                    problems.push(format!("{at}: uncertainty {u} must be finite and > 0"));
                }
            }
            if let Some(w) = p.weight {
                if !(w.is_finite() && w >= 0.0) {
                    problems.push(format!("{at}: weight {w} must be finite and ≥ 0"));
                }
            }
        }
        let mut paths = std::collections::BTreeSet::new();
        for (j, q) in data.params.iter().enumerate() {
            let at = format!("params[{j}] ({:?})", q.path);
            if !paths.insert(q.path.clone()) {
                problems.push(format!("{at}: duplicate parameter path"));
            }
            if !(q.lower.is_finite() && q.upper.is_finite()) {
                problems.push(format!("{at}: bounds must be finite"));
            } else if q.lower >= q.upper {
                problems.push(format!(
                    "{at}: bounds inverted or empty: lower {} ≥ upper {}",
                    q.lower, q.upper
                ));
            }
            if q.scale == Scale::Log && q.lower <= 0.0 {
                problems.push(format!("{at}: scale: Log needs lower > 0, got {}", q.lower));
            }
            if let Some(s) = q.start {
                if !(s >= q.lower && s <= q.upper) {
                    problems.push(format!(
                        "{at}: start {s} outside the bounds [{}, {}]",
                        q.lower, q.upper
                    ));
                }
            }
        }
        // Base scenarios (each file read once).
        let mut bases: Vec<(String, Value)> = Vec::new();
        let mut point_base = Vec::new();
        let read = |file: &str, problems: &mut Vec<String>| -> Option<Value> {
            let p = dir.join(file);
            match crate::scenario::load_file(&p) {
                Ok(l) => match serde_json::to_value(&l.raw) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        problems.push(format!("{}: {e}", p.display()));
                        None
                    }
                },
                Err(e) => {
                    problems.push(format!("scenario {}: {e}", p.display()));
                    None
                }
            }
        };
        for p in &data.points {
            if let Some(k) = bases.iter().position(|(f, _)| *f == p.scenario) {
                point_base.push(k);
            } else {
                let v = read(&p.scenario, &mut problems).unwrap_or(Value::Null);
                bases.push((p.scenario.clone(), v));
                point_base.push(bases.len() - 1);
            }
        }
        let mut predict_bases = Vec::new();
        let mut pnames = std::collections::BTreeSet::new();
        for (i, p) in data.predict.iter().enumerate() {
            if !pnames.insert(p.name.clone()) {
                problems.push(format!("predict[{i}] ({:?}): duplicate name", p.name));
            }
            for c in &p.measured {
                check_quantity(
                    &format!("predict[{i}] ({:?})", p.name),
                    &c.quantity,
                    &mut problems,
                );
            }
            predict_bases.push(read(&p.scenario, &mut problems).unwrap_or(Value::Null));
        }
        // Start values and path checks on every base.
        let mut start = Vec::new();
        for q in &data.params {
            let mut s = q.start;
            for (file, v) in &bases {
                if v.is_null() {
                    continue;
                }
                match lookup(v, &q.path) {
                    Ok(Value::Number(n)) => {
                        if s.is_none() {
                            // max/min, not clamp: clamp panics on inverted bounds.
                            s = n.as_f64().map(|x| x.max(q.lower).min(q.upper));
                        }
                    }
                    Ok(other) => problems.push(format!(
                        "params {:?}: the field holds {other} in {file}, not a number",
                        q.path
                    )),
                    Err(e) => problems.push(format!("params: {e}")),
                }
            }
            let fallback = match q.scale {
                Scale::Log if q.lower > 0.0 => (q.lower * q.upper).sqrt(),
                _ => 0.5 * (q.lower + q.upper),
            };
            start.push(s.unwrap_or(fallback));
        }
        if problems.is_empty() {
            // Full scenario validation at the start and at each bound.
            let all: Vec<&Value> = bases
                .iter()
                .map(|(_, v)| v)
                .chain(predict_bases.iter())
                .collect();
            let labels: Vec<&str> = bases
                .iter()
                .map(|(f, _)| f.as_str())
                .chain(data.predict.iter().map(|p| p.scenario.as_str()))
                .collect();
            let mut trials = vec![start.clone()];
            for (j, q) in data.params.iter().enumerate() {
                for b in [q.lower, q.upper] {
                    let mut t = start.clone();
                    t[j] = b;
                    trials.push(t);
                }
            }
            for (v, label) in all.iter().zip(&labels) {
                for t in &trials {
                    let raw = apply_values(v, &data.params, t).and_then(|raw| validate(&raw));
                    if let Err(e) = raw {
                        let at: Vec<String> = data
                            .params
                            .iter()
                            .zip(t)
                            .map(|(q, x)| format!("{} = {x}", q.path))
                            .collect();
                        problems.push(format!("{label} with {}: {e}", at.join(", ")));
                        break;
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(CalibrateError::Invalid {
                origin: origin.to_string(),
                problems,
            });
        }
        Ok(Self {
            data,
            origin: origin.to_string(),
            bases,
            point_base,
            predict_bases,
            start,
        })
    }
}

fn check_quantity(at: &str, q: &str, problems: &mut Vec<String>) {
    if !RESULT_QUANTITIES.contains(&q) {
        problems.push(format!(
            "{at}: unknown quantity {q:?}; result.json fields: {}",
            RESULT_QUANTITIES.join(", ")
        ));
    }
}

/// Sets each parameter path of `params` to the value in `values` on a scenario given as a JSON
/// value (the sweep's [`set_path`]) and deserializes the result.
pub fn apply_values(
    base: &Value,
    params: &[ParamSpec],
    values: &[f64],
) -> Result<RawScenario, String> {
    let mut v = base.clone();
    for (q, x) in params.iter().zip(values) {
        set_path(&mut v, &q.path, &json!(x))?;
    }
    serde_json::from_value(v).map_err(|e| format!("scenario after overrides: {e}"))
}

/// One `path = value` override of `fitted.ron`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Dotted scenario field path.
    pub path: String,
    /// The value, in the field's unit.
    pub value: f64,
}

/// The content of `fitted.ron`: a partial scenario as an override list by field path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fitted {
    /// The data file the values were fitted to.
    pub source: String,
    /// The final objective value `F` (dimensionless).
    pub objective: f64,
    /// The fitted values.
    pub overrides: Vec<Override>,
}

/// Applies an override list (e.g. `fitted.ron`) to a raw scenario.
pub fn apply_overrides(raw: &RawScenario, overrides: &[Override]) -> Result<RawScenario, String> {
    let mut v = serde_json::to_value(raw).map_err(|e| e.to_string())?;
    for o in overrides {
        set_path(&mut v, &o.path, &json!(o.value))?;
    }
    serde_json::from_value(v).map_err(|e| format!("scenario after overrides: {e}"))
}

/// Maps a parameter value to the unit interval.
pub fn to_unit(q: &ParamSpec, x: f64) -> f64 {
    match q.scale {
        Scale::Linear => (x - q.lower) / (q.upper - q.lower),
        Scale::Log => (x.ln() - q.lower.ln()) / (q.upper.ln() - q.lower.ln()),
    }
}

/// Maps a unit-interval coordinate back to the parameter value (the inverse of [`to_unit`]);
/// the ends map exactly to the bounds.
pub fn from_unit(q: &ParamSpec, u: f64) -> f64 {
    let u = u.clamp(0.0, 1.0);
    if u == 0.0 {
        return q.lower;
    }
    if u == 1.0 {
        return q.upper;
    }
    match q.scale {
        Scale::Linear => q.lower + u * (q.upper - q.lower),
        Scale::Log => (q.lower.ln() + u * (q.upper.ln() - q.lower.ln())).exp(),
    }
}

// ---------------------------------------------------------------------------------------------
// Nelder–Mead
// ---------------------------------------------------------------------------------------------

/// Nelder–Mead settings.
#[derive(Debug, Clone, Copy)]
pub struct NelderMeadOptions {
    /// Maximum number of objective evaluations.
    pub max_evals: usize,
    /// Initial simplex edge: vertex `j` is `x0 + step·e_j` (or `− step·e_j` when that leaves the
    /// box).
    pub initial_step: f64,
    /// Convergence: `max_i ‖x_i − x_best‖_∞ ≤ xtol` …
    pub xtol: f64,
    /// … and `max_i |f_i − f_best| ≤ ftol`.
    pub ftol: f64,
}

/// Outcome of [`nelder_mead`].
#[derive(Debug, Clone)]
pub struct NelderMeadResult {
    /// Best point found.
    pub x: Vec<f64>,
    /// Objective at `x`.
    pub f: f64,
    /// Objective evaluations used.
    pub evals: usize,
    /// Whether the tolerances were met (false: stopped at `max_evals`).
    pub converged: bool,
}

/// Minimises `f` over the box `[lower, upper]` with the Nelder–Mead simplex method (Nelder &
/// Mead 1965, *Comput. J.* 7:308) in the formulation of Lagarias et al. (1998, *SIAM J. Optim.*
/// 9:112): reflection ρ = 1, expansion χ = 2, contraction γ = ½ (outside and inside), shrink
/// σ = ½, ties broken by vertex order so the run is deterministic. Every trial point is projected
/// onto the box (clamped per coordinate). A non-finite objective counts as +∞, so a failed
/// evaluation is simply never accepted. Evaluations happen strictly one after another, in a
/// fixed order.
///
/// Projection can collapse the simplex onto a face of the box (or it can stagnate in a valley),
/// so after a converged run the search restarts from the best vertex with a fresh simplex, up to
/// [`NM_RESTARTS`] times, and stops when a restart improves the objective by no more than `ftol`
/// (restarts as the remedy for stagnation: Kelley 1999, *SIAM J. Optim.* 10:43). All runs share
/// the `max_evals` budget.
pub fn nelder_mead<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    opts: &NelderMeadOptions,
) -> NelderMeadResult {
    let mut best = nm_run(&mut f, x0, lower, upper, opts);
    let mut used = best.evals;
    for _ in 0..NM_RESTARTS {
        if !best.converged || used >= opts.max_evals {
            break;
        }
        let budget = NelderMeadOptions {
            max_evals: opts.max_evals - used,
            ..*opts
        };
        let r = nm_run(&mut f, &best.x.clone(), lower, upper, &budget);
        used += r.evals;
        let improved = r.f < best.f - opts.ftol;
        if r.f < best.f {
            best.x = r.x;
            best.f = r.f;
        }
        best.converged = r.converged;
        if !improved {
            break;
        }
    }
    best.evals = used;
    best
}

/// Maximum number of restarts of [`nelder_mead`] after a converged run.
pub const NM_RESTARTS: usize = 3;

/// One Nelder–Mead run from `x0` (see [`nelder_mead`]).
fn nm_run<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    opts: &NelderMeadOptions,
) -> NelderMeadResult {
    let n = x0.len();
    let clamp = |x: &mut Vec<f64>| {
        for (k, v) in x.iter_mut().enumerate() {
            *v = v.max(lower[k]).min(upper[k]);
        }
    };
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let mut start = x0.to_vec();
    clamp(&mut start);
    let mut simplex: Vec<Vec<f64>> = vec![start.clone()];
    for j in 0..n {
        let mut v = start.clone();
        let h = opts.initial_step * (upper[j] - lower[j]).max(0.0);
        v[j] = if v[j] + h <= upper[j] {
            v[j] + h
        } else {
            v[j] - h
        };
        clamp(&mut v);
        simplex.push(v);
    }
    let mut fv: Vec<f64> = Vec::with_capacity(n + 1);
    for v in &simplex {
        if evals >= opts.max_evals {
            break;
        }
        fv.push(eval(v, &mut evals));
    }
    if fv.len() < simplex.len() {
        // Budget smaller than the first simplex: report the best evaluated vertex.
        let (i, &fb) =
            fv.iter()
                .enumerate()
                .fold((0, &f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
        return NelderMeadResult {
            x: simplex[i].clone(),
            f: fb,
            evals,
            converged: false,
        };
    }
    let (rho, chi, gamma, sigma) = (1.0, 2.0, 0.5, 0.5);
    let mut converged = false;
    loop {
        // Order: stable sort keeps earlier vertices first among ties.
        let mut idx: Vec<usize> = (0..=n).collect();
        idx.sort_by(|&a, &b| fv[a].total_cmp(&fv[b]));
        simplex = idx.iter().map(|&i| simplex[i].clone()).collect();
        fv = idx.iter().map(|&i| fv[i]).collect();
        let xspread = simplex[1..]
            .iter()
            .flat_map(|v| v.iter().zip(&simplex[0]).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        let fspread = fv[1..]
            .iter()
            .map(|v| (v - fv[0]).abs())
            .fold(0.0, f64::max);
        if xspread <= opts.xtol && fspread <= opts.ftol {
            converged = true;
            break;
        }
        if evals >= opts.max_evals {
            break;
        }
        let mut c = vec![0.0; n];
        for v in &simplex[..n] {
            for (ck, vk) in c.iter_mut().zip(v) {
                *ck += vk / n as f64;
            }
        }
        let along = |t: f64| -> Vec<f64> {
            let mut p: Vec<f64> = c
                .iter()
                .zip(&simplex[n])
                .map(|(ck, wk)| ck + t * (ck - wk))
                .collect();
            clamp(&mut p);
            p
        };
        let xr = along(rho);
        let fr = eval(&xr, &mut evals);
        if fr < fv[0] {
            if evals >= opts.max_evals {
                simplex[n] = xr;
                fv[n] = fr;
                continue;
            }
            let xe = along(rho * chi);
            let fe = eval(&xe, &mut evals);
            if fe < fr {
                simplex[n] = xe;
                fv[n] = fe;
            } else {
                simplex[n] = xr;
                fv[n] = fr;
            }
        } else if fr < fv[n - 1] {
            simplex[n] = xr;
            fv[n] = fr;
        } else {
            if evals >= opts.max_evals {
                if fr < fv[n] {
                    simplex[n] = xr;
                    fv[n] = fr;
                }
                continue;
            }
            let outside = fr < fv[n];
            let xc = if outside {
                along(rho * gamma)
            } else {
                along(-gamma)
            };
            let fc = eval(&xc, &mut evals);
            if (outside && fc <= fr) || (!outside && fc < fv[n]) {
                simplex[n] = xc;
                fv[n] = fc;
            } else {
                // Shrink towards the best vertex.
                for i in 1..=n {
                    if evals >= opts.max_evals {
                        break;
                    }
                    let mut v: Vec<f64> = simplex[0]
                        .iter()
                        .zip(&simplex[i])
                        .map(|(b, x)| b + sigma * (x - b))
                        .collect();
                    clamp(&mut v);
                    fv[i] = eval(&v, &mut evals);
                    simplex[i] = v;
                }
            }
        }
    }
    NelderMeadResult {
        x: simplex[0].clone(),
        f: fv[0],
        evals,
        converged,
    }
}

// ---------------------------------------------------------------------------------------------
// Calibration loop
// ---------------------------------------------------------------------------------------------

/// Options of [`calibrate`].
pub struct CalibrateOptions<'a> {
    /// Output folder; runs go to `out_dir/evals/eNNNN/<run>` and `out_dir/predict/<name>`.
    pub out_dir: PathBuf,
    /// Thread budget (0: all cores). The runs of one evaluation run in parallel within it.
    pub threads: usize,
    /// Overrides the data file's `optimizer.max_evals`.
    pub max_evals: Option<usize>,
    /// Called after every evaluation (for progress lines).
    pub progress: &'a (dyn Fn(&EvalRecord) + Sync),
}

/// One point's outcome in one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct PointOutcome {
    /// Point name.
    pub name: String,
    /// Quantity compared.
    pub quantity: String,
    /// Measured value.
    pub measured: f64,
    /// Model value (mean over seeds); `None` when a run failed or lacked the quantity.
    pub model: Option<f64>,
    /// Residual `r` (see the module docs); `None` with `model`.
    pub residual: Option<f64>,
    /// Weight `w/u²`.
    pub weight: f64,
}

/// One objective evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EvalRecord {
    /// 0-based evaluation index.
    pub index: usize,
    /// Parameter values by path (field units).
    pub params: BTreeMap<String, f64>,
    /// Objective `F` (`None` for +∞: a run failed or gave a non-positive value with log
    /// residuals).
    pub objective: Option<f64>,
    /// Per-point outcomes.
    pub points: Vec<PointOutcome>,
    /// Run errors, if any.
    pub errors: Vec<String>,
    /// Wall time of the evaluation, s.
    pub wall_s: f64,
}

/// A prediction run with the fitted values.
#[derive(Debug, Clone, Serialize)]
pub struct PredictionRecord {
    /// Prediction name.
    pub name: String,
    /// Scenario file.
    pub scenario: String,
    /// The run's `result.json` (per seed, in seed order), or the error.
    pub results: Vec<Result<Value, String>>,
    /// Comparisons with measured values: (quantity, measured, model mean over seeds).
    pub compare: Vec<(String, f64, Option<f64>)>,
}

/// The outcome of [`calibrate`].
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationReport {
    /// Data file.
    pub source: String,
    /// Every evaluation in order.
    pub history: Vec<EvalRecord>,
    /// Index into `history` of the best evaluation.
    pub best: usize,
    /// Whether the optimiser met its tolerances.
    pub converged: bool,
    /// The fitted values.
    pub fitted: Fitted,
    /// Predictions with the fitted values.
    pub predictions: Vec<PredictionRecord>,
}

/// Runs the calibration: Nelder–Mead in the unit box, each evaluation running every distinct
/// (base scenario, seed) once through `runner` in parallel, then the predictions once with the
/// best values. Deterministic when `runner` is: evaluations are sequential, the runs of one
/// evaluation are collected in a fixed order.
pub fn calibrate<R: PointRunner>(
    cal: &Calibration,
    runner: &R,
    opts: &CalibrateOptions,
) -> Result<CalibrationReport, CalibrateError> {
    let data = &cal.data;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| CalibrateError::Threads(e.to_string()))?;
    let seeds: Vec<Option<u64>> = if data.seeds.is_empty() {
        vec![None]
    } else {
        data.seeds.iter().copied().map(Some).collect()
    };
    let n = data.params.len();
    let mut history: Vec<EvalRecord> = Vec::new();
    let mut objective = |u: &[f64]| -> f64 {
        let t0 = std::time::Instant::now();
        let index = history.len();
        let values: Vec<f64> = data
            .params
            .iter()
            .zip(u)
            .map(|(q, &ui)| from_unit(q, ui))
            .collect();
        let dir = opts.out_dir.join("evals").join(format!("e{index:04}"));
        let jobs: Vec<(usize, Option<u64>)> = (0..cal.bases.len())
            .flat_map(|b| seeds.iter().map(move |&s| (b, s)))
            .collect();
        let results: Vec<Result<Value, String>> = crate::par::without_hot_workers(|| {
            pool.install(|| {
                jobs.par_iter()
                    .map(|&(b, s)| {
                        run_one(
                            runner,
                            &cal.bases[b].1,
                            &data.params,
                            &values,
                            s,
                            &dir.join(run_name(&cal.bases[b].0, s)),
                        )
                    })
                    .collect()
            })
        });
        let mut errors = Vec::new();
        for r in &results {
            if let Err(e) = r {
                errors.push(e.clone());
            }
        }
        let mut total = 0.0;
        let mut points = Vec::new();
        for (k, p) in data.points.iter().enumerate() {
            let b = cal.point_base[k];
            let mine: Vec<&Result<Value, String>> = jobs
                .iter()
                .zip(&results)
                .filter(|((jb, _), _)| *jb == b)
                .map(|(_, r)| r)
                .collect();
            let model = mean_quantity(&mine, &p.quantity, &mut errors, &p.name);
            let residual = model.and_then(|m| residual(data.residual, m, p.value));
            let weight = p.weight.unwrap_or(1.0) / p.uncertainty.unwrap_or(1.0).powi(2);
            total += match residual {
                Some(r) => weight * r * r,
                None => f64::INFINITY,
            };
            points.push(PointOutcome {
                name: p.name.clone(),
                quantity: p.quantity.clone(),
                measured: p.value,
                model,
                residual,
                weight,
            });
        }
        let rec = EvalRecord {
            index,
            params: data
                .params
                .iter()
                .zip(&values)
                .map(|(q, &x)| (q.path.clone(), x))
                .collect(),
            objective: total.is_finite().then_some(total),
            points,
            errors,
            wall_s: t0.elapsed().as_secs_f64(),
        };
        (opts.progress)(&rec);
        history.push(rec);
        total
    };
    let u0: Vec<f64> = data
        .params
        .iter()
        .zip(&cal.start)
        .map(|(q, &x)| to_unit(q, x))
        .collect();
    let o = data.optimizer;
    let nm = nelder_mead(
        &mut objective,
        &u0,
        &vec![0.0; n],
        &vec![1.0; n],
        &NelderMeadOptions {
            max_evals: opts.max_evals.unwrap_or(o.max_evals),
            initial_step: o.initial_step,
            xtol: o.xtol,
            ftol: o.ftol,
        },
    );
    // Best in history (the optimiser's best, earliest among ties).
    let best = history
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.objective.map(|f| (i, f)))
        .fold(None, |a: Option<(usize, f64)>, b| match a {
            Some(a) if a.1 <= b.1 => Some(a),
            _ => Some(b),
        });
    let Some((best, fbest)) = best else {
        let first = history
            .iter()
            .find_map(|r| r.errors.first().cloned())
            .unwrap_or_else(|| "no evaluation ran".into());
        return Err(CalibrateError::AllFailed(first));
    };
    let values: Vec<f64> = data
        .params
        .iter()
        .map(|q| history[best].params[&q.path])
        .collect();
    let fitted = Fitted {
        source: cal.origin.clone(),
        objective: fbest,
        overrides: data
            .params
            .iter()
            .zip(&values)
            .map(|(q, &value)| Override {
                path: q.path.clone(),
                value,
            })
            .collect(),
    };
    let predictions = predict_with(cal, runner, &pool, &data.params, &values, &opts.out_dir);
    Ok(CalibrationReport {
        source: cal.origin.clone(),
        history,
        best,
        converged: nm.converged,
        fitted,
        predictions,
    })
}

/// Runs only the prediction scenarios of `cal` (every seed) with the parameter values of a
/// [`Fitted`] override list (e.g. a `fitted.ron` read back), into `opts.out_dir/predict/`. An
/// override whose path is not one of the data file's parameters is refused.
pub fn predict<R: PointRunner>(
    cal: &Calibration,
    runner: &R,
    fitted: &Fitted,
    opts: &CalibrateOptions,
) -> Result<Vec<PredictionRecord>, CalibrateError> {
    let mut problems = Vec::new();
    let mut values = cal.start.clone();
    for o in &fitted.overrides {
        match cal.data.params.iter().position(|q| q.path == o.path) {
            Some(j) if o.value.is_finite() => values[j] = o.value,
            Some(_) => problems.push(format!(
                "override {:?}: value {} is not finite",
                o.path, o.value
            )),
            None => problems.push(format!(
                "override {:?} is not a parameter of {}",
                o.path, cal.origin
            )),
        }
    }
    if !problems.is_empty() {
        return Err(CalibrateError::Invalid {
            origin: fitted.source.clone(),
            problems,
        });
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| CalibrateError::Threads(e.to_string()))?;
    Ok(predict_with(
        cal,
        runner,
        &pool,
        &cal.data.params,
        &values,
        &opts.out_dir,
    ))
}

fn predict_with<R: PointRunner>(
    cal: &Calibration,
    runner: &R,
    pool: &rayon::ThreadPool,
    params: &[ParamSpec],
    values: &[f64],
    out_dir: &Path,
) -> Vec<PredictionRecord> {
    let data = &cal.data;
    let seeds: Vec<Option<u64>> = if data.seeds.is_empty() {
        vec![None]
    } else {
        data.seeds.iter().copied().map(Some).collect()
    };
    let pdir = out_dir.join("predict");
    let jobs: Vec<(usize, Option<u64>)> = (0..data.predict.len())
        .flat_map(|i| seeds.iter().map(move |&s| (i, s)))
        .collect();
    let results: Vec<Result<Value, String>> = crate::par::without_hot_workers(|| {
        pool.install(|| {
            jobs.par_iter()
                .map(|&(i, s)| {
                    let name = match s {
                        Some(s) => format!("{}_s{s}", data.predict[i].name),
                        None => data.predict[i].name.clone(),
                    };
                    run_one(
                        runner,
                        &cal.predict_bases[i],
                        params,
                        values,
                        s,
                        &pdir.join(name),
                    )
                })
                .collect()
        })
    });
    let mut predictions = Vec::new();
    for (i, p) in data.predict.iter().enumerate() {
        let mine: Vec<&Result<Value, String>> = jobs
            .iter()
            .zip(&results)
            .filter(|((ji, _), _)| *ji == i)
            .map(|(_, r)| r)
            .collect();
        let mut sink = Vec::new();
        let compare = p
            .measured
            .iter()
            .map(|c| {
                (
                    c.quantity.clone(),
                    c.value,
                    mean_quantity(&mine, &c.quantity, &mut sink, &p.name),
                )
            })
            .collect();
        predictions.push(PredictionRecord {
            name: p.name.clone(),
            scenario: p.scenario.clone(),
            results: mine.into_iter().cloned().collect(),
            compare,
        });
    }
    predictions
}

fn run_name(scenario: &str, seed: Option<u64>) -> String {
    let stem = Path::new(scenario)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    match seed {
        Some(s) => format!("{stem}_s{s}"),
        None => stem,
    }
}

fn run_one<R: PointRunner>(
    runner: &R,
    base: &Value,
    params: &[ParamSpec],
    values: &[f64],
    seed: Option<u64>,
    dir: &Path,
) -> Result<Value, String> {
    let mut raw = apply_values(base, params, values)?;
    if let Some(s) = seed {
        raw.seed = s;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    runner.run_point(&raw, dir)
}

fn mean_quantity(
    results: &[&Result<Value, String>],
    quantity: &str,
    errors: &mut Vec<String>,
    point: &str,
) -> Option<f64> {
    let mut sum = 0.0;
    for r in results {
        let v = match r {
            Ok(v) => v.get(quantity).and_then(as_number),
            Err(_) => None,
        };
        match v {
            Some(x) if x.is_finite() => sum += x,
            _ => {
                if r.is_ok() {
                    errors.push(format!(
                        "point {point}: result has no finite number {quantity:?}"
                    ));
                }
                return None;
            }
        }
    }
    (!results.is_empty()).then(|| sum / results.len() as f64)
}

/// The residual of a model value `m` against a measured `y` (see the module docs); `None` for a
/// log residual of a non-positive model value.
pub fn residual(kind: Residual, m: f64, y: f64) -> Option<f64> {
    match kind {
        Residual::Relative => Some((m - y) / y),
        Residual::Log if m > 0.0 && y > 0.0 => Some((m / y).ln()),
        Residual::Log => None,
    }
}

/// Writes `fitted.ron` and `calibration.json` into `dir` (atomically).
pub fn write_outputs(report: &CalibrationReport, dir: &Path) -> Result<(), CalibrateError> {
    let ron_text = ron::ser::to_string_pretty(&report.fitted, ron::ser::PrettyConfig::default())
        .map_err(|e| CalibrateError::Io {
            path: dir.join("fitted.ron"),
            message: e.to_string(),
        })?;
    let header = format!(
        "// Fitted by `dryfilm calibrate` from {}: scenario overrides by field path.\n",
        report.source
    );
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        crate::sweep::write_atomic(&p, bytes).map_err(|e| CalibrateError::Io {
            path: p.clone(),
            message: e.to_string(),
        })
    };
    write("fitted.ron", format!("{header}{ron_text}\n").as_bytes())?;
    let json_text = serde_json::to_string_pretty(report).map_err(|e| CalibrateError::Io {
        path: dir.join("calibration.json"),
        message: e.to_string(),
    })?;
    write("calibration.json", json_text.as_bytes())
}

/// A plain-text table of the best evaluation (points with measured, model and residual), the
/// fitted values and the predictions.
pub fn table(report: &CalibrationReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let b = &report.history[report.best];
    let _ = writeln!(
        s,
        "best evaluation {} of {} (objective {:.4e}, {})",
        b.index,
        report.history.len(),
        report.fitted.objective,
        if report.converged {
            "converged"
        } else {
            "stopped at the evaluation budget"
        }
    );
    let _ = writeln!(s, "{:<40} {:>14}", "parameter", "fitted");
    for o in &report.fitted.overrides {
        let _ = writeln!(s, "{:<40} {:>14.6e}", o.path, o.value);
    }
    let _ = writeln!(
        s,
        "\n{:<20} {:<26} {:>12} {:>12} {:>10}",
        "point", "quantity", "measured", "model", "residual"
    );
    for p in &b.points {
        let m = p.model.map_or("-".into(), |m| format!("{m:.4e}"));
        let r = p.residual.map_or("-".into(), |r| format!("{r:+.4}"));
        let _ = writeln!(
            s,
            "{:<20} {:<26} {:>12.4e} {:>12} {:>10}",
            p.name, p.quantity, p.measured, m, r
        );
    }
    s.push_str(&prediction_table(&report.predictions));
    s
}

/// A plain-text table of prediction runs: per prediction the seed means of σ_ion, MD strength,
/// σ_e and the short-circuit count, and the comparisons with measured values.
pub fn prediction_table(predictions: &[PredictionRecord]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if !predictions.is_empty() {
        let _ = writeln!(
            s,
            "\npredictions (not fitted; means over the seeds, booleans as seeds true/seeds):"
        );
        for p in predictions {
            // Mean over the seeds that ran; booleans as "k/n" (how many seeds were true).
            let ok: Vec<&Value> = p.results.iter().filter_map(|r| r.as_ref().ok()).collect();
            let failed = p.results.len() - ok.len();
            let get = |k: &str| -> String {
                let vals: Vec<(f64, bool)> = ok
                    .iter()
                    .filter_map(|v| v.get(k))
                    .filter_map(|x| as_number(x).map(|n| (n, x.is_boolean())))
                    .collect();
                if vals.is_empty() {
                    return "-".into();
                }
                let mean = vals.iter().map(|v| v.0).sum::<f64>() / vals.len() as f64;
                if vals[0].1 {
                    let t = vals.iter().filter(|v| v.0 != 0.0).count();
                    format!("{t}/{}", vals.len())
                } else {
                    format!("{mean:.4e}")
                }
            };
            if failed > 0 {
                let _ = writeln!(
                    s,
                    "  {}: {failed} of {} runs failed",
                    p.name,
                    p.results.len()
                );
            }
            let _ = writeln!(
                s,
                "  {:<14} wt% {:>6}  sigma_ion {:>11} S/cm  strength_md {:>11} kPa  sigma_e {:>11} S/cm  short {}",
                p.name,
                get("ptfe_wt_pct"),
                get("sigma_ion_S_cm"),
                get("tensile_strength_md_kPa"),
                get("sigma_e_S_cm"),
                get("short_circuit")
            );
            for (q, y, m) in &p.compare {
                let m = match m {
                    Some(m) if *y != 0.0 => format!("{m:.4e} (model/measured {:.3})", m / y),
                    Some(m) => format!("{m:.4e}"),
                    None => "-".into(),
                };
                let _ = writeln!(s, "      {q}: measured {y:.4e}, model {m}");
            }
        }
    }
    s
}
