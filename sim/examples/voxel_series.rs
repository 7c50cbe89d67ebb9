//! Diagnostic: the voxel solver's through-film conductivity of a saved snapshot at several voxel
//! sizes, next to the contact network's (with and without its body term), all as D = σ_eff/σ_bulk.
//! `cargo run --release -p dryfilm-sim --example voxel_series -- SNAPSHOT H_UM...`
use dryfilm_sim::solvers::network::{ionic_conductivity_with, BodyResistance, Direction};
use dryfilm_sim::solvers::voxel::{solve, voxelize, SolveOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("SNAPSHOT H_UM...");
    let sizes: Vec<f64> = args.map(|a| a.parse().expect("voxel size, µm")).collect();
    let snap =
        dryfilm_sim::snapshot::Snapshot::load(std::path::Path::new(&path)).expect("snapshot");
    let sigma = snap.materials.nps_sigma_ion;
    // The voxel geometry: undeformed spheres overlapping by their contact overlap (neck = the
    // lens radius, not the contact radius), no PTFE blocking the necks.
    let mut lens = snap.clone();
    let (p, b) = (&lens.particles, lens.sim_box);
    for c in &mut lens.contacts {
        let (ri, rj) = (p.radius[c.i as usize], p.radius[c.j as usize]);
        let d = ri + rj - c.overlap;
        let x = (d * d - rj * rj + ri * ri) / (2.0 * d);
        c.radius = (ri * ri - x * x).max(0.0).sqrt();
        c.ptfe_coverage = 0.0;
    }
    for w in &mut lens.wall_contacts {
        let (z, r) = (p.pos[w.i as usize][2], p.radius[w.i as usize]);
        let gap = match w.wall {
            dryfilm_sim::snapshot::Wall::Bottom => z - b.z_bottom,
            _ => b.z_top - z,
        };
        w.radius = (r * r - gap.min(r) * gap.min(r)).max(0.0).sqrt();
    }
    let mut open = snap.clone();
    for c in &mut open.contacts {
        c.ptfe_coverage = 0.0;
    }
    for (name, s, body) in [
        ("network", &snap, BodyResistance::HalfCylinder),
        ("network_holm_only", &snap, BodyResistance::None),
        ("network_no_ptfe", &open, BodyResistance::HalfCylinder),
        ("network_lens", &lens, BodyResistance::HalfCylinder),
        ("network_lens_holm_only", &lens, BodyResistance::None),
    ] {
        let r = ionic_conductivity_with(s, Direction::Z, 1e-8, body).expect("network solve");
        println!("{name} D {:.4e}", r.sigma_s_m / sigma);
    }
    for h in sizes {
        let vol = voxelize(&snap, h * 1e-6).expect("voxelize");
        let opts = SolveOptions {
            rel_tol: 1e-6,
            max_iter: 20_000,
            ..SolveOptions::default()
        };
        let r = solve(&vol, &opts).expect("voxel solve");
        println!(
            "voxel h {h} um dims {:?} eps {:.4} D {:.4e} percolates {} it {} converged {} {:.1} s",
            [vol.dims[0], vol.dims[1], vol.dims[2]],
            r.volume_fraction,
            r.d_eff,
            r.percolates,
            r.iterations,
            r.converged,
            r.solve_seconds
        );
    }
}
