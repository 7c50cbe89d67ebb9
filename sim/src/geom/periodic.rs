//! The periodic box of every film: periodic along x (MD) and y (TD) with lengths `lx`, `ly`,
//! bounded in z by the walls. One minimum-image rule for the DEM, the snapshot, the tensile test
//! and the continuity solver.

use glam::DVec3;

/// Minimum image of a separation component `d` for the periodic length `l`: `d − l·round(d/l)`,
/// in [−l/2, l/2]. The rounding is skipped for 0 < |d| < l/2, where it is zero (the usual case for
/// short vectors) and skipping it changes no bit (at d = ±0 the formula gives +0).
#[inline(always)]
pub fn min_image_1d(d: f64, l: f64) -> f64 {
    if d.abs() >= 0.5 * l || d == 0.0 {
        d - l * (d / l).round()
    } else {
        d
    }
}

/// Minimum image of the vector `v` (m) in a box periodic in x and y with lengths `lx`, `ly` (m).
#[inline(always)]
pub fn min_image(v: DVec3, lx: f64, ly: f64) -> DVec3 {
    DVec3::new(min_image_1d(v.x, lx), min_image_1d(v.y, ly), v.z)
}

/// [`min_image`] on arrays: the separation `a − b` (m) at its minimum image.
#[inline(always)]
pub fn min_image_delta(a: [f64; 3], b: [f64; 3], lx: f64, ly: f64) -> [f64; 3] {
    [
        min_image_1d(a[0] - b[0], lx),
        min_image_1d(a[1] - b[1], ly),
        a[2] - b[2],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_image_is_the_shortest_separation_and_skipping_the_rounding_changes_no_bit() {
        let l = 10.0;
        for d in [
            -14.9, -5.0, -4.999, -0.3, -0.0, 0.0, 0.3, 4.999, 5.0, 7.5, 23.0,
        ] {
            let m = min_image_1d(d, l);
            assert!(m.abs() <= 0.5 * l + 1e-12, "{d} → {m}");
            assert_eq!(m.to_bits(), (d - l * (d / l).round()).to_bits(), "{d}");
        }
        let v = min_image(DVec3::new(9.0, -9.0, 3.0), 10.0, 20.0);
        assert_eq!(v, DVec3::new(-1.0, -9.0, 3.0));
        assert_eq!(
            min_image_delta([1.0, 1.0, 5.0], [9.5, 1.0, 2.0], 10.0, 10.0),
            [1.5, 0.0, 3.0]
        );
    }
}
