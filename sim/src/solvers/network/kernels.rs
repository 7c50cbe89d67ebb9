//! The contact kernels of the network model (pure functions): Holm constriction and spreading
//! resistances, the PTFE-free open radius of a covered contact, and the body resistance of a grain.

use std::f64::consts::PI;

/// Holm constriction resistance of a circular contact of radius `a` (m) between two half-spaces
/// of conductivities `sigma_1`, `sigma_2` (S/m), Ω:
///
/// `R = (1/σ₁ + 1/σ₂) / (4a)`, i.e. `1/(2σa)` for equal materials (Holm 1967, *Electric
/// Contacts*; within ~4% of finite elements for sphere packings, Birkholz, Gan & Kamlah, Powder
/// Technol. 2019). Infinite for `a ≤ 0`.
pub fn constriction_resistance(a: f64, sigma_1: f64, sigma_2: f64) -> f64 {
    if a > 0.0 {
        (1.0 / sigma_1 + 1.0 / sigma_2) / (4.0 * a)
    } else {
        f64::INFINITY
    }
}

/// Spreading resistance of a disc contact of radius `a` (m) on one half-space of conductivity
/// `sigma` (S/m) against an ideal conductor (an electrode), Ω: `R = 1/(4σa)` (Holm). Infinite for
/// `a ≤ 0`.
pub fn spreading_resistance(a: f64, sigma: f64) -> f64 {
    if a > 0.0 {
        1.0 / (4.0 * sigma * a)
    } else {
        f64::INFINITY
    }
}

/// PTFE-free open radius of a contact of radius `a` (m) with PTFE coverage `theta`, m:
/// `a' = a·sqrt(1 − θ)` (PTFE removes the fraction θ of the contact area πa²; θ clamped to [0, 1]).
pub fn open_radius(a: f64, theta: f64) -> f64 {
    a * (1.0 - theta.clamp(0.0, 1.0)).sqrt()
}

/// Body resistance of one particle "half" (centre to contact) of radius `r` (m) and conductivity
/// `sigma` (S/m), Ω, under the chosen [`BodyResistance`] estimate.
pub fn body_resistance(model: BodyResistance, r: f64, sigma: f64) -> f64 {
    match model {
        BodyResistance::HalfCylinder => 1.0 / (sigma * PI * r),
        BodyResistance::None => 0.0,
    }
}

/// Estimate of the resistance of a particle's body between its centre and a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum BodyResistance {
    /// A cylinder of the particle's radius r and length r: `R = r/(σ π r²) = 1/(σ π r)` per
    /// particle half. A simple upper-side estimate: the Holm term already contains the spreading
    /// near the contact, so the two overlap somewhat (see `docs/solvers-network.md`). Default.
    #[default]
    HalfCylinder,
    /// No body term: contacts only (the pure Holm network of Birkholz et al. 2019).
    None,
}
