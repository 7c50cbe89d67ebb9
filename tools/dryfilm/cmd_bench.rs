//! `dryfilm bench dem`: the DEM anchor benchmark (throughput and correctness figures).
//! `dryfilm bench tensile`: the reduced tensile test on a finished run's film (time and peak).

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
    /// The reduced tensile test on the final film of a finished run (`dryfilm run` folder): wall
    /// time (median of the repeats), peak stress and the relaxations it took.
    Tensile(TensileArgs),
}

#[derive(clap::Args, Debug)]
struct TensileArgs {
    /// Folder of a finished `dryfilm run` (its `scenario.ron` and last snapshot are read).
    run: PathBuf,
    /// Test direction: md or td.
    #[arg(long, default_value = "md")]
    axis: String,
    /// Times to run the test (the median time is reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Override the stop fraction of the peak (`TensileParams::stop_fraction`, default 0.2).
    #[arg(long)]
    stop_fraction: Option<f64>,
    /// Override the stop strain window (`TensileParams::stop_strain_window`, default 0.05).
    #[arg(long)]
    stop_strain_window: Option<f64>,
    /// Override the largest strain step (default: the run's `properties.tensile_strain_step`).
    #[arg(long)]
    strain_step: Option<f64>,
    /// Override the load-ratio overshoot tolerance (`TensileParams::overshoot_tolerance`, 0.02).
    #[arg(long)]
    overshoot_tolerance: Option<f64>,
    /// Override the relaxation force tolerance (`TensileParams::force_tolerance`, 1e-4).
    #[arg(long)]
    force_tolerance: Option<f64>,
    /// Relax between an avalanche's break rounds to this force tolerance only
    /// (`TensileParams::avalanche_force_tolerance`; default: the force tolerance).
    #[arg(long)]
    avalanche_tolerance: Option<f64>,
    /// Also write the last repeat's stress–strain curve to this CSV file (strain, stress_kPa).
    #[arg(long)]
    curve: Option<PathBuf>,
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
        Which::Tensile(a) => tensile_bench(a),
    }
}

/// Thread pool of `threads` workers (default: all cores).
fn pool(threads: Option<usize>) -> anyhow::Result<(rayon::ThreadPool, usize)> {
    let threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    anyhow::ensure!(threads >= 1, "--threads must be at least 1");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("building the thread pool")?;
    Ok((pool, threads))
}

fn tensile_bench(a: TensileArgs) -> anyhow::Result<()> {
    use dryfilm_sim::solvers::tensile;
    let axis = match a.axis.as_str() {
        "md" => tensile::Axis::X,
        "td" => tensile::Axis::Y,
        other => anyhow::bail!("--axis = {other:?}: allowed md or td"),
    };
    anyhow::ensure!(a.repeats >= 1, "--repeats must be at least 1");
    let (pool, threads) = pool(a.threads)?;
    let loaded = dryfilm_sim::scenario::load_file(&a.run.join("scenario.ron"))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("reading the run's scenario in {}", a.run.display()))?;
    let snaps = a.run.join("snapshots");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&snaps)
        .with_context(|| format!("listing {}", snaps.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".snap.json.gz"))
        .collect();
    files.sort();
    let last = files
        .last()
        .with_context(|| format!("no snapshot in {}", snaps.display()))?;
    let snap = dryfilm_sim::snapshot::Snapshot::load(last)
        .with_context(|| format!("reading {}", last.display()))?;
    let mut params = tensile::TensileParams {
        strain_step: loaded.scenario.properties.tensile_strain_step,
        ..Default::default()
    };
    if let Some(f) = a.stop_fraction {
        anyhow::ensure!(
            (0.0..1.0).contains(&f),
            "--stop-fraction = {f}: allowed [0, 1)"
        );
        params.stop_fraction = f;
    }
    let positive = |name: &str, v: Option<f64>, slot: &mut f64| -> anyhow::Result<()> {
        if let Some(v) = v {
            anyhow::ensure!(v > 0.0 && v.is_finite(), "--{name} = {v}: allowed > 0");
            *slot = v;
        }
        Ok(())
    };
    positive(
        "stop-strain-window",
        a.stop_strain_window,
        &mut params.stop_strain_window,
    )?;
    positive("strain-step", a.strain_step, &mut params.strain_step)?;
    positive(
        "overshoot-tolerance",
        a.overshoot_tolerance,
        &mut params.overshoot_tolerance,
    )?;
    positive(
        "force-tolerance",
        a.force_tolerance,
        &mut params.force_tolerance,
    )?;
    // Its range ([force tolerance, 0.1]) is checked by the tensile test itself.
    params.avalanche_force_tolerance = a.avalanche_tolerance;
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..a.repeats {
        let t = std::time::Instant::now();
        let r = pool
            .install(|| tensile::tensile_test(&snap, axis, &params))
            .context("tensile test")?;
        times.push(t.elapsed().as_secs_f64());
        result = Some(r);
    }
    let r = result.context("no repeat ran")?;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    if let Some(path) = &a.curve {
        std::fs::write(path, dryfilm_sim::pipeline::curve_csv(&r.curve))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let (w, wp) = (r.work, r.work_at_peak);
    let last_strain = r.curve.strain.last().copied().unwrap_or(0.0);
    if a.json {
        let v = serde_json::json!({
            "benchmark": "tensile",
            "run": a.run.display().to_string(),
            "snapshot": last.display().to_string(),
            "axis": a.axis,
            "threads": threads,
            "seconds_median": median,
            "seconds": times,
            "peak_stress_kPa": r.curve.peak_stress_pa * 1e-3,
            "strain_at_peak": r.curve.strain_at_peak,
            "points": r.curve.strain.len(),
            "relaxations": w.relaxations,
            "iterations": w.iterations,
            "unconverged": w.unconverged,
            "retries": w.retries,
            "avalanche_relaxations": w.avalanche,
            "final_strain": last_strain,
            "failed": r.failed,
            "relaxations_to_peak": wp.relaxations,
            "iterations_to_peak": wp.iterations,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "tensile test ({}) on {}: {} thread(s), {} repeat(s)",
            a.axis,
            last.display(),
            threads,
            a.repeats
        );
        println!(
            "  time              {median:.2} s median ({:.2}–{:.2} s)",
            times[0],
            times[times.len() - 1]
        );
        println!(
            "  peak stress       {:.2} kPa at strain {:.4} ({} curve points)",
            r.curve.peak_stress_pa * 1e-3,
            r.curve.strain_at_peak,
            r.curve.strain.len()
        );
        println!(
            "  relaxations       {} ({} FIRE iterations, {} at the iteration cap): {} retried \
             steps, {} after breaks",
            w.relaxations, w.iterations, w.unconverged, w.retries, w.avalanche
        );
        println!(
            "  to the peak       {} relaxations ({} FIRE iterations); the test ended at strain \
             {last_strain:.4} ({})",
            wp.relaxations,
            wp.iterations,
            if r.failed { "failed" } else { "maximum strain" }
        );
    }
    Ok(())
}

fn dem(a: DemArgs) -> anyhow::Result<()> {
    let (pool, threads) = pool(a.threads)?;
    anyhow::ensure!(a.n >= 100, "--n = {} must be at least 100", a.n);
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
