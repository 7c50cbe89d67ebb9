//! The full-thickness film scenarios end at their target thickness.
//!
//! Every shipped scenario of a full-thickness film (`film_*.ron`, `paper_film.ron`,
//! `sweep_film.ron`: ~125 µm) is run through mixing, fibrillation and calendering (the correction
//! passes included) in a 40 × 40 µm column with its full mass loading, and its free-standing
//! thickness after the last pass's springback must lie within 2 % of its
//! `calender.target_thickness_um`. The thickness is set mostly by the last gap and the film's
//! springback; the in-plane box moves it by ~1 % (`film_2wt`, one seed, before the calender fix
//! of decision 0012: 125.4 µm in a 40 µm box, 123.8 µm in an 80 µm box), well inside the band.
//!
//! Not covered: the 40 µm calibration films (`calib_*.ron`, `sweep_film_40um.ron`) and
//! `quick.ron`, whose last gaps were set under their targets for a springback the model does not
//! give (they end 2–3 % thin); their results are the ones the convergence tables and the
//! calibration were run on, so their gaps change with the calibration's next films.
//! About 5 minutes on 2 cores.

use std::path::PathBuf;

use dryfilm_sim::process::FilmSim;
use dryfilm_sim::scenario::load_str;
use rayon::prelude::*;

fn quiet(_: &str, _: f64) {}

/// The shipped full-thickness film scenarios.
const FILMS: [&str; 6] = [
    "film_0p2wt.ron",
    "film_0p5wt.ron",
    "film_2wt.ron",
    "film_5wt.ron",
    "paper_film.ron",
    "sweep_film.ron",
];

/// Thickness after calendering (µm) and the target (µm) of `scenarios/{name}` in a 40 µm column.
fn calendered(name: &str) -> (f64, f64) {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("scenarios").join(name)).expect(name);
    let narrow = text.replace("lx_um: 100.0, ly_um: 100.0", "lx_um: 40.0, ly_um: 40.0");
    assert!(
        narrow.contains("lx_um: 40.0, ly_um: 40.0"),
        "{name}: its domain line changed; update this test"
    );
    let loaded = load_str(&narrow, name).expect("valid scenario");
    let s = &loaded.scenario;
    let mut sim = FilmSim::new(s).expect("set-up");
    sim.mixing(&quiet).expect("mixing");
    sim.fibrillation(&quiet).expect("fibrillation");
    sim.calender(&quiet).expect("calender");
    (sim.thickness() * 1e6, s.calender.target_thickness * 1e6)
}

#[test]
fn every_full_thickness_film_ends_within_two_percent_of_its_target() {
    let runs: Vec<(&str, (f64, f64))> = FILMS.par_iter().map(|n| (*n, calendered(n))).collect();
    let mut off = Vec::new();
    for (name, (h, target)) in &runs {
        let dev = h / target - 1.0;
        eprintln!(
            "{name}: {h:.1} µm against {target:.1} µm ({:+.1} %)",
            dev * 100.0
        );
        if dev.abs() > 0.02 {
            off.push(format!("{name}: {h:.1} µm ({:+.1} %)", dev * 100.0));
        }
    }
    assert!(
        off.is_empty(),
        "films not within 2 % of their target: {off:?}"
    );
}
