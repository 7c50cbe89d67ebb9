//! `dryfilm merge`: collect a sweep folder's per-run results into `summary.csv`,
//! `summary_by_point.csv` and the plots. See `docs/sweeps.md`.

use std::path::PathBuf;

use anyhow::Context;
use dryfilm_sim::sweep::measured::MeasuredSet;
use dryfilm_sim::sweep::merge::{merge, MergeOptions};

/// Arguments of `dryfilm merge`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The sweep's output folder (holding `sweep.json` and `points/`).
    pub dir: PathBuf,
    /// Merge even if some runs have no result yet (they are listed).
    #[arg(long)]
    pub partial: bool,
    /// Do not draw the plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Measured points to overlay (RON), instead of those named by the sweep file.
    #[arg(long)]
    pub measured: Option<PathBuf>,
    /// No summary line.
    #[arg(long)]
    pub quiet: bool,
}

/// Entry point of `dryfilm merge`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let measured = match &args.measured {
        Some(p) => Some(MeasuredSet::load(p).context("reading the measured points")?),
        None => None,
    };
    let report = merge(&MergeOptions {
        out_dir: args.dir.clone(),
        measured,
        allow_partial: args.partial,
        plots: !args.no_plots,
    })
    .with_context(|| format!("merging {}", args.dir.display()))?;
    if !args.quiet {
        eprintln!("merged {} runs into {}", report.merged, args.dir.display());
        crate::sweep_table::print(&args.dir);
        if !report.missing.is_empty() {
            eprintln!(
                "missing ({}): {}",
                report.missing.len(),
                report.missing.join(", ")
            );
        }
        for s in &report.skipped_plots {
            eprintln!("plot skipped: {s}");
        }
    }
    Ok(())
}
