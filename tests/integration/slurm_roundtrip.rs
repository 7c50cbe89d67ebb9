//! The Slurm path end to end on a real single-node Slurm: `tools/slurm/start.sh` installs and
//! starts munge, slurmctld and slurmd; `dryfilm sweep --emit-slurm` writes the array script;
//! `sbatch --parsable` submits it; `squeue` is polled until the array is gone; `dryfilm merge`
//! collects the tasks; the result must equal the same sweep run locally, bit for bit.
//! `tools/slurm/stop.sh` stops the daemons (by their recorded PIDs) even when the test fails.
//!
//! The cluster is self-contained (configuration, state and logs in `tools/slurm/start.sh`'s state
//! folder; clients get `SLURM_CONF`): the test checks that `/etc/slurm/slurm.conf` is left as it
//! was. Needs root (CI runs as root). Every point is a real run of the whole pipeline (process stages and
//! all solvers) on a tiny film (20 × 20 µm, ~15 µm thick), so the cluster path is checked with the
//! same code a user's sweep runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::cli::dryfilm_ok as dryfilm;
use crate::support::sweep::{assert_same_tree, temp_dir, write_sweep};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Stops the daemons when dropped (also on panic).
struct SlurmGuard;

impl Drop for SlurmGuard {
    fn drop(&mut self) {
        let st = Command::new("bash")
            .arg(repo().join("tools/slurm/stop.sh"))
            .status();
        if !matches!(st, Ok(s) if s.success()) {
            eprintln!("tools/slurm/stop.sh failed: {st:?}");
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Base scenario of the round trip: the full process and every solver on a tiny film.
const TINY_FILM: &str = r#"(
    name: "tiny",
    seed: 1,
    powder: (
        nps: (d50_um: 4.0, gsd: 1.3, d_min_um: 3.0, d_max_um: 6.0),
        ptfe: (wt_pct: 2.0, lump_diameter_um: 2.0),
    ),
    domain: (lx_um: 20.0, ly_um: 20.0, mass_loading_mg_cm2: 2.5, initial_solid_fraction: 0.35),
    mixing: (shear_rate_per_s: 2000.0, shear_strain: 0.1, confining_pressure_kpa: 300.0),
    fibrillation: (temperature_c: 90.0, shear_rate_per_s: 4000.0, shear_strain: 0.8, confining_pressure_kpa: 1000.0),
    calender: (gaps: List([22.0, 16.0]), target_thickness_um: 15.0, strain_rate_per_s: 5000.0),
    numerics: (mass_scaling: 1.0e6, relax_steps: 300, max_inertial_number: 0.05),
    properties: (voxel_size_um: 1.0, tensile_strain_step: 0.02),
    output: (images: false, exports: false),
)
"#;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn slurm_array_then_merge_equals_local_run() {
    if !is_root() {
        eprintln!("skipped: the Slurm round trip needs root (it installs and starts Slurm)");
        return;
    }
    let d = temp_dir("slurm-roundtrip");
    std::fs::copy(repo().join("data/measured.ron"), d.join("measured.ron")).unwrap();
    let spec = write_sweep(
        &d,
        r#"
    name: "slurm_rt",
    axes: [(path: "powder.ptfe.wt_pct", values: List([0.2, 2.0, 5.0]))],
    seeds: [1, 2],
    measured: "measured.ron",
"#,
    );
    // A tiny real film (a couple of seconds per point in a release build).
    std::fs::write(d.join("base.ron"), TINY_FILM).unwrap();

    // The test cluster keeps everything in its own state folder: it must not write the machine's
    // Slurm configuration (absent before means absent after; present means unchanged).
    let etc_conf = Path::new("/etc/slurm/slurm.conf");
    let etc_before = std::fs::read(etc_conf).ok();
    let start = Command::new("bash")
        .arg(repo().join("tools/slurm/start.sh"))
        .output()
        .unwrap();
    let _guard = SlurmGuard;
    assert!(
        start.status.success(),
        "tools/slurm/start.sh failed:\n{}",
        String::from_utf8_lossy(&start.stderr)
    );
    assert_eq!(
        std::fs::read(etc_conf).ok(),
        etc_before,
        "tools/slurm/start.sh wrote {}",
        etc_conf.display()
    );
    // Its last line names the clients' configuration.
    let stdout = String::from_utf8_lossy(&start.stdout);
    let conf = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("SLURM_CONF="))
        .unwrap_or_else(|| panic!("start.sh printed no SLURM_CONF line:\n{stdout}"))
        .to_string();
    assert!(Path::new(&conf).is_file(), "{conf}");
    // A second test cluster beside a controller it did not start is refused, naming that one.
    let other = Command::new("bash")
        .arg(repo().join("tools/slurm/start.sh"))
        .env("DRYFILM_SLURM_STATE", d.join("other-state"))
        .output()
        .unwrap();
    let why = String::from_utf8_lossy(&other.stderr);
    assert!(
        !other.status.success() && why.contains("a slurmctld not started by this script"),
        "{why}"
    );

    let cluster = d.join("cluster");
    let o = dryfilm([
        "sweep",
        s(&spec),
        "--out",
        s(&cluster),
        "--emit-slurm",
        "--quiet",
    ]);
    let script_path = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    let script = std::fs::read_to_string(&script_path).unwrap();
    assert!(script.contains("#SBATCH --array=0-5\n"), "{script}");

    let sub = Command::new("sbatch")
        .env("SLURM_CONF", &conf)
        .arg("--parsable")
        .arg(&script_path)
        .current_dir(&d)
        .output()
        .expect("sbatch");
    assert!(
        sub.status.success(),
        "sbatch: {}",
        String::from_utf8_lossy(&sub.stderr)
    );
    let job = String::from_utf8_lossy(&sub.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(job.parse::<u64>().is_ok(), "job id {job:?}");

    let t0 = Instant::now();
    loop {
        let q = Command::new("squeue")
            .env("SLURM_CONF", &conf)
            .args(["-h", "-j", &job])
            .output()
            .expect("squeue");
        if q.status.success() && q.stdout.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(180),
            "array {job} still queued after 180 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    for i in 0..6 {
        let log = cluster.join(format!("logs/task_{i}.out"));
        assert!(log.is_file(), "no log of array task {i}");
    }
    dryfilm(["merge", s(&cluster), "--quiet"]);
    // Real results: one row per point and seed, each with a positive through-plane conductivity.
    let csv = std::fs::read_to_string(cluster.join("summary.csv")).expect("summary.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "sigma_ion_S_cm")
        .expect("sigma_ion_S_cm column");
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(rows.len(), 6, "{csv}");
    for r in &rows {
        let v: f64 = r.split(',').nth(col).unwrap().parse().expect("number");
        assert!(v > 0.0 && v.is_finite(), "σ {v} in {r}");
    }

    let local = d.join("local");
    dryfilm(["sweep", s(&spec), "--out", s(&local), "--quiet"]);
    assert_same_tree(&local, &cluster);
}
