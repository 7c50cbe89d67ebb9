//! `dryfilm run FILE --out DIR`: run a scenario through every stage and the property solvers.

use anyhow::Context;
use dryfilm_sim::pipeline::{run_to_dir, RunOptions};
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
        render: true,
    };
    let res = pool.install(|| run_to_dir(&loaded, &out, &opts));
    bar.finish_and_clear();
    let res = res.with_context(|| format!("running {}", args.scenario.display()))?;
    print_table(&res.result, &res.dir);
    Ok(())
}

fn fmt(v: &serde_json::Value, scale: f64, prec: usize) -> String {
    match v {
        serde_json::Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN) * scale;
            if x != 0.0 && (x.abs() < 1e-2 || x.abs() >= 1e5) {
                format!("{x:.prec$e}")
            } else {
                format!("{x:.prec$}")
            }
        }
        serde_json::Value::Bool(b) => (if *b { "yes" } else { "no" }).to_string(),
        serde_json::Value::Null => "n/a".into(),
        other => other.to_string(),
    }
}

fn print_table(r: &serde_json::Value, dir: &std::path::Path) {
    let g = |k: &str| r.get(k).cloned().unwrap_or(serde_json::Value::Null);
    println!("Results in {}", dir.display());
    println!("  result.json, manifest.json, summary_*.json, tensile_*.csv, snapshots/, images/ (PNG, GIF, VTK, TIFF, NPY)");
    println!();
    println!("  {:<34} {:>12}  meaning", "quantity", "value");
    let rows: [(&str, String, &str); 12] = [
        (
            "PTFE loading (wt%)",
            fmt(&g("ptfe_wt_pct"), 1.0, 4),
            "achieved by the particle counts",
        ),
        (
            "thickness (µm)",
            fmt(&g("thickness_um"), 1.0, 1),
            "free-standing, after springback",
        ),
        (
            "relative density",
            fmt(&g("relative_density"), 1.0, 3),
            "solid volume / film volume",
        ),
        (
            "σ_ion through-plane (S/cm)",
            fmt(&g("sigma_ion_S_cm"), 1.0, 3),
            "Na+ conductivity, what the cell sees",
        ),
        (
            "σ_ion along MD (S/cm)",
            fmt(&g("sigma_ion_md_S_cm"), 1.0, 3),
            "in-plane, machine direction",
        ),
        (
            "tortuosity factor",
            fmt(&g("tortuosity_factor"), 1.0, 3),
            "voxel solve, NPS phase",
        ),
        (
            "tensile strength MD (kPa)",
            fmt(&g("tensile_strength_md_kPa"), 1.0, 1),
            "handling strength along MD",
        ),
        (
            "tensile strength TD (kPa)",
            fmt(&g("tensile_strength_td_kPa"), 1.0, 1),
            "handling strength across",
        ),
        (
            "PTFE spans the film",
            fmt(&g("ptfe_spanning"), 1.0, 0),
            "a through-film PTFE path exists",
        ),
        (
            "σ_e after reduction (S/cm)",
            fmt(&g("sigma_e_S_cm"), 1.0, 3),
            "electronic leakage vs Na anode",
        ),
        (
            "short circuit",
            fmt(&g("short_circuit"), 1.0, 0),
            "reduced PTFE connects the electrodes",
        ),
        (
            "fibrils (count, ⟨P2⟩ MD)",
            format!(
                "{} / {}",
                fmt(&g("fibril_count"), 1.0, 0),
                fmt(&g("fibril_orientation_md"), 1.0, 2)
            ),
            "network size, alignment (1 = along MD)",
        ),
    ];
    for (q, v, m) in rows {
        println!("  {q:<34} {v:>12}  {m}");
    }
}
