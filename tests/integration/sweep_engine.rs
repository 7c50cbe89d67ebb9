//! Sweep expansion, rejection of bad sweep files, resume, sharded merge and plots, with the
//! synthetic runner (`dryfilm_sim::sweep::fake`).

use std::path::{Path, PathBuf};

use crate::support::cli::{command, dryfilm_ok, stderr};
use crate::support::sweep::{assert_same_tree, read_csv, temp_dir, write_sweep};
use dryfilm_sim::scenario::raw::RawScenario;
use dryfilm_sim::sweep::engine::{run_sweep, Progress, RunOptions, RunReport, Selection};
use dryfilm_sim::sweep::fake::FakeRunner;
use dryfilm_sim::sweep::merge::{merge, MergeOptions};
use dryfilm_sim::sweep::plot::MARKER_RADIUS;
use dryfilm_sim::sweep::stats::wilson95;
use dryfilm_sim::sweep::{SweepError, SweepPlan};

fn no_progress(_: Progress) {}

/// The runs of `plan` that `sel` picks, with the fake runner, into `out`.
fn run(plan: &SweepPlan, out: &Path, threads: usize, sel: Selection) -> RunReport {
    let opts = RunOptions {
        selection: sel,
        ..all_runs(out, threads)
    };
    run_sweep(plan, &FakeRunner::default(), &opts, &no_progress).expect("sweep runs")
}

fn do_merge(out: &Path) {
    merge(&MergeOptions {
        out_dir: out.into(),
        measured: None,
        allow_partial: false,
        plots: true,
    })
    .expect("merge");
}

/// The problems of a refused sweep, one line each (`file:line:column: message`).
fn problems(e: SweepError) -> Vec<String> {
    match e {
        SweepError::InvalidSpec { problems, .. } => {
            problems.iter().map(ToString::to_string).collect()
        }
        other => panic!("expected InvalidSpec, got {other}"),
    }
}

const PTFE_SWEEP: &str = r#"
    name: "t",
    axes: [(path: "powder.ptfe.wt_pct", values: List([0.2, 1.0, 2.0, 3.5, 5.0]))],
    seeds: [1, 2, 3, 4],
    measured: "measured.ron",
"#;

/// A temporary folder with a sweep file over the test base scenario (`body`: the sweep's fields
/// after `base`) and its plan: (folder, sweep file, plan).
fn sweep_plan(tag: &str, body: &str) -> (PathBuf, PathBuf, SweepPlan) {
    let d = temp_dir(tag);
    let spec = write_sweep(&d, body);
    let plan = SweepPlan::load(&spec).unwrap();
    (d, spec, plan)
}

/// A temporary folder holding the PTFE test sweep and its measured points: (folder, sweep file).
fn ptfe_sweep(tag: &str) -> (PathBuf, PathBuf) {
    let d = temp_dir(tag);
    write_measured(&d);
    let spec = write_sweep(&d, PTFE_SWEEP);
    (d, spec)
}

/// [`ptfe_sweep`] run with `threads` workers into its folder's `ref` and merged: (folder, sweep
/// file, plan, `ref`).
fn merged_reference(tag: &str, threads: usize) -> (PathBuf, PathBuf, SweepPlan, PathBuf) {
    let (d, spec) = ptfe_sweep(tag);
    let plan = SweepPlan::load(&spec).unwrap();
    let reference = d.join("ref");
    run(&plan, &reference, threads, Selection::All);
    do_merge(&reference);
    (d, spec, plan, reference)
}

/// Options for running every point into `out`.
fn all_runs(out: &Path, threads: usize) -> RunOptions {
    RunOptions {
        out_dir: out.to_path_buf(),
        threads,
        selection: Selection::All,
    }
}

/// Final (complete) run folders in `out/points`; 0 before the folder exists.
fn complete_runs(out: &Path) -> usize {
    std::fs::read_dir(out.join("points")).map_or(0, |r| {
        r.filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            !name.to_string_lossy().starts_with('.')
        })
        .count()
    })
}

fn write_measured(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/measured.ron");
    std::fs::copy(src, dir.join("measured.ron")).expect("copy measured.ron");
}

#[test]
fn product_expansion_order_indices_and_values() {
    let (_, _, plan) = sweep_plan(
        "sweep-product",
        r#"
    axes: [
        (path: "powder.ptfe.wt_pct", values: List([0.5, 2])),
        (path: "fibrillation.temperature_c", values: Linear(start: 30.0, stop: 90.0, n: 4)),
        (path: "numerics.relax_steps", values: List([100.0])),
    ],
    seeds: [7, 9],
"#,
    );
    let m = &plan.manifest;
    assert_eq!(m.points.len(), 8);
    assert_eq!(plan.run_count(), 16);
    // Last axis fastest: point 5 = wt index 1, temperature index 1.
    let temps: Vec<f64> = m.points[..4]
        .iter()
        .map(|p| p.values[1].as_f64().unwrap())
        .collect();
    assert_eq!(temps, vec![30.0, 50.0, 70.0, 90.0]);
    assert_eq!(m.points[5].values[0].as_f64(), Some(2.0));
    assert_eq!(m.points[5].values[1].as_f64(), Some(50.0));
    // Run r = point·S + seed index; names p{point:04}_s{seed}.
    let r = &m.runs[11];
    assert_eq!(
        (r.point, r.seed_index, r.seed, r.name.as_str()),
        (5, 1, 9, "p0005_s9")
    );
    let raw = &plan.scenarios[11];
    assert_eq!(raw.seed, 9);
    assert_eq!(raw.powder.ptfe.wt_pct, 2.0);
    assert_eq!(raw.fibrillation.temperature_c, 50.0);
    // A whole float for an integer field is stored as an integer.
    assert_eq!(raw.numerics.relax_steps, 100);
    assert_eq!(m.points[0].values[2], serde_json::json!(100));
    // Untouched fields keep the base value.
    assert_eq!(raw.domain, RawScenario::default().domain);
    let listing = plan.listing();
    assert!(
        listing.contains("11\tp0005_s9\t9\t2.0\t50.0\t100"),
        "{listing}"
    );
}

#[test]
fn zip_log_and_replicates() {
    let (_, _, plan) = sweep_plan(
        "sweep-zip",
        r#"
    combine: Zip,
    axes: [
        (path: "powder.nps.d50_um", values: Log(start: 1.0, stop: 100.0, n: 3)),
        (path: "powder.ptfe.wt_pct", values: List([0.2, 0.5, 1.0])),
    ],
    replicates: 2,
"#,
    );
    let m = &plan.manifest;
    assert_eq!(m.points.len(), 3);
    let d50: Vec<f64> = m
        .points
        .iter()
        .map(|p| p.values[0].as_f64().unwrap())
        .collect();
    assert_eq!(d50[0], 1.0);
    assert!((d50[1] - 10.0).abs() < 1e-12, "{d50:?}");
    assert_eq!(d50[2], 100.0);
    // Replicates: base seed (1) and the next.
    assert_eq!(m.seeds, vec![1, 2]);
    assert_eq!(plan.scenarios[5].powder.ptfe.wt_pct, 1.0);
    assert_eq!(plan.scenarios[5].seed, 2);
    // No axes and no seeds: one run with the base seed.
    let d2 = temp_dir("sweep-noaxes");
    let plan = SweepPlan::load(&write_sweep(&d2, "")).unwrap();
    assert_eq!(plan.run_count(), 1);
    assert_eq!(plan.manifest.runs[0].name, "p0000_s1");
}

#[test]
fn bad_sweep_files_are_rejected_with_every_problem_named() {
    let d = temp_dir("sweep-bad");
    let spec = write_sweep(
        &d,
        r#"
    combine: Zip,
    axes: [
        (path: "powder.ptfe.wt_pc", values: List([1.0, 2.0])),
        (path: "domain.lx_um", values: List([])),
        (path: "powder.nps.d50_um", values: Linear(start: 1.0, stop: 2.0, n: 3)),
    ],
"#,
    );
    let p = problems(SweepPlan::load(&spec).unwrap_err());
    let all = p.join("\n");
    assert!(
        all.contains("\"powder.ptfe.wt_pc\"") && all.contains("wt_pct"),
        "{all}"
    );
    assert!(
        all.contains("domain.lx_um") && all.contains("no values"),
        "{all}"
    );
    assert!(all.contains("equal length"), "{all}");

    // Type mismatch, non-whole number for an integer field, seeds and replicates both given.
    let spec = write_sweep(
        &d,
        r#"
    axes: [
        (path: "numerics.relax_steps", values: List([10.5])),
        (path: "powder.allow_implausible", values: List([1.0])),
    ],
    seeds: [1], replicates: 2,
"#,
    );
    let all = problems(SweepPlan::load(&spec).unwrap_err()).join("\n");
    assert!(
        all.contains("numerics.relax_steps") && all.contains("whole number"),
        "{all}"
    );
    assert!(all.contains("seeds") && all.contains("replicates"), "{all}");

    // An unknown key in the sweep file itself: named, with its position and the closest key.
    std::fs::write(d.join("typo.ron"), "(base: \"base.ron\", axs: [])").unwrap();
    let p = problems(SweepPlan::load(&d.join("typo.ron")).unwrap_err());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("typo.ron:1:20: axs: unknown field `axs`") && p[0].contains("`axes`"),
        "{p:?}"
    );

    // A value the scenario validation refuses: rejected before anything runs, at the value.
    let spec = write_sweep(
        &d,
        r#"axes: [(path: "powder.ptfe.wt_pct", values: List([1.0, -2.0, -3.0]))],"#,
    );
    let plan = SweepPlan::load(&spec).unwrap();
    let p = problems(plan.check().unwrap_err());
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].contains("sweep.ron:3:56: powder.ptfe.wt_pct = -2.0 makes the point invalid")
            && p[0].ends_with("[point p0001]"),
        "{p:?}"
    );
    assert!(p[1].contains("sweep.ron:3:62:"), "{p:?}");
}

#[test]
fn cli_rejects_a_bad_sweep_before_running_anything() {
    let (d, spec, _) = sweep_plan(
        "sweep-cli-bad",
        r#"axes: [(path: "powder.ptfe.wt_pct", values: List([1.0, 150.0]))],"#,
    );
    let out = d.join("out");
    let o = command([
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
    .env("DRYFILM_SWEEP_FAKE_RUNNER", "1")
    .output()
    .unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("sweep.ron:3:56: powder.ptfe.wt_pct = 150.0") && err.contains("[point p0001]"),
        "{err}"
    );
    assert!(!out.exists(), "nothing may be written for a refused sweep");

    // --list prints the indices.
    let spec = write_sweep(
        &d,
        PTFE_SWEEP
            .replace("measured: \"measured.ron\",", "")
            .as_str(),
    );
    let o = dryfilm_ok(["sweep", spec.to_str().unwrap(), "--list"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("5 points x 4 seeds = 20 runs"), "{text}");
    assert!(text.contains("\n19\tp0004_s4\t4\t5.0\n"), "{text}");
}

#[test]
fn resume_redoes_only_incomplete_runs_and_merges_nothing_half_written() {
    let (d, spec, plan, reference) = merged_reference("sweep-resume", 2);

    // An interrupted run: one run missing, one killed mid-run (a .partial folder with a
    // half-written result and temp file), one final folder without result.json, and a failure.
    let out = d.join("out");
    let opts = all_runs(&out, 2);
    let failing = FakeRunner {
        fail_on_wt_pct: Some(3.5),
        write_log: true,
        delay_ms: 0,
    };
    let r = run_sweep(&plan, &failing, &opts, &no_progress).unwrap();
    assert_eq!((r.succeeded, r.failed.len()), (16, 4));
    let pts = out.join("points");
    std::fs::remove_dir_all(pts.join("p0000_s2")).unwrap();
    std::fs::create_dir_all(pts.join(".p0001_s1.partial")).unwrap();
    std::fs::rename(pts.join("p0001_s1"), pts.join(".p0001_s1.partial/x")).unwrap();
    std::fs::write(
        pts.join(".p0001_s1.partial/result.json"),
        "{\"sigma_ion_S_cm\": 9",
    )
    .unwrap();
    std::fs::remove_file(pts.join("p0002_s3/result.json")).unwrap();
    std::fs::write(pts.join("p0002_s3/.result.json.tmp-1-x"), "{").unwrap();
    assert!(
        pts.join(".p0003_s1.partial/log.txt").is_file(),
        "failed runs keep their partial"
    );

    // Merge refuses the incomplete folder, and a partial merge reads only complete runs.
    let merge_csv = |allow_partial| {
        merge(&MergeOptions {
            out_dir: out.clone(),
            measured: None,
            allow_partial,
            plots: false,
        })
    };
    let e = merge_csv(false).unwrap_err();
    assert!(e.to_string().contains("7 of 20 runs"), "{e}");
    let rep = merge_csv(true).unwrap();
    assert_eq!(rep.merged, 13);
    let (_, rows) = read_csv(&out.join("summary.csv"));
    assert_eq!(rows.len(), 13);
    assert!(
        !rows.iter().any(|r| r[0] == "4"),
        "run 4 (p0001_s1) is not complete"
    );

    // The rerun does exactly the 7 incomplete runs; then everything equals the reference.
    let r = run(&plan, &out, 3, Selection::All);
    assert_eq!((r.skipped, r.succeeded, r.failed.len()), (13, 7, 0));
    assert!(!pts.join(".p0001_s1.partial").exists());
    assert!(!pts.join(".p0003_s1.partial").exists());
    do_merge(&out);
    // The failing runner's log files are the only extra content: compare everything else.
    for entry in std::fs::read_dir(&pts).unwrap() {
        let log = entry.unwrap().path().join("log.txt");
        if log.exists() {
            std::fs::remove_file(log).unwrap();
        }
    }
    assert_same_tree(&reference, &out);

    // A different sweep into the same folder is refused before it runs anything.
    let other = write_sweep(&d, &PTFE_SWEEP.replace("3.5", "4.0"));
    let plan = SweepPlan::load(&other).unwrap();
    let opts = all_runs(&out, 1);
    let e = run_sweep(&plan, &FakeRunner::default(), &opts, &no_progress).unwrap_err();
    assert!(e.to_string().contains("different sweep"), "{e}");
    // So is the same sweep over an edited base scenario.
    let base = std::fs::read_to_string(d.join("base.ron")).unwrap();
    std::fs::write(
        d.join("base.ron"),
        base.replace("d50_um: 5.0", "d50_um: 6.0"),
    )
    .unwrap();
    let plan = SweepPlan::load(&spec).unwrap();
    assert_eq!(plan.scenarios[0].powder.nps.d50_um, 6.0);
    let e = run_sweep(&plan, &FakeRunner::default(), &opts, &no_progress).unwrap_err();
    assert!(e.to_string().contains("different sweep"), "{e}");
    assert_same_tree(&reference, &out);
}

#[test]
fn cli_kill_minus_9_then_rerun_equals_a_clean_run() {
    let (d, spec) = ptfe_sweep("sweep-kill");
    let sweep = |out: &Path, delay: &str| {
        command([
            "sweep",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--threads", "2", "--quiet"])
        .env("DRYFILM_SWEEP_FAKE_RUNNER", "1")
        .env("DRYFILM_SWEEP_FAKE_DELAY_MS", delay)
        .spawn()
        .unwrap()
    };
    let reference = d.join("ref");
    assert!(sweep(&reference, "0").wait().unwrap().success());

    let out = d.join("out");
    let mut child = sweep(&out, "150");
    // Wait until some runs are complete, then kill -9 mid-run.
    let t0 = std::time::Instant::now();
    loop {
        if complete_runs(&out) >= 3 {
            break;
        }
        assert!(t0.elapsed().as_secs() < 60, "the sweep made no progress");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.join("summary.csv").exists());
    assert!(complete_runs(&out) < 20, "killed too late to test anything");
    assert!(sweep(&out, "0").wait().unwrap().success());
    assert_same_tree(&reference, &out);
}

#[test]
fn sharded_and_single_task_runs_merge_to_the_local_run_bit_for_bit() {
    let (d, _, plan, local) = merged_reference("sweep-shards", 1);

    let sharded = d.join("sharded");
    let mut total = 0;
    for i in 0..3 {
        total += run(&plan, &sharded, 4, Selection::Shard { index: i, count: 3 }).succeeded;
    }
    assert_eq!(total, 20);
    do_merge(&sharded);
    assert_same_tree(&local, &sharded);

    let tasks = d.join("tasks");
    for i in (0..20).rev() {
        assert_eq!(run(&plan, &tasks, 1, Selection::Task(i)).succeeded, 1);
    }
    do_merge(&tasks);
    assert_same_tree(&local, &tasks);
    assert!(Selection::Task(20).indices(20).is_err());
    assert!(Selection::parse_shard("3/3").is_err());
    assert_eq!(
        Selection::parse_shard("1/4").unwrap().indices(10).unwrap(),
        vec![1, 5, 9]
    );
}

/// Centres of the SVG circles of radius `r` filled with `fill` (`#RRGGBB`), in document order.
fn circles(svg: &str, r: i32, fill: &str) -> Vec<(f64, f64)> {
    svg.lines()
        .filter(|l| {
            l.starts_with("<circle")
                && l.contains(&format!(" r=\"{r}\""))
                && l.contains(&format!("fill=\"{fill}\""))
        })
        .map(|l| (attr(l, "cx"), attr(l, "cy")))
        .collect()
}

/// Centres of the SVG diamonds (polygons) filled with `fill`, in document order.
fn diamonds(svg: &str, fill: &str) -> Vec<(f64, f64)> {
    svg.lines()
        .filter(|l| l.starts_with("<polygon") && l.contains(&format!("fill=\"{fill}\"")))
        .map(|l| {
            let k = l.find("points=\"").unwrap() + 8;
            let v: Vec<f64> = l[k..k + l[k..].find('"').unwrap()]
                .split([' ', ','])
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().unwrap())
                .collect();
            // Top vertex first: the centre is one half-diagonal below it.
            (v[0], 0.5 * (v[1] + v[5]))
        })
        .collect()
}

fn attr(line: &str, name: &str) -> f64 {
    let k = format!(" {name}=\"");
    let s = &line[line.find(&k).unwrap_or_else(|| panic!("{name} in {line}")) + k.len()..];
    s[..s.find('"').unwrap()].parse().unwrap()
}

/// Largest deviation, px, of `px` from the best affine fit `a + b·v` (the chart's data-to-pixel
/// map on a linear axis, or on log10 of the values on a log axis).
fn affine_misfit(v: &[f64], px: &[f64]) -> f64 {
    let n = v.len() as f64;
    let (mv, mp) = (v.iter().sum::<f64>() / n, px.iter().sum::<f64>() / n);
    let cov: f64 = v.iter().zip(px).map(|(a, b)| (a - mv) * (b - mp)).sum();
    let var: f64 = v.iter().map(|a| (a - mv).powi(2)).sum();
    let b = cov / var;
    v.iter()
        .zip(px)
        .map(|(a, p)| (mp + b * (a - mv) - p).abs())
        .fold(0.0, f64::max)
}

#[test]
fn summaries_and_plots_show_the_merged_data() {
    let d = temp_dir("sweep-plots");
    write_measured(&d);
    let spec = write_sweep(&d, PTFE_SWEEP);
    let plan = SweepPlan::load(&spec).unwrap();
    let out = d.join("out");
    run(&plan, &out, 2, Selection::All);
    do_merge(&out);

    // summary.csv: 20 rows; the parameter column and the results.
    let (h, rows) = read_csv(&out.join("summary.csv"));
    assert_eq!(&h[..4], ["run", "point", "seed", "powder.ptfe.wt_pct"]);
    // Every result.json field is a column; `seed` collides with the leading column.
    for f in dryfilm_sim::results::RunResult::field_names() {
        let c = if f == "seed" {
            "result.seed".to_string()
        } else {
            f
        };
        assert!(h.contains(&c), "no column {c} in {h:?}");
    }
    assert_eq!(rows.len(), 20);
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (cs, cp, cw) = (
        col("sigma_ion_S_cm"),
        col("ptfe_spanning"),
        col("powder.ptfe.wt_pct"),
    );

    // summary_by_point.csv: mean and CI recomputed from summary.csv.
    let (hb, prow) = read_csv(&out.join("summary_by_point.csv"));
    let cb = |name: &str| hb.iter().position(|c| c == name).unwrap();
    assert_eq!(prow.len(), 5);
    for (p, pr) in prow.iter().enumerate() {
        let x: Vec<f64> = rows
            .iter()
            .filter(|r| r[1] == p.to_string())
            .map(|r| r[cs].parse().unwrap())
            .collect();
        assert_eq!(x.len(), 4);
        let mean = x.iter().sum::<f64>() / 4.0;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        let got: f64 = pr[cb("sigma_ion_S_cm.mean")].parse().unwrap();
        assert!((got - mean).abs() <= 1e-15 * mean.abs(), "{got} vs {mean}");
        let hi: f64 = pr[cb("sigma_ion_S_cm.ci95_hi")].parse().unwrap();
        assert!(
            (hi - (mean + 3.1824 * sd / 2.0)).abs() < 1e-12 * mean,
            "t(3) = 3.1824"
        );
        assert_eq!(pr[cb("n_runs")], "4");
    }

    // σ_ion plot: the plotted CSV holds the merged means; one marker per point (plus the legend's),
    // drawn where a log axis puts those means (pixel y affine in log10 σ, x affine in wt%); three
    // measured diamonds (two films, one pellet) plus the legend's.
    let means: Vec<f64> = prow
        .iter()
        .map(|r| r[cb("sigma_ion_S_cm.mean")].parse().unwrap())
        .collect();
    let (hp, plotted) = read_csv(&out.join("plots/sigma_ion_vs_x.csv"));
    assert_eq!(hp[2..4], ["powder.ptfe.wt_pct", "sigma_ion_S_cm"]);
    let ys: Vec<f64> = plotted.iter().map(|r| r[3].parse().unwrap()).collect();
    assert_eq!(ys, means);
    let xs: Vec<f64> = plotted.iter().map(|r| r[2].parse().unwrap()).collect();
    let svg = std::fs::read_to_string(out.join("plots/sigma_ion_vs_x.svg")).unwrap();
    let blue = "#0072B2";
    let marks = circles(&svg, MARKER_RADIUS, blue);
    assert_eq!(marks.len(), 6, "5 points + legend");
    let (mx, my): (Vec<f64>, Vec<f64>) = marks[..5].iter().copied().unzip();
    let logs: Vec<f64> = ys.iter().map(|y| y.log10()).collect();
    assert!(affine_misfit(&logs, &my) <= 1.0, "{my:?} vs log10 {logs:?}");
    assert!(affine_misfit(&xs, &mx) <= 1.0, "{mx:?} vs {xs:?}");
    assert!(
        my.windows(2).all(|w| w[1] > w[0]),
        "σ falls: markers go down"
    );
    assert_eq!(diamonds(&svg, "#C81E1E").len(), 3, "2 film points + legend");
    assert_eq!(
        diamonds(&svg, "#7800A0").len(),
        2,
        "1 pellet point + legend"
    );
    for text in [
        "measured (film)",
        "measured (pellet)",
        "simulated (mean, 95% CI)",
    ] {
        assert!(svg.contains(&format!("\n{text}\n</text>")), "legend {text}");
    }

    // Spanning plot: proportions of the 0/1 column with Wilson intervals, on a linear axis.
    let (_, plotted) = read_csv(&out.join("plots/spanning_vs_x.csv"));
    let ys: Vec<f64> = plotted.iter().map(|r| r[3].parse().unwrap()).collect();
    let his: Vec<f64> = plotted.iter().map(|r| r[5].parse().unwrap()).collect();
    assert_eq!(ys.len(), 5);
    for (p, (y, hi)) in ys.iter().zip(&his).enumerate() {
        let k = rows
            .iter()
            .filter(|r| r[1] == p.to_string() && r[cp] == "true")
            .count();
        assert_eq!(*y, k as f64 / 4.0);
        assert_eq!(*hi, wilson95(k, 4).1);
    }
    assert!(
        ys[0] == 0.0 && ys[4] == 1.0,
        "the fake model spans from 5 wt% only: {ys:?}"
    );
    let svg = std::fs::read_to_string(out.join("plots/spanning_vs_x.svg")).unwrap();
    let (_, my): (Vec<f64>, Vec<f64>) = circles(&svg, MARKER_RADIUS, blue)[..5]
        .iter()
        .copied()
        .unzip();
    assert!(affine_misfit(&ys, &my) <= 1.0, "{my:?} vs {ys:?}");
    assert_eq!(
        diamonds(&svg, "#C81E1E").len(),
        4,
        "3 measured outcomes + legend"
    );

    // Trade-off: five labelled points, two measured, the short-circuit region drawn.
    let svg = std::fs::read_to_string(out.join("plots/tradeoff.svg")).unwrap();
    assert_eq!(
        circles(&svg, MARKER_RADIUS, blue).len(),
        6,
        "5 points + legend"
    );
    assert_eq!(diamonds(&svg, "#C81E1E").len(), 3, "2 measured + legend");
    assert!(
        svg.lines()
            .any(|l| l.starts_with("<rect") && l.contains("#C81E1E")),
        "region"
    );
    assert!(svg.contains("short-circuit risk"));
    // Shorting points (P(short) ≥ 0.5) say so in their label.
    for w in [
        "0.2 wt%",
        "1 wt%",
        "5 wt% (shorts, P = 1.00)",
        "0.2 wt% (measured)",
    ] {
        assert!(svg.contains(&format!("\n{w}\n</text>")), "label {w}");
    }
    let _ = cw;

    // PNGs decode, have the figure's size, and show each data marker in its series colour
    // where the SVG puts it (the same description drawn twice).
    for stem in [
        "sigma_ion_vs_x",
        "strength_vs_x",
        "spanning_vs_x",
        "sigma_e_vs_x",
        "tradeoff",
    ] {
        let img = image::open(out.join(format!("plots/{stem}.png")))
            .unwrap()
            .to_rgb8();
        assert_eq!(img.dimensions(), (800, 560));
        let svg = std::fs::read_to_string(out.join(format!("plots/{stem}.svg"))).unwrap();
        let marks = circles(&svg, MARKER_RADIUS, blue);
        assert_eq!(marks.len(), 6, "{stem}");
        // A measured diamond drawn over a simulated marker hides it: skip those.
        let meas: Vec<(f64, f64)> = ["#C81E1E", "#7800A0"]
            .iter()
            .flat_map(|c| diamonds(&svg, c))
            .collect();
        for &(x, y) in &marks {
            if meas.iter().any(|(mx, my)| (mx - x).hypot(my - y) < 12.0) {
                continue;
            }
            let p = img.get_pixel(x as u32, y as u32).0;
            let near = p
                .iter()
                .zip([0i32, 114, 178])
                .all(|(&c, b)| (i32::from(c) - b).abs() < 40);
            assert!(near, "{stem}: pixel at marker ({x}, {y}) is {p:?}");
        }
        let dark = img
            .pixels()
            .filter(|p| p.0.iter().all(|&c| c < 128))
            .count();
        assert!(
            dark > 500,
            "{stem}: no visible axes or text ({dark} dark pixels)"
        );
    }
}

#[test]
fn shipped_sweep_specs_expand() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for (file, runs) in [("paper_ptfe_sweep.ron", 18), ("quick_sweep.ron", 6)] {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let spec: dryfilm_sim::sweep::SweepSpec = ron::from_str(&text).unwrap();
        let plan = SweepPlan::load(&path).unwrap();
        plan.check().unwrap();
        assert_eq!(plan.run_count(), runs, "{file}");
        // The same sweep expanded in code over the defaults has the same runs.
        let measured =
            dryfilm_sim::sweep::measured::MeasuredSet::load(&root.join(&spec.measured)).unwrap();
        let in_code =
            SweepPlan::expand(spec, RawScenario::default(), Some(measured), &path, "x").unwrap();
        assert_eq!(in_code.run_count(), runs, "{file}");
    }
}

#[test]
fn plots_fall_back_to_the_first_numeric_axis() {
    let (d, _, plan) = sweep_plan(
        "sweep-xfallback",
        r#"
    axes: [
        (path: "calender.turn_90_between_passes", values: List([true])),
        (path: "fibrillation.temperature_c", values: List([30.0, 60.0, 90.0])),
    ],
    replicates: 2,
"#,
    );
    let out = d.join("out");
    run(&plan, &out, 2, Selection::All);
    let rep = merge(&MergeOptions {
        out_dir: out.clone(),
        measured: None,
        allow_partial: false,
        plots: true,
    })
    .unwrap();
    assert!(
        rep.skipped_plots
            .iter()
            .any(|s| s.contains("fibrillation.temperature_c")),
        "{rep:?}"
    );
    let (h, rows) = read_csv(&out.join("plots/strength_vs_x.csv"));
    assert_eq!(h[2], "fibrillation.temperature_c");
    let xs: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(xs, ["30.0", "60.0", "90.0"]);
    // The boolean axis becomes the series label.
    assert!(rows.iter().all(|r| r[0] == "turn_90_between_passes=true"));
    let svg = std::fs::read_to_string(out.join("plots/strength_vs_x.svg")).unwrap();
    assert!(
        !svg.contains("<polygon"),
        "no measured points without a wt% axis"
    );
}

#[test]
fn rerun_recognises_its_own_folder_with_inexact_decimal_values() {
    // Linear steps like 5/19 need correctly rounded JSON parsing to read the manifest back.
    let (d, spec, plan) = sweep_plan(
        "sweep-rerun-floats",
        r#"axes: [(path: "powder.ptfe.wt_pct", values: Linear(start: 0.0, stop: 5.0, n: 20))],
    replicates: 2,"#,
    );
    let out = d.join("out");
    assert_eq!(
        run(&plan, &out, 2, Selection::Shard { index: 0, count: 2 }).succeeded,
        20
    );
    let again = SweepPlan::load(&spec).unwrap();
    let r = run(&again, &out, 2, Selection::All);
    assert_eq!((r.skipped, r.succeeded), (20, 20));
}
