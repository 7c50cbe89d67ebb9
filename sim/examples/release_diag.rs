//! Diagnostic: run a scenario through calendering and print, for every calender pass, the film's
//! kinetic energy when the roll left it, the springback's length and its decay (kinetic energy,
//! J, every 2000 steps after the release).
//! `cargo run --release -p dryfilm-sim --example release_diag -- SCENARIO`
use dryfilm_sim::process::FilmSim;

fn main() {
    let path = std::env::args().nth(1).expect("SCENARIO");
    let s = dryfilm_sim::scenario::load_file(std::path::Path::new(&path))
        .expect("scenario")
        .scenario;
    let quiet = |_: &str, _: f64| {};
    let mut sim = FilmSim::new(&s).expect("set-up");
    sim.mixing(&quiet).expect("mixing");
    sim.fibrillation(&quiet).expect("fibrillation");
    let c = sim.calender(&quiet).expect("calender");
    for p in &c.passes {
        let decay: Vec<String> = (p.springback_kinetic_trace.iter())
            .filter(|c| c.0.is_multiple_of(2000))
            .map(|c| format!("{:.1e}", c.1))
            .collect();
        let at = |n: u64| {
            (p.springback_kinetic_trace.iter())
                .find(|c| c.0 == n)
                .map_or(f64::NAN, |c| p.released_kinetic_energy / c.1)
        };
        println!(
            "pass {}: released {:.3e} J, springback {} steps (capped {}), rest {:.3e} J, fold at 1e4 steps {:.0}; every 2000 steps: {}",
            p.pass,
            p.released_kinetic_energy,
            p.relax_steps_run,
            p.relax_capped,
            p.rest_kinetic_energy,
            at(10_000),
            decay.join(" ")
        );
    }
    println!("thickness {:.3} µm", sim.thickness() * 1e6);
}
