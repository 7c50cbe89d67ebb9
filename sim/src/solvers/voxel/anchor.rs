//! The benchmark volumes of `bench/conductivity-anchor.md`, regenerated bit for bit.
//!
//! Each volume is uint8 (1 = conducting, 0 = insulating), C order, an `n³` cube:
//! - `dense`: all 1; `slabs_parallel`: 1 where `i2 mod 10 < 3` (D_rel = 0.3 exactly);
//! - `spheres_ins_fF`: 1 − S and `spheres_cond_fF`: S, where S is the union of `k` balls of radius
//!   `r = 6` voxels with centres drawn from SplitMix64 (Steele, Lea & Flood, OOPSLA 2014):
//!   `k = round(−ln(1 − F)·(n + 2r)³ / v)`, `v` the number of integer offsets within `r`
//!   (925 for `r = 6`), each centre coordinate `c = −r + (next() mod (n + 2r))`, drawn in the
//!   order c0, c1, c2; voxel `i` is inside iff `|i − c|² ≤ r²`; balls are cut at the box.

use super::Volume;

/// Radius of the anchor balls, voxels.
pub const BALL_RADIUS: i64 = 6;

/// One anchor volume: name, edge, and the reference figures of the anchor table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnchorCase {
    /// Volume name (`dense`, `slabs_parallel`, `spheres_ins_f0.2`, ...).
    pub name: &'static str,
    /// Edge length, voxels.
    pub n: usize,
    /// First 16 hex digits of the sha256 of the raw C-order bytes.
    pub sha256_prefix: &'static str,
    /// Reference relative effective conductivity D_rel (float64 AMG, relative residual 1e-11).
    pub d_rel: f64,
    /// TauFactor's D_rel.
    pub taufactor_d_rel: f64,
    /// TauFactor's solve time on the reference machine (2 cores), s.
    pub taufactor_seconds: f64,
}

/// The anchor table (bench/conductivity-anchor.md).
pub const ANCHOR_CASES: [AnchorCase; 14] = [
    case("dense", 100, "1fb6a051d8996888", 1.000000, 1.0000001, 0.21),
    case(
        "slabs_parallel",
        100,
        "078f1474cac90564",
        0.300000,
        0.3000000,
        0.22,
    ),
    case(
        "spheres_ins_f0.2",
        100,
        "ad1a97143fb3f5b6",
        0.690619,
        0.690596,
        0.37,
    ),
    case(
        "spheres_ins_f0.4",
        100,
        "3a8c7c9ef8942510",
        0.404766,
        0.404784,
        0.40,
    ),
    case(
        "spheres_ins_f0.6",
        100,
        "946641e7b2646e2a",
        0.187263,
        0.187257,
        0.54,
    ),
    case(
        "spheres_cond_f0.4",
        100,
        "119ce349e252a300",
        0.040502,
        0.040534,
        2.29,
    ),
    case(
        "spheres_cond_f0.6",
        100,
        "3106d931e8684068",
        0.247698,
        0.247642,
        0.59,
    ),
    case("dense", 200, "015f64db5629820a", 1.000000, 1.0000002, 6.84),
    case(
        "slabs_parallel",
        200,
        "bb8169346b0bbf9b",
        0.300000,
        0.3000000,
        3.79,
    ),
    case(
        "spheres_ins_f0.2",
        200,
        "e9783e05e18ef91b",
        0.687278,
        0.687297,
        8.78,
    ),
    case(
        "spheres_ins_f0.4",
        200,
        "4a9c77e9038b1e87",
        0.414851,
        0.414998,
        18.6,
    ),
    case(
        "spheres_ins_f0.6",
        200,
        "fe27221cf06011fe",
        0.196188,
        0.196148,
        19.4,
    ),
    case(
        "spheres_cond_f0.4",
        200,
        "3dcaefb19681b717",
        0.042041,
        0.042060,
        61.7,
    ),
    case(
        "spheres_cond_f0.6",
        200,
        "ac4c6579469839ea",
        0.245266,
        0.245301,
        14.7,
    ),
];

const fn case(
    name: &'static str,
    n: usize,
    sha256_prefix: &'static str,
    d_rel: f64,
    taufactor_d_rel: f64,
    taufactor_seconds: f64,
) -> AnchorCase {
    AnchorCase {
        name,
        n,
        sha256_prefix,
        d_rel,
        taufactor_d_rel,
        taufactor_seconds,
    }
}

/// SplitMix64 pseudo-random generator (all arithmetic mod 2⁶⁴).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Generator with `state = seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Next 64-bit output.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Number of integer offsets `d` with `|d|² ≤ r²`.
pub fn ball_voxels(r: i64) -> u64 {
    let mut v = 0;
    for a in -r..=r {
        for b in -r..=r {
            for c in -r..=r {
                if a * a + b * b + c * c <= r * r {
                    v += 1;
                }
            }
        }
    }
    v
}

/// Number of balls for target filled fraction `f` in an `n³` box: `round(−ln(1 − f)(n + 2r)³ / v)`.
pub fn ball_count(n: usize, f: f64) -> usize {
    let side = (n as i64 + 2 * BALL_RADIUS) as f64;
    (-(1.0 - f).ln() * side * side * side / ball_voxels(BALL_RADIUS) as f64).round() as usize
}

/// The ball union S (1 inside) for `n`, filled fraction target `f` and `seed`.
pub fn ball_union(n: usize, f: f64, seed: u64) -> Volume {
    let mut vol = Volume::filled([n, n, n], 0, 1.0);
    let r = BALL_RADIUS;
    let span = n as u64 + 2 * r as u64;
    let mut rng = SplitMix64::new(seed);
    let ni = n as i64;
    for _ in 0..ball_count(n, f) {
        let c0 = -r + (rng.next() % span) as i64;
        let c1 = -r + (rng.next() % span) as i64;
        let c2 = -r + (rng.next() % span) as i64;
        for i0 in (c0 - r).max(0)..=(c0 + r).min(ni - 1) {
            for i1 in (c1 - r).max(0)..=(c1 + r).min(ni - 1) {
                for i2 in (c2 - r).max(0)..=(c2 + r).min(ni - 1) {
                    let d = (i0 - c0).pow(2) + (i1 - c1).pow(2) + (i2 - c2).pow(2);
                    if d <= r * r {
                        let idx = vol.index(i0 as usize, i1 as usize, i2 as usize);
                        vol.data[idx] = 1;
                    }
                }
            }
        }
    }
    vol
}

/// Generate the anchor volume `name` at edge `n`; `None` for an unknown name.
pub fn anchor_volume(name: &str, n: usize) -> Option<Volume> {
    let invert = |mut v: Volume| {
        v.data.iter_mut().for_each(|x| *x = 1 - *x);
        v
    };
    Some(match name {
        "dense" => Volume::filled([n, n, n], 1, 1.0),
        "slabs_parallel" => {
            let mut v = Volume::filled([n, n, n], 0, 1.0);
            for (i, x) in v.data.iter_mut().enumerate() {
                *x = u8::from((i % n) % 10 < 3);
            }
            v
        }
        "spheres_ins_f0.2" => invert(ball_union(n, 0.2, 11)),
        "spheres_ins_f0.4" => invert(ball_union(n, 0.4, 12)),
        "spheres_ins_f0.6" => invert(ball_union(n, 0.6, 13)),
        "spheres_cond_f0.4" => ball_union(n, 0.4, 21),
        "spheres_cond_f0.6" => ball_union(n, 0.6, 22),
        _ => return None,
    })
}

/// First 16 hex digits of the sha256 of the volume's raw bytes.
pub fn sha256_prefix(vol: &Volume) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&vol.data);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ball_constants_match_the_anchor_doc() {
        assert_eq!(ball_voxels(6), 925);
        assert_eq!(ball_count(100, 0.2), 339);
        assert_eq!(ball_count(100, 0.6), 1392);
        assert_eq!(ball_count(200, 0.4), 5262);
    }

    #[test]
    fn anchor_volumes_at_100_have_the_published_hashes() {
        for c in ANCHOR_CASES.iter().filter(|c| c.n == 100) {
            let v = anchor_volume(c.name, c.n).expect("known name");
            assert_eq!(sha256_prefix(&v), c.sha256_prefix, "{}", c.name);
        }
        assert!(anchor_volume("nope", 10).is_none());
    }
}
