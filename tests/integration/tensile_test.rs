//! Integration tests of the virtual tensile test (`solvers::tensile`) on hand-built snapshots.

use crate::support::snap;
use dryfilm_sim::snapshot::{Contact, Fibril, Snapshot, SnapshotMaterials};
use dryfilm_sim::solvers::tensile::{tensile_test, Axis, TensileError, TensileParams};
use std::f64::consts::PI;

const R: f64 = 1e-6;

/// The shared test materials with a strong PTFE (fibril strength 60 MPa, yield 20 MPa, 0.5 GPa,
/// 2150 kg/m³), anchors of 10 N/m, NPS yield 0.4 GPa and surface energy 0.05 J/m².
fn materials() -> SnapshotMaterials {
    SnapshotMaterials {
        ptfe_density: 2150.0,
        fibril_strength: 60e6,
        fibril_yield: 20e6,
        ptfe_modulus: 0.5e9,
        anchor_strength: 10.0,
        nps_yield_pressure: 400e6,
        nps_surface_energy: 0.05,
        ..snap::materials()
    }
}

/// NPS grains of radius [`R`] at `pos` in a `lx × ly` box 10 R high, with [`materials`].
fn snapshot(pos: Vec<[f64; 3]>, lx: f64, ly: f64) -> Snapshot {
    let mut s = snap::grains(pos, R, lx, ly, 10.0 * R);
    s.materials = materials();
    s
}

/// An uncovered contact of radius `a` between `i` and `j`.
fn contact(i: u32, j: u32, a: f64) -> Contact {
    snap::contact(i, j, a, 0.0)
}

/// A single-strand fibril from particle `a` (source) to `b`.
fn fibril(a: u32, la: [f64; 3], b: u32, lb: [f64; 3], radius: f64, length: f64) -> Fibril {
    snap::fibril(a, la, b, lb, radius, length, 0)
}

/// N touching particles in a periodic chain along `axis`, each bonded to the next by a contact of
/// radius `a`. Box: chain length × 2R, thickness 2R.
fn contact_chain(n: usize, a: f64, axis: Axis) -> Snapshot {
    let pos: Vec<[f64; 3]> = (0..n)
        .map(|k| {
            let s = R + 2.0 * R * k as f64;
            match axis {
                Axis::X => [s, R, R],
                Axis::Y => [R, s, R],
            }
        })
        .collect();
    let len = 2.0 * R * n as f64;
    let mut snap = match axis {
        Axis::X => snapshot(pos, len, 2.0 * R),
        Axis::Y => snapshot(pos, 2.0 * R, len),
    };
    for k in 0..n as u32 {
        let j = (k + 1) % n as u32;
        snap.contacts.push(contact(k.min(j), k.max(j), a));
    }
    snap
}

/// Contact strength of two equal spheres of radius R: DMT pull-off 2π w R* with R* = R/2.
fn pull_off() -> f64 {
    2.0 * PI * materials().nps_surface_energy * R / 2.0
}

#[test]
fn contact_chain_fails_at_pull_off_stress() {
    for axis in [Axis::X, Axis::Y] {
        let snap = contact_chain(4, 0.2e-6, axis);
        let p = TensileParams::default();
        let res = tensile_test(&snap, axis, &p).expect("tensile test runs");
        // Section: 2R wide × 2R thick; every bond carries the chain force.
        let expected = pull_off() / (2.0 * R * 2.0 * R);
        assert!(res.failed);
        assert_eq!(res.broken.contacts, 4);
        let rel = res.curve.peak_stress_pa / expected;
        assert!(
            (1.0 - 1e-3..=1.0 + p.overshoot_tolerance + 1e-3).contains(&rel),
            "{axis:?}: peak {} Pa vs strength {expected} Pa",
            res.curve.peak_stress_pa
        );
        assert_eq!(*res.curve.stress_pa.last().expect("points"), 0.0);
    }
}

#[test]
fn ptfe_covered_contact_chain_fails_at_pull_off_plus_bridge() {
    // Coverage θ = 0.3 on every contact of radius a: strength 2π w R* + σ_bridge θ π a².
    let (a, theta, sigma_bridge) = (0.2e-6, 0.3, 14e6);
    let mut snap = contact_chain(4, a, Axis::X);
    snap.materials.ptfe_bridge_strength = sigma_bridge;
    for c in &mut snap.contacts {
        c.ptfe_coverage = theta;
    }
    let p = TensileParams::default();
    let res = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
    let bridge = sigma_bridge * theta * PI * a * a;
    assert!(
        bridge > 0.5 * pull_off(),
        "the bridge term must matter here"
    );
    let expected = (pull_off() + bridge) / (2.0 * R * 2.0 * R);
    let rel = res.curve.peak_stress_pa / expected;
    assert!(res.failed);
    assert!(
        (1.0 - 1e-3..=1.0 + p.overshoot_tolerance + 1e-3).contains(&rel),
        "peak {} Pa vs strength {expected} Pa",
        res.curve.peak_stress_pa
    );
    // Uncovered contacts ignore the bridge strength.
    for c in &mut snap.contacts {
        c.ptfe_coverage = 0.0;
    }
    let bare = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
    let rel = bare.curve.peak_stress_pa / (pull_off() / (2.0 * R * 2.0 * R));
    assert!((1.0 - 1e-3..=1.0 + p.overshoot_tolerance + 1e-3).contains(&rel));
}

#[test]
fn contact_chain_is_linear_with_expected_stiffness() {
    let a = 0.2e-6;
    let snap = contact_chain(5, a, Axis::X);
    // Real stiffness (failure strain ~2e-5) and the default reduced one (~2e-3).
    for (scale, step) in [(1.0, 1e-6), (0.01, 1e-4)] {
        let p = TensileParams {
            strain_step: step,
            contact_stiffness_scale: scale,
            ..TensileParams::default()
        };
        let res = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
        let m = materials();
        let e_star = m.nps_modulus / (2.0 * (1.0 - m.nps_poisson * m.nps_poisson));
        let kn = 2.0 * e_star * a * scale;
        // Each bond stretches by 2R ε; force kn 2R ε over the 2R × 2R section.
        let slope = kn * 2.0 * R / (2.0 * R * 2.0 * R);
        let mut checked = 0;
        for (e, s) in res.curve.strain.iter().zip(&res.curve.stress_pa) {
            if *e > 0.0 && *s > 0.0 && *e < res.curve.strain_at_peak {
                assert!(
                    (s / e - slope).abs() <= 1e-6 * slope,
                    "secant {} vs {slope}",
                    s / e
                );
                checked += 1;
            }
        }
        assert!(checked >= 5, "scale {scale}: only {checked} elastic points");
    }
}

/// Three particles 3R apart along x, joined surface-to-surface by fibrils of radius `r`, length R.
fn fibril_chain(r: f64) -> Snapshot {
    let s = 3.0 * R;
    let pos = (0..3).map(|k| [0.5 * s + s * k as f64, R, R]).collect();
    let mut snap = snapshot(pos, 3.0 * s, 2.0 * R);
    for k in 0..3u32 {
        let j = (k + 1) % 3;
        snap.fibrils
            .push(fibril(k, [R, 0.0, 0.0], j, [-R, 0.0, 0.0], r, R));
    }
    snap
}

#[test]
fn fibril_chain_fails_at_weaker_of_break_and_detach() {
    let r = 50e-9;
    let area = PI * r * r;
    // (breaking stress, anchor strength): break-limited, then detach-limited; both below yield.
    for (sigma_b, s_a) in [(10e6, 10.0), (60e6, 0.1)] {
        let mut snap = fibril_chain(r);
        snap.materials.fibril_strength = sigma_b;
        snap.materials.anchor_strength = s_a;
        let f_break = sigma_b * area;
        let f_detach = 2.0 * PI * r * s_a;
        let expected = f_break.min(f_detach) / (2.0 * R * 2.0 * R);
        let p = TensileParams {
            max_strain: 1.0,
            ..TensileParams::default()
        };
        let res = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
        assert!(res.failed);
        let rel = res.curve.peak_stress_pa / expected;
        assert!(
            (1.0 - 1e-3..=1.0 + p.overshoot_tolerance + 1e-3).contains(&rel),
            "peak {} vs {expected}",
            res.curve.peak_stress_pa
        );
        if f_break < f_detach {
            assert_eq!((res.broken.fibrils, res.broken.detached), (3, 0));
        } else {
            assert_eq!((res.broken.fibrils, res.broken.detached), (0, 3));
        }
    }
}

#[test]
fn drawing_fibril_chain_peaks_at_hardening_maximum() {
    let r = 50e-9;
    let snap = fibril_chain(r);
    let m = materials();
    let h = 40e6;
    let p = TensileParams {
        max_strain: 2.0,
        strain_step: 0.002,
        fibril_hardening_pa: Some(h),
        ..TensileParams::default()
    };
    let res = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
    // Drawing at σ_f = σ_y + H ε_p with r² = r₀² e^(−ε_p): T = (σ_y + H ε_p) π r₀² e^(−ε_p),
    // maximal at ε_p = 1 − σ_y/H (here 0.5, before σ_f reaches σ_b at ε_p = 1).
    let eps = 1.0 - m.fibril_yield / h;
    let t_max = (m.fibril_yield + h * eps) * PI * r * r * (-eps).exp();
    let expected = t_max / (2.0 * R * 2.0 * R);
    assert!(
        (res.curve.peak_stress_pa / expected - 1.0).abs() < 2e-3,
        "peak {} vs {expected}",
        res.curve.peak_stress_pa
    );
    assert!(res.failed);
    assert_eq!(res.broken.fibrils, 3);
}

/// A jittered simple-cubic film of nx × ny × nz particles (spacing 1.96 R, so neighbours overlap),
/// bonded to lattice neighbours, with `n_fibrils` fibrils between random particles at most two
/// spacings apart. Deterministic (fixed LCG).
fn lattice_film(nx: usize, ny: usize, nz: usize, n_fibrils: usize, seed: u64) -> Snapshot {
    let h = 1.96 * R;
    let mut rng = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let idx = |x: usize, y: usize, z: usize| (z * ny + y) * nx + x;
    let mut pos = vec![[0.0; 3]; nx * ny * nz];
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let j = 0.01 * R;
                pos[idx(x, y, z)] = [
                    (x as f64 + 0.5) * h + j * (uniform() - 0.5),
                    (y as f64 + 0.5) * h + j * (uniform() - 0.5),
                    (z as f64 + 0.5) * h + j * (uniform() - 0.5),
                ];
            }
        }
    }
    let mut snap = snapshot(pos, nx as f64 * h, ny as f64 * h);
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let i = idx(x, y, z) as u32;
                let mut nb = vec![idx((x + 1) % nx, y, z), idx(x, (y + 1) % ny, z)];
                if z + 1 < nz {
                    nb.push(idx(x, y, z + 1));
                }
                for j in nb {
                    let j = j as u32;
                    snap.contacts.push(contact(i.min(j), i.max(j), 0.2 * R));
                }
            }
        }
    }
    let n = snap.particles.pos.len();
    let mut made = 0;
    while made < n_fibrils {
        let a = ((uniform() * n as f64) as usize).min(n - 1);
        let b = ((uniform() * n as f64) as usize).min(n - 1);
        if a == b {
            continue;
        }
        let (pa, pb) = (snap.particles.pos[a], snap.particles.pos[b]);
        let d = snap.sim_box.delta(pb, pa);
        let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        if len > 2.0 * h {
            continue;
        }
        // Anchors on the surfaces facing each other.
        let u = [d[0] / len, d[1] / len, d[2] / len];
        let la = [u[0] * R, u[1] * R, u[2] * R];
        let lb = [-u[0] * R, -u[1] * R, -u[2] * R];
        let flen = (len - 2.0 * R).max(0.05 * R);
        snap.fibrils
            .push(fibril(a as u32, la, b as u32, lb, 50e-9, flen));
        made += 1;
    }
    snap
}

/// Test settings of the lattice films: strain to 0.1 in steps of 0.005.
fn short_test() -> TensileParams {
    TensileParams {
        max_strain: 0.1,
        strain_step: 0.005,
        ..TensileParams::default()
    }
}

#[test]
fn more_fibrils_give_higher_peak_stress() {
    // Without fibrils the peak is the contact network's; fibrils take over after it breaks and,
    // when there are enough of them, carry more than the contacts did.
    let p = short_test();
    let mut peaks = Vec::new();
    for nf in [0, 150, 300] {
        let snap = lattice_film(4, 4, 2, nf, 7);
        let res = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
        assert_eq!(
            res.work.unconverged, 0,
            "{nf} fibrils: relaxation did not converge"
        );
        peaks.push(res.curve.peak_stress_pa);
    }
    assert!(
        peaks[1] > peaks[0] && peaks[2] > peaks[1],
        "peaks {peaks:?}"
    );
}

#[test]
fn looser_avalanche_relaxations_keep_the_peak() {
    // Relaxing between an avalanche's break rounds to 1e-2 instead of 1e-4 of F_ref: the
    // avalanche still ends on a relaxation at the force tolerance, so the curve keeps its peak.
    let snap = lattice_film(4, 4, 2, 300, 7);
    let p = short_test();
    let loose = TensileParams {
        avalanche_force_tolerance: Some(1e-2),
        ..p
    };
    let a = tensile_test(&snap, Axis::X, &p).expect("default");
    let b = tensile_test(&snap, Axis::X, &loose).expect("loose avalanches");
    assert!(a.work.avalanche > 0, "the film must break: {:?}", a.work);
    assert_eq!(b.work.unconverged, 0);
    // The looser tolerance is used: fewer FIRE iterations in all.
    assert!(
        b.work.iterations < a.work.iterations,
        "iterations {} (loose) vs {} (default)",
        b.work.iterations,
        a.work.iterations
    );
    let rel = (b.curve.peak_stress_pa / a.curve.peak_stress_pa - 1.0).abs();
    assert!(
        rel < 0.02,
        "peak {} vs {} Pa",
        b.curve.peak_stress_pa,
        a.curve.peak_stress_pa
    );
    // A tolerance looser than 0.1 or tighter than the force tolerance is refused.
    for t in [0.5, 1e-6] {
        let bad = TensileParams {
            avalanche_force_tolerance: Some(t),
            ..p
        };
        assert!(matches!(
            tensile_test(&snap, Axis::X, &bad),
            Err(TensileError::InvalidParameter {
                name: "avalanche_force_tolerance",
                ..
            })
        ));
    }
}

#[test]
fn result_is_identical_across_thread_counts() {
    let snap = lattice_film(5, 5, 2, 120, 3);
    let p = short_test();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| tensile_test(&snap, Axis::Y, &p).expect("tensile test runs"))
    };
    let one = run(1);
    let four = run(4);
    assert!(one.curve.strain.len() > 3);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.curve.strain), bits(&four.curve.strain));
    assert_eq!(bits(&one.curve.stress_pa), bits(&four.curve.stress_pa));
    assert_eq!(one.broken.contacts, four.broken.contacts);
    assert_eq!(one.work, four.work);
}

#[test]
fn csv_has_header_and_one_line_per_point() {
    let snap = contact_chain(3, 0.2e-6, Axis::X);
    let res = tensile_test(&snap, Axis::X, &TensileParams::default()).expect("tensile test runs");
    let csv = dryfilm_sim::pipeline::curve_csv(&res.curve);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("strain,stress_kPa"));
    assert_eq!(lines.count(), res.curve.strain.len());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let snap = contact_chain(3, 0.2e-6, Axis::X);
    let p = TensileParams {
        strain_step: -1.0,
        ..TensileParams::default()
    };
    assert!(matches!(
        tensile_test(&snap, Axis::X, &p),
        Err(TensileError::InvalidParameter {
            name: "strain_step",
            ..
        })
    ));
    let mut bad = snap.clone();
    bad.contacts.push(contact(0, 99, 1e-7));
    assert!(matches!(
        tensile_test(&bad, Axis::X, &TensileParams::default()),
        Err(TensileError::InvalidSnapshot(_))
    ));
    let mut empty = snap.clone();
    empty.contacts.clear();
    assert!(matches!(
        tensile_test(&empty, Axis::X, &TensileParams::default()),
        Err(TensileError::NoLoadPaths)
    ));
    let mut nan = snap;
    nan.particles.pos[1][0] = f64::NAN;
    assert!(tensile_test(&nan, Axis::X, &TensileParams::default()).is_err());
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Throughput check on a ~20k-particle, 20k-fibril lattice film (run with `cargo test --release
/// -p dryfilm --test integration tensile_test::large_film -- --ignored --nocapture`; the film size
/// `TENSILE_FILM_NX` (default 40 → 40×40×12 particles), `TENSILE_STIFFNESS_SCALE`,
/// `TENSILE_FORCE_TOL` and `TENSILE_MAX_STRAIN` override the defaults). Prints timings; asserts
/// nothing about speed.
#[test]
#[ignore]
fn large_film_timing() {
    let size: usize = env_or("TENSILE_FILM_NX", 40);
    let snap = lattice_film(size, size, 12, size * size * 12, 11);
    let d = TensileParams::default();
    let p = TensileParams {
        contact_stiffness_scale: env_or("TENSILE_STIFFNESS_SCALE", d.contact_stiffness_scale),
        force_tolerance: env_or("TENSILE_FORCE_TOL", d.force_tolerance),
        max_strain: env_or("TENSILE_MAX_STRAIN", d.max_strain),
        ..d
    };
    let t = std::time::Instant::now();
    let res = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
    println!(
        "particles {} contacts {} fibrils {}: {:.2} s, {} points, {} relaxations, {} iterations, \
         {} unconverged, peak {:.1} kPa at strain {:.4}, failed {}, broken {}/{}/{}",
        snap.particles.pos.len(),
        snap.contacts.len(),
        snap.fibrils.len(),
        t.elapsed().as_secs_f64(),
        res.curve.strain.len(),
        res.work.relaxations,
        res.work.iterations,
        res.work.unconverged,
        res.curve.peak_stress_pa / 1e3,
        res.curve.strain_at_peak,
        res.failed,
        res.broken.contacts,
        res.broken.fibrils,
        res.broken.detached
    );
}

#[test]
fn prestressed_fibrils_start_stress_free_and_keep_their_strength() {
    // The chain's fibrils are stretched 1/0.9 − 1 ≈ 11 % past their rest length in the snapshot
    // (prestress left by calendering). Relaxed (default), the test starts stress-free with the
    // volume kept (r'² = 0.9 r²), and fails at the weaker of break and detach of the thinner strands.
    let r = 50e-9;
    let mut snap = fibril_chain(r);
    for f in &mut snap.fibrils {
        f.rest_length = 0.9 * R;
    }
    // Breaking stress below the drawing stress (20 MPa): the strands break elastically.
    snap.materials.fibril_strength = 10e6;
    let p = TensileParams {
        max_strain: 1.0,
        ..TensileParams::default()
    };
    let res = tensile_test(&snap, Axis::X, &p).expect("tensile test runs");
    let r2 = r * 0.9f64.sqrt();
    let expected = (10e6 * PI * r2 * r2).min(2.0 * PI * r2 * materials().anchor_strength)
        / (2.0 * R * 2.0 * R);
    let rel = res.curve.peak_stress_pa / expected;
    assert!(
        (1.0 - 1e-3..=1.0 + p.overshoot_tolerance + 1e-3).contains(&rel),
        "peak {} vs {expected}",
        res.curve.peak_stress_pa
    );
    // Without the relaxation the prestress (far above the breaking stress here) breaks the chain
    // at zero strain: nothing is left to carry load.
    let keep = TensileParams {
        relax_fibril_prestress: false,
        ..p
    };
    let res = tensile_test(&snap, Axis::X, &keep).expect("tensile test runs");
    assert!(
        res.curve.peak_stress_pa < 0.01 * expected,
        "{}",
        res.curve.peak_stress_pa
    );
}
