//! Diagnostic: the resistance a grain adds beyond its contacts' Holm constriction, from the voxel
//! solver on a simple cubic lattice of overlapping spheres. By symmetry the neck planes of a
//! lattice driven along z are equipotentials and the side faces carry no flux, so one cell (a
//! sphere of radius r cut by the cube of half-width L < r, necks of radius a = sqrt(r² − L²) on
//! its faces) with electrodes on its z faces gives the lattice's resistance per grain R. The
//! network writes it `R = 1/(2σa) + 2 R_b`; printed is the body term `σ r · 2R_b` (the
//! half-cylinder model's is 2/π = 0.637) for each a/r, at n voxels across the cell.
//! `cargo run --release -p dryfilm-sim --example body_term -- N A_OVER_R...`
use dryfilm_sim::solvers::voxel::{solve, SolveOptions, Volume, NPS, PORE};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().expect("N A_OVER_R...").parse().expect("N");
    for a in args.map(|a| a.parse::<f64>().expect("a/r")) {
        let r = 1.0;
        let l = (r * r - a * a).sqrt();
        let h = 2.0 * l / n as f64;
        let mut vol = Volume::filled([n, n, n], PORE, h);
        let c = |i: usize| -l + (i as f64 + 0.5) * h;
        for i0 in 0..n {
            for i1 in 0..n {
                for i2 in 0..n {
                    if c(i0).powi(2) + c(i1).powi(2) + c(i2).powi(2) <= r * r {
                        let k = vol.index(i0, i1, i2);
                        vol.data[k] = NPS;
                    }
                }
            }
        }
        let opts = SolveOptions {
            rel_tol: 1e-8,
            max_iter: 20_000,
            ..SolveOptions::default()
        };
        let res = solve(&vol, &opts).expect("solve");
        // D = σ_eff/σ over the cell: conductance G = σ D (2L)²/(2L), so σR = 1/(2 L D).
        let sigma_r = 1.0 / (2.0 * l * res.d_eff);
        let holm = 1.0 / (2.0 * a);
        println!(
            "a/r {a:.3} n {n} D {:.5} sigma*r*R {:.4} holm {:.4} body sigma*r*2Rb {:.4} (it {}, {:.1} s)",
            res.d_eff,
            sigma_r,
            holm,
            sigma_r - holm,
            res.iterations,
            res.solve_seconds
        );
    }
}
