//! The whole run of a scenario into an output folder: process stages, snapshots, property solvers,
//! `result.json`, `manifest.json`. Everything is written into a hidden temporary folder beside the
//! output folder and renamed into place at the end, so a failed or killed run leaves nothing partial.

use crate::process::stages::tensile::StretchTest;
use crate::process::{FilmSim, ProcessError, Progress, StageSummary};
use crate::results::RunResult;
use crate::scenario::raw::TensileMechanics;
use crate::scenario::{Loaded, Product, Scenario};
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

/// What the stages left: their snapshots (in order, pass snapshots included) and summaries, and
/// the wall time of each part of the run, s (the manifest's `stage_wall_seconds`).
struct StageLog<'d> {
    dir: &'d Path,
    snaps: Vec<Snapshot>,
    stages: Vec<StageSummary>,
    timings: serde_json::Map<String, Value>,
}

impl StageLog<'_> {
    /// File name of the next snapshot: its number in the run and `name`.
    fn snap_file(&self, name: &str) -> String {
        format!("{:02}_{name}.snap.json.gz", self.snaps.len() + 1)
    }

    /// Saves a snapshot of `sim` after the stage `summary` describes, and the summary.
    fn stage_done(&mut self, sim: &mut FilmSim, summary: StageSummary) -> Result<(), RunError> {
        let snap = sim.snapshot(&summary.stage);
        let name = summary.stage.replace(' ', "_");
        save_snap(&snap, self.dir, &self.snap_file(&name))?;
        write_json(self.dir, &format!("summary_{name}.json"), &summary)?;
        self.timings
            .insert(summary.stage.clone(), json!(summary.wall_seconds));
        self.snaps.push(snap);
        self.stages.push(summary);
        Ok(())
    }

    /// Saves a snapshot taken inside a stage (a calender pass).
    fn inner_snapshot(&mut self, snap: Snapshot) -> Result<(), RunError> {
        save_snap(&snap, self.dir, &self.snap_file(&snap.stage))?;
        self.snaps.push(snap);
        Ok(())
    }

    /// Runs `f` and books its wall time under `name`.
    fn timed<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.timings
            .insert(name.into(), json!(t.elapsed().as_secs_f64()));
        out
    }
}

/// Runs the scenario's process stages (mixing, then fibrillation and calendering for a film or
/// pressing for a pellet), saving a snapshot and a summary after each.
fn run_stages(
    sim: &mut FilmSim,
    product: Product,
    log: &mut StageLog,
    progress: Progress,
) -> Result<(), RunError> {
    let mixing = sim.mixing(progress)?;
    log.stage_done(sim, mixing)?;
    match product {
        Product::Film => {
            let f = sim.fibrillation(progress)?;
            log.stage_done(sim, f)?;
            let c = sim.calender(progress)?;
            for ps in std::mem::take(&mut sim.pass_snapshots) {
                log.inner_snapshot(ps)?;
            }
            log.stage_done(sim, c)?;
        }
        Product::Pellet => {
            let p = sim.pellet(progress)?;
            log.stage_done(sim, p)?;
        }
    }
    Ok(())
}

/// What the property solvers found on the final snapshot.
struct Properties {
    /// Ionic network conductivity through the film (Z), along MD (X) and TD (Y).
    ionic: [network::NetworkConductivity; 3],
    cont: continuity::ContinuityResult,
    el: continuity::ElectronicResult,
    voxel: voxel::VoxelResult,
    /// Tensile strength along MD and TD, kPa (`None` when the scenario skips the test).
    tensile_kpa: [Option<f64>; 2],
}

/// Runs the property solvers on `last`: ionic network conductivity along Z, X and Y, PTFE
/// continuity and electronic conductivity, the voxel cross-check (written to
/// `voxel_conductivity.json`) and, if the scenario asks for it, the tensile test along MD and TD
/// (curves written to `tensile_md.csv` and `tensile_td.csv`): on `last` with the reduced
/// mechanics, or on a copy of `sim` each ([`FilmSim::fork`]) with the process's.
fn solve_properties(
    s: &Scenario,
    sim: &mut FilmSim,
    last: &Snapshot,
    log: &mut StageLog,
    progress: Progress,
) -> Result<Properties, RunError> {
    let dir = log.dir;
    progress("solvers", 0.0);
    let tol = s.properties.solver_tolerance;
    let ionic = log.timed("solver_network", || {
        let along = |d, name| network::ionic_conductivity(last, d, tol).map_err(solver_error(name));
        Ok::<_, RunError>([
            along(network::Direction::Z, "ionic conductivity (through-plane)")?,
            along(network::Direction::X, "ionic conductivity (MD)")?,
            along(network::Direction::Y, "ionic conductivity (TD)")?,
        ])
    })?;
    progress("solvers", 0.3);
    let (cont, el) = log.timed("solver_continuity", || {
        let cp = continuity::ContinuityParams {
            wrap_fraction: s.ptfe.wrap_fraction,
            ..Default::default()
        };
        let cont = continuity::analyze(last, &cp).map_err(solver_error("PTFE continuity"))?;
        let el = continuity::electronic_conductivity(last, &cont, &cp, tol)
            .map_err(solver_error("electronic conductivity"))?;
        Ok::<_, RunError>((cont, el))
    })?;
    progress("solvers", 0.4);
    // Voxel cross-check of the through-plane ionic transport (TauFactor convention, NPS phase).
    let voxel = log.timed("solver_voxel", || {
        let vol =
            voxel::voxelize(last, s.properties.voxel_size).map_err(solver_error("voxelization"))?;
        let vopts = voxel::SolveOptions {
            rel_tol: tol.max(1e-6),
            ..Default::default()
        };
        let vr = voxel::solve(&vol, &vopts).map_err(solver_error("voxel conductivity"))?;
        // σ_eff ≈ σ_bulk · D_eff (voxels carry no contact constriction: an upper bound to the
        // network value).
        let vjson = json!({
            "voxel_size_um": s.properties.voxel_size * 1e6,
            "dims": vol.dims,
            "volume_fraction": vr.volume_fraction,
            "d_eff": vr.d_eff,
            "tortuosity_factor": vr.tortuosity_factor,
            "percolates": vr.percolates,
            "iterations": vr.iterations,
            "sigma_ion_voxel_S_cm": s.nps.sigma_ion_bulk * 0.01 * vr.d_eff,
            "solid_fraction_profile": vol.solid_fraction_profile(10),
        });
        write_json(dir, "voxel_conductivity.json", &vjson)?;
        Ok::<_, RunError>(vr)
    })?;
    progress("solvers", 0.5);
    let tensile_kpa = log.timed("solver_tensile", || {
        let mut out = [None, None];
        if !s.properties.tensile {
            return Ok(out);
        }
        match s.properties.tensile_mechanics {
            TensileMechanics::Process => {
                for (axis, slot, file) in [(0, 0, "tensile_md.csv"), (1, 1, "tensile_td.csv")] {
                    let test = StretchTest {
                        axis,
                        ..StretchTest::default()
                    };
                    let c = sim.fork().tensile_process(&test, progress)?;
                    write_atomic(&dir.join(file), curve_csv(&c.curve).as_bytes())?;
                    out[slot] = Some(c.curve.peak_stress_pa * 1e-3);
                }
            }
            TensileMechanics::Reduced => {
                let tp = tensile::TensileParams {
                    strain_step: s.properties.tensile_strain_step,
                    ..Default::default()
                };
                // MD and TD at once: one test's relaxations are too short to keep two cores busy
                // (a full-thickness 2 wt% film's MD test takes as long on two threads as on
                // one), and each test's result does not depend on the threads it gets.
                let test = |axis| tensile::tensile_test(last, axis, &tp);
                let (md, td) = crate::par::without_hot_workers(|| {
                    rayon::join(|| test(tensile::Axis::X), || test(tensile::Axis::Y))
                });
                for (r, slot, file) in [(md, 0, "tensile_md.csv"), (td, 1, "tensile_td.csv")] {
                    let r = r.map_err(solver_error("tensile test"))?;
                    write_atomic(&dir.join(file), curve_csv(&r.curve).as_bytes())?;
                    out[slot] = Some(r.curve.peak_stress_pa * 1e-3);
                }
            }
        }
        Ok::<_, RunError>(out)
    })?;
    progress("solvers", 1.0);
    Ok(Properties {
        ionic,
        cont,
        el,
        voxel,
        tensile_kpa,
    })
}

/// The run's `result.json` from the stage summaries (the fibril figures after calendering, or
/// after the last stage when there is none), the final snapshot and the properties.
fn run_result(
    s: &Scenario,
    achieved_wt_pct: f64,
    stages: &[StageSummary],
    last: &Snapshot,
    pr: &Properties,
    warnings: &[String],
) -> RunResult {
    let fin = stages.last().expect("stage");
    let fib = stages
        .iter()
        .rev()
        .find(|x| x.stage == "calender")
        .unwrap_or(fin);
    let [sz, sx, sy] = &pr.ionic;
    let closure = stages
        .iter()
        .flat_map(|x| {
            std::iter::once(x.energy.closure_relative)
                .chain(x.passes.iter().map(|p| p.energy.closure_relative))
        })
        .filter(|c| c.is_finite())
        .fold(0.0, f64::max);
    RunResult {
        energy_closure_max: closure,
        fibril_count: fib.fibrils_intact,
        fibril_mean_length_um: fib.fibril_mean_length_um,
        fibril_orientation_md: fib.fibril_orientation_md,
        fibril_strands: fib.fibril_strands,
        ion_percolates: sz.percolates,
        nps_particles: fin.nps_particles,
        product: format!("{:?}", s.product),
        ptfe_clusters: pr.cont.n_clusters,
        ptfe_fibrillated_fraction: fib.ptfe_fibrillated_fraction,
        ptfe_particles: fin.ptfe_particles,
        ptfe_spanning: pr.cont.spanning,
        ptfe_wt_pct: achieved_wt_pct,
        relative_density: fin.relative_density,
        scenario: s.name.clone(),
        seed: s.seed,
        short_circuit: pr.el.short_circuit,
        sigma_e_s_cm: pr.el.sigma_e_s_cm,
        sigma_ion_s_cm: sz.sigma_s_cm,
        sigma_ion_md_s_cm: sx.sigma_s_cm,
        sigma_ion_td_s_cm: sy.sigma_s_cm,
        sigma_ion_voxel_s_cm: s.nps.sigma_ion_bulk * 0.01 * pr.voxel.d_eff,
        tensile_strength_md_kpa: pr.tensile_kpa[0],
        tensile_strength_td_kpa: pr.tensile_kpa[1],
        thickness_um: last.thickness() * 1e6,
        tortuosity_factor: pr.voxel.tortuosity_factor,
        warnings: warnings.to_vec(),
    }
}

/// Hands the stage snapshots and the solver outputs to the renderer, if the scenario asks for
/// images or exports and the run has a renderer.
fn render_outputs(
    loaded: &Loaded,
    opts: &RunOptions,
    log: &mut StageLog,
    snapshots: &[Snapshot],
    pr: &Properties,
) -> Result<(), RunError> {
    let draw = loaded.raw.output.images || loaded.raw.output.exports;
    let Some(render) = opts.render.filter(|_| draw) else {
        return Ok(());
    };
    (opts.progress)("images and exports", 0.0);
    let dir = log.dir.join("images");
    let drawn = log.timed("images_exports", || {
        render(&RenderJob {
            snapshots,
            potentials: &pr.ionic[0].potentials,
            ptfe_particle_cluster: &pr.cont.ptfe_particle_cluster,
            fibril_cluster: &pr.cont.fibril_cluster,
            spanning_clusters: &pr.cont.spanning_clusters,
            output: &loaded.raw.output,
            dir: &dir,
        })
    });
    drawn.map_err(|message| RunError::Solver {
        solver: "images and exports",
        message,
    })?;
    (opts.progress)("images and exports", 1.0);
    Ok(())
}

fn run_inner(
    loaded: &Loaded,
    dir: &Path,
    opts: &RunOptions,
) -> Result<(RunResult, Vec<StageSummary>), RunError> {
    let s = &loaded.scenario;
    let t_all = Instant::now();
    let mut log = StageLog {
        dir,
        snaps: Vec::new(),
        stages: Vec::new(),
        timings: serde_json::Map::new(),
    };
    let mut sim = log.timed("setup", || FilmSim::new(s))?;
    run_stages(&mut sim, s.product, &mut log, opts.progress)?;
    let snaps = std::mem::take(&mut log.snaps);
    let last = snaps.last().expect("at least one stage ran");
    let props = solve_properties(s, &mut sim, last, &mut log, opts.progress)?;
    let result = run_result(
        s,
        sim.achieved_wt_pct,
        &log.stages,
        last,
        &props,
        &sim.warnings,
    );
    render_outputs(loaded, opts, &mut log, &snaps, &props)?;
    write_json(dir, "result.json", &result)?;
    log.timings
        .insert("total".into(), json!(t_all.elapsed().as_secs_f64()));
    let manifest = json!({
        "dryfilm_version": env!("CARGO_PKG_VERSION"),
        "scenario": s.name,
        "scenario_sha256": loaded.hash,
        "seed": s.seed,
        "threads": opts.threads,
        "stage_wall_seconds": log.timings,
        "peak_memory_mb": peak_rss_mb(),
        "dem_steps": sim.dem().step,
        "dt_s": sim.dem().dt,
        "particles": sim.dem().p.len(),
    });
    write_json(dir, "manifest.json", &manifest)?;
    std::fs::write(dir.join("scenario.ron"), &loaded.text).map_err(|e| io_err(dir, e))?;
    Ok((result, log.stages))
}

/// A stress–strain curve as CSV with header `strain,stress_kPa`, one line per point (strain
/// dimensionless, stress in kPa): the content of `tensile_md.csv` and `tensile_td.csv`.
pub fn curve_csv(curve: &crate::results::StressStrainCurve) -> String {
    let header = ["strain".to_string(), "stress_kPa".to_string()];
    let rows = curve.strain.iter().zip(&curve.stress_pa);
    let rows = rows.map(|(e, p)| vec![e.to_string(), (p / 1e3).to_string()]);
    crate::fileio::csv_text(&header, rows)
}
