//! Physics tests of the DEM core: binary collisions against closed forms, energy conservation.

use dryfilm_sim::dem::contact::{hertz_contact_time, MaterialProps, PairParams};
use dryfilm_sim::dem::{Dem, ParticleState};
use glam::DVec3;

fn material(e: f64, mu: f64) -> MaterialProps {
    MaterialProps {
        youngs_modulus: 20e9,
        poisson: 0.3,
        restitution: e,
        friction: mu,
        rolling_friction: 0.0,
        surface_energy: 0.0,
        yield_pressure: None,
    }
}

/// A DEM of the one material `mat` (walls too) in a cube of edge `l` (m), periodic in x and y,
/// with time step `dt` (s) and a 0.5 µm neighbour skin.
fn cube_dem(p: ParticleState, mat: MaterialProps, l: f64, dt: f64) -> Dem {
    Dem::new(
        p,
        vec![PairParams::mix(&mat, &mat)],
        1,
        l,
        l,
        0.0,
        l,
        0,
        dt,
        0.5e-6,
    )
}

/// Two spheres approaching head-on along x in a large box; returns (engine, contact steps).
fn collide(e: f64, v: f64, dt: f64) -> (Dem, u64, f64) {
    let r = 2.5e-6;
    let m = 2200.0 * 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
    let mut p = ParticleState::default();
    p.push(DVec3::new(40e-6, 40e-6, 40e-6), r, m, 0);
    p.push(DVec3::new(40e-6 + 2.0 * r + 0.2e-6, 40e-6, 40e-6), r, m, 0);
    p.vel[0] = DVec3::new(v / 2.0, 0.0, 0.0);
    p.vel[1] = DVec3::new(-v / 2.0, 0.0, 0.0);
    let mat = material(e, 0.5);
    let mut dem = cube_dem(p, mat, 100e-6, dt);
    dem.cohesion = false;
    let mut contact_steps = 0;
    for _ in 0..200000 {
        dem.step_once().unwrap();
        if dem.pairs.iter().any(|p| p.touching) {
            contact_steps += 1;
        } else if contact_steps > 0 {
            break;
        }
    }
    let vrel = (dem.p.vel[1] - dem.p.vel[0]).x;
    (dem, contact_steps, vrel)
}

#[test]
fn restitution_coefficient_of_binary_collision() {
    for &e in &[0.3, 0.5, 0.9] {
        let (_, _, vrel) = collide(e, 0.5, 2e-10);
        let got = vrel / 0.5;
        assert!((got - e).abs() < 0.01 * e, "restitution {e}: got {got}");
    }
}

#[test]
fn hertz_contact_duration_matches_closed_form() {
    let dt = 1e-11;
    let (dem, steps, vrel) = collide(1.0, 0.5, dt);
    let r = 2.5e-6;
    let m = 2200.0 * 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
    let pp = dem.table.params[0];
    let tc = hertz_contact_time(m / 2.0, r / 2.0, pp.y_star, 0.5);
    let got = steps as f64 * dt;
    assert!(
        (got / tc - 1.0).abs() < 0.01,
        "contact time {got} vs closed form {tc}"
    );
    // Without damping the rebound speed equals the impact speed.
    assert!((vrel / 0.5 - 1.0).abs() < 1e-3, "elastic rebound {vrel}");
}

#[test]
fn energy_is_conserved_without_damping() {
    let r = 2.5e-6;
    let m = 2200.0 * 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
    let mut p = ParticleState::default();
    // A small cluster of spheres moving towards each other, frictionless and elastic.
    let pts = [
        (30.0, 30.0, 30.0),
        (36.0, 30.5, 30.0),
        (33.0, 35.0, 30.5),
        (33.0, 32.0, 36.0),
    ];
    for (k, &(x, y, z)) in pts.iter().enumerate() {
        p.push(DVec3::new(x, y, z) * 1e-6, r, m, 0);
        let c = DVec3::new(33.0, 32.0, 31.5) * 1e-6;
        p.vel[k] = (c - p.pos[k]).normalize() * 0.3;
    }
    let mat = material(1.0, 0.0);
    let mut dem = cube_dem(p, mat, 80e-6, 1e-10);
    dem.cohesion = false;
    dem.rebuild().unwrap();
    dem.compute_forces();
    let e0 = dem.kinetic_energy();
    let mut touched = false;
    for _ in 0..100000 {
        dem.step_once().unwrap();
        touched |= dem.pairs.iter().any(|p| p.touching);
        if touched && !dem.pairs.iter().any(|p| p.touching) {
            break;
        }
    }
    assert!(touched, "particles never collided");
    let e1 = dem.kinetic_energy();
    assert!(
        (e1 / e0 - 1.0).abs() < 1e-4,
        "energy drift {}",
        e1 / e0 - 1.0
    );
}

#[test]
fn pressed_packing_has_expected_solid_fraction_and_coordination() {
    // 1500 frictional spheres (r ∈ [2, 3] µm) from a loose random packing, pressed by a servo wall at
    // 5 MPa: a jammed frictional packing sits between random loose and random close packing
    // (φ ≈ 0.55–0.66) with a mean contact number Z ≈ 4–6.5 (Silbert et al., PRE 65, 031304, 2002).
    use dryfilm_sim::dem::engine::WallDrive;
    let data = dryfilm_sim::dem::bench::generate_anchor_packing(800, 3).unwrap();
    let mut dem = dryfilm_sim::dem::bench::anchor_engine(&data);
    // Mass scaling ×1e4 for a quasi-static press, so the time step can grow ×100 to 2e-8 s.
    for m in dem.p.mass.iter_mut() {
        *m *= 1e4;
    }
    dem.dt = 2e-8;
    dem.walls.top_drive = WallDrive::Pressure {
        pressure: 5e6,
        max_speed: 0.5,
        shear: DVec3::ZERO,
    };
    dem.walls.top_vel = DVec3::ZERO;
    dem.rebuild().unwrap();
    dem.compute_forces();
    for _ in 0..20000 {
        dem.step_once().unwrap();
    }
    let phi = dem.solid_fraction();
    let area = dem.lx * dem.ly;
    let p = dem.walls.top_force_avg / area;
    // Mean coordination over particles with contacts (rattlers excluded).
    let mut deg = vec![0u32; dem.p.len()];
    for pr in dem.pairs.iter_touching() {
        deg[pr.i as usize] += 1;
        deg[pr.j as usize] += 1;
    }
    let active: Vec<u32> = deg.into_iter().filter(|&d| d > 0).collect();
    let z = active.iter().sum::<u32>() as f64 / active.len() as f64;
    eprintln!("final phi {phi} z {z} p {p}");
    assert!(
        (p / 5e6 - 1.0).abs() < 0.2,
        "wall pressure {p} Pa, servo target 5 MPa"
    );
    assert!((0.55..0.67).contains(&phi), "solid fraction {phi}");
    assert!((4.0..6.5).contains(&z), "coordination {z}");
}
