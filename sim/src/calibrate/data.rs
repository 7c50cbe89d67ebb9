//! The calibration data file: measured points, fitted parameters with their bounds and scales,
//! comparisons and predictions, read and checked before anything runs; and the maps between a
//! parameter and the optimiser's unit interval.

use super::*;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::results::RunResult;
use crate::scenario::raw::RawScenario;
use crate::sweep::spec::{lookup, set_path};

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
    /// The `result.json` field compared, one of [`RunResult::quantity_names`].
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
        check_settings(&data, &mut problems);
        check_points(&data, &mut problems);
        check_params(&data, &mut problems);
        let (bases, point_base, predict_bases) = read_bases(&data, dir, &mut problems);
        let start = start_values(&data.params, &bases, &mut problems);
        if problems.is_empty() {
            check_trials(
                &data,
                &bases,
                &predict_bases,
                &start,
                validate,
                &mut problems,
            );
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

/// Something to fit, something to fit it to, and an optimiser that can start.
fn check_settings(data: &DataFile, problems: &mut Vec<String>) {
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
}

/// Each item of the list `field` with its label `field[i] ("key")`; a key seen before is a
/// problem ("duplicate {what}").
fn labelled<'a, T>(
    items: &'a [T],
    field: &str,
    what: &str,
    key: impl Fn(&T) -> &String,
    problems: &mut Vec<String>,
) -> Vec<(String, &'a T)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let k = key(item);
        let at = format!("{field}[{i}] ({k:?})");
        if !seen.insert(k.clone()) {
            problems.push(format!("{at}: duplicate {what}"));
        }
        out.push((at, item));
    }
    out
}

/// Unique names, known quantities, usable values, uncertainties and weights.
fn check_points(data: &DataFile, problems: &mut Vec<String>) {
    for (at, p) in labelled(&data.points, "points", "point name", |p| &p.name, problems) {
        check_quantity(&at, &p.quantity, problems);
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
}

/// Unique paths, finite and ordered bounds (positive for a log scale), starts inside them.
fn check_params(data: &DataFile, problems: &mut Vec<String>) {
    for (at, q) in labelled(
        &data.params,
        "params",
        "parameter path",
        |q| &q.path,
        problems,
    ) {
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
}

/// The base scenarios as JSON values (each point file read once; `Null` where it could not be
/// read, with the problem), the base of each point, and the scenario of each prediction (whose
/// names and quantities are checked on the way).
#[allow(clippy::type_complexity)]
fn read_bases(
    data: &DataFile,
    dir: &Path,
    problems: &mut Vec<String>,
) -> (Vec<(String, Value)>, Vec<usize>, Vec<Value>) {
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
            let v = read(&p.scenario, problems).unwrap_or(Value::Null);
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
                problems,
            );
        }
        predict_bases.push(read(&p.scenario, problems).unwrap_or(Value::Null));
    }
    (bases, point_base, predict_bases)
}

/// Each parameter's start: its `start`, else its value in the first base that holds it (brought
/// inside the bounds), else the middle of the bounds (geometric for a log scale). Checks that
/// every base holds a number at each path.
fn start_values(
    params: &[ParamSpec],
    bases: &[(String, Value)],
    problems: &mut Vec<String>,
) -> Vec<f64> {
    let mut start = Vec::new();
    for q in params {
        let mut s = q.start;
        for (file, v) in bases {
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
    start
}

/// Full scenario validation of every base and prediction scenario at the start values and with
/// each parameter at each of its bounds (the first refusal per scenario is reported).
fn check_trials(
    data: &DataFile,
    bases: &[(String, Value)],
    predict_bases: &[Value],
    start: &[f64],
    validate: Validator,
    problems: &mut Vec<String>,
) {
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
    let mut trials = vec![start.to_vec()];
    for (j, q) in data.params.iter().enumerate() {
        for b in [q.lower, q.upper] {
            let mut t = start.to_vec();
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

pub(super) fn check_quantity(at: &str, q: &str, problems: &mut Vec<String>) {
    let known = RunResult::quantity_names();
    if !known.iter().any(|k| k == q) {
        problems.push(format!(
            "{at}: unknown quantity {q:?}; result.json fields: {}",
            known.join(", ")
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
