//! Loads of a bond between two rigid spheres: a pure kernel (plain numbers in, plain numbers out).
//!
//! # Model
//!
//! A bond (a PTFE fibril bundle) joins an anchor point fixed in body A to one fixed in body B. An
//! anchor is a body-frame offset `l` that turns with its body: its world position is
//! `x + r` with `r = q l` (`q` the body's orientation). The chord runs from anchor A to anchor B,
//! `c = (x_B + r_B) − (x_A + r_A)` (on the bond's own periodic image, which it keeps whatever its length), of length `L = |c|`
//! and direction `û = c / L`.
//!
//! An axial force `T` (tension positive) acts at the anchors along the chord, equal and opposite:
//! `F_A = T û` on A, `F_B = −T û` on B, with the moments `τ_A = r_A × F_A` and `τ_B = r_B × F_B`
//! about the bodies' centres. For a tension derived from a length-dependent energy `U(L)`
//! (`T = dU/dL`) these are exactly `−∂U/∂x` and `−∂U/∂θ` of the bodies' positions and rotation
//! angles, so the bond is conservative: turning a body changes `U` only against the moment it
//! feels. Linear and angular momentum are conserved (the two forces cancel; their moments about
//! any point cancel because both act along the same line).
//!
//! An axial dashpot damps the bond while it is taut: `T = T_el + c · dL/dt`, never below zero (a
//! bond carries no compression), with the rate of lengthening
//! `dL/dt = (v_B + ω_B × r_B − v_A − ω_A × r_A) · û` and the coefficient `c = 2 ζ sqrt(k m_red)`
//! for the bond's elastic stiffness `k` and the bodies' reduced mass `m_red = m_A m_B / (m_A + m_B)`
//! (a damping ratio `ζ` of the two-body oscillator; docs/model.md, "Fibril forces").
//!
//! Units are SI throughout: metres, seconds, newtons, kilograms.

use glam::{DQuat, DVec3};

/// One end of a bond at one instant: the body's centre, orientation, velocities and the anchor's
/// body-frame offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BondEnd {
    /// Centre of the body, m.
    pub centre: DVec3,
    /// Orientation of the body (body → world).
    pub orientation: DQuat,
    /// Velocity of the centre, m/s.
    pub velocity: DVec3,
    /// Angular velocity of the body, rad/s.
    pub spin: DVec3,
    /// Anchor offset from the centre in the body frame, m.
    pub local: DVec3,
}

impl BondEnd {
    /// Anchor offset from the centre in the world frame (`q l`), m.
    pub fn offset(&self) -> DVec3 {
        self.orientation * self.local
    }
}

/// Where a bond's anchors are and how fast it lengthens, at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BondGeometry {
    /// Anchor A's offset from body A's centre, world frame, m.
    pub ra: DVec3,
    /// Anchor B's offset from body B's centre, world frame, m.
    pub rb: DVec3,
    /// Unit vector from anchor A to anchor B (`+x` for a zero-length bond), dimensionless.
    pub unit: DVec3,
    /// Chord length `L`, m.
    pub length: f64,
    /// Rate of lengthening `dL/dt`, m/s.
    pub rate: f64,
}

impl BondGeometry {
    /// The geometry of the bond from `a` to `b`; `image` (m) is added to the raw chord
    /// `x_B + r_B − x_A − r_A` to put it on the bond's periodic image.
    pub fn new(a: &BondEnd, b: &BondEnd, image: DVec3) -> Self {
        let (ra, rb) = (a.offset(), b.offset());
        let chord = b.centre + rb - a.centre - ra + image;
        let length = chord.length();
        let unit = if length > 0.0 {
            chord / length
        } else {
            DVec3::X
        };
        let vrel = b.velocity + b.spin.cross(rb) - a.velocity - a.spin.cross(ra);
        BondGeometry {
            ra,
            rb,
            unit,
            length,
            rate: vrel.dot(unit),
        }
    }
}

/// Forces (N) and moments about the centres (N·m) of a bond on its two bodies.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BondLoads {
    /// Force on body A, N.
    pub force_a: DVec3,
    /// Moment on body A about its centre, N·m.
    pub torque_a: DVec3,
    /// Force on body B, N (`−force_a`).
    pub force_b: DVec3,
    /// Moment on body B about its centre, N·m.
    pub torque_b: DVec3,
}

/// The loads of a bond with axial tension `tension` (N, positive pulls the anchors together):
/// equal and opposite forces at the anchors along the chord and their moments `r × F`.
pub fn bond_loads(g: &BondGeometry, tension: f64) -> BondLoads {
    let force_a = tension * g.unit;
    BondLoads {
        force_a,
        torque_a: g.ra.cross(force_a),
        force_b: -force_a,
        torque_b: g.rb.cross(-force_a),
    }
}

/// Axial dashpot coefficient `c = 2 ζ sqrt(k m_red)`, N·s/m, for a damping ratio `zeta`
/// (dimensionless), an elastic stiffness `stiffness` (N/m) and the bodies' masses `ma`, `mb` (kg).
pub fn dashpot_coefficient(zeta: f64, stiffness: f64, ma: f64, mb: f64) -> f64 {
    2.0 * zeta * (stiffness * ma * mb / (ma + mb)).sqrt()
}

/// Axial force of a taut bond with elastic tension `elastic` (N) and dashpot coefficient
/// `coefficient` (N·s/m) lengthening at `rate` (m/s): `max(0, T_el + c dL/dt)`, N. A slack bond
/// (`elastic` ≤ 0) carries nothing.
pub fn damped_tension(elastic: f64, coefficient: f64, rate: f64) -> f64 {
    if elastic > 0.0 {
        (elastic + coefficient * rate).max(0.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(centre: DVec3, axis_angle: (DVec3, f64), local: DVec3) -> BondEnd {
        BondEnd {
            centre,
            orientation: DQuat::from_axis_angle(axis_angle.0.normalize(), axis_angle.1),
            velocity: DVec3::ZERO,
            spin: DVec3::ZERO,
            local,
        }
    }

    /// Energy of a linear spring (stiffness k, rest length l0, tension-only) between the anchors.
    fn energy(a: &BondEnd, b: &BondEnd, k: f64, l0: f64) -> f64 {
        let l = BondGeometry::new(a, b, DVec3::ZERO).length;
        if l > l0 {
            0.5 * k * (l - l0) * (l - l0)
        } else {
            0.0
        }
    }

    /// Forces and moments are minus the derivatives of the energy with respect to the centres and
    /// to small rotations of the bodies (central differences), to 1e-6 relative.
    #[test]
    fn loads_are_the_gradient_of_the_bond_energy() {
        let (k, l0) = (3.0e2, 4.0e-6);
        let a = end(
            DVec3::new(0.1e-6, -0.3e-6, 0.2e-6),
            (DVec3::new(1.0, 2.0, 0.5), 0.7),
            DVec3::new(1.2e-6, 0.4e-6, -0.9e-6),
        );
        let b = end(
            DVec3::new(5.3e-6, 1.1e-6, -0.6e-6),
            (DVec3::new(-0.3, 1.0, 2.0), 2.1),
            DVec3::new(-0.8e-6, 1.0e-6, 0.6e-6),
        );
        let g = BondGeometry::new(&a, &b, DVec3::ZERO);
        assert!(g.length > l0);
        let loads = bond_loads(&g, k * (g.length - l0));
        let h = 1e-11; // m; the rotation step is h / 1 µm rad
        let mut worst: f64 = 0.0;
        for (which, force, torque) in [
            (0, loads.force_a, loads.torque_a),
            (1, loads.force_b, loads.torque_b),
        ] {
            for axis in [DVec3::X, DVec3::Y, DVec3::Z] {
                let shifted = |s: f64, rotate: bool| {
                    let (mut a2, mut b2) = (a, b);
                    let e = if which == 0 { &mut a2 } else { &mut b2 };
                    if rotate {
                        e.orientation = DQuat::from_axis_angle(axis, s / 1e-6) * e.orientation;
                    } else {
                        e.centre += s * axis;
                    }
                    energy(&a2, &b2, k, l0)
                };
                let df = -(shifted(h, false) - shifted(-h, false)) / (2.0 * h);
                let dt = -(shifted(h, true) - shifted(-h, true)) / (2.0 * h / 1e-6);
                let scale_f = force.length();
                let scale_t = torque.length().max(scale_f * 1e-6);
                worst = worst.max((df - force.dot(axis)).abs() / scale_f);
                worst = worst.max((dt - torque.dot(axis)).abs() / scale_t);
            }
        }
        assert!(worst < 1e-6, "largest relative error {worst:e}");
    }

    /// The two forces cancel and their moments about the origin cancel (momentum conserved).
    #[test]
    fn loads_carry_no_net_force_or_moment() {
        let a = end(DVec3::ZERO, (DVec3::Z, 0.3), DVec3::new(1e-6, 0.0, 0.0));
        let b = end(
            DVec3::new(6e-6, 2e-6, 1e-6),
            (DVec3::X, 1.3),
            DVec3::new(0.0, 1e-6, 0.0),
        );
        let g = BondGeometry::new(&a, &b, DVec3::ZERO);
        let l = bond_loads(&g, 2.5e-3);
        let net_moment =
            (a.centre.cross(l.force_a) + l.torque_a) + (b.centre.cross(l.force_b) + l.torque_b);
        assert!((l.force_a + l.force_b).length() == 0.0);
        assert!(net_moment.length() < 1e-15 * 2.5e-3 * 1e-5, "{net_moment}");
    }

    /// The dashpot adds to a taut bond's tension when it lengthens, takes away when it shortens,
    /// never pushes, and leaves a slack bond alone.
    #[test]
    fn the_dashpot_damps_only_a_taut_bond_and_never_pushes() {
        let c = dashpot_coefficient(0.1, 400.0, 1e-12, 3e-12);
        assert!((c - 0.2 * (400.0f64 * 0.75e-12).sqrt()).abs() < 1e-20);
        assert_eq!(damped_tension(1e-3, c, 1.0), 1e-3 + c);
        assert_eq!(damped_tension(1e-3, c, -1e-3 / c * 0.5), 0.5e-3);
        assert_eq!(damped_tension(1e-3, c, -1e3), 0.0);
        assert_eq!(damped_tension(0.0, c, 5.0), 0.0);
    }
}
