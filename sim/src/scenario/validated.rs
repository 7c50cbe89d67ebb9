//! The validated scenario: SI units, every value checked.
//!
//! These types are built only by [`super::validate`] (every struct is `#[non_exhaustive]`, so code
//! outside this crate cannot construct or literal-initialise them; [`Numerics`] is the raw section
//! itself, which needs no conversion); fields are public for reading.
//! Names follow the raw file without unit suffixes; the unit is in each field's doc. Temperatures
//! are kelvin, angles radians, conductivities S/m.

use crate::scenario::raw::RawNumerics;
use std::f64::consts::{PI, SQRT_2};

/// What the process makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// Mixing, fibrillation and calendering into a free-standing film.
    Film,
    /// NPS cold-pressed uniaxially into a pellet: no PTFE (`ptfe.wt_pct` is 0), no fibrillation, no
    /// calendering.
    Pellet,
}

/// A validated scenario. Built only by [`super::validate`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Scenario {
    /// Name of the run (non-empty, no path separators or control characters).
    pub name: String,
    /// Master seed; every subsystem derives its RNG stream from it.
    pub seed: u64,
    /// What is made.
    pub product: Product,
    /// Na3PS4 powder.
    pub nps: Nps,
    /// PTFE binder.
    pub ptfe: Ptfe,
    /// Whether implausible material values were explicitly allowed.
    pub allow_implausible: bool,
    /// The simulated box.
    pub domain: Domain,
    /// Low-shear mixing.
    pub mixing: Mixing,
    /// High-shear fibrillation (films only; range-checked for pellets but unused).
    pub fibrillation: Fibrillation,
    /// Calendering (films only; for pellets range-checked, not checked against the film geometry,
    /// unused).
    pub calender: Calender,
    /// Pellet pressing (pellets only).
    pub pellet: Pellet,
    /// Property solver settings.
    pub properties: Properties,
    /// DEM numerics.
    pub numerics: Numerics,
    /// Image and export settings.
    pub output: Output,
}

/// Na3PS4 powder: truncated lognormal number distribution of diameters and material data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Nps {
    /// Median diameter of the (untruncated) lognormal number distribution, m.
    pub d50: f64,
    /// Geometric standard deviation (dimensionless, ≥ 1).
    pub gsd: f64,
    /// Smallest diameter kept, m (`0 < d_min < d50`).
    pub d_min: f64,
    /// Largest diameter kept, m (`d50 < d_max`).
    pub d_max: f64,
    /// True density, kg/m³.
    pub density: f64,
    /// Young's modulus, Pa.
    pub youngs_modulus: f64,
    /// Poisson's ratio.
    pub poisson: f64,
    /// Contact yield pressure (hardness), Pa.
    pub yield_pressure: f64,
    /// Coefficient of restitution.
    pub restitution: f64,
    /// Coulomb sliding friction coefficient.
    pub friction: f64,
    /// Rolling-resistance coefficient.
    pub rolling_friction: f64,
    /// Work of adhesion, J/m².
    pub surface_energy: f64,
    /// Bulk Na+ conductivity of a grain, S/m.
    pub sigma_ion_bulk: f64,
    /// Intrinsic electronic conductivity, S/m.
    pub sigma_e: f64,
}

/// PTFE binder.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Ptfe {
    /// PTFE loading, percent of total solid mass, as given (0 for pellets).
    pub wt_pct: f64,
    /// Diameter of a PTFE agglomerate, m.
    pub lump_diameter: f64,
    /// True density, kg/m³.
    pub density: f64,
    /// Young's modulus, Pa.
    pub youngs_modulus: f64,
    /// Poisson's ratio.
    pub poisson: f64,
    /// Fibril radius when first drawn, m.
    pub fibril_radius: f64,
    /// Fibrillation rate κ, fraction of the remaining lump drawn per unit local shear strain past
    /// the critical strain, per unit strain.
    pub fibrillation_rate: f64,
    /// What drives fibrillation (the local shear strain or the work at the lump's contacts).
    pub fibrillation_driver: crate::scenario::raw::FibrillationDriver,
    /// Drawing energy of the work-driven law: contact work past the threshold per unit volume
    /// drawn, J/m³.
    pub fibrillation_energy: f64,
    /// Real fibrils per model fibril (bundle multiplicity), dimensionless ≥ 1.
    pub fibrils_per_bundle: f64,
    /// Drawing yield stress of a fibril, Pa.
    pub fibril_yield: f64,
    /// Breaking true stress of a fibril, Pa (> `fibril_yield`).
    pub fibril_strength: f64,
    /// Anchor detachment force per unit fibril circumference, N/m.
    pub anchor_strength: f64,
    /// Tensile strength of the PTFE bridging a covered NPS–NPS contact, Pa.
    pub bridge_strength: f64,
    /// Fraction of a grain's circumference each fibril strand wraps, dimensionless.
    pub wrap_fraction: f64,
    /// Damping ratio of a taut fibril bundle's axial dashpot, dimensionless.
    pub fibril_damping_ratio: f64,
    /// Electronic conductivity of reduced PTFE, S/m.
    pub reduced_sigma_e: f64,
}

/// The representative volume element.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Domain {
    /// Box length along MD (x) before calendering, m.
    pub lx: f64,
    /// Box length along TD (y), m.
    pub ly: f64,
    /// Solid mass per film area, kg/m².
    pub mass_loading: f64,
    /// Solid fraction of the initial random packing.
    pub initial_solid_fraction: f64,
}

/// Low-shear mixing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Mixing {
    /// Shear rate, 1/s.
    pub shear_rate: f64,
    /// Total shear strain.
    pub shear_strain: f64,
    /// Confining pressure on the top wall, Pa.
    pub confining_pressure: f64,
}

/// High-shear fibrillation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Fibrillation {
    /// Process temperature, K.
    pub temperature: f64,
    /// Shear rate, 1/s.
    pub shear_rate: f64,
    /// Total shear strain.
    pub shear_strain: f64,
    /// Shear direction in the film plane from MD (x), rad, in [0, π).
    pub shear_direction: f64,
    /// Confining pressure, Pa.
    pub confining_pressure: f64,
    /// Total shear strain of the real process that the simulated shear samples, dimensionless
    /// (≥ `shear_strain`).
    pub process_strain: f64,
}

/// Calendering.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Calender {
    /// Roll gap of each pass, m, in pass order; non-empty, positive, never opening. A geometric
    /// schedule is expanded to `passes` gaps `g_i = start·(final/start)^(i/(passes−1))`.
    pub gaps: Vec<f64>,
    /// Target free-standing thickness after the last pass and springback, m.
    pub target_thickness: f64,
    /// Through-thickness compressive strain rate, 1/s.
    pub strain_rate: f64,
    /// Roll temperature, K.
    pub roll_temperature: f64,
    /// MD elongation exponent α: Lx ← Lx·(h_before/h_after)^α.
    pub md_elongation_exponent: f64,
    /// Turn the film 90° in-plane between passes.
    pub turn_90_between_passes: bool,
}

/// Uniaxial pellet pressing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Pellet {
    /// Peak pressing pressure, Pa.
    pub pressure: f64,
    /// Compressive strain rate, 1/s.
    pub strain_rate: f64,
}

/// Property solver settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Properties {
    /// Voxel size of the voxel conductivity solve, m.
    pub voxel_size: f64,
    /// Run the virtual tensile test.
    pub tensile: bool,
    /// Tensile strain increment per step.
    pub tensile_strain_step: f64,
    /// Mechanics of the tensile test.
    pub tensile_mechanics: crate::scenario::raw::TensileMechanics,
    /// Relative tolerance of the conjugate-gradient solves.
    pub solver_tolerance: f64,
}

/// DEM numerics: the `numerics` section as written (all dimensionless, no unit conversion), after
/// validation; see [`RawNumerics`] for the fields and their ranges.
pub type Numerics = RawNumerics;

/// Image and export settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Output {
    /// Render cross-section images.
    pub images: bool,
    /// Image resolution, pixels per µm (kept in the file's unit: it is a pixel density, not a length).
    pub px_per_um: f64,
    /// Slice positions as fractions of the box, each in [0, 1].
    pub slice_fractions: Vec<f64>,
    /// Write 3D exports.
    pub exports: bool,
}

impl Scenario {
    /// PTFE mass fraction w = wt% / 100 (dimensionless).
    pub fn ptfe_mass_fraction(&self) -> f64 {
        self.ptfe.wt_pct / 100.0
    }

    /// Density of the fully dense NPS/PTFE mixture, kg/m³, from the mass fractions:
    /// 1/ρ_mix = (1 − w)/ρ_NPS + w/ρ_PTFE.
    pub fn mixture_density(&self) -> f64 {
        mixture_density(
            self.ptfe_mass_fraction(),
            self.nps.density,
            self.ptfe.density,
        )
    }

    /// Thickness the film would have at full density, m: h_s = m_A / ρ_mix (m_A the mass loading).
    pub fn solid_thickness(&self) -> f64 {
        self.domain.mass_loading / self.mixture_density()
    }

    /// Height of the initial random packing, m: h_0 = h_s / φ_0 (φ_0 the initial solid fraction).
    pub fn initial_height(&self) -> f64 {
        self.solid_thickness() / self.domain.initial_solid_fraction
    }

    /// Solid volume of NPS in the box, m³: V = Lx·Ly·m_A·(1 − w)/ρ_NPS.
    pub fn nps_solid_volume(&self) -> f64 {
        self.domain.lx
            * self.domain.ly
            * self.domain.mass_loading
            * (1.0 - self.ptfe_mass_fraction())
            / self.nps.density
    }

    /// Mean particle volume of the truncated lognormal NPS distribution, m³ (see
    /// [`truncated_lognormal_moment`]): ⟨V⟩ = (π/6)·E[d³ | d_min < d < d_max].
    pub fn nps_mean_particle_volume(&self) -> f64 {
        let n = &self.nps;
        PI / 6.0 * truncated_lognormal_moment(n.d50, n.gsd, n.d_min, n.d_max, 3)
    }

    /// Expected number of NPS particles in the box: NPS solid volume / mean particle volume.
    pub fn estimated_nps_count(&self) -> f64 {
        self.nps_solid_volume() / self.nps_mean_particle_volume()
    }

    /// Advisory notes on a valid scenario: legal choices that are probably not what was meant or
    /// that will cost a lot. `dryfilm check` prints them; they never fail validation.
    pub fn advisories(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let film = self.product == Product::Film;
        let t_c = self.fibrillation.temperature - 273.15;
        if film && t_c < PTFE_TRANSITION_C {
            notes.push(format!(
                "fibrillation.temperature_c = {t_c:.1} °C is below PTFE's {PTFE_TRANSITION_C} °C \
                 crystal transition: the lumps will hardly fibrillate"
            ));
        }
        if film && self.ptfe.wt_pct == 0.0 {
            notes.push("powder.ptfe.wt_pct = 0: no binder, the film has no fibril network".into());
        }
        let count = self.estimated_nps_count();
        if count > LARGE_PARTICLE_COUNT {
            notes.push(format!(
                "about {count:.3e} NPS particles: expect a long run; shrink domain.lx_um/ly_um"
            ));
        }
        let voxels_per_d_min = self.nps.d_min / self.properties.voxel_size;
        if voxels_per_d_min < 4.0 {
            notes.push(format!(
                "properties.voxel_size_um resolves the smallest particles with {voxels_per_d_min:.1} \
                 voxels per diameter (< 4): the voxel conductivity will be coarse"
            ));
        }
        notes
    }
}

/// PTFE's lower crystal transition (triclinic → hexagonal), °C: fibrillation needs to be above it.
pub const PTFE_TRANSITION_C: f64 = 19.0;
/// Particle count above which [`Scenario::advisories`] warns about run time.
pub const LARGE_PARTICLE_COUNT: f64 = 2.0e6;

/// Mixture density, kg/m³, of two phases with mass fraction `w` of the second:
/// 1/ρ = (1 − w)/ρ₁ + w/ρ₂ (volumes add).
pub fn mixture_density(w: f64, rho1: f64, rho2: f64) -> f64 {
    1.0 / ((1.0 - w) / rho1 + w / rho2)
}

/// Complementary error function erfc(x), relative accuracy ~1e-14 over the whole real line.
///
/// For |x| < 2: erf from its Maclaurin series erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)).
/// For x ≥ 2: the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
/// (Abramowitz & Stegun 7.1.14), evaluated bottom-up with a fixed depth. erfc(−x) = 2 − erfc(x).
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        // Series for erf; terms alternate and shrink fast for x < 2 (≤ ~60 terms).
        let x2 = x * x;
        let mut term = x; // (−1)ⁿ x^(2n+1) / n!
        let mut sum = x;
        // At x < 2 the terms fall below 1e-17 of the sum within ~45 terms; 200 is a safe cap.
        for n in 1..200 {
            let n = f64::from(n);
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        return 1.0 - 2.0 / PI.sqrt() * sum;
    }
    if x > 27.0 {
        return 0.0;
    }
    // Continued fraction K = x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))).
    let mut k = x;
    for j in (1..=60).rev() {
        k = x + (j as f64 / 2.0) / k;
    }
    (-x * x).exp() / PI.sqrt() / k
}

/// Probability that a standard normal variable lies in (a, b], computed from the tail that keeps
/// precision (no cancellation of two numbers close to 1).
pub fn normal_prob_between(a: f64, b: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let upper = |z: f64| 0.5 * erfc(z / SQRT_2); // P(Z > z)
    if a >= 0.0 {
        upper(a) - upper(b)
    } else if b <= 0.0 {
        upper(-b) - upper(-a)
    } else {
        1.0 - upper(-a) - upper(b)
    }
}

/// Number fraction of a lognormal distribution (median `d50`, geometric standard deviation `gsd`)
/// that lies in [d_min, d_max]: Φ(z_max) − Φ(z_min), z = ln(d/d50)/ln(gsd). For gsd = 1 (all
/// particles at d50) this is 1 when d50 is inside the cut-offs, else 0.
pub fn lognormal_fraction_inside(d50: f64, gsd: f64, d_min: f64, d_max: f64) -> f64 {
    let s = gsd.ln();
    if s <= 0.0 {
        return if d_min <= d50 && d50 <= d_max {
            1.0
        } else {
            0.0
        };
    }
    normal_prob_between((d_min / d50).ln() / s, (d_max / d50).ln() / s)
}

/// k-th moment of the diameter of a lognormal number distribution truncated to [d_min, d_max],
/// in m^k: E[d^k | inside] = d50^k·exp(k²σ²/2)·[Φ(z_b − kσ) − Φ(z_a − kσ)] / [Φ(z_b) − Φ(z_a)],
/// σ = ln(gsd), z = ln(d/d50)/σ (the standard partial-moment identity of the lognormal, e.g.
/// Aitchison & Brown, *The Lognormal Distribution*, 1957). Returns NaN when nothing is inside.
pub fn truncated_lognormal_moment(d50: f64, gsd: f64, d_min: f64, d_max: f64, k: i32) -> f64 {
    let s = gsd.ln();
    if s <= 0.0 {
        return if d_min <= d50 && d50 <= d_max {
            d50.powi(k)
        } else {
            f64::NAN
        };
    }
    let za = (d_min / d50).ln() / s;
    let zb = (d_max / d50).ln() / s;
    let inside = normal_prob_between(za, zb);
    if inside <= 0.0 {
        return f64::NAN;
    }
    let kf = f64::from(k);
    let shifted = normal_prob_between(za - kf * s, zb - kf * s);
    d50.powi(k) * (0.5 * kf * kf * s * s).exp() * shifted / inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        // Reference values of erfc to 15 digits (standard tables).
        let cases = [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_034_8e-12),
            (-1.0, 1.842_700_792_949_715),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "erfc({x}) = {got}, want {want}"
            );
        }
        // Continuity across the series / continued-fraction switch.
        let below = erfc(2.0 - 1e-12);
        let above = erfc(2.0 + 1e-12);
        assert!((below - above).abs() < 1e-13);
    }

    #[test]
    fn truncated_moments_against_quadrature() {
        let (d50, gsd, a, b) = (5.0, 1.5, 2.0, 12.0);
        // Midpoint quadrature of the lognormal number density in ln d.
        let s = f64::ln(gsd);
        let n = 200_000;
        let (la, lb) = (f64::ln(a), f64::ln(b));
        let h = (lb - la) / n as f64;
        let (mut m0, mut m3) = (0.0, 0.0);
        for i in 0..n {
            let l = la + (i as f64 + 0.5) * h;
            let z = (l - f64::ln(d50)) / s;
            let p = (-0.5 * z * z).exp() / (s * (2.0 * PI).sqrt()) * h;
            m0 += p;
            m3 += p * (3.0 * l).exp();
        }
        let frac = lognormal_fraction_inside(d50, gsd, a, b);
        assert!((frac - m0).abs() < 1e-9, "{frac} vs {m0}");
        let mom = truncated_lognormal_moment(d50, gsd, a, b, 3);
        assert!(((mom - m3 / m0) / mom).abs() < 1e-9, "{mom} vs {}", m3 / m0);
        // Monodisperse limit.
        assert_eq!(truncated_lognormal_moment(5.0, 1.0, 2.0, 12.0, 3), 125.0);
    }

    #[test]
    fn mixture_density_limits() {
        assert_eq!(mixture_density(0.0, 2210.0, 2200.0), 2210.0);
        assert!((mixture_density(1.0, 2210.0, 2200.0) - 2200.0).abs() < 1e-9);
        let m = mixture_density(0.5, 1000.0, 3000.0);
        assert!((m - 1500.0).abs() < 1e-9);
    }
}
