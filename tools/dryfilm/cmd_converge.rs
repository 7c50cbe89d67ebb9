//! `dryfilm converge`: the convergence study around one scenario (each numerical knob changed on
//! its own, seeds paired with the baseline, a PASS/FAIL table). See `docs/convergence.md`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context};
use dryfilm_sim::sweep::converge::{converge, settings, ConvergeOptions};
use dryfilm_sim::sweep::engine::Progress;

/// Arguments of `dryfilm converge`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The base scenario (RON).
    pub scenario: PathBuf,
    /// Output folder of the study (runs in `OUT/points`, the table in `OUT/convergence.md`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seeds every setting starts with (at least 2).
    #[arg(long, default_value_t = 5)]
    pub seeds: usize,
    /// Most seeds a setting gets while the standard error of a change exceeds 10%.
    #[arg(long, default_value_t = 12)]
    pub max_seeds: usize,
    /// Most seeds a setting with a FAIL gets to confirm it (at least --max-seeds; default the
    /// larger of --max-seeds and 12).
    #[arg(long)]
    pub confirm_seeds: Option<usize>,
    /// Seeds added at a time to a setting whose changes are not yet precise, or that FAILs.
    #[arg(long, default_value_t = 3)]
    pub seed_step: usize,
    /// At most this many runs at once (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Only these settings (comma-separated names, see --list) besides the baseline; without it,
    /// every setting, and the follow-ups (the time step ×0.25) of a setting that FAILs.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print the settings and run nothing.
    #[arg(long)]
    pub list: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Entry point of `dryfilm converge`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = dryfilm_sim::scenario::load_file(&args.scenario)
        .with_context(|| format!("reading scenario {}", args.scenario.display()))?;
    let all = settings(&loaded.raw.numerics);
    if args.list {
        for s in &all {
            let when = s
                .follows
                .map(|f| format!("\t(runs when {f} FAILs, or with --only)"))
                .unwrap_or_default();
            println!("{}\t{}{when}", s.name, s.knob);
        }
        return Ok(());
    }
    for name in &args.only {
        if !all.iter().any(|s| &s.name == name) {
            let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
            bail!(
                "--only {name:?}: no such setting (settings: {})",
                names.join(", ")
            );
        }
    }
    let confirm_seeds = args.confirm_seeds.unwrap_or(args.max_seeds.max(12));
    if args.seeds < 2 || args.max_seeds < args.seeds || confirm_seeds < args.max_seeds {
        bail!(
            "--seeds {} --max-seeds {} --confirm-seeds {}: need 2 ≤ seeds ≤ max-seeds ≤ confirm-seeds (a standard error needs two seeds)",
            args.seeds,
            args.max_seeds,
            confirm_seeds
        );
    }
    let Some(out) = args.out.clone() else {
        bail!("--out DIR is required (or use --list)");
    };
    let show = !args.quiet && std::io::stderr().is_terminal();
    let bar = crate::sweep_table::runs_bar(args.quiet)?;
    let progress = |p: Progress| match p {
        Progress::Start { selected, .. } => {
            bar.reset();
            bar.set_length(selected as u64);
        }
        Progress::Done { ok, name } => {
            if !ok {
                bar.println(format!("run {name} failed"));
            } else if !show && !args.quiet {
                eprintln!("done {name}");
            }
            bar.inc(1);
        }
    };
    let only = if args.only.is_empty() {
        String::new()
    } else {
        format!(" --only {}", args.only.join(","))
    };
    let command = format!(
        "dryfilm converge {} --seeds {} --max-seeds {} --confirm-seeds {}{only}",
        args.scenario.display(),
        args.seeds,
        args.max_seeds,
        confirm_seeds
    );
    let opts = ConvergeOptions {
        out_dir: out.clone(),
        seeds_min: args.seeds,
        seeds_max: args.max_seeds,
        seeds_confirm: confirm_seeds,
        seed_step: args.seed_step,
        threads: args.threads,
        only: args.only.clone(),
    };
    let scenario = args.scenario.display().to_string();
    let table = converge(
        &loaded.raw,
        &scenario,
        &command,
        &dryfilm_sim::sweep::PipelineRunner,
        &opts,
        &progress,
    )
    .with_context(|| format!("convergence study into {}", out.display()))?;
    bar.finish_and_clear();
    print!("{}", table.markdown(&command));
    Ok(())
}
