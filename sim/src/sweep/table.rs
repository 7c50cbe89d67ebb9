//! The merged table of a sweep: every complete run's `result.json` flattened into one row, the
//! statistics over seeds of every numeric field at every point, and the two summary CSVs
//! (written and read with the `csv` crate).
//!
//! `summary.csv`: one row per run: `run,point,seed`, the swept parameters (by path), then every
//! result field (nested objects flattened with `.`, lists as compact JSON text), columns sorted
//! by name. A result field whose name collides with a leading column is prefixed `result.`.
//!
//! `summary_by_point.csv`: one row per point: `point`, the swept parameters, `n_runs`, then for
//! every numeric result field `F` (numbers, or booleans as 0/1) `F.mean, F.std, F.ci95_lo,
//! F.ci95_hi` (sample standard deviation; Student-t interval of the mean, see
//! [`stats`](super::stats)). Empty cells where undefined (e.g. a CI from one seed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::engine::{points_dir, read_manifest};
use super::spec::{value_text, Manifest};
use super::stats;
use super::{io_err, SweepError};
use crate::fileio::csv_text;
use crate::results::RunResult;

/// One merged run: its manifest entry and its flattened result.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Run index.
    pub run: usize,
    /// Point index.
    pub point: usize,
    /// Seed.
    pub seed: u64,
    /// Flattened result fields (nested objects joined with `.`).
    pub fields: BTreeMap<String, Value>,
}

/// Statistics of one numeric field at one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldStats {
    /// Number of values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (NaN for n < 2).
    pub std: f64,
    /// 95% CI of the mean, low end (NaN for n < 2).
    pub ci_lo: f64,
    /// 95% CI of the mean, high end (NaN for n < 2).
    pub ci_hi: f64,
    /// Number of values equal to 1 (true), for proportions.
    pub ones: usize,
}

impl FieldStats {
    /// Statistics of `x` (sequential reductions in the given order).
    pub fn of(x: &[f64]) -> Self {
        let (ci_lo, ci_hi) = stats::mean_ci95(x);
        Self {
            n: x.len(),
            mean: stats::mean(x),
            std: stats::std_dev(x),
            ci_lo,
            ci_hi,
            ones: x.iter().filter(|&&v| v == 1.0).count(),
        }
    }
}

/// The merged table: runs and per-point statistics.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The manifest.
    pub manifest: Manifest,
    /// Merged runs, by run index.
    pub rows: Vec<RunRow>,
    /// Names of the numeric result fields, sorted.
    pub numeric: Vec<String>,
    /// Per point (indexed like `manifest.points`), per numeric field: statistics over seeds.
    pub by_point: Vec<BTreeMap<String, FieldStats>>,
}

impl Merged {
    /// A per-point value of a column: a swept parameter (by path) as a number, else the mean of
    /// a numeric result field. None if neither exists or the point has no value.
    pub fn point_value(&self, point: usize, key: &str) -> Option<f64> {
        if let Some(a) = self.manifest.axis_paths.iter().position(|p| p == key) {
            return self.manifest.points[point].values[a].as_f64();
        }
        self.by_point[point].get(key).map(|s| s.mean)
    }
}

/// The dotted path of field `key` under `prefix` (`key` alone at the root, `prefix` empty).
pub fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Flattens a JSON object into dotted keys.
pub fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                flatten(&dotted(prefix, k), x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// A value as a number for statistics: numbers, and booleans as 0/1.
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Formats a float for CSV: shortest round-trip text, empty for NaN/infinite.
pub fn fmt_f64(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        String::new()
    }
}

fn value_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Number(n) if n.is_f64() => fmt_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(_) | Value::Object(_) => v.to_string(),
        other => value_text(other),
    }
}

/// Reads the manifest and every complete run of `out_dir` into a [`Merged`] table.
pub fn collect(out_dir: &Path) -> Result<(Merged, Vec<String>), SweepError> {
    let manifest = read_manifest(out_dir)?;
    let pdir = points_dir(out_dir);
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for run in &manifest.runs {
        let path = pdir.join(&run.name).join("result.json");
        if !path.is_file() {
            missing.push(run.name.clone());
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        let result: RunResult = serde_json::from_str(&text).map_err(|e| SweepError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let v = serde_json::to_value(&result).expect("a RunResult serializes");
        let mut fields = BTreeMap::new();
        flatten("", &v, &mut fields);
        rows.push(RunRow {
            run: run.index,
            point: run.point,
            seed: run.seed,
            fields,
        });
    }
    let mut all_keys = BTreeSet::new();
    for r in &rows {
        all_keys.extend(r.fields.keys().cloned());
    }
    let numeric: Vec<String> = all_keys
        .into_iter()
        .filter(|k| {
            let mut any = false;
            for r in &rows {
                if let Some(v) = r.fields.get(k) {
                    if as_number(v).is_none() {
                        return false;
                    }
                    any = true;
                }
            }
            any
        })
        .collect();
    let by_point = (0..manifest.points.len())
        .map(|p| {
            numeric
                .iter()
                .filter_map(|k| {
                    let x: Vec<f64> = rows
                        .iter()
                        .filter(|r| r.point == p)
                        .filter_map(|r| r.fields.get(k).and_then(as_number))
                        .collect();
                    (!x.is_empty()).then(|| (k.clone(), FieldStats::of(&x)))
                })
                .collect()
        })
        .collect();
    Ok((
        Merged {
            manifest,
            rows,
            numeric,
            by_point,
        },
        missing,
    ))
}

/// Reads a CSV file written by this module: (header, rows).
pub fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), SweepError> {
    let parse = |e: csv::Error| SweepError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut r = csv::Reader::from_path(path).map_err(parse)?;
    let header = r
        .headers()
        .map_err(parse)?
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.map(|rec| rec.iter().map(str::to_string).collect()))
        .collect::<Result<_, _>>()
        .map_err(parse)?;
    Ok((header, rows))
}

/// `summary.csv` text.
pub fn summary_csv(m: &Merged) -> String {
    let lead: Vec<String> = ["run", "point", "seed"]
        .iter()
        .map(|s| s.to_string())
        .chain(m.manifest.axis_paths.iter().cloned())
        .collect();
    let mut keys = BTreeSet::new();
    for r in &m.rows {
        keys.extend(r.fields.keys().cloned());
    }
    let keys: Vec<String> = keys.into_iter().collect();
    let header: Vec<String> = lead
        .iter()
        .cloned()
        .chain(keys.iter().map(|k| {
            if lead.contains(k) {
                format!("result.{k}")
            } else {
                k.clone()
            }
        }))
        .collect();
    let rows = m.rows.iter().map(|r| {
        let mut cells = vec![r.run.to_string(), r.point.to_string(), r.seed.to_string()];
        cells.extend(m.manifest.points[r.point].values.iter().map(value_cell));
        cells.extend(
            keys.iter()
                .map(|k| r.fields.get(k).map(value_cell).unwrap_or_default()),
        );
        cells
    });
    csv_text(&header, rows)
}

/// `summary_by_point.csv` text.
pub fn summary_by_point_csv(m: &Merged) -> String {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(m.manifest.axis_paths.iter().cloned());
    header.push("n_runs".into());
    for k in &m.numeric {
        for suffix in ["mean", "std", "ci95_lo", "ci95_hi"] {
            header.push(format!("{k}.{suffix}"));
        }
    }
    let rows = m.manifest.points.iter().enumerate().map(|(p, point)| {
        let n_runs = m.rows.iter().filter(|r| r.point == p).count();
        let mut cells = vec![p.to_string()];
        cells.extend(point.values.iter().map(value_cell));
        cells.push(n_runs.to_string());
        for k in &m.numeric {
            match m.by_point[p].get(k) {
                Some(st) => {
                    cells.extend([st.mean, st.std, st.ci_lo, st.ci_hi].map(fmt_f64));
                }
                None => cells.extend(std::iter::repeat_n(String::new(), 4)),
            }
        }
        cells
    });
    csv_text(&header, rows)
}
