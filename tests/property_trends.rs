//! The trade-off the brief describes, checked on the shipped scenarios: across `film_0p2wt`,
//! `paper_film` (1 wt%), `film_2wt` and `film_5wt`, the through-plane Na+ conductivity falls and the
//! tensile strength rises with PTFE. Each scenario runs as shipped (process, full ~125 µm thickness,
//! all solvers) except for a narrower 40 × 40 µm column, averaged over three seeds.
//!
//! Ignored: the model does not reproduce the strength trend yet (the contact network's peak stress
//! dominates at every loading; see docs/validation.md). Run it with
//! `cargo test --release --test property_trends -- --ignored --nocapture` (about 20 minutes on 2
//! cores).

use std::path::PathBuf;

use dryfilm_sim::pipeline::{run_to_dir, RunOptions};
use dryfilm_sim::scenario::load_str;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn quiet(_: &str, _: f64) {}

/// (σ_ion through-plane S/cm, MD strength kPa), means over seeds 1–3.
fn run_shipped(name: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(repo().join("scenarios").join(name)).expect("scenario");
    let narrow = text.replace("lx_um: 100.0, ly_um: 100.0", "lx_um: 40.0, ly_um: 40.0");
    assert_ne!(
        narrow, text,
        "{name}: the domain line changed; update this test"
    );
    let (mut sig, mut strength) = (0.0, 0.0);
    for seed in 1..=3u64 {
        let mut loaded = load_str(&narrow, name).expect("valid shipped scenario");
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
                render: false,
            },
        )
        .expect("run");
        sig += out.result["sigma_ion_S_cm"].as_f64().unwrap() / 3.0;
        strength += out.result["tensile_strength_md_kPa"].as_f64().unwrap() / 3.0;
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("{name}: σ {sig:.3e} S/cm, strength {strength:.1} kPa");
    (sig, strength)
}

#[test]
#[ignore = "known model failure (issue 4): strength does not rise with PTFE; ~20 min in release"]
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
