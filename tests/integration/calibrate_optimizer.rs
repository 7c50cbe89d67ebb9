//! The bounded Nelder–Mead optimiser of `dryfilm_sim::calibrate` on analytic functions, and the
//! unit-box parameter maps.

use dryfilm_sim::calibrate::{
    from_unit, nelder_mead, residual, to_unit, NelderMeadOptions, ParamSpec, Residual, Scale,
};

fn opts(max_evals: usize) -> NelderMeadOptions {
    NelderMeadOptions {
        max_evals,
        initial_step: 0.1,
        xtol: 1e-8,
        ftol: 1e-12,
    }
}

/// Rosenbrock's banana, minimum 0 at (1, 1), from the classic start (−1.2, 1).
#[test]
fn rosenbrock_reaches_its_minimum() {
    let f = |x: &[f64]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
    let r = nelder_mead(f, &[-1.2, 1.0], &[-2.0, -2.0], &[2.0, 2.0], &opts(2000));
    assert!(r.converged, "stopped after {} evals at {:?}", r.evals, r.x);
    assert!(
        (r.x[0] - 1.0).abs() < 1e-4 && (r.x[1] - 1.0).abs() < 1e-4,
        "{:?}",
        r.x
    );
    assert!(r.f < 1e-8, "f = {}", r.f);
}

/// A rotated, badly scaled 3-D quadratic with its minimum inside the box.
#[test]
fn quadratic_in_three_dimensions() {
    let c = [0.3, -0.7, 1.1];
    let f = |x: &[f64]| {
        let d: Vec<f64> = x.iter().zip(&c).map(|(a, b)| a - b).collect();
        (d[0] + d[1]).powi(2) + 10.0 * (d[1] - d[2]).powi(2) + 0.1 * d[2] * d[2]
    };
    let r = nelder_mead(f, &[0.0, 0.0, 0.0], &[-3.0; 3], &[3.0; 3], &opts(5000));
    assert!(r.converged);
    for (a, b) in r.x.iter().zip(&c) {
        assert!((a - b).abs() < 1e-3, "{:?} vs {c:?}", r.x);
    }
}

/// When the unconstrained minimum lies outside the box, the search ends on the box face.
#[test]
fn minimum_outside_the_box_lands_on_the_bound() {
    let f = |x: &[f64]| (x[0] - 5.0).powi(2) + (x[1] - 0.25).powi(2);
    let r = nelder_mead(f, &[0.5, 0.5], &[0.0, 0.0], &[1.0, 1.0], &opts(1000));
    assert!((r.x[0] - 1.0).abs() < 1e-6, "{:?}", r.x);
    assert!((r.x[1] - 0.25).abs() < 1e-4, "{:?}", r.x);
    // Every trial point stayed in the box.
    let mut inside = true;
    let g = |x: &[f64]| {
        inside &= x.iter().all(|v| (0.0..=1.0).contains(v));
        (x[0] - 5.0).powi(2)
    };
    let _ = nelder_mead(g, &[0.9, 0.1], &[0.0, 0.0], &[1.0, 1.0], &opts(200));
    assert!(inside);
}

/// The budget is respected exactly and non-finite values are never accepted as the best.
#[test]
fn budget_and_failed_evaluations() {
    let mut n = 0;
    let f = |x: &[f64]| {
        n += 1;
        x[0] * x[0] + x[1] * x[1]
    };
    let r = nelder_mead(f, &[0.8, 0.8], &[-1.0, -1.0], &[1.0, 1.0], &opts(17));
    assert_eq!(n, 17);
    assert_eq!(r.evals, 17);
    assert!(!r.converged);
    // NaN in half the box: the minimum of the finite half is found.
    let h = |x: &[f64]| {
        if x[0] < 0.2 {
            f64::NAN
        } else {
            (x[0] - 0.2).powi(2) + x[1] * x[1]
        }
    };
    let r = nelder_mead(h, &[0.9, 0.5], &[-1.0, -1.0], &[1.0, 1.0], &opts(400));
    assert!(r.f.is_finite());
    assert!(r.x[0] >= 0.2 && r.x[0] < 0.21, "{:?}", r.x);
}

/// One dimension (a two-vertex simplex) works and the result is repeatable bit for bit.
#[test]
fn one_dimension_and_determinism() {
    let f = |x: &[f64]| (x[0].ln() - 2.0f64.ln()).powi(2);
    let a = nelder_mead(f, &[0.5], &[0.01], &[10.0], &opts(300));
    let b = nelder_mead(f, &[0.5], &[0.01], &[10.0], &opts(300));
    assert!((a.x[0] - 2.0).abs() < 1e-4, "{:?}", a.x);
    assert_eq!(a.x[0].to_bits(), b.x[0].to_bits());
    assert_eq!(a.evals, b.evals);
}

#[test]
fn unit_maps_round_trip_and_hit_the_bounds() {
    for scale in [Scale::Linear, Scale::Log] {
        let q = ParamSpec {
            path: "x".into(),
            lower: 1e-5,
            upper: 1e-1,
            scale,
            start: None,
        };
        assert_eq!(from_unit(&q, 0.0), 1e-5);
        assert_eq!(from_unit(&q, 1.0), 1e-1);
        for x in [2e-5, 1e-3, 0.05] {
            let back = from_unit(&q, to_unit(&q, x));
            assert!((back / x - 1.0).abs() < 1e-12, "{scale:?} {x} -> {back}");
        }
    }
    let q = ParamSpec {
        path: "x".into(),
        lower: 1e-4,
        upper: 1e-2,
        scale: Scale::Log,
        start: None,
    };
    assert!((to_unit(&q, 1e-3) - 0.5).abs() < 1e-12);
}

#[test]
fn residual_forms() {
    assert_eq!(residual(Residual::Relative, 1.5, 1.0), Some(0.5));
    let r = residual(Residual::Log, 2.0, 1.0).expect("positive");
    assert!((r - 2.0f64.ln()).abs() < 1e-15);
    assert_eq!(residual(Residual::Log, 0.0, 1.0), None);
    assert_eq!(residual(Residual::Log, -1.0, 1.0), None);
}
