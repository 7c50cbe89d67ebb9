//! A synthetic point runner: a closed-form caricature of the film's response to PTFE loading,
//! with seed-dependent scatter. It exists to test the sweep machinery (expansion, resume, merge,
//! Slurm, plots) in milliseconds; its numbers are not predictions.
//!
//! With w = PTFE wt% and a per-seed factor `1 + 0.05·u`, u uniform in [−1, 1) from SplitMix64:
//! - σ_ion = 1.49e-4 S/cm · exp(−w / 3.6) · (1 + 0.05u)
//! - strength = (60 + 127·w) kPa · (1 + 0.05u)
//! - spans = u' < (w − 2)/3 (a second draw u' in [0, 1)), so never below 2 wt%, always from 5 wt%
//! - σ_e = 1e-9 S/cm · (1 + 0.1w), or 0.1 S/cm when it spans.

use std::path::Path;

use super::engine::PointRunner;
use crate::results::RunResult;
use crate::scenario::raw::RawScenario;

/// The synthetic runner. `fail_on_wt_pct` makes runs at that loading fail (to test failures).
#[derive(Debug, Clone, Default)]
pub struct FakeRunner {
    /// Runs whose PTFE loading equals this fail with an error.
    pub fail_on_wt_pct: Option<f64>,
    /// Also write a dummy `log.txt` into the point folder (to test partial-folder cleanup).
    pub write_log: bool,
    /// Sleep this long in every run, ms (to test killing a sweep mid-run).
    pub delay_ms: u64,
}

/// SplitMix64 step (Steele, Lea & Flood 2014): a well-mixed 64-bit hash of `x`.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Uniform in [0, 1) from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl PointRunner for FakeRunner {
    fn run_point(&self, raw: &RawScenario, point_dir: &Path) -> Result<RunResult, String> {
        let w = raw.powder.ptfe.wt_pct;
        if self.write_log {
            std::fs::write(point_dir.join("log.txt"), "started\n").map_err(|e| e.to_string())?;
        }
        if self.fail_on_wt_pct == Some(w) {
            return Err(format!("synthetic failure at {w} wt%"));
        }
        if self.delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.delay_ms));
        }
        if self.write_log {
            std::fs::write(
                point_dir.join("log.txt"),
                format!("fake run of {}\n", raw.name),
            )
            .map_err(|e| e.to_string())?;
        }
        let h = splitmix64(raw.seed ^ w.to_bits());
        let u = 2.0 * unit(h) - 1.0;
        let u2 = unit(splitmix64(h));
        let f = 1.0 + 0.05 * u;
        let spans = u2 < (w - 2.0) / 3.0;
        Ok(RunResult {
            scenario: raw.name.clone(),
            product: "Film".into(),
            ptfe_wt_pct: w,
            seed: raw.seed,
            sigma_ion_s_cm: 1.49e-4 * (-w / 3.6).exp() * f,
            tensile_strength_md_kpa: Some((60.0 + 127.0 * w) * f),
            ptfe_spanning: spans,
            short_circuit: spans,
            sigma_e_s_cm: if spans { 0.1 } else { 1e-9 * (1.0 + 0.1 * w) },
            thickness_um: raw.calender.target_thickness_um * (1.0 + 0.01 * u),
            ..RunResult::default()
        })
    }
}
