//! PTFE coverage θ of an NPS–NPS contact: a pure kernel (plain numbers in, no ECS).
//!
//! The fraction of a contact's area that PTFE covers blocks Na+ transfer across it (the network
//! conductivity solver) and bridges it mechanically (the tensile test's PTFE bridge term). Three
//! sources add up as independent (Poisson) coverings, `θ = 1 − exp(−Σ)`:
//!
//! 1. **Wrapped patches.** Every strand anchored on a grain wraps a band `2 r_f` wide over the
//!    fraction `w` (`powder.ptfe.wrap_fraction`) of the grain's circumference before it leaves the
//!    grain: `2 r_f · 2πR w` of the grain's surface `4πR²`, the areal fraction `r_f w / R` per
//!    strand ([`wrapped_fraction`]). A contact is as likely to be coated as the rest of either
//!    grain, so each grain's wrapped fraction adds to Σ.
//! 2. **Fibrils across the contact.** A strand anchored on both grains of the contact crosses it:
//!    a band `2 r_f` wide over the contact diameter `2a`, `4 r_f a / (π a²)` of its area.
//! 3. **Lumps.** An undrawn PTFE lump of radius `r_P` touching both grains sits in the contact:
//!    `(min(r_P, a)/a)²`.
//!
//! Units: metres; results dimensionless.

use std::f64::consts::PI;

/// Default fraction of a grain's circumference a fibril strand wraps, dimensionless (an 18° arc):
/// the scenario default of `powder.ptfe.wrap_fraction` (defined with the other defaults) and of
/// the continuity solver's `ContinuityParams::wrap_fraction`.
pub use crate::scenario::defaults::DEFAULT_WRAP_FRACTION;

/// Areal fraction of a grain's surface (radius `grain_radius`, m) wrapped by a bundle end of
/// `strands` strands (dimensionless ≥ 1) of radius `strand_radius` (m), each wrapping the fraction
/// `wrap` (dimensionless, 0..=1) of the grain's circumference: `n r_f w / R` (dimensionless; may
/// exceed 1 for a heavily coated grain, which [`contact_coverage`] saturates).
pub fn wrapped_fraction(strands: f64, strand_radius: f64, wrap: f64, grain_radius: f64) -> f64 {
    if grain_radius > 0.0 {
        strands * strand_radius * wrap / grain_radius
    } else {
        0.0
    }
}

/// Radius of the patch that a bundle end wraps on its grain, m: the same patch as
/// [`wrapped_fraction`], area `n·2r_f·2πR·w = π ρ²`, so `ρ = sqrt(4 n r_f R w)`. Arguments as in
/// [`wrapped_fraction`] (dimensionless, m, dimensionless, m). Used by the continuity analysis to
/// join anchors whose patches overlap.
pub fn wrapped_patch_radius(strands: f64, strand_radius: f64, wrap: f64, grain_radius: f64) -> f64 {
    (4.0 * strands * strand_radius * grain_radius * wrap).sqrt()
}

/// PTFE coverage θ (dimensionless, 0..1) of a contact of radius `a` (m) between grains with
/// wrapped fractions `wrapped_i`, `wrapped_j` (from [`wrapped_fraction`], summed per grain), with
/// `across` = Σ n·r_f (m) over the fibrils anchored on both grains and `lumps` the radii (m) of the
/// PTFE lumps touching both. 0 for a contact of zero radius.
pub fn contact_coverage(
    a: f64,
    wrapped_i: f64,
    wrapped_j: f64,
    across: f64,
    lumps: impl IntoIterator<Item = f64>,
) -> f64 {
    if a.is_nan() || a <= 0.0 {
        return 0.0;
    }
    let mut cover = wrapped_i.max(0.0) + wrapped_j.max(0.0);
    cover += 4.0 * across.max(0.0) * a / (PI * a * a);
    for rl in lumps {
        cover += (rl.max(0.0).min(a) / a).powi(2);
    }
    1.0 - (-cover).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_contact_is_uncovered() {
        assert_eq!(contact_coverage(0.5e-6, 0.0, 0.0, 0.0, []), 0.0);
        assert_eq!(contact_coverage(0.0, 1.0, 1.0, 1e-6, [1e-6]), 0.0);
    }

    #[test]
    fn wrapped_patches_cover_the_contact_like_the_grain() {
        // 100 strands of 50 nm, w = 0.05, on a 2.5 µm grain: 10 % of its surface (expected
        // number of layers 0.1).
        let c = wrapped_fraction(100.0, 50e-9, 0.05, 2.5e-6);
        assert!((c - 0.1).abs() < 1e-12);
        let theta = contact_coverage(0.5e-6, c, 0.0, 0.0, []);
        assert!((theta - (1.0 - (-0.1f64).exp())).abs() < 1e-12);
        // The patch radius describes the same area: π ρ² / (4π R²) is the wrapped fraction.
        let rho = wrapped_patch_radius(100.0, 50e-9, 0.05, 2.5e-6);
        assert!((rho * rho / (4.0 * 2.5e-6 * 2.5e-6) - c).abs() < 1e-12);
        // Both grains coated: the coverings add.
        let both = contact_coverage(0.5e-6, c, c, 0.0, []);
        assert!((both - (1.0 - (-0.2f64).exp())).abs() < 1e-12);
        // No wrapping (w = 0) leaves the contact bare.
        assert_eq!(wrapped_fraction(100.0, 50e-9, 0.0, 2.5e-6), 0.0);
    }

    #[test]
    fn fibril_band_and_lump_add_and_saturate() {
        let a = 0.5e-6;
        // One 50 nm strand across: band 2 r_f × 2a over π a².
        let band = 4.0 * 50e-9 * a / (PI * a * a);
        let t = contact_coverage(a, 0.0, 0.0, 50e-9, []);
        assert!((t - (1.0 - (-band).exp())).abs() < 1e-12);
        // A lump bigger than the contact covers it fully once (Σ += 1).
        let t = contact_coverage(a, 0.0, 0.0, 0.0, [2e-6]);
        assert!((t - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // Many layers saturate at (numerically) 1, never above.
        let t = contact_coverage(a, 5.0, 5.0, 1e-5, [2e-6, 2e-6]);
        assert!(t > 0.999 && t <= 1.0);
    }
}
