//! Voxel conductivity solver: analytic cases, connectivity, axis handling, determinism, and the
//! anchor volumes of `bench/conductivity-anchor.md`.

use dryfilm_sim::solvers::voxel::anchor::{anchor_volume, sha256_prefix, ANCHOR_CASES};
use dryfilm_sim::solvers::voxel::{solve, SolveOptions, Volume};

fn tight() -> SolveOptions {
    SolveOptions {
        rel_tol: 1e-10,
        ..SolveOptions::default()
    }
}

/// A small pseudo-random binary volume (SplitMix64-like hash), conducting with probability `p`.
fn random_volume(dims: [usize; 3], p: f64, seed: u64) -> Volume {
    let mut v = Volume::filled(dims, 0, 1.0);
    for (i, x) in v.data.iter_mut().enumerate() {
        let mut z = seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        *x = u8::from((z >> 11) as f64 / ((1u64 << 53) as f64) < p);
    }
    v
}

#[test]
fn dense_block_has_unit_conductivity_and_tortuosity() {
    let v = Volume::filled([12, 9, 7], 1, 1.0);
    for axis in 0..3 {
        let r = solve(&v, &SolveOptions { axis, ..tight() }).expect("valid volume");
        assert!(r.percolates);
        assert!((r.d_eff - 1.0).abs() < 1e-9, "axis {axis}: {}", r.d_eff);
        assert!((r.tortuosity_factor.expect("percolates") - 1.0).abs() < 1e-9);
        assert_eq!(r.volume_fraction, 1.0);
    }
}

#[test]
fn parallel_slabs_conduct_their_area_fraction() {
    // Conducting where i2 mod 5 < 2: straight channels along axis 0, 2/5 of the area.
    let mut v = Volume::filled([20, 6, 25], 0, 1.0);
    for (i, x) in v.data.iter_mut().enumerate() {
        *x = u8::from((i % 25) % 5 < 2);
    }
    let r = solve(&v, &tight()).expect("valid volume");
    assert!((r.d_eff - 0.4).abs() < 1e-9, "{}", r.d_eff);
    assert!((r.tortuosity_factor.expect("percolates") - 1.0).abs() < 1e-9);
}

#[test]
fn three_voxel_bottleneck_matches_the_hand_solution() {
    // dims (2, 2, 1): conducting (0,0,0), (0,1,0), (1,0,0); (1,1,0) insulating. Kirchhoff by hand:
    // 4a − b − c = 0, 3b = a, 3c − a = 2 → a = 1/5, c = 11/15, I = 2(1 − c) = 8/15,
    // D_rel = I·n0/(n1·n2) = 8/15.
    let v = Volume {
        dims: [2, 2, 1],
        data: vec![1, 1, 1, 0],
        voxel_size: 1.0,
    };
    let r = solve(&v, &tight()).expect("valid volume");
    assert!((r.d_eff - 8.0 / 15.0).abs() < 1e-9, "{}", r.d_eff);
    assert!((r.volume_fraction - 0.75).abs() < 1e-15);
}

#[test]
fn blocked_volume_does_not_percolate() {
    let mut v = Volume::filled([10, 8, 8], 1, 1.0);
    for i1 in 0..8 {
        for i2 in 0..8 {
            let idx = v.index(5, i1, i2);
            v.data[idx] = 0;
        }
    }
    let r = solve(&v, &SolveOptions::default()).expect("valid volume");
    assert!(!r.percolates);
    assert_eq!(r.d_eff, 0.0);
    assert!(r.tortuosity_factor.is_none());
    // Along the blocking plane the phase still percolates, with 9/10 of the area.
    let r1 = solve(&v, &SolveOptions { axis: 1, ..tight() }).expect("valid volume");
    assert!(r1.percolates);
    assert!((r1.d_eff - 0.9).abs() < 1e-9, "{}", r1.d_eff);
    // No conducting voxel at all.
    let empty = Volume::filled([4, 4, 4], 0, 1.0);
    let r2 = solve(&empty, &SolveOptions::default()).expect("valid volume");
    assert!(!r2.percolates && r2.d_eff == 0.0);
}

#[test]
fn isolated_clusters_and_dead_ends_carry_no_current() {
    // A straight 1-voxel channel plus an isolated voxel and a dead end attached to the inlet.
    let mut v = Volume::filled([6, 5, 5], 0, 1.0);
    for i0 in 0..6 {
        let idx = v.index(i0, 2, 2);
        v.data[idx] = 1;
    }
    let iso = v.index(3, 0, 0);
    v.data[iso] = 1;
    let dead = v.index(0, 2, 3);
    v.data[dead] = 1;
    let r = solve(&v, &tight()).expect("valid volume");
    // The dead end at the inlet is an extra parallel electrode contact: I is larger than 1/6,
    // but never more than a second full column (2/6); the isolated voxel changes nothing.
    let i = r.d_eff * 25.0 / 6.0;
    assert!(i > 1.0 / 6.0 && i < 2.0 / 6.0, "{i}");
    assert_eq!(r.unknowns, 7);
}

#[test]
fn flipped_and_transposed_volumes_give_the_same_answer() {
    let v = random_volume([17, 14, 11], 0.7, 5);
    let r = solve(&v, &tight()).expect("valid volume");
    assert!(
        r.percolates,
        "the random volume should percolate at p = 0.7"
    );
    // Reverse axis 0: the same conductance.
    let mut flipped = v.clone();
    let plane = 14 * 11;
    for i0 in 0..17 {
        flipped.data[i0 * plane..(i0 + 1) * plane]
            .copy_from_slice(&v.data[(16 - i0) * plane..(17 - i0) * plane]);
    }
    let rf = solve(&flipped, &tight()).expect("valid volume");
    assert!(
        (rf.d_eff / r.d_eff - 1.0).abs() < 1e-8,
        "{} vs {}",
        rf.d_eff,
        r.d_eff
    );
    // Move axis 0 to position 2 and solve along axis 2.
    let mut t = Volume::filled([14, 11, 17], 0, 1.0);
    for a in 0..17 {
        for b in 0..14 {
            for c in 0..11 {
                let idx = t.index(b, c, a);
                t.data[idx] = v.get(a, b, c);
            }
        }
    }
    let rt = solve(&t, &SolveOptions { axis: 2, ..tight() }).expect("valid volume");
    assert!(
        (rt.d_eff / r.d_eff - 1.0).abs() < 1e-8,
        "{} vs {}",
        rt.d_eff,
        r.d_eff
    );
    // Between the parallel-channel bound ε and 0.
    assert!(r.d_eff > 0.0 && r.d_eff < r.volume_fraction);
}

#[test]
fn result_is_bitwise_identical_on_one_and_two_threads() {
    let v = random_volume([40, 36, 34], 0.6, 9);
    let opts = SolveOptions::default();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    let a = one.install(|| solve(&v, &opts)).expect("valid volume");
    let b = two.install(|| solve(&v, &opts)).expect("valid volume");
    assert!(a.percolates);
    assert_eq!(a.d_eff.to_bits(), b.d_eff.to_bits());
    assert_eq!(a.iterations, b.iterations);
}

#[test]
fn bad_options_and_inconsistent_volumes_are_errors() {
    let v = Volume::filled([3, 3, 3], 1, 1.0);
    let d = SolveOptions::default();
    for bad in [
        SolveOptions { axis: 3, ..d },
        SolveOptions { rel_tol: 0.0, ..d },
        SolveOptions {
            rel_tol: f64::NAN,
            ..d
        },
    ] {
        assert!(solve(&v, &bad).is_err(), "{bad:?}");
    }
    let bad = Volume {
        dims: [3, 3, 3],
        data: vec![1; 26],
        voxel_size: 1.0,
    };
    assert!(solve(&bad, &SolveOptions::default()).is_err());
}

#[test]
fn anchor_volumes_at_100_reproduce_the_reference() {
    for c in ANCHOR_CASES.iter().filter(|c| c.n == 100) {
        let v = anchor_volume(c.name, c.n).expect("anchor recipe");
        assert_eq!(sha256_prefix(&v), c.sha256_prefix, "{}", c.name);
        if ![
            "dense",
            "slabs_parallel",
            "spheres_ins_f0.4",
            "spheres_cond_f0.6",
        ]
        .contains(&c.name)
        {
            continue;
        }
        let r = solve(&v, &SolveOptions::default()).expect("valid volume");
        let err = (r.d_eff / c.d_rel - 1.0).abs();
        assert!(r.percolates && r.converged, "{}", c.name);
        assert!(
            err < 0.005,
            "{}: D_rel {} vs reference {} ({err:.1e})",
            c.name,
            r.d_eff,
            c.d_rel
        );
    }
}
