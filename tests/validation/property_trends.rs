//! The trade-off the brief describes, checked on shipped scenarios.
//!
//! `conductivity_falls_and_strength_rises_with_ptfe_on_calibration_films` runs the calibration
//! films (`scenarios/calib_0p2wt.ron`, `calib_1wt.ron`, `calib_2wt.ron`, `calib_5wt.ron`: 40 × 40 µm,
//! ~40 µm thick, the whole process and all solvers) for seeds 1–4 and asks that, on the means over
//! the seeds, σ falls and the MD strength rises at every step (about 7 minutes on 2 cores).
//! `calib_0p5wt.ron` is left out: its mean strength lies within one seed's scatter of its
//! neighbours' (docs/validation.md).
//!
//! `conductivity_falls_and_strength_rises_with_ptfe_across_shipped_scenarios` asks the same on the
//! full-thickness shipped films (`film_0p2wt`, `paper_film` at 1 wt%, `film_2wt`, `film_5wt`, in a
//! 40 × 40 µm column, three seeds). It takes about an hour on 2 cores, so it is ignored; run it with
//! `bash tools/validate.sh --ignored property_trends --nocapture`.

use std::path::PathBuf;

use dryfilm_sim::pipeline::{run_to_dir, RunOptions};
use dryfilm_sim::scenario::load_str;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn quiet(_: &str, _: f64) {}

/// (σ_ion through-plane S/cm, MD strength kPa) of the scenario `text` (named `name`) with `seed`,
/// run on one thread in a scratch folder.
fn run_text(text: &str, name: &str, seed: u64) -> (f64, f64) {
    let mut loaded = load_str(text, name).expect("valid shipped scenario");
    loaded.scenario.seed = seed;
    let dir = std::env::temp_dir().join(format!(
        "dryfilm-trend-{}-{name}-{seed}",
        std::process::id()
    ));
    let out = run_to_dir(
        &loaded,
        &dir,
        &RunOptions {
            threads: 1,
            progress: &quiet,
            render: None,
        },
    )
    .expect("run");
    let _ = std::fs::remove_dir_all(&dir);
    let r = (
        out.result.sigma_ion_s_cm,
        out.result
            .tensile_strength_md_kpa
            .expect("the calibration films run the tensile test"),
    );
    eprintln!(
        "{name} seed {seed}: σ {:.3e} S/cm, strength {:.1} kPa",
        r.0, r.1
    );
    r
}

/// (σ_ion through-plane S/cm, MD strength kPa), means over seeds 1–3, of a shipped full-size
/// scenario narrowed to a 40 × 40 µm column.
fn run_shipped(name: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(repo().join("scenarios").join(name)).expect("scenario");
    let narrow = text.replace("lx_um: 100.0, ly_um: 100.0", "lx_um: 40.0, ly_um: 40.0");
    assert_ne!(
        narrow, text,
        "{name}: the domain line changed; update this test"
    );
    let runs: Vec<(f64, f64)> = (1..=3u64)
        .map(|seed| run_text(&narrow, name, seed))
        .collect();
    let mean = |f: fn(&(f64, f64)) -> f64| runs.iter().map(f).sum::<f64>() / 3.0;
    (mean(|r| r.0), mean(|r| r.1))
}

/// (σ_ion through-plane S/cm, MD strength kPa) of `scenarios/NAME` as shipped, with `seed`.
fn run_calib(name: &str, seed: u64) -> (f64, f64) {
    let text = std::fs::read_to_string(repo().join("scenarios").join(name)).expect("scenario");
    run_text(&text, name, seed)
}

#[test]
fn conductivity_falls_and_strength_rises_with_ptfe_on_calibration_films() {
    let names = [
        "calib_0p2wt.ron",
        "calib_1wt.ron",
        "calib_2wt.ron",
        "calib_5wt.ron",
    ];
    let seeds = [1u64, 2, 3, 4];
    // Two runs at a time, each on one thread (results do not depend on scheduling).
    let runs: Vec<(usize, u64)> = (0..names.len())
        .flat_map(|k| seeds.iter().map(move |&s| (k, s)))
        .collect();
    let mut res: Vec<(f64, f64)> = Vec::new();
    for pair in runs.chunks(2) {
        let out: Vec<(f64, f64)> = std::thread::scope(|sc| {
            let hs: Vec<_> = pair
                .iter()
                .map(|&(k, seed)| sc.spawn(move || run_calib(names[k], seed)))
                .collect();
            hs.into_iter().map(|h| h.join().expect("run")).collect()
        });
        res.extend(out);
    }
    let n = seeds.len();
    let mean = |k: usize, f: fn(&(f64, f64)) -> f64| {
        res[n * k..n * (k + 1)].iter().map(f).sum::<f64>() / n as f64
    };
    let sig: Vec<f64> = (0..names.len()).map(|k| mean(k, |r| r.0)).collect();
    let st: Vec<f64> = (0..names.len()).map(|k| mean(k, |r| r.1)).collect();
    eprintln!("σ {sig:?} S/cm, strength {st:?} kPa (0.2, 1, 2, 5 wt%; means over seeds 1-4)");
    for k in 1..names.len() {
        assert!(
            sig[k] < sig[k - 1],
            "σ does not fall from {} to {}: {sig:?}",
            names[k - 1],
            names[k]
        );
        assert!(
            st[k] > st[k - 1],
            "strength does not rise from {} to {}: {st:?}",
            names[k - 1],
            names[k]
        );
    }
}

#[test]
#[ignore = "about an hour on 2 cores in release (passed in session 6; not re-run since the session-7 drift fix, docs/validation.md)"]
fn conductivity_falls_and_strength_rises_with_ptfe_across_shipped_scenarios() {
    let names = [
        "film_0p2wt.ron",
        "paper_film.ron",
        "film_2wt.ron",
        "film_5wt.ron",
    ];
    let res: Vec<(f64, f64)> = names.iter().map(|n| run_shipped(n)).collect();
    for k in 1..res.len() {
        assert!(
            res[k].0 < res[k - 1].0,
            "σ does not fall from {} to {}: {:?}",
            names[k - 1],
            names[k],
            res
        );
        assert!(
            res[k].1 > res[k - 1].1,
            "strength does not rise from {} to {}: {:?}",
            names[k - 1],
            names[k],
            res
        );
    }
}
