//! The whole run of a scenario into an output folder: process stages, snapshots, property solvers,
//! `result.json`, `manifest.json`. Everything is written into a hidden temporary folder beside the
//! output folder and renamed into place at the end, so a failed or killed run leaves nothing partial.

use crate::process::{FilmSim, ProcessError, Progress, StageSummary};
use crate::results::RunResult;
use crate::scenario::{Loaded, Product};
use crate::snapshot::Snapshot;
use crate::solvers::{continuity, network, tensile, voxel};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Errors of a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Process simulation failed.
    #[error("process: {0}")]
    Process(#[from] ProcessError),
    /// A solver failed.
    #[error("{solver}: {message}")]
    Solver {
        /// Which solver.
        solver: &'static str,
        /// What happened.
        message: String,
    },
    /// Writing output failed.
    #[error("writing {path}: {message}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        message: String,
    },
}

/// Wraps an error of `solver` as [`RunError::Solver`].
fn solver_error<E: std::fmt::Display>(solver: &'static str) -> impl FnOnce(E) -> RunError {
    move |e| RunError::Solver {
        solver,
        message: e.to_string(),
    }
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Write `text` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, text: &[u8]) -> Result<(), RunError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// What `result.json` holds.
    pub result: RunResult,
    /// Output folder.
    pub dir: PathBuf,
    /// Stage summaries.
    pub stages: Vec<StageSummary>,
}

/// Options of a run.
pub struct RunOptions<'a> {
    /// Worker threads the run was started with (recorded in the manifest).
    pub threads: usize,
    /// Progress callback (stage, fraction).
    pub progress: Progress<'a>,
    /// Draws the scenario's images and writes its 3D exports (`output` section) into the run
    /// folder; `None` draws nothing. `dryfilm run` passes [`crate::render::render_run`].
    pub render: Option<Renderer<'a>>,
}

/// What a run hands its renderer: the stage snapshots, the solver outputs its maps show, the
/// scenario's `output` section and the folder to draw into.
pub struct RenderJob<'a> {
    /// The snapshots of the stages, in order.
    pub snapshots: &'a [Snapshot],
    /// Node potentials of the through-plane ionic solve, V (one per particle, NaN off-network).
    pub potentials: &'a [f64],
    /// PTFE cluster of each particle (`None` for NPS).
    pub ptfe_particle_cluster: &'a [Option<u32>],
    /// PTFE cluster of each fibril (`solvers::continuity::NO_CLUSTER` when not intact).
    pub fibril_cluster: &'a [u32],
    /// The clusters that span the film.
    pub spanning_clusters: &'a [u32],
    /// The scenario's `output` section (what to draw).
    pub output: &'a crate::scenario::raw::RawOutput,
    /// Folder of the images and exports (created by the renderer).
    pub dir: &'a Path,
}

/// Draws a run's images and exports from a [`RenderJob`]; errors are messages. Injected through
/// [`RunOptions::render`] so that the pipeline does not depend on the renderer.
pub type Renderer<'a> = &'a (dyn Fn(&RenderJob) -> Result<(), String> + Sync);

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Run a loaded scenario into `out` (created or replaced as a whole at the end).
pub fn run_to_dir(loaded: &Loaded, out: &Path, opts: &RunOptions) -> Result<RunOutput, RunError> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    let name = out
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "run".into());
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("snapshots")).map_err(|e| io_err(&tmp, e))?;
    let res = run_inner(loaded, &tmp, opts);
    match res {
        Ok((result, stages)) => {
            if out.exists() {
                std::fs::remove_dir_all(out).map_err(|e| io_err(out, e))?;
            }
            std::fs::rename(&tmp, out).map_err(|e| io_err(out, e))?;
            Ok(RunOutput {
                result,
                dir: out.to_path_buf(),
                stages,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn save_snap(snap: &Snapshot, dir: &Path, file: &str) -> Result<(), RunError> {
    let p = dir.join("snapshots").join(file);
    snap.save(&p).map_err(|e| io_err(&p, e))
}

fn write_json(dir: &Path, file: &str, v: &impl serde::Serialize) -> Result<(), RunError> {
    let p = dir.join(file);
    let text = serde_json::to_string_pretty(v).map_err(|e| io_err(&p, e))?;
    write_atomic(&p, text.as_bytes())
}

fn run_inner(
    loaded: &Loaded,
    dir: &Path,
    opts: &RunOptions,
) -> Result<(RunResult, Vec<StageSummary>), RunError> {
    let s = &loaded.scenario;
    let t_all = Instant::now();
    let mut timings = serde_json::Map::new();
    let t = Instant::now();
    let mut sim = FilmSim::new(s)?;
    timings.insert("setup".into(), json!(t.elapsed().as_secs_f64()));
    let mut stages = Vec::new();
    let mut snaps: Vec<Snapshot> = Vec::new();
    let mut k = 1;
    let stage_done = |k: &mut usize,
                      sim: &mut FilmSim,
                      summary: StageSummary,
                      snaps: &mut Vec<Snapshot>,
                      stages: &mut Vec<StageSummary>,
                      timings: &mut serde_json::Map<String, Value>|
     -> Result<(), RunError> {
        let snap = sim.snapshot(&summary.stage);
        save_snap(
            &snap,
            dir,
            &format!("{k:02}_{}.snap.json.gz", summary.stage.replace(' ', "_")),
        )?;
        write_json(
            dir,
            &format!("summary_{}.json", summary.stage.replace(' ', "_")),
            &summary,
        )?;
        timings.insert(summary.stage.clone(), json!(summary.wall_seconds));
        snaps.push(snap);
        stages.push(summary);
        *k += 1;
        Ok(())
    };
    let mixing = sim.mixing(opts.progress)?;
    stage_done(
        &mut k,
        &mut sim,
        mixing,
        &mut snaps,
        &mut stages,
        &mut timings,
    )?;
    match s.product {
        Product::Film => {
            let f = sim.fibrillation(opts.progress)?;
            stage_done(&mut k, &mut sim, f, &mut snaps, &mut stages, &mut timings)?;
            let c = sim.calender(opts.progress)?;
            for ps in std::mem::take(&mut sim.pass_snapshots) {
                save_snap(&ps, dir, &format!("{k:02}_{}.snap.json.gz", ps.stage))?;
                k += 1;
                snaps.push(ps);
            }
            stage_done(&mut k, &mut sim, c, &mut snaps, &mut stages, &mut timings)?;
        }
        Product::Pellet => {
            let p = sim.pellet(opts.progress)?;
            stage_done(&mut k, &mut sim, p, &mut snaps, &mut stages, &mut timings)?;
        }
    }
    let last = snaps.last().expect("at least one stage ran").clone();
    // Property solvers on the final snapshot.
    (opts.progress)("solvers", 0.0);
    let t = Instant::now();
    let tol = s.properties.solver_tolerance;
    let sz = network::ionic_conductivity(&last, network::Direction::Z, tol)
        .map_err(solver_error("ionic conductivity (through-plane)"))?;
    let sx = network::ionic_conductivity(&last, network::Direction::X, tol)
        .map_err(solver_error("ionic conductivity (MD)"))?;
    let sy = network::ionic_conductivity(&last, network::Direction::Y, tol)
        .map_err(solver_error("ionic conductivity (TD)"))?;
    timings.insert("solver_network".into(), json!(t.elapsed().as_secs_f64()));
    (opts.progress)("solvers", 0.3);
    let t = Instant::now();
    let cp = continuity::ContinuityParams {
        wrap_fraction: s.ptfe.wrap_fraction,
        ..Default::default()
    };
    let cont = continuity::analyze(&last, &cp).map_err(solver_error("PTFE continuity"))?;
    let el = continuity::electronic_conductivity(&last, &cont, &cp, tol)
        .map_err(solver_error("electronic conductivity"))?;
    timings.insert("solver_continuity".into(), json!(t.elapsed().as_secs_f64()));
    (opts.progress)("solvers", 0.4);
    // Voxel cross-check of the through-plane ionic transport (TauFactor convention, NPS phase).
    let t = Instant::now();
    let vol =
        voxel::voxelize(&last, s.properties.voxel_size).map_err(solver_error("voxelization"))?;
    let vopts = voxel::SolveOptions {
        rel_tol: tol.max(1e-6),
        ..Default::default()
    };
    let vr = voxel::solve(&vol, &vopts).map_err(solver_error("voxel conductivity"))?;
    // σ_eff ≈ σ_bulk · D_eff (voxels carry no contact constriction: an upper bound to the network value).
    let vjson = json!({
        "voxel_size_um": s.properties.voxel_size * 1e6,
        "dims": vol.dims,
        "volume_fraction": vr.volume_fraction,
        "d_eff": vr.d_eff,
        "tortuosity_factor": vr.tortuosity_factor,
        "percolates": vr.percolates,
        "iterations": vr.iterations,
        "sigma_ion_voxel_S_cm": s.nps.sigma_ion_bulk * 0.01 * vr.d_eff,
    });
    write_json(dir, "voxel_conductivity.json", &vjson)?;
    timings.insert("solver_voxel".into(), json!(t.elapsed().as_secs_f64()));
    (opts.progress)("solvers", 0.5);
    let t = Instant::now();
    let (mut ts_md, mut ts_td) = (None, None);
    if s.properties.tensile {
        let tp = tensile::TensileParams {
            strain_step: s.properties.tensile_strain_step,
            ..Default::default()
        };
        for (axis, slot, file) in [
            (tensile::Axis::X, &mut ts_md, "tensile_md.csv"),
            (tensile::Axis::Y, &mut ts_td, "tensile_td.csv"),
        ] {
            let r =
                tensile::tensile_test(&last, axis, &tp).map_err(solver_error("tensile test"))?;
            write_atomic(&dir.join(file), r.to_csv().as_bytes())?;
            *slot = Some(r.peak_stress_pa * 1e-3);
        }
    }
    timings.insert("solver_tensile".into(), json!(t.elapsed().as_secs_f64()));
    (opts.progress)("solvers", 1.0);
    let fin = stages.last().expect("stage");
    let fib = stages
        .iter()
        .rev()
        .find(|x| x.stage == "calender")
        .unwrap_or(fin);
    let result = RunResult {
        fibril_count: fib.fibrils_intact,
        fibril_mean_length_um: fib.fibril_mean_length_um,
        fibril_orientation_md: fib.fibril_orientation_md,
        fibril_strands: fib.fibril_strands,
        ion_percolates: sz.percolates,
        nps_particles: fin.nps_particles,
        product: format!("{:?}", s.product),
        ptfe_clusters: cont.n_clusters,
        ptfe_fibrillated_fraction: fib.ptfe_fibrillated_fraction,
        ptfe_particles: fin.ptfe_particles,
        ptfe_spanning: cont.spanning,
        ptfe_wt_pct: sim.achieved_wt_pct,
        relative_density: fin.relative_density,
        scenario: s.name.clone(),
        seed: s.seed,
        short_circuit: el.short_circuit,
        sigma_e_s_cm: el.sigma_e_s_cm,
        sigma_ion_s_cm: sz.sigma_s_cm,
        sigma_ion_md_s_cm: sx.sigma_s_cm,
        sigma_ion_td_s_cm: sy.sigma_s_cm,
        sigma_ion_voxel_s_cm: s.nps.sigma_ion_bulk * 0.01 * vr.d_eff,
        tensile_strength_md_kpa: ts_md,
        tensile_strength_td_kpa: ts_td,
        thickness_um: last.thickness() * 1e6,
        tortuosity_factor: vr.tortuosity_factor,
    };
    let draw = loaded.raw.output.images || loaded.raw.output.exports;
    if let Some(render) = opts.render.filter(|_| draw) {
        (opts.progress)("images and exports", 0.0);
        let t = Instant::now();
        let job = RenderJob {
            snapshots: &snaps,
            potentials: &sz.potentials,
            ptfe_particle_cluster: &cont.ptfe_particle_cluster,
            fibril_cluster: &cont.fibril_cluster,
            spanning_clusters: &cont.spanning_clusters,
            output: &loaded.raw.output,
            dir: &dir.join("images"),
        };
        render(&job).map_err(|message| RunError::Solver {
            solver: "images and exports",
            message,
        })?;
        timings.insert("images_exports".into(), json!(t.elapsed().as_secs_f64()));
        (opts.progress)("images and exports", 1.0);
    }
    write_json(dir, "result.json", &result)?;
    timings.insert("total".into(), json!(t_all.elapsed().as_secs_f64()));
    let manifest = json!({
        "dryfilm_version": env!("CARGO_PKG_VERSION"),
        "scenario": s.name,
        "scenario_sha256": loaded.hash,
        "seed": s.seed,
        "threads": opts.threads,
        "stage_wall_seconds": timings,
        "peak_memory_mb": peak_rss_mb(),
        "dem_steps": sim.dem().step,
        "dt_s": sim.dem().dt,
        "particles": sim.dem().p.len(),
    });
    write_json(dir, "manifest.json", &manifest)?;
    std::fs::write(dir.join("scenario.ron"), &loaded.text).map_err(|e| io_err(dir, e))?;
    Ok((result, stages))
}
