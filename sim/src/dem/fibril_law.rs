//! Bond law of a single PTFE fibril: a pure kernel (plain numbers in, plain numbers out, no ECS).
//!
//! # Model
//!
//! A fibril is a straight, tension-only PTFE cylinder of radius `r` and rest (stress-free) length
//! `L₀` between two anchors whose current distance is `L`. Its volume `V = π r² L₀` is conserved
//! (PTFE is drawn, not created: Luo et al., RSC Adv. 2021, describe fibrillation as the plastic
//! drawing of oriented chains out of the PTFE lump).
//!
//! 1. **Slack** (`L ≤ L₀`): tension `T = 0`, state unchanged (fibrils do not carry compression).
//! 2. **Elastic** (`L > L₀`): `T = k (L − L₀)` with the axial stiffness `k = E π r² / L₀`, so the
//!    true stress is `σ = T / (π r²) = E (L − L₀) / L₀`. `E` is the PTFE Young's modulus
//!    (bulk PTFE 0.3–0.6 GPa, domain brief §4).
//! 3. **Plastic drawing** once the elastic trial stress exceeds the flow stress `σ_f`: the rest
//!    length grows to `L₀'` so that the stress sits exactly on the flow stress,
//!    `E (L − L₀') / L₀' = σ_f`, and the radius shrinks with the volume held,
//!    `r' = sqrt(V / (π L₀'))`. Drawing is irreversible: `L₀` never shrinks.
//! 4. **Hardening** (optional, linear in the logarithmic plastic draw strain):
//!    `σ_f = σ_y + H · ε_p` with `ε_p = ln(r_ref² / r'²) = ln(L₀' / L₀,ref) ≥ 0`, where `r_ref` is
//!    the as-drawn fibril radius ([`FibrilLawParams::reference_radius`]). Without hardening
//!    (`H = 0`) the true stress of a drawing fibril stays at `σ_y` and its tension *falls* as it
//!    thins (`T = σ_y π r²`), so it can never reach a breaking stress `σ_b > σ_y`: oriented PTFE
//!    does strain-harden, and [`FibrilLawParams::from_strengths`] chooses `H` so that the fibril
//!    breaks after a plastic true strain [`DEFAULT_BREAK_DRAW_STRAIN`] (bulk PTFE elongates
//!    200–400 % before break, i.e. a true strain of 1.1–1.6; drawn fibrils less).
//! 5. **Failure**, whichever criterion is met first:
//!    - the fibril body breaks when the true stress reaches the breaking stress `σ_b`
//!      (`fibril_strength`; bulk PTFE tensile strength 14–34 MPa, fibrils stronger);
//!    - an anchor detaches when the tension exceeds the adhesion limit per unit circumference
//!      times the circumference, `T ≥ s_a · 2π r'` (`anchor_strength`, N/m; a peel/adhesion limit
//!      of the PTFE wrapped around the NPS grain, cf. Picu: network strength is set by the
//!      junctions).
//!
//!    If both are exceeded in the same call, the one with the larger overshoot ratio
//!    (`σ/σ_b` versus `T/(2π r' s_a)`) is reported: with small load increments this is the one that
//!    was reached first. After failure the tension is zero and the caller marks the fibril dead.
//!
//! Units are SI throughout: metres, newtons, pascals, N/m.
//!
//! Not in scope: viscoelastic creep, temperature dependence (the caller passes temperature-adjusted
//! `σ_y` if it wants one), bending, fibril–fibril friction.

use std::f64::consts::PI;

/// Default plastic true strain `ln(L₀/L₀,ref)` at which a hardening fibril reaches its breaking
/// stress, dimensionless. Bulk PTFE breaks at 200–400 % engineering elongation (true strain
/// 1.1–1.6); a fibril that is already oriented has less left, so 1.0 is used.
pub const DEFAULT_BREAK_DRAW_STRAIN: f64 = 1.0;

/// Material parameters of the fibril law (SI units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FibrilLawParams {
    /// PTFE Young's modulus `E`, Pa. Bulk PTFE 0.3–0.6 GPa. Must be > 0.
    pub modulus: f64,
    /// Drawing (yield) true stress `σ_y`, Pa: above it the fibril draws plastically. Must be > 0.
    pub yield_stress: f64,
    /// Breaking true stress `σ_b`, Pa (`fibril_strength`). Must be > 0.
    pub breaking_stress: f64,
    /// Anchor detachment force per unit fibril circumference `s_a`, N/m. Must be > 0.
    pub anchor_strength: f64,
    /// Linear hardening modulus `H` on the logarithmic draw strain, Pa. 0 = perfectly plastic
    /// drawing (then a fibril with `σ_b > σ_y` never breaks by drawing). Must be ≥ 0.
    pub hardening_modulus: f64,
    /// As-drawn fibril radius `r_ref`, m: the radius at which the plastic draw strain is zero.
    /// Only used when `hardening_modulus > 0`. Must be > 0.
    pub reference_radius: f64,
}

/// Invalid fibril-law parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FibrilLawError {
    /// A parameter was non-finite or outside its range.
    #[error("fibril law parameter `{name}` = {value} is invalid: {expected}")]
    InvalidParameter {
        /// Field name in [`FibrilLawParams`].
        name: &'static str,
        /// Offending value (SI units).
        value: f64,
        /// The allowed range.
        expected: &'static str,
    },
}

impl FibrilLawParams {
    /// Parameters with the hardening modulus chosen so that a fibril drawn from `reference_radius`
    /// reaches `breaking_stress` after a plastic true strain of [`DEFAULT_BREAK_DRAW_STRAIN`]:
    /// `H = max(σ_b − σ_y, 0) / ε_break`. All arguments in SI units (Pa, Pa, Pa, N/m, m).
    pub fn from_strengths(
        modulus: f64,
        yield_stress: f64,
        breaking_stress: f64,
        anchor_strength: f64,
        reference_radius: f64,
    ) -> Self {
        Self {
            modulus,
            yield_stress,
            breaking_stress,
            anchor_strength,
            hardening_modulus: (breaking_stress - yield_stress).max(0.0)
                / DEFAULT_BREAK_DRAW_STRAIN,
            reference_radius,
        }
    }

    /// Check every parameter is finite and in range.
    pub fn validate(&self) -> Result<(), FibrilLawError> {
        let checks: [(&'static str, f64, bool, &'static str); 6] = [
            (
                "modulus",
                self.modulus,
                self.modulus > 0.0,
                "finite and > 0 Pa",
            ),
            (
                "yield_stress",
                self.yield_stress,
                self.yield_stress > 0.0,
                "finite and > 0 Pa",
            ),
            (
                "breaking_stress",
                self.breaking_stress,
                self.breaking_stress > 0.0,
                "finite and > 0 Pa",
            ),
            (
                "anchor_strength",
                self.anchor_strength,
                self.anchor_strength > 0.0,
                "finite and > 0 N/m",
            ),
            (
                "hardening_modulus",
                self.hardening_modulus,
                self.hardening_modulus >= 0.0,
                "finite and >= 0 Pa",
            ),
            (
                "reference_radius",
                self.reference_radius,
                self.reference_radius > 0.0,
                "finite and > 0 m",
            ),
        ];
        for (name, value, ok, expected) in checks {
            if !value.is_finite() || !ok {
                return Err(FibrilLawError::InvalidParameter {
                    name,
                    value,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// Flow (drawing) stress `σ_f = σ_y + H · max(ln(r_ref² / r²), 0)` at radius `r` (m), Pa.
    pub fn flow_stress(&self, radius: f64) -> f64 {
        if self.hardening_modulus > 0.0 {
            let eps_p = (2.0 * (self.reference_radius / radius).ln()).max(0.0);
            self.yield_stress + self.hardening_modulus * eps_p
        } else {
            self.yield_stress
        }
    }
}

/// History state of one fibril.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FibrilLawState {
    /// Rest (stress-free) length `L₀`, m. Grows by plastic drawing.
    pub rest_length: f64,
    /// Current radius `r`, m. Shrinks as the fibril draws, with `π r² L₀` constant.
    pub radius: f64,
}

impl FibrilLawState {
    /// PTFE volume `π r² L₀`, m³ (conserved by the law).
    pub fn volume(&self) -> f64 {
        PI * self.radius * self.radius * self.rest_length
    }

    /// Cross-section `π r²`, m².
    pub fn area(&self) -> f64 {
        PI * self.radius * self.radius
    }

    /// Elastic energy `½ k (L − L₀)²` of one strand at length `length` (m; 0 when slack), J: the
    /// energy whose derivative is the elastic tension of [`fibril_response`].
    pub fn elastic_energy(&self, length: f64, params: &FibrilLawParams) -> f64 {
        let stretch = (length - self.rest_length).max(0.0);
        0.5 * self.stiffness(params) * stretch * stretch
    }

    /// Elastic axial stiffness `k = E π r² / L₀`, N/m.
    pub fn stiffness(&self, params: &FibrilLawParams) -> f64 {
        params.modulus * self.area() / self.rest_length
    }
}

/// What happened to the fibril in one evaluation of the law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FibrilEvent {
    /// Slack or elastic: nothing irreversible happened.
    None,
    /// The fibril drew plastically (its rest length grew, its radius shrank).
    Yielding,
    /// The fibril body broke (true stress reached the breaking stress).
    Broke,
    /// An anchor detached (tension exceeded anchor strength × circumference).
    Detached,
}

/// Result of evaluating the fibril law.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FibrilLawOutput {
    /// Tension, N (≥ 0; 0 when slack or failed; NaN only if the input length was not finite).
    pub tension: f64,
    /// Updated history state (after plastic drawing, if any).
    pub state: FibrilLawState,
    /// Event of this evaluation.
    pub event: FibrilEvent,
}

/// Evaluate the fibril law at end-to-end length `length` (m), starting from `state`.
///
/// Returns the tension (N), the updated state and the event (see the module docs for the model).
/// On failure ([`FibrilEvent::Broke`] or [`FibrilEvent::Detached`]) the tension is zero.
/// A non-finite `length` returns a NaN tension with the state unchanged so that the caller's
/// finite-value check catches it. The state must have `rest_length > 0` and `radius > 0`
/// (guaranteed by the law itself once it starts from a valid state).
pub fn fibril_response(
    length: f64,
    state: FibrilLawState,
    params: &FibrilLawParams,
) -> FibrilLawOutput {
    let mut out = fibril_load(length, state, params);
    if matches!(out.event, FibrilEvent::Broke | FibrilEvent::Detached) {
        out.tension = 0.0;
    }
    out
}

/// Like [`fibril_response`] but an overloaded fibril keeps its tension.
///
/// The event still says [`FibrilEvent::Broke`] or [`FibrilEvent::Detached`] when a failure
/// criterion is met, but the returned tension is the one the intact fibril would carry. A
/// quasi-static solver uses this to relax the structure first and break overloaded fibrils
/// afterwards, instead of switching forces off in the middle of a minimisation.
pub fn fibril_load(
    length: f64,
    state: FibrilLawState,
    params: &FibrilLawParams,
) -> FibrilLawOutput {
    if !length.is_finite() {
        return FibrilLawOutput {
            tension: f64::NAN,
            state,
            event: FibrilEvent::None,
        };
    }
    if length <= state.rest_length {
        return FibrilLawOutput {
            tension: 0.0,
            state,
            event: FibrilEvent::None,
        };
    }
    let e = params.modulus;
    let trial_stress = e * (length - state.rest_length) / state.rest_length;
    // σ_f ≥ σ_y always, so below σ_y the fibril is elastic without evaluating the hardening term.
    let (stress, new_state, event) = if trial_stress <= params.yield_stress
        || trial_stress <= params.flow_stress(state.radius)
    {
        (trial_stress, state, FibrilEvent::None)
    } else {
        let s = draw(length, state, params);
        (params.flow_stress(s.radius), s, FibrilEvent::Yielding)
    };
    let tension = stress * new_state.area();
    let (break_ratio, detach_ratio) = failure_ratios(tension, new_state.radius, params);
    if break_ratio >= 1.0 || detach_ratio >= 1.0 {
        let event = if break_ratio >= detach_ratio {
            FibrilEvent::Broke
        } else {
            FibrilEvent::Detached
        };
        return FibrilLawOutput {
            tension,
            state: new_state,
            event,
        };
    }
    FibrilLawOutput {
        tension,
        state: new_state,
        event,
    }
}

/// Failure ratios of a fibril carrying `tension` (N) at radius `radius` (m):
/// `(σ / σ_b, T / (2π r s_a))`, dimensionless. A ratio ≥ 1 means that criterion is met.
pub fn failure_ratios(tension: f64, radius: f64, params: &FibrilLawParams) -> (f64, f64) {
    let stress = tension / (PI * radius * radius);
    (
        stress / params.breaking_stress,
        tension / (params.anchor_strength * 2.0 * PI * radius),
    )
}

/// Plastic drawing step: find `L₀' ≥ L₀` with `E (L − L₀')/L₀' = σ_f(r')`, `π r'² L₀' = π r² L₀`.
///
/// In `x = ln(L₀'/L₀)` the condition is `g(x) = x − ln(L/L₀) + ln(1 + σ_f(x)/E) = 0` with
/// `σ_f(x) = σ_y + H · max(ε_p0 + x, 0)`; `g` is increasing (`g' = 1 + H/(E + σ_f) ≥ 1`), so
/// Newton's method from the perfectly plastic solution converges in a few iterations.
fn draw(length: f64, state: FibrilLawState, params: &FibrilLawParams) -> FibrilLawState {
    let e = params.modulus;
    let volume = state.volume();
    let log_stretch = (length / state.rest_length).ln();
    let eps_p0 = if params.hardening_modulus > 0.0 {
        2.0 * (params.reference_radius / state.radius).ln()
    } else {
        0.0
    };
    let flow = |x: f64| params.yield_stress + params.hardening_modulus * (eps_p0 + x).max(0.0);
    // Perfectly plastic start: L₀' = L E / (E + σ_f(0)).
    let mut x = (log_stretch - (1.0 + flow(0.0) / e).ln()).max(0.0);
    if params.hardening_modulus > 0.0 {
        for _ in 0..50 {
            let sf = flow(x);
            let g = x - log_stretch + (1.0 + sf / e).ln();
            let dg = 1.0
                + if eps_p0 + x > 0.0 {
                    params.hardening_modulus / (e + sf)
                } else {
                    0.0
                };
            let dx = g / dg;
            x = (x - dx).max(0.0);
            if dx.abs() <= 1e-15 * (1.0 + x) {
                break;
            }
        }
    }
    let rest_length = state.rest_length * x.exp();
    let radius = (volume / (PI * rest_length)).sqrt();
    FibrilLawState {
        rest_length,
        radius,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(h: f64) -> FibrilLawParams {
        FibrilLawParams {
            modulus: 0.5e9,
            yield_stress: 20e6,
            breaking_stress: 60e6,
            anchor_strength: 100.0,
            hardening_modulus: h,
            reference_radius: 50e-9,
        }
    }

    fn state() -> FibrilLawState {
        FibrilLawState {
            rest_length: 2e-6,
            radius: 50e-9,
        }
    }

    #[test]
    fn slack_carries_nothing() {
        let p = params(0.0);
        for l in [0.0, 1e-6, 2e-6] {
            let out = fibril_response(l, state(), &p);
            assert_eq!(out.tension, 0.0);
            assert_eq!(out.state, state());
            assert_eq!(out.event, FibrilEvent::None);
        }
    }

    #[test]
    fn elastic_slope_is_e_a_over_l0() {
        let p = params(0.0);
        let s = state();
        let k = p.modulus * PI * s.radius * s.radius / s.rest_length;
        assert!((s.stiffness(&p) - k).abs() <= 1e-12 * k);
        // Strain 1e-3 keeps the stress (0.5 MPa) well under yield (20 MPa).
        for d in [1e-10, 5e-10, 2e-9] {
            let l = s.rest_length + d;
            // Extension as represented in floating point (L − L₀ loses digits of d).
            let dl = l - s.rest_length;
            let out = fibril_response(l, s, &p);
            assert_eq!(out.event, FibrilEvent::None);
            assert_eq!(out.state, s);
            assert!(
                (out.tension - k * dl).abs() <= 1e-12 * k * dl,
                "{} vs {}",
                out.tension,
                k * dl
            );
        }
    }

    #[test]
    fn yield_plateau_holds_true_stress_and_conserves_volume() {
        let p = params(0.0);
        let mut s = state();
        let v0 = s.volume();
        let mut last_tension = f64::INFINITY;
        // Draw to 1.8× the rest length in small steps: stress stays at σ_y, tension falls.
        for i in 1..=400 {
            let l = state().rest_length * (1.0 + 0.002 * i as f64);
            let out = fibril_response(l, s, &p);
            assert!(out.event == FibrilEvent::Yielding || out.event == FibrilEvent::None);
            s = out.state;
            let stress = out.tension / s.area();
            if out.event == FibrilEvent::Yielding {
                assert!(
                    (stress - p.yield_stress).abs() <= 1e-9 * p.yield_stress,
                    "{stress}"
                );
                assert!(out.tension <= last_tension * (1.0 + 1e-12));
                last_tension = out.tension;
            }
            assert!(
                (s.volume() - v0).abs() <= 1e-12 * v0,
                "volume drift {}",
                s.volume() / v0 - 1.0
            );
        }
        // Perfectly plastic: L₀ = L E / (E + σ_y), r = r₀ sqrt(L₀,init / L₀).
        let l_end = state().rest_length * 1.8;
        let l0_expected = l_end * p.modulus / (p.modulus + p.yield_stress);
        assert!((s.rest_length - l0_expected).abs() <= 1e-9 * l0_expected);
        let r_expected = state().radius * (state().rest_length / l0_expected).sqrt();
        assert!((s.radius - r_expected).abs() <= 1e-9 * r_expected);
    }

    #[test]
    fn hardening_raises_flow_stress_and_conserves_volume() {
        let p = params(40e6);
        let mut s = state();
        let v0 = s.volume();
        let mut last_stress = 0.0;
        for i in 1..=100 {
            let l = state().rest_length * (1.0 + 0.005 * i as f64);
            let out = fibril_response(l, s, &p);
            assert!(out.event != FibrilEvent::Broke && out.event != FibrilEvent::Detached);
            s = out.state;
            let stress = out.tension / s.area();
            assert!(stress >= last_stress);
            last_stress = stress;
            if out.event == FibrilEvent::Yielding {
                assert!((stress - p.flow_stress(s.radius)).abs() <= 1e-9 * stress);
                // Equilibrium on the flow curve: E (L − L₀)/L₀ = σ_f.
                let el = p.modulus * (l - s.rest_length) / s.rest_length;
                assert!((el - stress).abs() <= 1e-8 * stress, "{el} vs {stress}");
            }
            assert!((s.volume() - v0).abs() <= 1e-12 * v0);
        }
        assert!(last_stress > p.yield_stress * 1.5);
    }

    #[test]
    fn breaks_at_breaking_stress_elastically() {
        // σ_b below σ_y: the fibril breaks in the elastic branch at strain σ_b / E.
        let mut p = params(0.0);
        p.breaking_stress = 10e6;
        let s = state();
        let eps_b = p.breaking_stress / p.modulus;
        let below = fibril_response(s.rest_length * (1.0 + 0.99 * eps_b), s, &p);
        assert_eq!(below.event, FibrilEvent::None);
        assert!(below.tension > 0.0);
        let above = fibril_response(s.rest_length * (1.0 + 1.01 * eps_b), s, &p);
        assert_eq!(above.event, FibrilEvent::Broke);
        assert_eq!(above.tension, 0.0);
    }

    #[test]
    fn hardening_fibril_breaks_after_break_draw_strain() {
        let s = state();
        let p = FibrilLawParams::from_strengths(0.5e9, 20e6, 60e6, 100.0, s.radius);
        let mut st = s;
        let mut broke_at = None;
        for i in 1..=2000 {
            let l = s.rest_length * (1.0 + 0.002 * i as f64);
            let out = fibril_response(l, st, &p);
            if out.event == FibrilEvent::Broke {
                broke_at = Some(st);
                break;
            }
            st = out.state;
        }
        let st = broke_at.expect("a hardening fibril must break");
        let eps_p = (st.rest_length / s.rest_length).ln();
        assert!(
            (eps_p - DEFAULT_BREAK_DRAW_STRAIN).abs() < 0.01,
            "broke at draw strain {eps_p}"
        );
    }

    #[test]
    fn anchor_detaches_at_strength_times_circumference() {
        let mut p = params(0.0);
        // Detach force 2π r s_a = 2π·50e-9·0.1 ≈ 3.14e-8 N, below the yield force σ_y π r² ≈ 1.57e-7 N.
        p.anchor_strength = 0.1;
        let s = state();
        let f_d = p.anchor_strength * 2.0 * PI * s.radius;
        let k = s.stiffness(&p);
        let below = fibril_response(s.rest_length + 0.99 * f_d / k, s, &p);
        assert_eq!(below.event, FibrilEvent::None);
        assert!((below.tension - 0.99 * f_d).abs() <= 1e-9 * f_d);
        let above = fibril_response(s.rest_length + 1.01 * f_d / k, s, &p);
        assert_eq!(above.event, FibrilEvent::Detached);
        assert_eq!(above.tension, 0.0);
    }

    #[test]
    fn non_finite_length_gives_nan_tension() {
        let out = fibril_response(f64::NAN, state(), &params(0.0));
        assert!(out.tension.is_nan());
        assert_eq!(out.state, state());
    }

    #[test]
    fn validate_rejects_bad_values() {
        assert!(params(0.0).validate().is_ok());
        let mut p = params(0.0);
        p.modulus = -1.0;
        assert!(p.validate().is_err());
        let mut p = params(0.0);
        p.anchor_strength = f64::NAN;
        assert!(p.validate().is_err());
        let mut p = params(0.0);
        p.hardening_modulus = -1.0;
        assert!(p.validate().is_err());
    }
}
