//! Diagnostic: through-plane ionic conductivity of a saved snapshot by the contact-network solver.
//! `cargo run --release -p dryfilm-sim --example network_diag -- SNAPSHOT...`
use dryfilm_sim::solvers::network::{ionic_conductivity, Direction};
fn main() {
    for path in std::env::args().skip(1) {
        let snap =
            dryfilm_sim::snapshot::Snapshot::load(std::path::Path::new(&path)).expect("snapshot");
        let r = ionic_conductivity(&snap, Direction::Z, 1e-8).expect("network solve");
        println!("{path} sigma_z {:.4e} S/cm", r.sigma_s_cm);
    }
}
