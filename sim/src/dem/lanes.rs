//! The Hertz–Mindlin pair kernel on [`LANES`] pairs at once, for the common case of elastic Hertz
//! contacts without adhesion or rolling resistance (every pair of the DEM benchmark).
//!
//! It is [`super::engine::contact_force`] (with [`super::contact::normal_law`] and
//! [`super::contact::tangential_force`]) written without branches over structure-of-arrays lanes,
//! so that the compiler turns each operation into one vector instruction. Every lane performs the
//! same IEEE operations in the same order as the scalar kernel (no reassociation, no fused
//! multiply–add; branches become selects of values both computed), so the results are bitwise
//! those of the scalar kernel. The x86-64 build compiles the loop three times (baseline SSE2,
//! AVX2, AVX-512) and picks at run time.

/// Pairs per kernel call.
pub(crate) const LANES: usize = 8;

/// Inputs of [`LANES`] pairs (`i`, `j`), SI units.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LaneIn {
    /// Pair vector `x_i − x_j` (with the image shift), m.
    pub d: [[f64; LANES]; 3],
    /// |d|², m².
    pub dist2: [f64; LANES],
    /// Radii, m.
    pub ri: [f64; LANES],
    /// Radii, m.
    pub rj: [f64; LANES],
    /// Masses, kg.
    pub mi: [f64; LANES],
    /// Masses, kg.
    pub mj: [f64; LANES],
    /// `v_i − v_j`, m/s.
    pub vrel: [[f64; LANES]; 3],
    /// Angular velocities of i, rad/s.
    pub wi: [[f64; LANES]; 3],
    /// Angular velocities of j, rad/s.
    pub wj: [[f64; LANES]; 3],
    /// Tangential spring before the step (zero for a new contact), m.
    pub xi: [[f64; LANES]; 3],
    /// Effective Young's modulus `Y*`, Pa.
    pub y_star: [f64; LANES],
    /// Effective shear modulus `G*`, Pa.
    pub g_star: [f64; LANES],
    /// Damping factor β.
    pub beta: [f64; LANES],
    /// Friction coefficient.
    pub mu: [f64; LANES],
}

/// Outputs of [`LANES`] pairs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LaneOut {
    /// Force on i, N.
    pub f: [[f64; LANES]; 3],
    /// Torque on i, N·m.
    pub ti: [[f64; LANES]; 3],
    /// Torque on j, N·m.
    pub tj: [[f64; LANES]; 3],
    /// Tangential spring after the step, m (zero when not touching).
    pub xi: [[f64; LANES]; 3],
    /// Signed normal force, N.
    pub normal_force: [f64; LANES],
    /// Contact radius, m.
    pub contact_radius: [f64; LANES],
    /// Overlap, m.
    pub delta: [f64; LANES],
    /// Whether the pair touches.
    pub touching: [bool; LANES],
}

/// Select without a branch (compiles to a blend).
#[inline(always)]
fn sel(c: bool, a: f64, b: f64) -> f64 {
    if c {
        a
    } else {
        b
    }
}

/// The kernel body; see the module documentation. `dt` is the time step, s.
#[inline(always)]
fn hertz_body(inp: &LaneIn, dt: f64, out: &mut LaneOut) {
    for l in 0..LANES {
        let (dx, dy, dz) = (inp.d[0][l], inp.d[1][l], inp.d[2][l]);
        let (ri, rj) = (inp.ri[l], inp.rj[l]);
        let sum = ri + rj;
        let dist = inp.dist2[l].sqrt();
        let (nx, ny, nz) = (dx / dist, dy / dist, dz / dist);
        let delta = sum - dist;
        let r_eff = ri * rj / sum;
        let m_eff = inp.mi[l] * inp.mj[l] / (inp.mi[l] + inp.mj[l]);
        let y = inp.y_star[l];
        // normal_law, Hertz: zero unless delta > 0 (NaN goes the Hertz way, as in the scalar law).
        let pos = delta > 0.0 || delta.is_nan();
        let a_h = (r_eff * delta).sqrt();
        let a = sel(pos, a_h, 0.0);
        let force = sel(pos, 4.0 / 3.0 * y * a_h * delta, 0.0);
        // contact_force with no plastic history: touching = F > 0 || delta > 0.
        let touching = force > 0.0 || delta > 0.0;
        let (vx, vy, vz) = (inp.vrel[0][l], inp.vrel[1][l], inp.vrel[2][l]);
        let vn = vx * nx + vy * ny + vz * nz;
        let gamma = 2.0 * (5.0f64 / 6.0).sqrt() * inp.beta[l].abs() * (2.0 * y * a * m_eff).sqrt();
        let fnn = force - gamma * vn;
        // vc = vrel − (r_i ω_i + r_j ω_j) × n; vt = vc − n (vc·n).
        let wx = ri * inp.wi[0][l] + rj * inp.wj[0][l];
        let wy = ri * inp.wi[1][l] + rj * inp.wj[1][l];
        let wz = ri * inp.wi[2][l] + rj * inp.wj[2][l];
        let vcx = vx - (wy * nz - ny * wz);
        let vcy = vy - (wz * nx - nz * wx);
        let vcz = vz - (wx * ny - nx * wy);
        let vcn = vcx * nx + vcy * ny + vcz * nz;
        let (vtx, vty, vtz) = (vcx - nx * vcn, vcy - ny * vcn, vcz - nz * vcn);
        let kt = 8.0 * inp.g_star[l] * a;
        // tangential_force.
        let (mut xx, mut xy, mut xz) = (inp.xi[0][l], inp.xi[1][l], inp.xi[2][l]);
        let xd = xx * nx + xy * ny + xz * nz;
        xx -= nx * xd;
        xy -= ny * xd;
        xz -= nz * xd;
        xx += vtx * dt;
        xy += vty * dt;
        xz += vtz * dt;
        let nkt = -kt;
        let (mut fx, mut fy, mut fz) = (nkt * xx, nkt * xy, nkt * xz);
        let cap = inp.mu[l] * fnn.abs();
        let ft2 = fx * fx + fy * fy + fz * fz;
        let slip = ft2 > cap * cap;
        let scale = slip && ft2 > 0.0;
        let s = cap / ft2.sqrt();
        fx = sel(scale, fx * s, fx);
        fy = sel(scale, fy * s, fy);
        fz = sel(scale, fz * s, fz);
        let kpos = kt > 0.0;
        xx = sel(slip, sel(kpos, -fx / kt, 0.0), xx);
        xy = sel(slip, sel(kpos, -fy / kt, 0.0), xy);
        xz = sel(slip, sel(kpos, -fz / kt, 0.0), xz);
        // Torques: t_i = (−r_i n) × F_t, t_j = (r_j n) × (−F_t).
        let (mx, my, mz) = (-ri * nx, -ri * ny, -ri * nz);
        let tix = my * fz - fy * mz;
        let tiy = mz * fx - fz * mx;
        let tiz = mx * fy - fx * my;
        let (qx, qy, qz) = (rj * nx, rj * ny, rj * nz);
        let (gx, gy, gz) = (-fx, -fy, -fz);
        let tjx = qy * gz - gy * qz;
        let tjy = qz * gx - gz * qx;
        let tjz = qx * gy - gx * qy;
        out.f[0][l] = sel(touching, fnn * nx + fx, 0.0);
        out.f[1][l] = sel(touching, fnn * ny + fy, 0.0);
        out.f[2][l] = sel(touching, fnn * nz + fz, 0.0);
        out.ti[0][l] = sel(touching, tix, 0.0);
        out.ti[1][l] = sel(touching, tiy, 0.0);
        out.ti[2][l] = sel(touching, tiz, 0.0);
        out.tj[0][l] = sel(touching, tjx, 0.0);
        out.tj[1][l] = sel(touching, tjy, 0.0);
        out.tj[2][l] = sel(touching, tjz, 0.0);
        out.xi[0][l] = sel(touching, xx, 0.0);
        out.xi[1][l] = sel(touching, xy, 0.0);
        out.xi[2][l] = sel(touching, xz, 0.0);
        out.normal_force[l] = sel(touching, fnn, 0.0);
        out.contact_radius[l] = a;
        out.delta[l] = delta;
        out.touching[l] = touching;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn hertz_avx512(inp: &LaneIn, dt: f64, out: &mut LaneOut) {
    hertz_body(inp, dt, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn hertz_avx2(inp: &LaneIn, dt: f64, out: &mut LaneOut) {
    hertz_body(inp, dt, out)
}

/// Instruction sets usable by the kernel, detected once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    /// The build's baseline (SSE2 on x86-64).
    Base,
    /// AVX2.
    Avx2,
    /// AVX-512F.
    Avx512,
}

/// The best instruction set of this CPU (the `DRYFILM_SIMD` environment variable may lower it to
/// `base` or `avx2`, e.g. for comparisons; results do not depend on it).
pub(crate) fn detect() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        let cap = std::env::var("DRYFILM_SIMD").unwrap_or_default();
        #[cfg(target_arch = "x86_64")]
        {
            if cap != "base" && cap != "avx2" && std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if cap != "base" && std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        let _ = cap;
        Isa::Base
    })
}

/// Run the kernel on one batch with the instruction set `isa` (from [`detect`]).
#[inline]
pub(crate) fn hertz(isa: Isa, inp: &LaneIn, dt: f64, out: &mut LaneOut) {
    match isa {
        // SAFETY: `detect` returned these only where the CPU supports the instruction set.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { hertz_avx512(inp, dt, out) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { hertz_avx2(inp, dt, out) },
        _ => hertz_body(inp, dt, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dem::contact::{MaterialProps, PairParams, PlasticState};
    use crate::dem::engine::contact_force;
    use glam::DVec3;
    use rand::{Rng, SeedableRng};

    /// The scalar path of the engine for one pair: what the lanes must reproduce bit for bit.
    fn scalar(inp: &LaneIn, l: usize, pp: &PairParams, dt: f64) -> (bool, [f64; 13], DVec3) {
        let g = |a: &[[f64; LANES]; 3]| DVec3::new(a[0][l], a[1][l], a[2][l]);
        let (ri, rj) = (inp.ri[l], inp.rj[l]);
        let sum = ri + rj;
        let dist = inp.dist2[l].sqrt();
        let n = g(&inp.d) / dist;
        let delta = sum - dist;
        let r_eff = ri * rj / sum;
        let m_eff = inp.mi[l] * inp.mj[l] / (inp.mi[l] + inp.mj[l]);
        let mut xi = g(&inp.xi);
        let mut pl = PlasticState::default();
        let o = contact_force(
            pp,
            delta,
            r_eff,
            m_eff,
            n,
            g(&inp.vrel),
            g(&inp.wi),
            g(&inp.wj),
            ri,
            rj,
            &mut pl,
            &mut xi,
            dt,
            false,
        );
        let v = [
            o.force.x,
            o.force.y,
            o.force.z,
            o.torque_i.x,
            o.torque_i.y,
            o.torque_i.z,
            o.torque_j.x,
            o.torque_j.y,
            o.torque_j.z,
            o.normal_force,
            o.contact_radius,
            delta,
            0.0,
        ];
        (o.touching, v, xi)
    }

    #[test]
    fn lanes_match_the_scalar_kernel_bitwise() {
        let mat = MaterialProps {
            youngs_modulus: 20e9,
            poisson: 0.3,
            restitution: 0.5,
            friction: 0.5,
            rolling_friction: 0.0,
            surface_energy: 0.0,
            yield_pressure: None,
        };
        let pp = PairParams::mix(&mat, &mat);
        let dt = 5e-10;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let isas = [Isa::Base, Isa::Avx2, Isa::Avx512];
        let best = detect();
        let mut checked = 0;
        for round in 0..4000 {
            let mut inp = LaneIn::default();
            for l in 0..LANES {
                let ri = 2e-6 + 1e-6 * rng.random::<f64>();
                let rj = 2e-6 + 1e-6 * rng.random::<f64>();
                // Overlaps from slightly apart to 10% of R*, some exactly touching.
                let gap = match round % 7 {
                    0 => 0.0,
                    _ => (rng.random::<f64>() - 0.1) * 0.1 * ri,
                };
                let dir = DVec3::new(
                    rng.random::<f64>() - 0.5,
                    rng.random::<f64>() - 0.5,
                    rng.random::<f64>() - 0.5,
                )
                .normalize();
                let d = dir * (ri + rj - gap);
                for c in 0..3 {
                    inp.d[c][l] = d.to_array()[c];
                    inp.vrel[c][l] = rng.random::<f64>() - 0.5;
                    inp.wi[c][l] = 1e5 * (rng.random::<f64>() - 0.5);
                    inp.wj[c][l] = 1e5 * (rng.random::<f64>() - 0.5);
                    // Springs from zero (new contact) to well past the Coulomb cap (sliding).
                    inp.xi[c][l] = if round % 3 == 0 {
                        0.0
                    } else {
                        1e-8 * (rng.random::<f64>() - 0.5) * (round % 5) as f64
                    };
                }
                inp.dist2[l] = d.length_squared();
                inp.ri[l] = ri;
                inp.rj[l] = rj;
                inp.mi[l] = 2200.0 * 4.19 * ri * ri * ri;
                inp.mj[l] = 2200.0 * 4.19 * rj * rj * rj;
                inp.y_star[l] = pp.y_star;
                inp.g_star[l] = pp.g_star;
                inp.beta[l] = pp.beta;
                inp.mu[l] = pp.friction;
            }
            for &isa in &isas {
                let usable = matches!(
                    (isa, best),
                    (Isa::Base, _)
                        | (Isa::Avx2, Isa::Avx2 | Isa::Avx512)
                        | (Isa::Avx512, Isa::Avx512)
                );
                if !usable {
                    continue;
                }
                let mut out = LaneOut::default();
                hertz(isa, &inp, dt, &mut out);
                for l in 0..LANES {
                    let (t, v, xi) = scalar(&inp, l, &pp, dt);
                    let got = [
                        out.f[0][l],
                        out.f[1][l],
                        out.f[2][l],
                        out.ti[0][l],
                        out.ti[1][l],
                        out.ti[2][l],
                        out.tj[0][l],
                        out.tj[1][l],
                        out.tj[2][l],
                        out.normal_force[l],
                        out.contact_radius[l],
                        out.delta[l],
                        0.0,
                    ];
                    assert_eq!(out.touching[l], t, "{isa:?} lane {l} round {round}");
                    for (a, b) in got.iter().zip(&v) {
                        assert_eq!(a.to_bits(), b.to_bits(), "{isa:?} lane {l} round {round}");
                    }
                    if t {
                        let gx = [out.xi[0][l], out.xi[1][l], out.xi[2][l]];
                        for (a, b) in gx.iter().zip(xi.to_array()) {
                            assert_eq!(a.to_bits(), b.to_bits(), "{isa:?} spring, lane {l}");
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 4000 * LANES);
    }
}
