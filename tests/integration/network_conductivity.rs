//! Contact-network ionic conductivity on hand-built snapshots: simple cubic packings against the
//! hand calculation, PTFE coverage, broken chains, and thread-count determinism.

use crate::support::snap::{self, contact};
use dryfilm_sim::snapshot::{Phase, Snapshot, Wall, WallContact};
use dryfilm_sim::solvers::network::{ionic_conductivity, Direction};
use std::f64::consts::PI;

const SIGMA: f64 = 0.0149; // S/m (1.49e-4 S/cm)
const R: f64 = 2.0e-6; // particle radius, m
const TOL: f64 = 1e-12;

fn empty_snapshot(lx: f64, ly: f64, h: f64) -> Snapshot {
    let mut s = snap::empty(lx, ly, h);
    s.materials.nps_sigma_ion = SIGMA;
    s
}

fn push_particle(s: &mut Snapshot, pos: [f64; 3], r: f64, phase: Phase) -> u32 {
    snap::add_particle(s, pos, r, phase)
}

/// Simple cubic packing of `n = [nx, ny, nz]` touching spheres of radius R, contact radius `a`,
/// PTFE coverage `theta`, wall contact radius `aw`.
fn cubic(n: [usize; 3], a: f64, theta: f64, aw: f64) -> Snapshot {
    let [nx, ny, nz] = n;
    let d = 2.0 * R;
    let mut s = empty_snapshot(nx as f64 * d, ny as f64 * d, nz as f64 * d);
    let id = |ix: usize, iy: usize, iz: usize| ((iz * ny + iy) * nx + ix) as u32;
    for iz in 0..nz {
        for iy in 0..ny {
            for ix in 0..nx {
                let pos = [
                    (ix as f64 + 0.5) * d,
                    (iy as f64 + 0.5) * d,
                    (iz as f64 + 0.5) * d,
                ];
                push_particle(&mut s, pos, R, Phase::Nps);
            }
        }
    }
    for iz in 0..nz {
        for iy in 0..ny {
            for ix in 0..nx {
                let me = id(ix, iy, iz);
                s.contacts
                    .push(contact(me, id((ix + 1) % nx, iy, iz), a, theta));
                s.contacts
                    .push(contact(me, id(ix, (iy + 1) % ny, iz), a, theta));
                if iz + 1 < nz {
                    s.contacts.push(contact(me, id(ix, iy, iz + 1), a, theta));
                }
            }
        }
    }
    for iy in 0..ny {
        for ix in 0..nx {
            let w = |i, wall| WallContact {
                i,
                wall,
                radius: aw,
                normal_force: 0.0,
            };
            s.wall_contacts.push(w(id(ix, iy, 0), Wall::Bottom));
            s.wall_contacts.push(w(id(ix, iy, nz - 1), Wall::Top));
        }
    }
    s
}

/// Hand calculation's pieces: the bulk resistance of one grain between two contacts and the
/// resistance of one particle-to-particle step (two half grains and the constriction of a contact
/// of radius `a` with a fraction `theta` of its area blocked), Ω; and the box lengths, m.
fn hand_parts(n: [usize; 3], a: f64, theta: f64) -> (f64, f64, [f64; 3]) {
    let rb = 1.0 / (SIGMA * PI * R);
    let a_open = a * (1.0 - theta).sqrt();
    let r_step = 2.0 * rb + 1.0 / (2.0 * SIGMA * a_open);
    (rb, r_step, n.map(|k| k as f64 * 2.0 * R))
}

/// Hand calculation, through thickness: columns of series resistors, in parallel.
fn hand_z(n: [usize; 3], a: f64, theta: f64, aw: f64) -> f64 {
    let [nx, ny, nz] = n;
    let (rb, r_contact, [lx, ly, h]) = hand_parts(n, a, theta);
    let r_wall = 1.0 / (4.0 * SIGMA * aw) + rb;
    let r_col = 2.0 * r_wall + (nz - 1) as f64 * r_contact;
    let current = (nx * ny) as f64 / r_col;
    current * h / (lx * ly)
}

/// Hand calculation, in plane along x: rings of nx contacts, ny·nz of them in parallel.
fn hand_x(n: [usize; 3], a: f64, theta: f64) -> f64 {
    let [nx, ny, nz] = n;
    let (_, r_contact, [lx, ly, h]) = hand_parts(n, a, theta);
    let r_ring = nx as f64 * r_contact;
    let current = (ny * nz) as f64 / r_ring;
    current * lx / (ly * h)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn simple_cubic_through_thickness_matches_hand_calculation() {
    let n = [4, 3, 5];
    let (a, aw) = (0.4e-6, 0.3e-6);
    let res = ionic_conductivity(&cubic(n, a, 0.0, aw), Direction::Z, TOL).expect("solve");
    let expect = hand_z(n, a, 0.0, aw);
    assert!(res.percolates);
    assert!(
        rel(res.sigma_s_m, expect) < 1e-9,
        "{} vs {expect}",
        res.sigma_s_m
    );
    assert!(rel(res.sigma_s_cm, expect / 100.0) < 1e-9);
    assert_eq!(res.n_nodes, 60);
    // Potentials rise layer by layer and are equal within a layer.
    for iz in 0..5 {
        let layer: Vec<f64> = res.potentials[iz * 12..(iz + 1) * 12].to_vec();
        assert!(layer.iter().all(|v| (v - layer[0]).abs() < 1e-9));
        assert!(layer[0] > 0.0 && layer[0] < 1.0);
    }
}

#[test]
fn simple_cubic_in_plane_matches_hand_calculation() {
    let n = [4, 3, 5];
    let a = 0.4e-6;
    let s = cubic(n, a, 0.0, 0.3e-6);
    let res = ionic_conductivity(&s, Direction::X, TOL).expect("solve");
    let expect = hand_x(n, a, 0.0);
    assert!(res.percolates);
    assert!(
        rel(res.sigma_s_m, expect) < 1e-9,
        "{} vs {expect}",
        res.sigma_s_m
    );
    // Along y the rings have ny = 3 contacts over ly = 3·2R: same conductivity for a cube lattice.
    let res_y = ionic_conductivity(&s, Direction::Y, TOL).expect("solve");
    let expect_y = hand_x([3, 4, 5], a, 0.0);
    assert!(
        rel(res_y.sigma_s_m, expect_y) < 1e-9,
        "{} vs {expect_y}",
        res_y.sigma_s_m
    );
}

#[test]
fn ptfe_coverage_reduces_conductivity_as_open_radius_predicts() {
    let n = [3, 3, 4];
    let (a, aw) = (0.5e-6, 0.5e-6);
    let clean = ionic_conductivity(&cubic(n, a, 0.0, aw), Direction::Z, TOL).expect("solve");
    for theta in [0.3, 0.75, 0.99] {
        let covered =
            ionic_conductivity(&cubic(n, a, theta, aw), Direction::Z, TOL).expect("solve");
        assert!(covered.sigma_s_m < clean.sigma_s_m);
        let expect = hand_z(n, a, theta, aw);
        assert!(
            rel(covered.sigma_s_m, expect) < 1e-9,
            "θ={theta}: {} vs {expect}",
            covered.sigma_s_m
        );
        let in_plane =
            ionic_conductivity(&cubic(n, a, theta, aw), Direction::X, TOL).expect("solve");
        assert!(rel(in_plane.sigma_s_m, hand_x(n, a, theta)) < 1e-9);
    }
    // Fully covered contacts block everything.
    let blocked = ionic_conductivity(&cubic(n, a, 1.0, aw), Direction::Z, TOL).expect("solve");
    assert!(!blocked.percolates);
    assert_eq!(blocked.sigma_s_m, 0.0);
}

#[test]
fn broken_chain_does_not_percolate() {
    // One column of 5 particles, the contact between layers 2 and 3 missing.
    let mut s = cubic([1, 1, 5], 0.4e-6, 0.0, 0.4e-6);
    s.contacts.retain(|c| !(c.i == 2 && c.j == 3) && c.i != c.j);
    let res = ionic_conductivity(&s, Direction::Z, TOL).expect("solve");
    assert!(!res.percolates);
    assert_eq!(res.sigma_s_m, 0.0);
    assert_eq!(res.current, 0.0);
    // Intact, it percolates.
    let mut intact = cubic([1, 1, 5], 0.4e-6, 0.0, 0.4e-6);
    intact.contacts.retain(|c| c.i != c.j);
    assert!(
        ionic_conductivity(&intact, Direction::Z, TOL)
            .expect("solve")
            .percolates
    );

    // In plane: cut every x-ring once; nothing wraps.
    let mut s = cubic([4, 3, 2], 0.4e-6, 0.0, 0.4e-6);
    let pos = s.particles.pos.clone();
    s.contacts.retain(|c| {
        let (pi, pj) = (pos[c.i as usize], pos[c.j as usize]);
        let x_link = (pi[1] - pj[1]).abs() < 1e-12 && (pi[2] - pj[2]).abs() < 1e-12;
        let crosses_cut =
            pi[0].min(pj[0]) < 4e-6 && pi[0].max(pj[0]) > 4e-6 && pi[0].max(pj[0]) < 8e-6;
        !(x_link && crosses_cut)
    });
    let res = ionic_conductivity(&s, Direction::X, TOL).expect("solve");
    assert!(!res.percolates);
    assert_eq!(res.sigma_s_m, 0.0);
    // Along y the packing is untouched and still conducts.
    assert!(
        ionic_conductivity(&s, Direction::Y, TOL)
            .expect("solve")
            .percolates
    );
}

#[test]
fn ptfe_particles_are_not_ion_conductors() {
    let mut s = cubic([1, 1, 3], 0.4e-6, 0.0, 0.4e-6);
    s.contacts.retain(|c| c.i != c.j);
    s.particles.phase[1] = Phase::Ptfe;
    let res = ionic_conductivity(&s, Direction::Z, TOL).expect("solve");
    assert!(!res.percolates);
    assert!(res.potentials[1].is_nan());
}

#[test]
fn bad_snapshots_are_errors_not_panics() {
    let mut s = cubic([2, 2, 2], 0.4e-6, 0.0, 0.4e-6);
    s.contacts[0].j = 99;
    assert!(ionic_conductivity(&s, Direction::Z, TOL).is_err());
    let mut s = cubic([2, 2, 2], 0.4e-6, 0.0, 0.4e-6);
    s.sim_box.z_top = s.sim_box.z_bottom;
    assert!(ionic_conductivity(&s, Direction::Z, TOL).is_err());
    let mut s = cubic([2, 2, 2], 0.4e-6, 0.0, 0.4e-6);
    s.materials.nps_sigma_ion = f64::NAN;
    assert!(ionic_conductivity(&s, Direction::X, TOL).is_err());
}

/// Deterministic pseudo-random numbers in [0, 1) (64-bit LCG, high bits).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An `n³` cubic packing (wall contacts of radius 0.3 µm) whose grain contacts get random radii in
/// `a0 + [0, da)` (m) and PTFE coverage in `[0, theta_max)`; a fraction `missing` of them is
/// removed. Deterministic in `seed`.
fn random_contacts(
    n: usize,
    seed: u64,
    (a0, da): (f64, f64),
    theta_max: f64,
    missing: f64,
) -> Snapshot {
    let mut s = cubic([n, n, n], 0.4e-6, 0.0, 0.3e-6);
    let mut rng = Lcg(seed);
    for c in &mut s.contacts {
        c.radius = a0 + da * rng.next();
        c.ptfe_coverage = theta_max * rng.next();
    }
    s.contacts.retain(|_| rng.next() > missing);
    s
}

#[test]
fn bitwise_identical_on_any_thread_count() {
    // 14³ = 2744 nodes (more than one reduction chunk), random contact radii and coverage,
    // 10% of contacts missing.
    let s = random_contacts(14, 42, (0.1e-6, 0.6e-6), 0.5, 0.1);
    let run = |threads: usize, dir: Direction| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| ionic_conductivity(&s, dir, 1e-10).expect("solve"))
    };
    for dir in [Direction::Z, Direction::X] {
        let one = run(1, dir);
        assert!(one.percolates && one.sigma_s_m > 0.0);
        for threads in [2, 3, 4] {
            let other = run(threads, dir);
            assert_eq!(
                one.sigma_s_m.to_bits(),
                other.sigma_s_m.to_bits(),
                "{threads} threads"
            );
            assert_eq!(one.iterations, other.iterations);
            let same = one
                .potentials
                .iter()
                .zip(&other.potentials)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "potentials differ on {threads} threads");
        }
    }
}

/// Size/speed probe, not a benchmark assertion:
/// `cargo test -p dryfilm --test integration network_conductivity::probe -- --ignored --nocapture`
/// prints nodes, iterations and wall time for a 40³ random packing.
#[test]
#[ignore]
fn probe_large_random_packing() {
    let s = random_contacts(40, 7, (0.05e-6, 0.8e-6), 0.9, 0.15);
    for dir in [Direction::Z, Direction::X] {
        let t = std::time::Instant::now();
        let res = ionic_conductivity(&s, dir, 1e-10).expect("solve");
        println!(
            "{dir:?}: nodes {} edges {} iterations {} sigma {:.4e} S/m, {:.3} s on {} threads",
            res.n_nodes,
            res.n_edges,
            res.iterations,
            res.sigma_s_m,
            t.elapsed().as_secs_f64(),
            rayon::current_num_threads()
        );
    }
}
