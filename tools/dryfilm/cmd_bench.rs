//! `dryfilm bench dem`: the DEM anchor benchmark (throughput and correctness figures).

use anyhow::Context;
use dryfilm_sim::dem::{bench, lammps};
use std::path::PathBuf;

/// Arguments of `dryfilm bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which benchmark.
    #[command(subcommand)]
    which: Which,
}

#[derive(clap::Subcommand, Debug)]
enum Which {
    /// Calendering-like compression of Hertz–Mindlin spheres (the DEM anchor problem).
    Dem(DemArgs),
}

#[derive(clap::Args, Debug)]
struct DemArgs {
    /// Start from this LAMMPS/LIGGGHTS data file (plain or .gz) instead of a generated packing.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Particles of the generated packing.
    #[arg(long, default_value_t = 20000)]
    n: usize,
    /// Steps to run.
    #[arg(long, default_value_t = 5000)]
    steps: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Seed of the generated packing.
    #[arg(long, default_value_t = 12345)]
    seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Repeat the packing K × K times in x and y (a K²-fold problem with the same local
    /// structure; with --data, the anchor file tiled).
    #[arg(long, default_value_t = 1)]
    tile: usize,
    /// Also integrate particle orientations (not needed by the problem; off like in LIGGGHTS's
    /// nve/sphere). Positions and velocities are the same either way.
    #[arg(long)]
    orientations: bool,
}

/// Entry point of `dryfilm bench`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.which {
        Which::Dem(a) => dem(a),
    }
}

fn dem(a: DemArgs) -> anyhow::Result<()> {
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    anyhow::ensure!(threads >= 1, "--threads must be at least 1");
    anyhow::ensure!(a.n >= 100, "--n = {} must be at least 100", a.n);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("building the thread pool")?;
    let t_all = std::time::Instant::now();
    let data = match &a.data {
        Some(p) => lammps::read_data_file(p)
            .with_context(|| format!("reading data file {}", p.display()))?,
        None => pool
            .install(|| bench::generate_anchor_packing(a.n, a.seed))
            .context("generating the packing")?,
    };
    anyhow::ensure!(a.tile >= 1, "--tile must be at least 1");
    let data = if a.tile > 1 {
        bench::tile_packing(&data, a.tile)
    } else {
        data
    };
    let checks = bench::single_contact_checks();
    let mut dem = bench::anchor_engine(&data);
    dem.orientations = a.orientations;
    let r = pool.install(|| bench::run_anchor(&mut dem, a.steps))?;
    let total = t_all.elapsed().as_secs_f64();
    let checks_ok = checks.iter().all(|(_, g, w)| (g / w - 1.0).abs() < 1e-9);
    // The anchors' end state after 5000 steps (dem-anchor.md): φ = 0.5793, Z = 4.26–4.28.
    let full = a.steps == 5000 && a.data.is_some() && a.tile == 1;
    if a.json {
        let v = serde_json::json!({
            "benchmark": "dem-anchor",
            "source": a.data.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| format!("generated n={} seed={}", a.n, a.seed)),
            "tile": a.tile,
            "particle_steps_per_s": r.particle_steps_per_s,
            "loop_seconds": r.loop_seconds,
            "total_seconds": total,
            "threads": threads,
            "orientations": a.orientations,
            "n": r.n, "steps": r.steps,
            "solid_fraction": r.solid_fraction,
            "coordination": r.coordination,
            "rattler_fraction": r.rattler_fraction,
            "mean_overlap_rel": r.mean_overlap_rel,
            "max_overlap_rel": r.max_overlap_rel,
            "rebuilds": r.rebuilds,
            "state_digest": r.state_digest,
            "phase_seconds": {
                "initial_integrate": r.phase_seconds[0],
                "neighbour_rebuild": r.phase_seconds[1],
                "contact_forces": r.phase_seconds[2],
                "final_integrate": r.phase_seconds[3],
            },
            "single_contact_checks_pass": checks_ok,
            "single_contacts": checks.iter().map(|(l, g, w)| serde_json::json!({"case": l, "force_N": g, "anchor_N": w, "rel_err": (g / w - 1.0).abs()})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "DEM anchor benchmark: {} particles, {} steps, {} thread(s)",
            r.n, r.steps, threads
        );
        println!("  throughput        {:.3e} particle-steps/s  (loop {:.2} s, whole run {:.2} s, {} rebuilds)", r.particle_steps_per_s, r.loop_seconds, total, r.rebuilds);
        println!("  single contacts (must match the anchors to 1e-9 relative):");
        for (l, g, w) in &checks {
            println!(
                "    {l:<24} {g:.10e} N  anchor {w:.10e} N  rel.err {:.1e}",
                (g / w - 1.0).abs()
            );
        }
        let ph = r.phase_seconds;
        println!(
            "  phases            integrate {:.2} s, neighbour check/rebuild {:.2} s, contact forces {:.2} s, final integrate {:.2} s",
            ph[0], ph[1], ph[2], ph[3]
        );
        println!("  state digest      {}", r.state_digest);
        println!("  end state         solid fraction {:.4}  coordination {:.3}  rattlers {:.1}%  overlap mean {:.2}% max {:.2}% of R*", r.solid_fraction, r.coordination, 100.0 * r.rattler_fraction, 100.0 * r.mean_overlap_rel, 100.0 * r.max_overlap_rel);
        if full {
            println!("  anchors' end state: solid fraction 0.5793, coordination 4.26–4.28, ~6.5% rattlers, overlap mean ~1.3% max 7–8.5%");
        }
    }
    anyhow::ensure!(
        checks_ok,
        "single-contact forces differ from the anchors' values by more than 1e-9 relative"
    );
    Ok(())
}
