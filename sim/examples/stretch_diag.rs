//! Diagnostic: run a film scenario through calendering, then the tensile test on the process's own
//! mechanics (`FilmSim::tensile_process`) along MD or TD, and print its curve (every `every`-th
//! sample: strain, stress kPa, stress less the zero-strain stress kPa), its peak and the steps and
//! wall time it took. Compare with `tensile_strength_md_kPa` of `dryfilm run` on the same scenario
//! and seed (the reduced-model test on the snapshot).
//! `cargo run --release -p dryfilm-sim --example stretch_diag -- SCENARIO [seed] [x|y] [every] [max_strain]`
use dryfilm_sim::process::stages::tensile::StretchTest;
use dryfilm_sim::process::FilmSim;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let mut loaded =
        dryfilm_sim::scenario::load_file(std::path::Path::new(&a[1])).expect("scenario");
    if let Some(s) = a.get(2) {
        loaded.scenario.seed = s.parse().expect("seed");
    }
    let axis = u8::from(a.get(3).map(|s| s.as_str()) == Some("y"));
    let every: usize = a.get(4).map(|s| s.parse().unwrap()).unwrap_or(10);
    let mut f = FilmSim::new(&loaded.scenario).expect("film");
    let quiet = |_: &str, _: f64| {};
    f.mixing(&quiet).expect("mixing");
    f.fibrillation(&quiet).expect("fibrillation");
    f.calender(&quiet).expect("calender");
    let t0 = std::time::Instant::now();
    let test = StretchTest {
        axis,
        max_strain: a.get(5).map(|s| s.parse().unwrap()).unwrap_or(0.5),
        ..StretchTest::default()
    };
    let out = f.tensile_process(&test, &quiet).expect("tensile");
    let c = &out.curve;
    let s0 = c.stress_pa[0];
    for k in (0..c.strain.len()).step_by(every.max(1)) {
        println!(
            "{:.5} {:9.2} {:9.2}",
            c.strain[k],
            c.stress_pa[k] * 1e-3,
            (c.stress_pa[k] - s0) * 1e-3
        );
    }
    println!(
        "peak {:.2} kPa (less zero-strain {:.2} kPa: {:.2}) at strain {:.4}; {} steps, {:.1} s, I_max {:.3}",
        c.peak_stress_pa * 1e-3,
        s0 * 1e-3,
        (c.peak_stress_pa - s0) * 1e-3,
        c.strain_at_peak,
        out.steps,
        t0.elapsed().as_secs_f64(),
        out.inertial_number
    );
}
