//! Merging a sweep directory: every complete run's `result.json` into `summary.csv`, statistics
//! over seeds into `summary_by_point.csv` ([`super::table`]), and the plots ([`super::charts`]).
//!
//! Only runs listed in the manifest are read, and only from their final folders: a `.partial`
//! folder left by a killed run is never merged. Output bytes depend only on the manifest and the
//! results, so a sweep merged from Slurm tasks equals the same sweep run locally, bit for bit.

use std::path::PathBuf;

use super::charts;
use super::measured::MeasuredSet;
use super::table::{collect, summary_by_point_csv, summary_csv};
use super::{write_atomic, SweepError};

/// Options of [`merge`].
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// The sweep directory (holding `sweep.json` and `points/`).
    pub out_dir: PathBuf,
    /// Measured points to overlay, replacing those recorded in the manifest.
    pub measured: Option<MeasuredSet>,
    /// Merge even when some runs are missing (they are listed in the report).
    pub allow_partial: bool,
    /// Draw the plots.
    pub plots: bool,
}

/// What [`merge`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeReport {
    /// Runs merged.
    pub merged: usize,
    /// Runs listed in the manifest without a result.
    pub missing: Vec<String>,
    /// Files written, relative to the sweep directory.
    pub written: Vec<String>,
    /// Plots skipped, with the reason (e.g. a result field the runner does not write).
    pub skipped_plots: Vec<String>,
}

/// Merges `opts.out_dir`: writes `summary.csv`, `summary_by_point.csv` and (if asked) the plots.
/// Fails if runs are missing, unless `allow_partial`.
pub fn merge(opts: &MergeOptions) -> Result<MergeReport, SweepError> {
    let dir = &opts.out_dir;
    let (mut merged, missing) = collect(dir)?;
    if !missing.is_empty() && !opts.allow_partial {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        return Err(SweepError::Incomplete(format!(
            "{}: {} of {} runs have no result yet ({}{}); rerun the sweep to complete them, or \
             merge with --partial",
            dir.display(),
            missing.len(),
            merged.manifest.runs.len(),
            shown.join(", "),
            if missing.len() > 10 { ", ..." } else { "" }
        )));
    }
    if let Some(m) = &opts.measured {
        merged.manifest.measured = Some(m.clone());
    }
    let mut report = MergeReport {
        merged: merged.rows.len(),
        missing,
        ..MergeReport::default()
    };
    for (name, text) in [
        ("summary.csv", summary_csv(&merged)),
        ("summary_by_point.csv", summary_by_point_csv(&merged)),
    ] {
        write_atomic(&dir.join(name), text.as_bytes())?;
        report.written.push(name.to_string());
    }
    if opts.plots {
        let (written, skipped) = charts::write_all(&merged, &dir.join("plots"))?;
        report
            .written
            .extend(written.into_iter().map(|f| format!("plots/{f}")));
        report.skipped_plots = skipped;
    }
    Ok(report)
}
