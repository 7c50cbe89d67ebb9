//! `dryfilm`: command-line front end of the dry-film process simulator.
//!
//! Subcommands: `run`, `check`, `bench`, `conductivity`, `render`, `sweep`, `merge`, `calibrate`,
//! `converge`.
//! Every error is printed with its context and exits non-zero; nothing panics on user input.

use clap::{Parser, Subcommand};

mod cmd_bench;
mod cmd_calibrate;
mod cmd_check;
mod cmd_conductivity;
mod cmd_converge;
mod cmd_merge;
mod cmd_render;
mod cmd_run;
mod cmd_sweep;
mod sweep_table;

/// Mesoscale process simulator for dry-processed Na3PS4/PTFE solid-electrolyte films.
#[derive(Parser, Debug)]
#[command(name = "dryfilm", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario through every stage and the property solvers.
    Run(cmd_run::Args),
    /// Validate a scenario file without running it.
    Check(cmd_check::Args),
    /// Benchmarks (`dryfilm bench dem`, `dryfilm bench tensile`).
    Bench(cmd_bench::Args),
    /// Voxel ionic-conductivity solve on a volume (TIFF stack, .npy or raw).
    Conductivity(cmd_conductivity::Args),
    /// Render cross-sections and 3D exports from a saved snapshot.
    Render(cmd_render::Args),
    /// Run, list or emit a Slurm array for a parameter sweep.
    Sweep(cmd_sweep::Args),
    /// Merge the per-task outputs of a sweep into summary tables and plots.
    Merge(cmd_merge::Args),
    /// Fit model parameters to measured points.
    Calibrate(cmd_calibrate::Args),
    /// Convergence study: change each numerical knob on its own around a scenario, compare with
    /// the baseline over paired seeds, write a PASS/FAIL table.
    Converge(cmd_converge::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run::run(a),
        Command::Check(a) => cmd_check::run(a),
        Command::Bench(a) => cmd_bench::run(a),
        Command::Conductivity(a) => cmd_conductivity::run(a),
        Command::Render(a) => cmd_render::run(a),
        Command::Sweep(a) => cmd_sweep::run(a),
        Command::Merge(a) => cmd_merge::run(a),
        Command::Calibrate(a) => cmd_calibrate::run(a),
        Command::Converge(a) => cmd_converge::run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
