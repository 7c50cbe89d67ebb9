//! The DEM anchor benchmark (`../shared/bench/dem-anchor.md` in the development tree, summarised in
//! `docs/performance.md`): 20 000 Hertz–Mindlin spheres, r ~ U[2, 3] µm, ρ = 2200 kg/m³, E = 20 GPa,
//! ν = 0.3, e = 0.5, μ = 0.5, no cohesion or rolling resistance, periodic 100 × 100 µm in x and y, a
//! fixed bottom wall and a top wall moving down at 5 m/s; dt = 5e-10 s, 5000 steps; skin 0.5 µm.

use super::contact::{contact_force_check, MaterialProps, PairParams, PlasticState};
use super::engine::{Dem, ParticleState, WallDrive};
use super::lammps::DataFile;
use crate::geom::packing::{random_packing, PackingError};
use glam::DVec3;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

/// Benchmark material (particles and walls alike).
pub fn anchor_material() -> MaterialProps {
    MaterialProps {
        youngs_modulus: 20e9,
        poisson: 0.3,
        restitution: 0.5,
        friction: 0.5,
        rolling_friction: 0.0,
        surface_energy: 0.0,
        yield_pressure: None,
    }
}

/// Generate a contact-free random packing to the anchor's specification: `n` spheres with radii
/// uniform in [2, 3] µm, density 2200 kg/m³, solid fraction 0.55, box 100 × 100 µm (scaled with
/// sqrt(n/20000) in x and y so that the height stays that of the anchor). The returned data file
/// has `zhi = H0 + 2 µm` like the anchor's.
pub fn generate_anchor_packing(n: usize, seed: u64) -> Result<DataFile, PackingError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let radii: Vec<f64> = (0..n).map(|_| 2e-6 + 1e-6 * rng.random::<f64>()).collect();
    let side = 100e-6 * (n as f64 / 20000.0).sqrt();
    let vol: f64 = radii
        .iter()
        .map(|r| 4.0 / 3.0 * std::f64::consts::PI * r * r * r)
        .sum();
    let h0 = vol / (0.55 * side * side);
    let pos = random_packing(&radii, side, side, 0.0, h0, &mut rng)?;
    Ok(DataFile {
        bounds: [[0.0, side], [0.0, side], [0.0, h0 + 2e-6]],
        ids: (1..=n as u64).collect(),
        types: vec![1; n],
        diameter: radii.iter().map(|r| 2.0 * r).collect(),
        density: vec![2200.0; n],
        pos: pos.iter().map(|p| p.to_array()).collect(),
    })
}

/// The packing `data` repeated `k` × `k` times in x and y (the box grows by `k` in both; the file
/// is periodic there, so every copy evolves like the original): a large problem with the anchor's
/// local structure. Copy (a, b) holds particles `(a k + b) n ..`, shifted by (a lx, b ly).
pub fn tile_packing(data: &DataFile, k: usize) -> DataFile {
    let (lx, ly) = (
        data.bounds[0][1] - data.bounds[0][0],
        data.bounds[1][1] - data.bounds[1][0],
    );
    let n = data.ids.len();
    let mut out = DataFile {
        bounds: [
            [data.bounds[0][0], data.bounds[0][0] + k as f64 * lx],
            [data.bounds[1][0], data.bounds[1][0] + k as f64 * ly],
            data.bounds[2],
        ],
        ids: (1..=(n * k * k) as u64).collect(),
        types: Vec::with_capacity(n * k * k),
        diameter: Vec::with_capacity(n * k * k),
        density: Vec::with_capacity(n * k * k),
        pos: Vec::with_capacity(n * k * k),
    };
    for a in 0..k {
        for b in 0..k {
            out.types.extend_from_slice(&data.types);
            out.diameter.extend_from_slice(&data.diameter);
            out.density.extend_from_slice(&data.density);
            out.pos.extend(
                data.pos
                    .iter()
                    .map(|p| [p[0] + a as f64 * lx, p[1] + b as f64 * ly, p[2]]),
            );
        }
    }
    out
}

/// Set up the engine for the anchor problem from a packing (orientations not integrated; set
/// [`Dem::orientations`] to include them), particles renumbered in spatial order
/// ([`Dem::sort_spatially`]; nothing refers to particle indices yet, so the order is dropped).
pub fn anchor_engine(data: &DataFile) -> Dem {
    let mut dem = anchor_engine_in_file_order(data);
    dem.sort_spatially()
        .expect("no neighbour list yet, so no rebuild can fail");
    dem
}

/// [`anchor_engine`] with the particles in the order of the data file.
pub fn anchor_engine_in_file_order(data: &DataFile) -> Dem {
    let mut p = ParticleState::default();
    for k in 0..data.ids.len() {
        let r = 0.5 * data.diameter[k];
        let m = data.density[k] * 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
        p.push(DVec3::from_array(data.pos[k]), r, m, 0);
    }
    let mat = anchor_material();
    let table = vec![PairParams::mix(&mat, &mat)];
    let lx = data.bounds[0][1] - data.bounds[0][0];
    let ly = data.bounds[1][1] - data.bounds[1][0];
    let h0 = data.bounds[2][1] - 2e-6;
    let mut dem = Dem::new(p, table, 1, lx, ly, data.bounds[2][0], h0, 0, 5e-10, 0.5e-6);
    dem.cohesion = false;
    dem.walls.top_drive = WallDrive::Velocity(DVec3::new(0.0, 0.0, -5.0));
    dem.walls.top_vel = DVec3::new(0.0, 0.0, -5.0);
    dem.stage = "bench".into();
    // Spheres without anything anchored to them: orientations are not needed (LIGGGHTS's
    // nve/sphere does not integrate them either).
    dem.orientations = false;
    // Nor do the codes it is compared with keep an energy ledger.
    dem.track_energy = false;
    dem
}

/// What a benchmark run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchResult {
    /// Particles.
    pub n: usize,
    /// Steps.
    pub steps: u64,
    /// Threads used.
    pub threads: usize,
    /// Particle-steps per second of the stepping loop.
    pub particle_steps_per_s: f64,
    /// Stepping-loop time, s.
    pub loop_seconds: f64,
    /// End-state solid fraction (particle volume / box volume between the walls).
    pub solid_fraction: f64,
    /// End-state mean particle–particle coordination number.
    pub coordination: f64,
    /// Fraction of particles without any particle contact.
    pub rattler_fraction: f64,
    /// Mean overlap of touching pairs relative to R*.
    pub mean_overlap_rel: f64,
    /// Largest overlap relative to R*.
    pub max_overlap_rel: f64,
    /// Neighbour-list rebuilds.
    pub rebuilds: u64,
    /// Fingerprint of the end state ([`Dem::state_digest`]): equal digests mean bitwise-identical
    /// trajectories.
    pub state_digest: String,
    /// Stepping-loop time per phase, s: [initial integrate, neighbour check and rebuilds, contact
    /// forces and their gather, final integrate].
    pub phase_seconds: [f64; 4],
}

/// Run the anchor problem for `steps` steps and collect the end-state figures.
pub fn run_anchor(dem: &mut Dem, steps: u64) -> Result<BenchResult, super::DemError> {
    dem.rebuild()?;
    dem.compute_forces();
    // The step of `Dem::step_once`, timed per phase (four clock reads per step, ~0.1 µs).
    let mut phase = [0.0f64; 4];
    // Per-pair outputs are read only at the end: store them on the last step only.
    let record = dem.record_pair_outputs;
    dem.record_pair_outputs = false;
    let t0 = Instant::now();
    // The other workers stay awake between the step's parallel loops (see `crate::par`).
    crate::par::with_hot_workers(|| -> Result<(), super::DemError> {
        for s in 0..steps {
            if s + 1 == steps {
                dem.record_pair_outputs = record;
            }
            let a = Instant::now();
            dem.initial_integrate();
            let b = Instant::now();
            dem.maybe_rebuild()?;
            let c = Instant::now();
            dem.compute_forces();
            let d = Instant::now();
            dem.final_integrate()?;
            let e = Instant::now();
            phase[0] += (b - a).as_secs_f64();
            phase[1] += (c - b).as_secs_f64();
            phase[2] += (d - c).as_secs_f64();
            phase[3] += (e - d).as_secs_f64();
        }
        Ok(())
    })?;
    let secs = t0.elapsed().as_secs_f64();
    dem.record_pair_outputs = record;
    let n = dem.p.len();
    let mut touched = vec![false; n];
    let (mut sum, mut cnt, mut mx) = (0.0, 0usize, 0.0f64);
    for pr in dem.pairs.iter_touching() {
        touched[pr.i as usize] = true;
        touched[pr.j as usize] = true;
        let (ri, rj) = (dem.p.radius[pr.i as usize], dem.p.radius[pr.j as usize]);
        let rel = pr.overlap / (ri * rj / (ri + rj));
        sum += rel;
        cnt += 1;
        mx = mx.max(rel);
    }
    Ok(BenchResult {
        n,
        steps,
        threads: rayon::current_num_threads(),
        particle_steps_per_s: n as f64 * steps as f64 / secs,
        loop_seconds: secs,
        solid_fraction: dem.solid_fraction(),
        coordination: dem.coordination(),
        rattler_fraction: touched.iter().filter(|t| !**t).count() as f64 / n as f64,
        mean_overlap_rel: sum / cnt.max(1) as f64,
        max_overlap_rel: mx,
        rebuilds: dem.rebuilds,
        state_digest: dem.state_digest(),
        phase_seconds: phase,
    })
}

/// The anchor's single-contact figures: (label, computed force N, anchor value N).
pub fn single_contact_checks() -> Vec<(&'static str, f64, f64)> {
    let mat = anchor_material();
    let pp = PairParams::mix(&mat, &mat);
    let r = 2.5e-6;
    let m = 2200.0 * 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
    let f = |r_eff: f64, m_eff: f64, v: f64| {
        let mut pl = PlasticState::default();
        contact_force_check(&pp, 1e-8, r_eff, m_eff, v, &mut pl)
    };
    vec![
        ("pair, elastic", f(r / 2.0, m / 2.0, 0.0), 1.6381450385e-05),
        ("wall, elastic", f(r, m, 0.0), 2.3166869305e-05),
        (
            "pair, approach 0.1 m/s",
            f(r / 2.0, m / 2.0, 0.1),
            1.6904648197e-05,
        ),
        ("wall, approach 0.1 m/s", f(r, m, 0.1), 2.4046779635e-05),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tiling_repeats_the_packing() {
        let d = generate_anchor_packing(800, 3).unwrap();
        let t = tile_packing(&d, 3);
        let (lx, ly) = (d.bounds[0][1], d.bounds[1][1]);
        assert_eq!(t.ids.len(), 9 * 800);
        assert_eq!(t.bounds[0][1], 3.0 * lx);
        assert_eq!(t.bounds[1][1], 3.0 * ly);
        assert_eq!(t.bounds[2], d.bounds[2]);
        // Copy (a, b) = (2, 1) is block a k + b = 7.
        let k = 7 * 800 + 13;
        assert_eq!(t.pos[k][0], d.pos[13][0] + 2.0 * lx);
        assert_eq!(t.pos[k][1], d.pos[13][1] + ly);
        assert_eq!(t.pos[k][2], d.pos[13][2]);
        assert_eq!(t.diameter[k], d.diameter[13]);
    }

    #[test]
    fn single_contacts_match_anchor_to_1e9() {
        for (label, got, want) in single_contact_checks() {
            assert!((got / want - 1.0).abs() < 1e-9, "{label}: {got} vs {want}");
        }
    }
}
