//! Parameter sweeps: sweep files, point expansion, a resumable point runner, Slurm job arrays,
//! merging of per-point results into summary tables, and the summary plots.
//!
//! In scope:
//! - [`spec`]: the RON sweep file (a base scenario plus axes over any scenario field by its dotted
//!   path; lists, linear and log ranges; cartesian product or zip; replicate seeds) and its
//!   expansion into a [`spec::SweepPlan`] of indexed runs, each with its own [`RawScenario`].
//! - [`engine`]: runs the selected runs of a plan through an injected [`engine::PointRunner`]
//!   within a thread budget, writes every result atomically, skips runs already complete.
//! - [`slurm`]: writes an `sbatch` script whose array tasks each run one run of the plan.
//! - [`merge`]: collects the per-run `result.json` files into `summary.csv` and
//!   `summary_by_point.csv` (mean, sample standard deviation, Student-t 95% CI over seeds).
//! - [`converge`]: the convergence study around one scenario (one numerical knob at a time, seeds
//!   paired with the baseline, a PASS/FAIL table).
//! - [`stats`]: the small statistics kernels (mean, std, t quantile, Wilson interval).
//! - [`measured`]: the measured calibration points overlaid on the plots.
//! - [`plot`] and [`charts`]: a minimal deterministic plotting layer (SVG and PNG) and the five
//!   sweep charts.
//! - [`fake`]: a cheap synthetic runner used by tests and the CLI's hidden test mode;
//!   [`pipeline_runner`]: the real one (the whole pipeline per point).
//!
//! Not in scope: the simulation itself (the runner is injected) and scenario validation (also
//! injected, so that `dryfilm_sim::scenario::validate` is the single source of truth).
//!
//! Output layout of a sweep directory `DIR`:
//! ```text
//! DIR/sweep.json                 the plan (manifest): axes, seeds, points, runs, measured points
//! DIR/points/p0003_s1/           one folder per run (point 3, seed 1), renamed into place when done
//! DIR/points/p0003_s1/result.json
//! DIR/points/p0003_s1/scenario.ron
//! DIR/summary.csv, DIR/summary_by_point.csv, DIR/plots/*.{svg,png,csv}   (written by merge)
//! ```
//!
//! [`RawScenario`]: crate::scenario::raw::RawScenario

pub mod charts;
pub mod check;
pub mod converge;
pub mod engine;
pub mod fake;
pub mod fields;
pub mod measured;
pub mod merge;
pub mod pipeline_runner;
pub mod plot;
pub mod slurm;
pub mod spec;
pub mod stats;
pub mod table;

use crate::fileio::FileError;
use std::path::{Path, PathBuf};

pub use engine::{run_sweep, PointRunner, Progress, RunOptions, RunReport, Selection};
pub use merge::{merge, MergeOptions, MergeReport};
pub use pipeline_runner::PipelineRunner;
pub use spec::{SweepPlan, SweepSpec};

/// Everything that can go wrong in a sweep, from reading the sweep file to writing the plots.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] FileError),
    /// A RON or JSON file could not be parsed.
    #[error("{path}: {message}")]
    Parse {
        /// The file concerned.
        path: PathBuf,
        /// What the parser said (with line and column where known).
        message: String,
    },
    /// The sweep is refused: a syntax error, an unknown key, an empty axis, a zip of unequal
    /// lengths, an unknown field path, a point the scenario validation refuses, ... Every problem
    /// found is listed with its file, line and column.
    #[error("invalid sweep {origin} ({} problem(s)):\n{}", .problems.len(), DisplayProblems(.problems))]
    InvalidSpec {
        /// The sweep file.
        origin: String,
        /// Every problem, each with its position.
        problems: Vec<check::Problem>,
    },
    /// A selection (`--task`, `--shard`) does not fit the plan.
    #[error("{0}")]
    BadSelection(String),
    /// The sweep directory does not hold what merge needs.
    #[error("{0}")]
    Incomplete(String),
    /// A thread pool could not be built.
    #[error("thread pool: {0}")]
    Threads(String),
    /// A plot could not be drawn or encoded.
    #[error("plot {name}: {message}")]
    Plot {
        /// The plot's file stem.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// One problem per line.
struct DisplayProblems<'a>(&'a [check::Problem]);

impl std::fmt::Display for DisplayProblems<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Builds an [`SweepError::Io`] for `path`.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    crate::fileio::at(path)
}

/// Writes `bytes` to `path` atomically: to a temporary file beside it (unique to this process and
/// thread), flushed to disk, then renamed over `path`. A reader never sees a half-written file,
/// and a process killed mid-write leaves only a `.tmp-*` file that nothing reads.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{file_name}.tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io_err(path))
}
