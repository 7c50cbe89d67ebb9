//! Preconditioned conjugate gradients, the Krylov solver of both conductivity solvers (the contact
//! network's Jacobi-preconditioned Laplacian and the voxel solver's multigrid-preconditioned
//! 7-point stencil).
//!
//! The operator supplies its inner product: each solver sums it in a fixed order of its own, so
//! that results are bitwise identical on any thread count; the vector updates are element-wise.

use rayon::prelude::*;

/// A symmetric positive definite linear operator.
pub trait SpdOperator {
    /// `y = A x`.
    fn apply(&self, x: &[f64], y: &mut [f64]);
    /// The inner product `a · b`, summed in an order that does not depend on the thread count.
    fn dot(&self, a: &[f64], b: &[f64]) -> f64;
}

/// A preconditioner: `z ≈ A⁻¹ r`, symmetric positive definite.
pub trait Preconditioner {
    /// `z = M⁻¹ r`.
    fn apply(&self, r: &[f64], z: &mut [f64]);
}

/// Jacobi (diagonal) preconditioning: `z_i = r_i / A_ii`.
#[derive(Debug, Clone)]
pub struct Jacobi {
    inv_diag: Vec<f64>,
}

impl Jacobi {
    /// From the operator's diagonal (all entries > 0).
    pub fn new(diag: &[f64]) -> Self {
        Self {
            inv_diag: diag.iter().map(|d| 1.0 / d).collect(),
        }
    }
}

impl Preconditioner for Jacobi {
    fn apply(&self, r: &[f64], z: &mut [f64]) {
        z.par_iter_mut()
            .zip(r)
            .zip(&self.inv_diag)
            .for_each(|((z, r), d)| *z = r * d);
    }
}

/// Why [`pcg`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcgStop {
    /// ‖b − A x‖ ≤ tol · ‖b‖ (or b = 0).
    Converged,
    /// `p · A p ≤ 0` or NaN: the operator is not positive definite on the search space (or the
    /// iteration met a non-finite value).
    Breakdown,
    /// The iteration limit was reached first.
    MaxIterations,
}

/// What [`pcg`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcgOutcome {
    /// Iterations done (the breaking one included).
    pub iterations: usize,
    /// Final relative residual ‖r‖ / ‖b‖ of the recursively updated residual (NaN when b = 0).
    pub relative_residual: f64,
    /// Why it stopped.
    pub stop: PcgStop,
}

/// Preconditioned conjugate gradients for `A x = b` from the initial guess in `x`.
///
/// Stops when the recursively updated residual satisfies ‖r‖₂ ≤ `tol`·‖b‖₂ (checked before the
/// first iteration too), at a breakdown, or after `max_iter` iterations. Hestenes–Stiefel form:
/// α = (r·z)/(p·Ap), x += α p, r −= α Ap, z = M⁻¹ r, β = (r·z)_new/(r·z), p = z + β p.
pub fn pcg(
    a: &impl SpdOperator,
    m: &impl Preconditioner,
    b: &[f64],
    x: &mut [f64],
    tol: f64,
    max_iter: usize,
) -> PcgOutcome {
    let n = b.len();
    let bnorm = a.dot(b, b).sqrt();
    let mut r = vec![0.0; n];
    a.apply(x, &mut r);
    r.par_iter_mut()
        .zip(b.par_iter())
        .for_each(|(r, b)| *r = b - *r);
    let mut rel = a.dot(&r, &r).sqrt() / bnorm;
    let outcome = |iterations, relative_residual, stop| PcgOutcome {
        iterations,
        relative_residual,
        stop,
    };
    if rel <= tol || bnorm == 0.0 {
        return outcome(0, rel, PcgStop::Converged);
    }
    let mut z = vec![0.0; n];
    m.apply(&r, &mut z);
    let mut p = z.clone();
    let mut ap = vec![0.0; n];
    let mut rz = a.dot(&r, &z);
    for it in 1..=max_iter {
        a.apply(&p, &mut ap);
        let pap = a.dot(&p, &ap);
        if pap.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return outcome(it, rel, PcgStop::Breakdown);
        }
        let alpha = rz / pap;
        x.par_iter_mut()
            .zip(p.par_iter())
            .for_each(|(x, p)| *x += alpha * p);
        r.par_iter_mut()
            .zip(ap.par_iter())
            .for_each(|(r, ap)| *r -= alpha * ap);
        rel = a.dot(&r, &r).sqrt() / bnorm;
        if rel <= tol {
            return outcome(it, rel, PcgStop::Converged);
        }
        m.apply(&r, &mut z);
        let rz_new = a.dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        p.par_iter_mut()
            .zip(z.par_iter())
            .for_each(|(p, z)| *p = z + beta * *p);
    }
    outcome(max_iter, rel, PcgStop::MaxIterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 1D Dirichlet Laplacian tridiag(−1, 2, −1).
    struct Lap1d;
    impl SpdOperator for Lap1d {
        fn apply(&self, x: &[f64], y: &mut [f64]) {
            let n = x.len();
            for i in 0..n {
                let l = if i > 0 { x[i - 1] } else { 0.0 };
                let r = if i + 1 < n { x[i + 1] } else { 0.0 };
                y[i] = 2.0 * x[i] - l - r;
            }
        }
        fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
            a.iter().zip(b).map(|(a, b)| a * b).sum()
        }
    }

    #[test]
    fn solves_the_1d_laplacian_in_at_most_n_iterations() {
        let n = 50;
        let want: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.3).sin()).collect();
        let mut b = vec![0.0; n];
        Lap1d.apply(&want, &mut b);
        let mut x = vec![0.0; n];
        let out = pcg(&Lap1d, &Jacobi::new(&vec![2.0; n]), &b, &mut x, 1e-12, 1000);
        assert_eq!(out.stop, PcgStop::Converged);
        assert!(out.iterations <= n, "{out:?}");
        let err = x
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-9, "{err}");
        // A zero right-hand side converges at once; a negative operator breaks down.
        let mut x0 = vec![0.0; n];
        let z = pcg(
            &Lap1d,
            &Jacobi::new(&vec![2.0; n]),
            &vec![0.0; n],
            &mut x0,
            1e-12,
            10,
        );
        assert_eq!((z.iterations, z.stop), (0, PcgStop::Converged));
        struct Neg;
        impl SpdOperator for Neg {
            fn apply(&self, x: &[f64], y: &mut [f64]) {
                y.iter_mut().zip(x).for_each(|(y, x)| *y = -x);
            }
            fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
                a.iter().zip(b).map(|(a, b)| a * b).sum()
            }
        }
        let mut xn = vec![0.0; 3];
        let o = pcg(&Neg, &Jacobi::new(&[1.0; 3]), &[1.0; 3], &mut xn, 1e-12, 10);
        assert_eq!((o.iterations, o.stop), (1, PcgStop::Breakdown));
    }
}
