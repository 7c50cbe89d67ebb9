//! The point runner of real sweeps and calibrations: one point through the whole pipeline
//! ([`crate::pipeline::run_to_dir`]), no images, no progress.

use std::path::Path;

use super::engine::PointRunner;
use crate::results::RunResult;

/// The sweep/calibration point runner: one point through the full pipeline, no images, no progress.
/// Shared by `dryfilm sweep` and `dryfilm calibrate`.
pub struct PipelineRunner;

impl PointRunner for PipelineRunner {
    fn run_point(
        &self,
        raw: &crate::scenario::RawScenario,
        point_dir: &Path,
    ) -> Result<RunResult, String> {
        let text = ron::ser::to_string_pretty(raw, ron::ser::PrettyConfig::default())
            .map_err(|e| format!("serializing the point's scenario: {e}"))?;
        let loaded = crate::scenario::load_str(&text, &point_dir.display().to_string())
            .map_err(|e| e.to_string())?;
        let quiet = |_: &str, _: f64| {};
        let opts = crate::pipeline::RunOptions {
            threads: rayon::current_num_threads(),
            progress: &quiet,
            render: None,
        };
        crate::pipeline::run_to_dir(&loaded, point_dir, &opts)
            .map(|o| o.result)
            .map_err(|e| e.to_string())
    }
}
