//! The sweep file and its expansion into indexed runs.
//!
//! A sweep file is RON:
//! ```ron
//! (
//!     name: "ptfe",                       // optional; default: the file stem
//!     base: "paper_film.ron",             // base scenario, relative to this file
//!     combine: Product,                   // Product (cartesian, last axis fastest) or Zip
//!     axes: [
//!         (path: "powder.ptfe.wt_pct", values: List([0.0, 0.2, 0.5, 1.0, 2.0, 5.0])),
//!         (path: "fibrillation.temperature_c", values: Linear(start: 30.0, stop: 90.0, n: 3)),
//!         (path: "powder.nps.d50_um", values: Log(start: 1.0, stop: 10.0, n: 3)),
//!     ],
//!     seeds: [1, 2, 3],                   // or `replicates: 3` (seeds base.seed .. base.seed+2)
//!     measured: "../data/measured.ron",   // optional measured points for the plots
//!     plots: (x: "powder.ptfe.wt_pct"),   // optional: which columns the plots use
//! )
//! ```
//!
//! Expansion: the axes give `P` parameter points (the product of their lengths, or their common
//! length when zipped), each run with every seed, `S` seeds: `P·S` runs. Run `r` is point
//! `r / S` with seed index `r % S`; its folder is `p{point:04}_s{seed}`. In a product the last
//! axis varies fastest.
//!
//! An axis value is applied by serializing the base [`RawScenario`] to a JSON value, replacing the
//! value at the dotted field path (a number segment indexes a list, e.g.
//! `"output.slice_fractions.0"`), and deserializing back, so every field of the scenario can be
//! swept and a path or type that does not fit is an error naming the path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::check::Problem;
use super::fields::cartesian;
pub use super::fields::{axis_value_list, lookup, set_path, value_text};
use super::measured::MeasuredSet;
use super::{io_err, SweepError};
use crate::scenario::locate::Locator;
use crate::scenario::raw::RawScenario;

/// How the axes are combined into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Combine {
    /// Cartesian product of all axes; the last axis varies fastest.
    #[default]
    Product,
    /// The axes are walked together: point `i` takes value `i` of every axis (equal lengths).
    Zip,
}

/// The values of one axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AxisValues {
    /// An explicit list of values (numbers, booleans or strings, as the field needs).
    List(Vec<Value>),
    /// `n` values evenly spaced from `start` to `stop` inclusive:
    /// `v_i = start + (stop − start)·i/(n − 1)`, the last one exactly `stop`.
    Linear {
        /// First value (the field's unit).
        start: f64,
        /// Last value (the field's unit).
        stop: f64,
        /// Number of values (≥ 1; 1 gives `[start]`).
        n: usize,
    },
    /// `n` values evenly spaced in log10 from `start` to `stop` inclusive (both > 0):
    /// `v_i = 10^(log10 start + (log10 stop − log10 start)·i/(n − 1))`, the ends exact.
    Log {
        /// First value (> 0, the field's unit).
        start: f64,
        /// Last value (> 0, the field's unit).
        stop: f64,
        /// Number of values (≥ 1).
        n: usize,
    },
}

/// One sweep axis: a scenario field by its dotted path and the values it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Dotted path of the scenario field, e.g. `"powder.ptfe.wt_pct"`.
    pub path: String,
    /// The values.
    pub values: AxisValues,
}

/// Which result columns the plots use. Names are the flattened `result.json` keys (nested
/// objects joined with `.`) or swept parameter paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlotKeys {
    /// The x axis of the four property plots (a swept path). Default `"powder.ptfe.wt_pct"`.
    pub x: String,
    /// Through-plane Na+ conductivity, S/cm. Default `"sigma_ion_S_cm"`.
    pub sigma_ion: String,
    /// Tensile strength, kPa. Default `"tensile_strength_md_kPa"`.
    pub strength: String,
    /// Whether PTFE spans the film (boolean or 0/1). Default `"ptfe_spanning"`.
    pub spanning: String,
    /// Electronic conductivity after reduction, S/cm. Default `"sigma_e_S_cm"`.
    pub sigma_e: String,
}

impl Default for PlotKeys {
    fn default() -> Self {
        Self {
            x: "powder.ptfe.wt_pct".into(),
            sigma_ion: "sigma_ion_S_cm".into(),
            strength: "tensile_strength_md_kPa".into(),
            spanning: "ptfe_spanning".into(),
            sigma_e: "sigma_e_S_cm".into(),
        }
    }
}

/// The sweep file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Name of the sweep (job names, plot titles). Default: the file stem.
    #[serde(default)]
    pub name: String,
    /// Base scenario file, relative to the sweep file.
    pub base: String,
    /// How the axes combine. Default `Product`.
    #[serde(default)]
    pub combine: Combine,
    /// The axes (may be empty: one point, replicated over the seeds).
    #[serde(default)]
    pub axes: Vec<Axis>,
    /// Explicit seeds, one run per seed and point. Exclusive with `replicates`.
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// Number of replicates: seeds `base.seed, base.seed + 1, ...`. Exclusive with `seeds`.
    /// 0 (default) with no `seeds`: the base scenario's seed only.
    #[serde(default)]
    pub replicates: u32,
    /// Optional measured-points file (RON, see [`MeasuredSet`]), relative to the sweep file.
    #[serde(default)]
    pub measured: String,
    /// Which columns the plots use.
    #[serde(default)]
    pub plots: PlotKeys,
}

/// One parameter point: its index and the value of every axis (in axis order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointParams {
    /// Point index, from 0.
    pub index: usize,
    /// One value per axis, as applied to the scenario.
    pub values: Vec<Value>,
}

/// One run: a point with one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Run index `point·S + seed_index`, from 0: the Slurm array task id.
    pub index: usize,
    /// The point index.
    pub point: usize,
    /// Index of the seed in the seed list.
    pub seed_index: usize,
    /// The seed.
    pub seed: u64,
    /// Folder name `p{point:04}_s{seed}`.
    pub name: String,
}

/// The manifest of a sweep: everything merge needs, written to `DIR/sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Sweep name.
    pub name: String,
    /// The base scenario file name as written in the sweep file.
    pub base: String,
    /// How the axes combine.
    pub combine: Combine,
    /// The swept paths, in axis order.
    pub axis_paths: Vec<String>,
    /// The seeds.
    pub seeds: Vec<u64>,
    /// The parameter points.
    pub points: Vec<PointParams>,
    /// The runs.
    pub runs: Vec<RunInfo>,
    /// Which columns the plots use.
    pub plots: PlotKeys,
    /// SHA-256 (hex) over the JSON of every run's scenario in run order: a changed base
    /// scenario changes it, so a sweep folder is never resumed with other scenarios.
    pub scenarios_sha256: String,
    /// The measured points read from the sweep's `measured` file, if any.
    pub measured: Option<MeasuredSet>,
}

/// A sweep expanded into runs, each with its scenario.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The sweep file (as given).
    pub spec_path: PathBuf,
    /// The manifest (points, runs, seeds...).
    pub manifest: Manifest,
    /// The scenario of every run, indexed like `manifest.runs`.
    pub scenarios: Vec<RawScenario>,
    /// For each point, the index of its value in each axis (axis order).
    pub point_value_index: Vec<Vec<usize>>,
    /// The texts the plan came from, which give its problems their positions.
    pub sources: Sources,
}

/// The texts a sweep plan came from (empty for a plan built in code).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The sweep file's text.
    pub spec_text: String,
    /// The base scenario file, as a label for its problems.
    pub base_origin: String,
    /// The base scenario's text.
    pub base_text: String,
}

impl Sources {
    /// The base scenario parsed from its text (the defaults for a plan built in code).
    pub fn base_scenario(&self) -> Result<RawScenario, SweepError> {
        if self.base_text.is_empty() {
            return Ok(RawScenario::default());
        }
        crate::scenario::parse(&self.base_text, &self.base_origin).map_err(|e| {
            SweepError::InvalidSpec {
                origin: self.base_origin.clone(),
                problems: e
                    .field_errors()
                    .iter()
                    .map(|f| Problem::from_field(&self.base_origin, f))
                    .collect(),
            }
        })
    }
}

/// Sweep files, for parse errors.
const SWEEP_FILE: crate::scenario::FileKind = crate::scenario::FileKind {
    shape: "a sweep file is one RON struct: `( base: \"scenario.ron\", axes: [...], ... )`",
    reference: "docs/sweeps.md",
};

impl SweepPlan {
    /// Reads a sweep file and its base scenario (and measured file) and expands it. Every problem
    /// is a [`Problem`] with its file, line and column ([`SweepError::InvalidSpec`]); the points'
    /// scenarios are validated by [`SweepPlan::check`].
    pub fn load(spec_path: &Path) -> Result<Self, SweepError> {
        let origin = spec_path.display().to_string();
        let text = std::fs::read_to_string(spec_path).map_err(io_err(spec_path))?;
        let refuse = |problems| SweepError::InvalidSpec {
            origin: origin.clone(),
            problems,
        };
        let spec: SweepSpec = ron::Options::default().from_str(&text).map_err(|e| {
            let fe = crate::scenario::ron_error(&text, &e, &SWEEP_FILE);
            refuse(vec![Problem::from_field(&origin, &fe)])
        })?;
        let loc = Locator::new(&text);
        let dir = spec_path.parent().unwrap_or_else(|| Path::new(""));
        let base_path = dir.join(&spec.base);
        let base_origin = base_path.display().to_string();
        let base_text = std::fs::read_to_string(&base_path).map_err(|e| {
            let message = format!("base = {:?}: cannot read {base_origin}: {e}", spec.base);
            refuse(vec![Problem::at(&origin, Some(&loc), "base", message)])
        })?;
        let base = crate::scenario::parse(&base_text, &base_origin).map_err(|e| {
            let fe = e.field_errors().iter();
            refuse(fe.map(|f| Problem::from_field(&base_origin, f)).collect())
        })?;
        let measured = if spec.measured.is_empty() {
            None
        } else {
            let m = MeasuredSet::load(&dir.join(&spec.measured)).map_err(|e| {
                let message = format!("measured = {:?}: {e}", spec.measured);
                refuse(vec![Problem::at(&origin, Some(&loc), "measured", message)])
            })?;
            Some(m)
        };
        let stem = spec_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let sources = Sources {
            spec_text: text,
            base_origin,
            base_text,
        };
        let default_name = stem.as_deref().unwrap_or("sweep");
        Self::expand_from(spec, base, measured, spec_path, default_name, sources)
    }

    /// Expands a parsed sweep over a parsed base scenario. `default_name` names the sweep when
    /// the spec does not. Every problem is collected before returning.
    pub fn expand(
        spec: SweepSpec,
        base: RawScenario,
        measured: Option<MeasuredSet>,
        spec_path: &Path,
        default_name: &str,
    ) -> Result<Self, SweepError> {
        let sources = Sources::default();
        Self::expand_from(spec, base, measured, spec_path, default_name, sources)
    }

    /// [`SweepPlan::expand`] with the texts that position its problems.
    fn expand_from(
        spec: SweepSpec,
        base: RawScenario,
        measured: Option<MeasuredSet>,
        spec_path: &Path,
        default_name: &str,
        sources: Sources,
    ) -> Result<Self, SweepError> {
        let origin = spec_path.display().to_string();
        // (field path in the sweep file, message)
        let mut problems: Vec<(String, String)> = Vec::new();
        let base_json = serde_json::to_value(&base).expect("RawScenario serializes to JSON");

        let mut axis_values: Vec<Vec<Value>> = Vec::with_capacity(spec.axes.len());
        let mut bad_axis = vec![false; spec.axes.len()];
        for (i, axis) in spec.axes.iter().enumerate() {
            let at = |field: &str| format!("axes[{i}].{field}");
            match axis_value_list(&axis.values) {
                Ok(v) => axis_values.push(v),
                Err(e) => {
                    problems.push((at("values"), format!("axis {i} ({}): {e}", axis.path)));
                    axis_values.push(Vec::new());
                }
            }
            if spec.axes[..i].iter().any(|a| a.path == axis.path) {
                let message = format!("axis {i}: path {:?} is swept twice", axis.path);
                problems.push((at("path"), message));
            }
            if let Err(e) = lookup(&base_json, &axis.path) {
                problems.push((at("path"), format!("axis {i}: {e}")));
                bad_axis[i] = true;
            }
        }

        let seeds: Vec<u64> = match (spec.seeds.is_empty(), spec.replicates) {
            (false, 0) => spec.seeds.clone(),
            (true, 0) => vec![base.seed],
            (true, n) => (0..u64::from(n))
                .map(|k| base.seed.wrapping_add(k))
                .collect(),
            (false, _) => {
                let message = "give either `seeds` or `replicates`, not both".to_string();
                problems.push(("replicates".into(), message));
                spec.seeds.clone()
            }
        };
        for (i, s) in seeds.iter().enumerate() {
            if seeds[..i].contains(s) {
                problems.push((format!("seeds[{i}]"), format!("seed {s} is listed twice")));
            }
        }
        let seeds_swept = !spec.seeds.is_empty() || spec.replicates > 0;
        if let Some(i) = spec.axes.iter().position(|a| a.path == "seed") {
            if seeds_swept {
                let message = "`seed` is swept by an axis and by `seeds`/`replicates`".into();
                problems.push((format!("axes[{i}].path"), message));
            }
        }

        let lens: Vec<usize> = axis_values.iter().map(Vec::len).collect();
        let indices: Vec<Vec<usize>> = match spec.combine {
            Combine::Product => cartesian(&lens),
            Combine::Zip => {
                if lens.windows(2).any(|w| w[0] != w[1]) {
                    let message = format!("Zip needs axes of equal length, got lengths {lens:?}");
                    problems.push(("combine".into(), message));
                    Vec::new()
                } else {
                    let n = lens.first().copied().unwrap_or(1);
                    (0..n).map(|i| vec![i; lens.len()]).collect()
                }
            }
        };
        let points: Vec<Vec<Value>> = indices
            .iter()
            .map(|ix| {
                ix.iter()
                    .zip(&axis_values)
                    .map(|(&k, a)| a[k].clone())
                    .collect()
            })
            .collect();

        let name = if spec.name.is_empty() {
            default_name.to_string()
        } else {
            spec.name.clone()
        };
        let mut runs = Vec::with_capacity(points.len() * seeds.len());
        let mut scenarios = Vec::with_capacity(points.len() * seeds.len());
        let mut point_params = Vec::with_capacity(points.len());
        for (p, values) in points.into_iter().enumerate() {
            let mut json = base_json.clone();
            let mut applied = Vec::with_capacity(values.len());
            let mut ok = true;
            for (i, ((axis, v), bad)) in spec.axes.iter().zip(&values).zip(&bad_axis).enumerate() {
                if *bad {
                    ok = false;
                    continue;
                }
                match set_path(&mut json, &axis.path, v) {
                    Ok(a) => applied.push(a),
                    Err(e) => {
                        let at = format!("axes[{i}].values[{}]", indices[p][i]);
                        if !problems.iter().any(|(_, m)| *m == e) {
                            problems.push((at, e));
                        }
                        ok = false;
                    }
                }
            }
            if ok {
                match serde_json::from_value::<RawScenario>(json) {
                    Ok(raw) => {
                        for (si, &seed) in seeds.iter().enumerate() {
                            let mut r = raw.clone();
                            r.seed = seed;
                            let run_name = format!("p{p:04}_s{seed}");
                            r.name = format!("{}_{run_name}", base.name);
                            runs.push(RunInfo {
                                index: runs.len(),
                                point: p,
                                seed_index: si,
                                seed,
                                name: run_name,
                            });
                            scenarios.push(r);
                        }
                    }
                    Err(e) => {
                        let paths: Vec<&str> = spec.axes.iter().map(|a| a.path.as_str()).collect();
                        let message = format!(
                            "point {p}: values {values:?} for {paths:?} do not fit the scenario: {e}"
                        );
                        problems.push(("axes".into(), message));
                    }
                }
            }
            point_params.push(PointParams {
                index: p,
                values: applied,
            });
        }
        if !problems.is_empty() {
            let loc = Locator::new(&sources.spec_text);
            let problems = problems
                .into_iter()
                .map(|(at, message)| Problem::at(&origin, Some(&loc), &at, message))
                .collect();
            return Err(SweepError::InvalidSpec { origin, problems });
        }
        let scenarios_sha256 = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            for raw in &scenarios {
                h.update(serde_json::to_vec(raw).expect("RawScenario serializes to JSON"));
                h.update(b"\n");
            }
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        };
        Ok(Self {
            spec_path: spec_path.to_path_buf(),
            manifest: Manifest {
                name,
                base: spec.base,
                combine: spec.combine,
                axis_paths: spec.axes.iter().map(|a| a.path.clone()).collect(),
                seeds,
                points: point_params,
                runs,
                plots: spec.plots,
                scenarios_sha256,
                measured,
            },
            scenarios,
            point_value_index: indices,
            sources,
        })
    }

    /// Number of runs (points × seeds): the Slurm array size.
    pub fn run_count(&self) -> usize {
        self.manifest.runs.len()
    }

    /// A human-readable listing: one line per run with its index, folder and parameter values.
    pub fn listing(&self) -> String {
        let m = &self.manifest;
        let mut s = format!(
            "# sweep {:?}: {} points x {} seeds = {} runs\n# index\trun\tseed",
            m.name,
            m.points.len(),
            m.seeds.len(),
            m.runs.len()
        );
        for p in &m.axis_paths {
            s.push('\t');
            s.push_str(p);
        }
        s.push('\n');
        for run in &m.runs {
            s.push_str(&format!("{}\t{}\t{}", run.index, run.name, run.seed));
            for v in &m.points[run.point].values {
                s.push('\t');
                s.push_str(&value_text(v));
            }
            s.push('\n');
        }
        s
    }
}
