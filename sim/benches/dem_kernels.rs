//! Criterion benchmarks of the DEM hot paths: the pair force kernel, the whole force evaluation and
//! the neighbour-list rebuild, on a 5000-sphere packing pressed to contact (the anchor problem's
//! material). `cargo bench -p dryfilm-sim`.

use criterion::{criterion_group, criterion_main, Criterion};
use dryfilm_sim::dem::bench::{anchor_engine, anchor_material, generate_anchor_packing};
use dryfilm_sim::dem::contact::{ContactSpring, PairParams, PlasticState};
use dryfilm_sim::dem::engine::contact_force;
use glam::DVec3;
use std::hint::black_box;

fn kernels(c: &mut Criterion) {
    let m = anchor_material();
    let pp = PairParams::mix(&m, &m);
    c.bench_function("contact_force (Hertz–Mindlin, one pair)", |b| {
        let mut spring = ContactSpring {
            slide: DVec3::new(1e-9, 0.0, 0.0),
            roll: DVec3::ZERO,
        };
        let mut pl = PlasticState::default();
        b.iter(|| {
            contact_force(
                black_box(&pp),
                black_box(1e-8),
                1.25e-6,
                7e-14,
                1.75e-25,
                DVec3::Z,
                DVec3::new(0.01, 0.0, -0.1),
                DVec3::ZERO,
                DVec3::ZERO,
                2.5e-6,
                2.5e-6,
                &mut pl,
                &mut spring,
                5e-10,
                false,
            )
        })
    });
    let data = generate_anchor_packing(5000, 1).expect("packing");
    let mut dem = anchor_engine(&data);
    dem.rebuild().expect("rebuild");
    for _ in 0..2000 {
        dem.step_once().expect("step");
    }
    c.bench_function("compute_forces (5000 spheres)", |b| {
        b.iter(|| dem.compute_forces())
    });
    c.bench_function("neighbour rebuild (5000 spheres)", |b| {
        b.iter(|| dem.rebuild().expect("rebuild"))
    });
}

criterion_group!(benches, kernels);
criterion_main!(benches);
