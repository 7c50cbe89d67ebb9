//! Same scenario and seed give bitwise-identical outputs on 1 and 2 threads (and 3), and the
//! tensile benchmark the same peak on the run's film.

use std::path::Path;

const SCENARIO: &str = r#"(
    name: "det",
    seed: 11,
    powder: (nps: (d50_um: 4.0, gsd: 1.4, d_min_um: 2.5, d_max_um: 7.0), ptfe: (wt_pct: 3.0)),
    domain: (lx_um: 30.0, ly_um: 30.0, mass_loading_mg_cm2: 3.0, initial_solid_fraction: 0.3),
    mixing: (shear_rate_per_s: 2000.0, shear_strain: 0.2, confining_pressure_kpa: 100.0),
    fibrillation: (temperature_c: 90.0, shear_rate_per_s: 4000.0, shear_strain: 1.0, confining_pressure_kpa: 300.0),
    calender: (gaps: List([30.0, 22.0]), target_thickness_um: 20.0),
    numerics: (mass_scaling: 1.0e6, relax_steps: 300),
    properties: (tensile: false),
    output: (images: false, exports: false),
)"#;

fn run(dir: &Path, threads: usize) -> std::path::PathBuf {
    run_text(dir, threads, SCENARIO)
}

/// Runs scenario `text` on `threads` threads into `dir/t<threads>`.
fn run_text(dir: &Path, threads: usize, text: &str) -> std::path::PathBuf {
    let scen = dir.join("det.ron");
    std::fs::write(&scen, text).unwrap();
    let out = dir.join(format!("t{threads}"));
    crate::support::cli::dryfilm_ok([
        "run",
        scen.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--threads",
        &threads.to_string(),
    ]);
    out
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(files(&p));
        } else {
            v.push(p);
        }
    }
    v.sort();
    v
}

#[test]
fn outputs_are_bitwise_identical_across_thread_counts() {
    let tmp = std::env::temp_dir().join(format!("dryfilm-det-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let a = run(&tmp, 1);
    for threads in [2, 3] {
        let b = run(&tmp, threads);
        let fa = files(&a);
        let fb = files(&b);
        assert_eq!(fa.len(), fb.len());
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(x.file_name(), y.file_name());
            // The manifest records thread count and timings; everything else must match byte for byte.
            if x.file_name().is_some_and(|n| {
                n == "manifest.json" || n.to_string_lossy().starts_with("summary_")
            }) {
                continue;
            }
            assert!(
                std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
                "{} differs between 1 and {threads} threads",
                x.display()
            );
        }
        // Summaries: identical except their wall-clock fields (the stage's and each pass's).
        for f in fa.iter().filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("summary_")
        }) {
            let strip = |p: &Path| {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
                let o = v.as_object_mut().unwrap();
                o.remove("wall_seconds");
                if let Some(passes) = o.get_mut("passes").and_then(|p| p.as_array_mut()) {
                    for pass in passes {
                        pass.as_object_mut().unwrap().remove("wall_seconds");
                    }
                }
                v
            };
            assert_eq!(strip(f), strip(&b.join(f.file_name().unwrap())));
        }
    }
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("result.json")).unwrap()).unwrap();
    assert!(
        r["fibril_count"].as_u64().unwrap() > 0,
        "the run should have drawn fibrils: {r}"
    );
    // `dryfilm bench tensile` on the run's film: the same peak on 1 and 2 threads, a real one;
    // `--curve` writes each run's curve.
    let curve = |threads: &str| tmp.join(format!("curve_{threads}.csv"));
    let bench = |threads: &str| -> serde_json::Value {
        let csv = curve(threads);
        let o = crate::support::cli::dryfilm_ok([
            "bench",
            "tensile",
            a.to_str().unwrap(),
            "--repeats",
            "1",
            "--threads",
            threads,
            "--json",
            "--curve",
            csv.to_str().unwrap(),
        ]);
        serde_json::from_slice(&o.stdout).expect("bench JSON")
    };
    let (one, two) = (bench("1"), bench("2"));
    let peak = one["peak_stress_kPa"].as_f64().expect("peak");
    assert!(
        peak > 0.0 && one["relaxations"].as_u64().unwrap() > 0,
        "{one}"
    );
    assert_eq!(
        peak.to_bits(),
        two["peak_stress_kPa"].as_f64().unwrap().to_bits()
    );
    // The work up to the peak is part of the whole, and the test ended at or past the peak.
    let n = |k: &str| one[k].as_u64().unwrap_or_else(|| panic!("{k} in {one}"));
    assert!(n("relaxations_to_peak") <= n("relaxations"), "{one}");
    assert!(n("iterations_to_peak") <= n("iterations"), "{one}");
    assert!(
        one["final_strain"].as_f64().unwrap() >= one["strain_at_peak"].as_f64().unwrap(),
        "{one}"
    );
    // The curve's largest stress is the reported peak.
    let csv = curve("1");
    let text = std::fs::read_to_string(&csv).expect("curve CSV");
    let top = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1)?.parse::<f64>().ok())
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        (top - peak).abs() <= 1e-9 * peak,
        "curve max {top} vs peak {peak}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The work-driven fibrillation law (its contact-work credit summed across thread blocks) gives
/// the same film on 1 and 2 threads.
#[test]
fn the_work_driven_law_is_bitwise_identical_across_thread_counts() {
    let tmp = std::env::temp_dir().join(format!("dryfilm-det-work-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let text = SCENARIO
        .replace(
            "ptfe: (wt_pct: 3.0)",
            "ptfe: (wt_pct: 3.0, fibrillation_driver: Work, fibrillation_energy_mj_m3: 40.0)",
        )
        .replace(
            "confining_pressure_kpa: 300.0)",
            "confining_pressure_kpa: 300.0, process_strain: 600.0)",
        );
    assert!(text.contains("Work") && text.contains("process_strain"));
    let (a, b) = (run_text(&tmp, 1, &text), run_text(&tmp, 2, &text));
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert!(read(&a, "result.json") == read(&b, "result.json"));
    let summary = |d: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&read(d, "summary_fibrillation.json")).unwrap();
        v.as_object_mut().unwrap().remove("wall_seconds");
        v
    };
    let s = summary(&a);
    assert_eq!(s, summary(&b));
    assert!(
        s["ptfe_contact_work_mj_m3"].as_f64().unwrap() > 0.0
            && s["fibrils_intact"].as_u64() > Some(0),
        "the law should have credited work and drawn fibrils: {s}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
