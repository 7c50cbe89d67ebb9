//! Running the runs of a sweep: selection (all, one Slurm task, a shard), a thread budget,
//! atomic results, resume.
//!
//! A run is complete exactly when `DIR/points/<name>/result.json` exists. A run works in
//! `DIR/points/.<name>.partial/` (removed first if a killed run left it), writes its
//! `scenario.ron` and, when the runner succeeds, `result.json` there, then the folder is renamed
//! to `DIR/points/<name>` in one step. A process killed at any moment therefore leaves either a
//! complete run or a `.partial` folder that merge never reads and the next run replaces.

use std::path::{Path, PathBuf};

use super::spec::{Manifest, SweepPlan};
use super::{io_err, write_atomic, SweepError};
use crate::results::RunResult;
use crate::scenario::raw::RawScenario;

/// Runs one point of a sweep: the full pipeline in the CLI, a synthetic model in tests.
pub trait PointRunner: Sync {
    /// Runs `raw` with its outputs in `point_dir` (which exists and is empty) and returns what
    /// `result.json` holds. `Err` carries a message; the sweep goes on with the other runs.
    fn run_point(&self, raw: &RawScenario, point_dir: &Path) -> Result<RunResult, String>;
}

/// Which runs of the plan this invocation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every run.
    All,
    /// One run by its index (the Slurm array task id).
    Task(usize),
    /// Runs with `index % count == index_in` (shard `i/n`, 0-based).
    Shard {
        /// This shard, `0 ≤ index < count`.
        index: usize,
        /// Number of shards (≥ 1).
        count: usize,
    },
}

impl Selection {
    /// Parses `i/n` (e.g. `"0/4"`) into a shard selection.
    pub fn parse_shard(s: &str) -> Result<Self, SweepError> {
        let bad =
            || SweepError::BadSelection(format!("--shard wants i/n with 0 ≤ i < n, got {s:?}"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Selection::Shard { index, count })
    }

    /// The run indices selected out of `n` runs, ascending.
    pub fn indices(&self, n: usize) -> Result<Vec<usize>, SweepError> {
        match *self {
            Selection::All => Ok((0..n).collect()),
            Selection::Task(i) if i < n => Ok(vec![i]),
            Selection::Task(i) => Err(SweepError::BadSelection(format!(
                "task {i} is out of range: the sweep has {n} runs (tasks 0..={})",
                n.saturating_sub(1)
            ))),
            Selection::Shard { index, count } if count > 0 && index < count => {
                Ok((index..n).step_by(count).collect())
            }
            Selection::Shard { index, count } => Err(SweepError::BadSelection(format!(
                "shard {index}/{count} is not 0 ≤ i < n"
            ))),
        }
    }
}

/// Options of [`run_sweep`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The sweep directory.
    pub out_dir: PathBuf,
    /// Thread budget: at most this many runs at once, all sharing one rayon pool of this size
    /// (a runner's own rayon work runs in the same pool). 0 = rayon's default.
    pub threads: usize,
    /// Which runs.
    pub selection: Selection,
}

/// Progress events for a progress bar.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Before the first run: how many are selected and how many of them are already complete.
    Start {
        /// Runs selected.
        selected: usize,
        /// Of which already complete (skipped).
        already_done: usize,
    },
    /// A run finished (successfully or not).
    Done {
        /// The run's folder name.
        name: String,
        /// Whether it succeeded.
        ok: bool,
    },
}

/// What a [`run_sweep`] call did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    /// Runs selected.
    pub selected: usize,
    /// Runs skipped because already complete.
    pub skipped: usize,
    /// Runs that ran and succeeded.
    pub succeeded: usize,
    /// Runs that failed: (folder name, message).
    pub failed: Vec<(String, String)>,
}

/// The folder of the points.
pub fn points_dir(out_dir: &Path) -> PathBuf {
    out_dir.join("points")
}

/// Whether a run is complete (its final `result.json` exists).
pub fn is_complete(out_dir: &Path, name: &str) -> bool {
    points_dir(out_dir).join(name).join("result.json").is_file()
}

/// Writes the manifest `DIR/sweep.json` atomically (every invocation of the same sweep writes
/// the same bytes). Refuses a folder whose manifest describes a different sweep (other axes,
/// values, seeds or base), which would otherwise mix results of two plans under the same run
/// names; only the embedded measured points may change.
pub fn write_manifest(out_dir: &Path, manifest: &Manifest) -> Result<(), SweepError> {
    let path = out_dir.join("sweep.json");
    if path.exists() {
        let old = read_manifest(out_dir)?;
        let strip = |m: &Manifest| Manifest {
            measured: None,
            ..m.clone()
        };
        if strip(&old) != strip(manifest) {
            return Err(SweepError::Incomplete(format!(
                "{} holds a different sweep ({:?}, {} runs) than this one ({:?}, {} runs): use \
                 another --out folder",
                out_dir.display(),
                old.name,
                old.runs.len(),
                manifest.name,
                manifest.runs.len()
            )));
        }
    }
    let text = serde_json::to_string_pretty(manifest).expect("manifest serializes to JSON");
    write_atomic(&path, text.as_bytes())
}

/// Reads `DIR/sweep.json`.
pub fn read_manifest(out_dir: &Path) -> Result<Manifest, SweepError> {
    let path = out_dir.join("sweep.json");
    let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
    serde_json::from_str(&text).map_err(|e| SweepError::Parse {
        path,
        message: e.to_string(),
    })
}

/// Runs the selected, not yet complete runs of `plan` with `runner`, in parallel within the
/// thread budget, writing the manifest and every result atomically. Runs already complete are
/// skipped; failed runs are reported, not fatal. The caller validates the plan first.
pub fn run_sweep(
    plan: &SweepPlan,
    runner: &dyn PointRunner,
    opts: &RunOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<RunReport, SweepError> {
    let selected = opts.selection.indices(plan.run_count())?;
    let pdir = points_dir(&opts.out_dir);
    std::fs::create_dir_all(&pdir).map_err(io_err(&pdir))?;
    write_manifest(&opts.out_dir, &plan.manifest)?;

    let todo: Vec<usize> = selected
        .iter()
        .copied()
        .filter(|&i| !is_complete(&opts.out_dir, &plan.manifest.runs[i].name))
        .collect();
    let mut report = RunReport {
        selected: selected.len(),
        skipped: selected.len() - todo.len(),
        ..RunReport::default()
    };
    progress(Progress::Start {
        selected: selected.len(),
        already_done: report.skipped,
    });

    let batch: Vec<(&str, &RawScenario)> = todo
        .iter()
        .map(|&i| (plan.manifest.runs[i].name.as_str(), &plan.scenarios[i]))
        .collect();
    let outcomes = run_batch(&pdir, &batch, runner, opts.threads, progress)?;
    for o in outcomes {
        match o {
            Ok(()) => report.succeeded += 1,
            Err(f) => report.failed.push(f),
        }
    }
    Ok(report)
}

/// How one run of a batch ended: `Err((folder name, message))` when it failed.
pub type RunOutcome = Result<(), (String, String)>;

/// Runs the named scenarios with `runner`, each in `pdir/<name>` (written through a `.partial`
/// folder, see the module notes), at most `threads` at once (0: rayon's default) in one rayon pool
/// that the runs' own parallel work shares. Returns one outcome per item, in order; a failed run
/// is `Err((name, message))`. Shared by sweeps and convergence studies.
pub fn run_batch(
    pdir: &Path,
    items: &[(&str, &RawScenario)],
    runner: &dyn PointRunner,
    threads: usize,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<RunOutcome>, SweepError> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Threads(e.to_string()))?;
    // Several runs share the pool: no worker may spin for one of them (see `crate::par`). A single
    // run (a Slurm array task) keeps the pool's workers to itself.
    let run_all = || {
        pool.install(|| {
            items
                .par_iter()
                .with_max_len(1)
                .map(|&(name, raw)| {
                    let r = run_one(pdir, name, raw, runner);
                    progress(Progress::Done {
                        name: name.to_string(),
                        ok: r.is_ok(),
                    });
                    r.map_err(|e| (name.to_string(), e))
                })
                .collect()
        })
    };
    Ok(if items.len() > 1 {
        crate::par::without_hot_workers(run_all)
    } else {
        run_all()
    })
}

/// One run in its `.partial` folder, renamed into place on success.
fn run_one(
    pdir: &Path,
    name: &str,
    raw: &RawScenario,
    runner: &dyn PointRunner,
) -> Result<(), String> {
    let partial = pdir.join(format!(".{name}.partial"));
    let fin = pdir.join(name);
    let err = |e: SweepError| e.to_string();
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .map_err(io_err(&partial))
            .map_err(err)?;
    }
    std::fs::create_dir_all(&partial)
        .map_err(io_err(&partial))
        .map_err(err)?;
    let ron_text = ron::ser::to_string_pretty(raw, ron::ser::PrettyConfig::default())
        .map_err(|e| format!("serializing the scenario: {e}"))?;
    write_atomic(&partial.join("scenario.ron"), ron_text.as_bytes()).map_err(err)?;
    let result = runner.run_point(raw, &partial)?;
    let text = serde_json::to_string_pretty(&result).expect("a RunResult serializes");
    write_atomic(&partial.join("result.json"), text.as_bytes()).map_err(err)?;
    // A final folder without result.json is debris of an older layout or a manual edit: replace.
    if fin.exists() {
        std::fs::remove_dir_all(&fin)
            .map_err(io_err(&fin))
            .map_err(err)?;
    }
    std::fs::rename(&partial, &fin)
        .map_err(io_err(&fin))
        .map_err(err)
}
