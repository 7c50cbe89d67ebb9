//! Running a calibration: every evaluation's points (and seeds) through the injected runner, the
//! objective, the fit, and the predictions with the fitted values.

use super::*;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::results::RunResult;
use crate::sweep::engine::PointRunner;

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
    pub results: Vec<Result<RunResult, String>>,
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
        let results: Vec<Result<RunResult, String>> = crate::par::without_hot_workers(|| {
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
            let mine: Vec<&Result<RunResult, String>> = jobs
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

pub(super) fn predict_with<R: PointRunner>(
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
    let results: Vec<Result<RunResult, String>> = crate::par::without_hot_workers(|| {
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
        let mine: Vec<&Result<RunResult, String>> = jobs
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

pub(super) fn run_name(scenario: &str, seed: Option<u64>) -> String {
    let stem = Path::new(scenario)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    match seed {
        Some(s) => format!("{stem}_s{s}"),
        None => stem,
    }
}

pub(super) fn run_one<R: PointRunner>(
    runner: &R,
    base: &Value,
    params: &[ParamSpec],
    values: &[f64],
    seed: Option<u64>,
    dir: &Path,
) -> Result<RunResult, String> {
    let mut raw = apply_values(base, params, values)?;
    if let Some(s) = seed {
        raw.seed = s;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    runner.run_point(&raw, dir)
}

pub(super) fn mean_quantity(
    results: &[&Result<RunResult, String>],
    quantity: &str,
    errors: &mut Vec<String>,
    point: &str,
) -> Option<f64> {
    let mut sum = 0.0;
    for r in results {
        let v = match r {
            Ok(v) => v.quantity(quantity),
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
