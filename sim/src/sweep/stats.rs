//! Statistics over replicate seeds: mean, sample standard deviation, Student-t confidence
//! interval of the mean, and the Wilson score interval of a proportion.
//!
//! All reductions run sequentially in input order, so results are bitwise reproducible.

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation `s = sqrt(Σ(x − x̄)² / (n − 1))`; NaN for n < 2.
pub fn std_dev(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

/// Two-sided 97.5% quantile of Student's t distribution with `df` degrees of freedom
/// (the factor of a 95% confidence interval). Exact table values (4 decimals) for df ≤ 30;
/// above, the Cornish–Fisher expansion around the normal quantile z = 1.959964
/// (Abramowitz & Stegun 26.7.5), accurate to < 1e-4 there. NaN for df = 0.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
        2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739,
        2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => {
            let z: f64 = 1.959_963_984_540_054;
            let n = df as f64;
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            z + (z3 + z) / (4.0 * n)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
        }
    }
}

/// 95% confidence interval of the mean, `x̄ ± t_{0.975, n−1} · s / √n`; NaNs for n < 2.
pub fn mean_ci95(x: &[f64]) -> (f64, f64) {
    if x.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let m = mean(x);
    let h = t_975(x.len() - 1) * std_dev(x) / (x.len() as f64).sqrt();
    (m - h, m + h)
}

/// Wilson score interval of a proportion with `k` successes in `n` trials at z = 1.96 (95%):
/// centre `(p̂ + z²/2n)/(1 + z²/n)`, half-width `z·sqrt(p̂(1−p̂)/n + z²/4n²)/(1 + z²/n)`
/// (Wilson, JASA 22, 209 (1927)). Stays inside [0, 1] and is not degenerate at k = 0 or n.
/// Returns (NaN, NaN) for n = 0.
pub fn wilson95(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let z: f64 = 1.959_963_984_540_054;
    let nf = n as f64;
    let p = k as f64 / nf;
    let d = 1.0 + z * z / nf;
    let c = (p + z * z / (2.0 * nf)) / d;
    let h = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt() / d;
    ((c - h).max(0.0), (c + h).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_known_values() {
        let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&x), 5.0);
        // Σ(x − 5)² = 32, n − 1 = 7.
        assert!((std_dev(&x) - (32.0f64 / 7.0).sqrt()).abs() < 1e-15);
        assert!(std_dev(&[1.0]).is_nan());
    }

    #[test]
    fn t_quantile_table_and_expansion_agree_at_the_seam() {
        assert_eq!(t_975(2), 4.3027);
        // t(31) = 2.0395, t(40) = 2.0211, t(120) = 1.9799 (tables).
        assert!((t_975(31) - 2.0395).abs() < 2e-4, "{}", t_975(31));
        assert!((t_975(40) - 2.0211).abs() < 1e-4);
        assert!((t_975(120) - 1.9799).abs() < 1e-4);
        assert!(t_975(30) > t_975(31));
    }

    #[test]
    fn ci_of_three_values() {
        let (lo, hi) = mean_ci95(&[1.0, 2.0, 3.0]);
        // s = 1, t(2) = 4.3027, half-width 4.3027/√3.
        let h = 4.3027 / 3f64.sqrt();
        assert!((lo - (2.0 - h)).abs() < 1e-12 && (hi - (2.0 + h)).abs() < 1e-12);
    }

    #[test]
    fn wilson_reference_values() {
        // 0 of 10: [0, 0.2775]; 5 of 10: [0.2366, 0.7634] (standard tables).
        let (lo, hi) = wilson95(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-4, "{hi}");
        let (lo, hi) = wilson95(5, 10);
        assert!((lo - 0.2366).abs() < 1e-4 && (hi - 0.7634).abs() < 1e-4);
        let (lo, hi) = wilson95(3, 3);
        assert!(hi == 1.0 && lo > 0.4 && lo < 0.5, "{lo}");
    }
}
