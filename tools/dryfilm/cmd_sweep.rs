//! `dryfilm sweep`: list, run (locally, one Slurm task, or a shard) or emit a Slurm array for a
//! parameter sweep. See `docs/sweeps.md`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use dryfilm_sim::sweep::engine::{run_sweep, PointRunner, Progress, RunOptions, Selection};
use dryfilm_sim::sweep::fake::FakeRunner;
use dryfilm_sim::sweep::merge::{merge, MergeOptions};
use dryfilm_sim::sweep::slurm::{sbatch_script, shell_quote, SlurmOptions};
use dryfilm_sim::sweep::SweepPlan;

/// Environment variable selecting the synthetic runner instead of the pipeline (value `1`). For
/// the project's own tests only (Slurm round trip, kill -9 resume); its results are not
/// simulations.
pub const FAKE_RUNNER_ENV: &str = "DRYFILM_SWEEP_FAKE_RUNNER";
/// With the synthetic runner: milliseconds each run sleeps (tests only).
pub const FAKE_DELAY_ENV: &str = "DRYFILM_SWEEP_FAKE_DELAY_MS";

/// Arguments of `dryfilm sweep`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The sweep file (RON).
    pub spec: PathBuf,
    /// Output folder of the sweep (required unless --list).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the runs with their indices and parameters, run nothing.
    #[arg(long)]
    pub list: bool,
    /// Thread budget: at most this many runs at once (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Run only run number I (the Slurm array task id).
    #[arg(long, value_name = "I", conflicts_with = "shard")]
    pub task: Option<usize>,
    /// Run only shard i of n (runs with index % n == i), e.g. `--shard 0/4`.
    #[arg(long, value_name = "i/n")]
    pub shard: Option<String>,
    /// No progress bar or summary line.
    #[arg(long)]
    pub quiet: bool,
    /// Do not merge (summaries and plots) after a complete local run.
    #[arg(long)]
    pub no_merge: bool,
    /// Write `OUT/sweep.sbatch` (a Slurm job array, one task per run) instead of running.
    #[arg(long)]
    pub emit_slurm: bool,
    /// Slurm partition (with --emit-slurm).
    #[arg(long, requires = "emit_slurm")]
    pub partition: Option<String>,
    /// Slurm time limit per task, e.g. 02:00:00 (with --emit-slurm).
    #[arg(long, requires = "emit_slurm")]
    pub time: Option<String>,
    /// CPUs per task, also each task's thread budget (with --emit-slurm).
    #[arg(long, default_value_t = 1, requires = "emit_slurm")]
    pub cpus_per_task: u32,
    /// Memory per task, e.g. 4G (with --emit-slurm).
    #[arg(long, requires = "emit_slurm")]
    pub mem: Option<String>,
    /// At most this many array tasks at once (with --emit-slurm).
    #[arg(long, requires = "emit_slurm")]
    pub max_parallel: Option<u32>,
}

/// Entry point of `dryfilm sweep`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let plan = SweepPlan::load(&args.spec)
        .with_context(|| format!("reading sweep {}", args.spec.display()))?;
    plan.check()
        .with_context(|| format!("validating the runs of {}", args.spec.display()))?;
    if args.list {
        print!("{}", plan.listing());
        return Ok(());
    }
    let Some(out) = args.out.clone() else {
        bail!("--out DIR is required (or use --list)");
    };
    if args.emit_slurm {
        return emit(&args, &plan, &out);
    }
    let selection = match (args.task, &args.shard) {
        (Some(i), _) => Selection::Task(i),
        (None, Some(s)) => Selection::parse_shard(s)?,
        (None, None) => Selection::All,
    };
    let opts = RunOptions {
        out_dir: out.clone(),
        threads: args.threads,
        selection,
    };
    let bar = crate::sweep_table::runs_bar(args.quiet)?;
    let progress = |p: Progress| match p {
        Progress::Start {
            selected,
            already_done,
        } => {
            bar.set_length((selected - already_done) as u64);
            if already_done > 0 {
                bar.set_message(format!("({already_done} already done)"));
            }
        }
        Progress::Done { ok, name } => {
            if !ok {
                bar.println(format!("run {name} failed"));
            }
            bar.inc(1);
        }
    };
    let fake = std::env::var_os(FAKE_RUNNER_ENV).is_some_and(|v| v == "1");
    let runner: Box<dyn PointRunner> = if fake {
        let delay_ms = std::env::var(FAKE_DELAY_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Box::new(FakeRunner {
            fail_on_wt_pct: None,
            write_log: true,
            delay_ms,
        })
    } else {
        Box::new(dryfilm_sim::sweep::PipelineRunner)
    };
    let report = run_sweep(&plan, runner.as_ref(), &opts, &progress)
        .with_context(|| format!("running sweep into {}", out.display()))?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "{} runs selected: {} already complete, {} ran, {} failed",
            report.selected,
            report.skipped,
            report.succeeded,
            report.failed.len()
        );
    }
    if !report.failed.is_empty() {
        let lines: Vec<String> = report
            .failed
            .iter()
            .map(|(n, e)| format!("  {n}: {e}"))
            .collect();
        bail!(
            "{} runs failed (rerun to retry them):\n{}",
            report.failed.len(),
            lines.join("\n")
        );
    }
    if selection == Selection::All && !args.no_merge {
        let r = merge(&MergeOptions {
            out_dir: out.clone(),
            measured: None,
            allow_partial: false,
            plots: true,
        })
        .with_context(|| format!("merging {}", out.display()))?;
        if !args.quiet {
            eprintln!("merged {} runs into {}", r.merged, out.display());
            for s in &r.skipped_plots {
                eprintln!("plot skipped: {s}");
            }
            crate::sweep_table::print(&out);
        }
    }
    Ok(())
}

fn emit(args: &Args, plan: &SweepPlan, out: &Path) -> anyhow::Result<()> {
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let out_abs = out
        .canonicalize()
        .with_context(|| format!("resolving {}", out.display()))?;
    let spec_abs = args
        .spec
        .canonicalize()
        .with_context(|| format!("resolving {}", args.spec.display()))?;
    let exe = std::env::current_exe().context("locating the dryfilm executable")?;
    let opts = SlurmOptions {
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus_per_task: args.cpus_per_task,
        mem: args.mem.clone(),
        max_parallel: args.max_parallel,
    };
    let script = sbatch_script(
        &plan.manifest.name,
        plan.run_count(),
        &exe,
        &spec_abs,
        &out_abs,
        &opts,
    )
    .map_err(anyhow::Error::msg)
    .context("writing the sbatch script")?;
    let path = out_abs.join("sweep.sbatch");
    dryfilm_sim::sweep::write_atomic(&path, script.as_bytes())?;
    println!("{}", path.display());
    if !args.quiet {
        eprintln!(
            "{} array tasks. Submit with: sbatch {}\nthen: dryfilm merge {}",
            plan.run_count(),
            shell_quote(&path.display().to_string()),
            shell_quote(&out_abs.display().to_string())
        );
    }
    Ok(())
}
