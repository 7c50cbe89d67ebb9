//! `dryfilm run FILE --out DIR`: run a scenario through every stage and the property solvers.

use anyhow::Context;
use dryfilm_sim::pipeline::{run_to_dir, RunOptions};
use dryfilm_sim::results::RunResult;
use dryfilm_sim::scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

/// Arguments of `dryfilm run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario file (RON).
    pub scenario: PathBuf,
    /// Output folder (default: output/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results are identical for any value.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// Entry point of `dryfilm run`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut loaded = scenario::load_file(&args.scenario).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(seed) = args.seed {
        let mut raw = loaded.raw.clone();
        raw.seed = seed;
        loaded.scenario = scenario::validate(
            &raw,
            Some(&loaded.text),
            &args.scenario.display().to_string(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        loaded.raw = raw;
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    anyhow::ensure!(threads >= 1, "--threads must be at least 1");
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&loaded.scenario.name));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("building the thread pool")?;
    let show = !args.quiet && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(1000),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{prefix:>22} [{bar:40}] {percent:>3}% {elapsed_precise}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let current = Mutex::new(String::new());
    let progress = |stage: &str, frac: f64| {
        let mut c = current.lock().expect("progress lock");
        if *c != stage {
            if !c.is_empty() && show {
                bar.println(format!(
                    "  done: {c} ({:.1} s)",
                    bar.elapsed().as_secs_f64()
                ));
            }
            *c = stage.to_string();
            bar.reset();
            bar.set_prefix(stage.to_string());
        }
        bar.set_position((frac.clamp(0.0, 1.0) * 1000.0) as u64);
    };
    let opts = RunOptions {
        threads,
        progress: &progress,
        render: Some(&dryfilm_sim::render::render_run),
    };
    let res = pool.install(|| run_to_dir(&loaded, &out, &opts));
    bar.finish_and_clear();
    let res = res.with_context(|| format!("running {}", args.scenario.display()))?;
    print_table(&res.result, &res.dir);
    Ok(())
}

/// A number for the table: scientific notation when tiny or huge, `n/a` when missing or not finite.
fn num(x: Option<f64>, prec: usize) -> String {
    match x {
        Some(x) if x.is_finite() => {
            if x != 0.0 && (x.abs() < 1e-2 || x.abs() >= 1e5) {
                format!("{x:.prec$e}")
            } else {
                format!("{x:.prec$}")
            }
        }
        _ => "n/a".into(),
    }
}

/// A flag for the table.
fn yes_no(b: bool) -> String {
    (if b { "yes" } else { "no" }).to_string()
}

fn print_table(r: &RunResult, dir: &std::path::Path) {
    println!("Results in {}", dir.display());
    println!("  result.json, manifest.json, summary_*.json, tensile_*.csv, snapshots/, images/ (PNG, GIF, VTK, TIFF, NPY)");
    println!();
    println!("  {:<34} {:>12}  meaning", "quantity", "value");
    let f = |x: f64, prec: usize| num(Some(x), prec);
    let fibrils = format!(
        "{} / {}",
        r.fibril_count,
        num(Some(r.fibril_orientation_md), 2)
    );
    #[rustfmt::skip]
    let rows: [(&str, String, &str); 13] = [
        ("PTFE loading (wt%)", f(r.ptfe_wt_pct, 4), "achieved by the particle counts"),
        ("thickness (µm)", f(r.thickness_um, 1), "free-standing, after springback"),
        ("relative density", f(r.relative_density, 3), "solid volume / film volume"),
        ("σ_ion through-plane (S/cm)", f(r.sigma_ion_s_cm, 3), "Na+ conductivity, what the cell sees"),
        ("σ_ion along MD (S/cm)", f(r.sigma_ion_md_s_cm, 3), "in-plane, machine direction"),
        ("tortuosity factor", num(r.tortuosity_factor, 3), "voxel solve, NPS phase"),
        ("tensile strength MD (kPa)", num(r.tensile_strength_md_kpa, 1), "handling strength along MD"),
        ("tensile strength TD (kPa)", num(r.tensile_strength_td_kpa, 1), "handling strength across"),
        ("PTFE spans the film", yes_no(r.ptfe_spanning), "a through-film PTFE path exists"),
        ("σ_e after reduction (S/cm)", f(r.sigma_e_s_cm, 3), "electronic leakage vs Na anode"),
        ("short circuit", yes_no(r.short_circuit), "reduced PTFE connects the electrodes"),
        ("fibrils (count, ⟨P2⟩ MD)", fibrils, "network size, alignment (1 = along MD)"),
        ("energy closure (worst stage)", f(r.energy_closure_max, 2), "ledger error / energy through the stage"),
    ];
    for (q, v, m) in rows {
        println!("  {q:<34} {v:>12}  {m}");
    }
    if !r.warnings.is_empty() {
        println!();
        println!("  Warnings ({}, also in result.json):", r.warnings.len());
        for w in &r.warnings {
            println!("  - {w}");
        }
    }
}
