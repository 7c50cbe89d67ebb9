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
        let fold = p
            .kinetic_energy_after(10_000)
            .map_or(f64::NAN, |k| p.released_kinetic_energy / k);
        println!(
            "pass {}: released {:.3e} J, springback {} steps (capped {}), rest {:.3e} J, fold at 1e4 steps {:.0}; every 2000 steps: {}",
            p.pass,
            p.released_kinetic_energy,
            p.relax_steps_run,
            p.relax_capped,
            p.rest_kinetic_energy,
            fold,
            p.springback_decay(2000)
        );
    }
    println!("thickness {:.3} µm", sim.thickness() * 1e6);
}
