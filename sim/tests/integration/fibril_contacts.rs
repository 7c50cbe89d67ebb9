//! Fibril–fibril contact detection (`fibril_crossings`, used by every snapshot): the cell-grid
//! search finds exactly the pairs that checking every pair of fibrils finds, in the same order,
//! including fibrils that cross the periodic boundaries and boxes too small for three cells.

use dryfilm_sim::dem::bench::{anchor_engine, generate_anchor_packing};
use dryfilm_sim::dem::fibril_law::FibrilLawState;
use dryfilm_sim::dem::Dem;
use dryfilm_sim::process::{fibril_crossings, segment_distance, FibrilC};
use dryfilm_sim::snapshot::{Anchor, FibrilState};
use glam::DVec3;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` fibrils between random particles of `dem` less than `reach` apart (minimum image), anchored
/// at random surface points, with random strand counts; every fifth one broken.
fn random_fibrils(dem: &Dem, n: usize, reach: f64, seed: u64) -> Vec<FibrilC> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let np = dem.p.len();
    let mut out = Vec::new();
    while out.len() < n {
        let (i, j) = (rng.random_range(0..np), rng.random_range(0..np));
        if i == j || dem.min_image(i, j).length() > reach {
            continue;
        }
        let mut anchor = |k: usize| {
            let u = DVec3::new(
                rng.random::<f64>() - 0.5,
                rng.random::<f64>() - 0.5,
                rng.random::<f64>() - 0.5,
            )
            .normalize_or(DVec3::X);
            Anchor {
                particle: k as u32,
                local: (u * dem.p.radius[k]).to_array(),
            }
        };
        let (a, b) = (anchor(i), anchor(j));
        let world = |x: &Anchor| {
            let k = x.particle as usize;
            dem.p.pos[k] + dem.p.quat[k] * DVec3::from_array(x.local)
        };
        let id = out.len() as u32;
        out.push(FibrilC {
            id,
            a,
            b,
            source: 0,
            shift: dem.min_image_shift(i, j, world(&b) - world(&a)),
            law: FibrilLawState {
                rest_length: 1e-6,
                radius: 50e-9 + 100e-9 * rng.random::<f64>(),
            },
            count: 1.0 + (rng.random::<f64>() * 400.0).floor(),
            tension: 0.0,
            length: 0.0,
            state: if id % 5 == 4 {
                FibrilState::Broken
            } else {
                FibrilState::Intact
            },
        });
    }
    out
}

/// Every pair of intact fibrils checked directly, with the rule the search implements written
/// out: the second fibril is taken at the x/y periodic image (of the nine nearest) that brings its
/// midpoint closest to the first's, and the pair touches when the segments pass closer than the
/// summed bundle radii plus 10 nm.
fn all_pairs(d: &Dem, fibs: &[FibrilC]) -> Vec<[u32; 2]> {
    let seg = |f: &FibrilC| {
        let end = |a: &Anchor| {
            let k = a.particle as usize;
            d.p.pos[k] + d.p.quat[k] * DVec3::from_array(a.local)
        };
        let a = end(&f.a);
        let v = d.wrap(end(&f.b) - a);
        (a, v, f.law.radius * f.count.max(1.0).sqrt())
    };
    let images: Vec<DVec3> = (-1..=1)
        .flat_map(|sx| (-1..=1).map(move |sy| (sx, sy)))
        .map(|(sx, sy)| DVec3::new(sx as f64 * d.lx, sy as f64 * d.ly, 0.0))
        .collect();
    let intact: Vec<(usize, (DVec3, DVec3, f64))> = (0..fibs.len())
        .filter(|&k| fibs[k].state == FibrilState::Intact)
        .map(|k| (k, seg(&fibs[k])))
        .collect();
    let mut out = Vec::new();
    for (n, &(k1, (a1, v1, r1))) in intact.iter().enumerate() {
        for &(k2, (a2, v2, r2)) in &intact[n + 1..] {
            let gap = |s: &DVec3| ((a2 + *s + 0.5 * v2) - (a1 + 0.5 * v1)).length();
            let nearest = images
                .iter()
                .min_by(|s, t| gap(s).total_cmp(&gap(t)))
                .expect("nine images");
            if segment_distance(a1, v1, a2 + *nearest, v2) < r1 + r2 + 1e-8 {
                out.push([k1 as u32, k2 as u32]);
            }
        }
    }
    out
}

#[test]
fn grid_search_finds_the_same_fibril_contacts_as_checking_every_pair() {
    // Grains of 2–3 µm radius. 600 in a ~17 µm periodic box with fibrils up to ~18 µm long: the
    // grid has fewer than three cells across and wraps onto itself. 4000 in a ~45 µm box with
    // short fibrils: several cells across.
    for (n, seed, reach) in [(600, 1u64, 12e-6), (600, 2, 6e-6), (4000, 3, 5e-6)] {
        let data = generate_anchor_packing(n, 3).expect("packing");
        let dem = anchor_engine(&data);
        let fibs = random_fibrils(&dem, 1500, reach, seed);
        let grid = fibril_crossings(&dem, &fibs);
        let brute = all_pairs(&dem, &fibs);
        assert!(
            brute.len() > 100,
            "too few contacts to test: {}",
            brute.len()
        );
        assert_eq!(grid, brute, "reach {reach}");
    }
}
