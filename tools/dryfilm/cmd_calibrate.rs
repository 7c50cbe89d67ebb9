//! `dryfilm calibrate`: fits named model parameters to measured points (see `docs/calibration.md`).
//!
//! Reads the calibration data file, validates it and every base scenario before anything runs,
//! then runs a bounded Nelder–Mead search in which every evaluation runs the points' simulations
//! through the full pipeline, and finally the prediction scenarios with the fitted values. Writes
//! `OUT/fitted.ron` and `OUT/calibration.json` and prints a table.

use std::path::{Path, PathBuf};

use anyhow::Context;
use dryfilm_sim::calibrate::{self, CalibrateOptions, Calibration, EvalRecord};
use dryfilm_sim::scenario::raw::RawScenario;

/// Arguments of `dryfilm calibrate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The calibration data file (RON).
    pub data: PathBuf,
    /// Output folder (fitted.ron, calibration.json, the runs of every evaluation).
    #[arg(long, default_value = "calibration_out")]
    pub out: PathBuf,
    /// Maximum number of objective evaluations (overrides the data file's optimizer.max_evals).
    #[arg(long)]
    pub max_evals: Option<usize>,
    /// Thread budget (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Validate the data file and its scenarios, run nothing.
    #[arg(long)]
    pub check: bool,
    /// Skip the fit: run only the data file's predictions with the values of this `fitted.ron`
    /// (writes OUT/predictions.json).
    #[arg(long, value_name = "FITTED.ron", conflicts_with = "check")]
    pub predict_only: Option<PathBuf>,
}

fn validate_point(raw: &RawScenario) -> Result<(), String> {
    dryfilm_sim::scenario::validate(raw, None, "<calibration>")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn progress_line(r: &EvalRecord) {
    let params: Vec<String> = r
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v:.5e}"))
        .collect();
    let f = r.objective.map_or("inf".into(), |f| format!("{f:.5e}"));
    let pts: Vec<String> = r
        .points
        .iter()
        .map(|p| match p.model {
            Some(m) => format!("{}={m:.4e}", p.name),
            None => format!("{}=-", p.name),
        })
        .collect();
    eprintln!(
        "eval {:>3}  F={f}  {}  [{}]  {:.1} s{}",
        r.index,
        params.join(" "),
        pts.join(" "),
        r.wall_s,
        if r.errors.is_empty() {
            String::new()
        } else {
            format!("  errors: {}", r.errors.join("; "))
        }
    );
}

/// Entry point of `dryfilm calibrate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let cal = Calibration::load(&args.data, &validate_point)
        .with_context(|| format!("reading calibration data {}", args.data.display()))?;
    eprintln!(
        "{}: {} points on {} scenario(s), {} parameter(s), {} seed(s), {} prediction(s)",
        args.data.display(),
        cal.data.points.len(),
        cal.bases.len(),
        cal.data.params.len(),
        cal.data.seeds.len().max(1),
        cal.data.predict.len()
    );
    if args.check {
        eprintln!("ok");
        return Ok(());
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if let Some(f) = &args.predict_only {
        return predict_only(&args, &cal, f);
    }
    let opts = CalibrateOptions {
        out_dir: args.out.clone(),
        threads: args.threads,
        max_evals: args.max_evals,
        progress: &progress_line,
    };
    let report = calibrate::calibrate(&cal, &dryfilm_sim::sweep::PipelineRunner, &opts)
        .context("calibration")?;
    calibrate::write_outputs(&report, &args.out)
        .with_context(|| format!("writing results into {}", args.out.display()))?;
    print!("{}", calibrate::table(&report));
    println!(
        "wrote {} and {}",
        args.out.join("fitted.ron").display(),
        args.out.join("calibration.json").display()
    );
    Ok(())
}

/// `--predict-only FITTED.ron`: the predictions alone, with given values.
fn predict_only(args: &Args, cal: &Calibration, fitted_path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(fitted_path)
        .with_context(|| format!("reading {}", fitted_path.display()))?;
    let fitted: calibrate::Fitted =
        ron::from_str(&text).with_context(|| format!("parsing {}", fitted_path.display()))?;
    let opts = CalibrateOptions {
        out_dir: args.out.clone(),
        threads: args.threads,
        max_evals: None,
        progress: &progress_line,
    };
    let preds = calibrate::predict(cal, &dryfilm_sim::sweep::PipelineRunner, &fitted, &opts)
        .with_context(|| format!("predicting with {}", fitted_path.display()))?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "fitted": fitted,
        "predictions": preds,
    }))
    .context("serializing the predictions")?;
    let out = args.out.join("predictions.json");
    std::fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
    for o in &fitted.overrides {
        println!("{} = {:e}", o.path, o.value);
    }
    print!("{}", calibrate::prediction_table(&preds));
    println!("wrote {}", out.display());
    Ok(())
}
