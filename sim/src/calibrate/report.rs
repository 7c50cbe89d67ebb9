//! The calibration's outputs: the report files and the printed tables.

use super::*;
use std::path::Path;

use serde_json::Value;

use crate::sweep::table::as_number;

/// Writes `fitted.ron` and `calibration.json` into `dir` (atomically).
pub fn write_outputs(report: &CalibrationReport, dir: &Path) -> Result<(), CalibrateError> {
    let ron_text = ron::ser::to_string_pretty(&report.fitted, ron::ser::PrettyConfig::default())
        .map_err(|e| CalibrateError::Io {
            path: dir.join("fitted.ron"),
            message: e.to_string(),
        })?;
    let header = format!(
        "// Fitted by `dryfilm calibrate` from {}: scenario overrides by field path.\n",
        report.source
    );
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        crate::sweep::write_atomic(&p, bytes).map_err(|e| CalibrateError::Io {
            path: p.clone(),
            message: e.to_string(),
        })
    };
    write("fitted.ron", format!("{header}{ron_text}\n").as_bytes())?;
    let json_text = serde_json::to_string_pretty(report).map_err(|e| CalibrateError::Io {
        path: dir.join("calibration.json"),
        message: e.to_string(),
    })?;
    write("calibration.json", json_text.as_bytes())
}

/// A plain-text table of the best evaluation (points with measured, model and residual), the
/// fitted values and the predictions.
pub fn table(report: &CalibrationReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let b = &report.history[report.best];
    let _ = writeln!(
        s,
        "best evaluation {} of {} (objective {:.4e}, {})",
        b.index,
        report.history.len(),
        report.fitted.objective,
        if report.converged {
            "converged"
        } else {
            "stopped at the evaluation budget"
        }
    );
    let _ = writeln!(s, "{:<40} {:>14}", "parameter", "fitted");
    for o in &report.fitted.overrides {
        let _ = writeln!(s, "{:<40} {:>14.6e}", o.path, o.value);
    }
    let _ = writeln!(
        s,
        "\n{:<20} {:<26} {:>12} {:>12} {:>10}",
        "point", "quantity", "measured", "model", "residual"
    );
    for p in &b.points {
        let m = p.model.map_or("-".into(), |m| format!("{m:.4e}"));
        let r = p.residual.map_or("-".into(), |r| format!("{r:+.4}"));
        let _ = writeln!(
            s,
            "{:<20} {:<26} {:>12.4e} {:>12} {:>10}",
            p.name, p.quantity, p.measured, m, r
        );
    }
    s.push_str(&prediction_table(&report.predictions));
    s
}

/// A plain-text table of prediction runs: per prediction the seed means of σ_ion, MD strength,
/// σ_e and the short-circuit count, and the comparisons with measured values.
pub fn prediction_table(predictions: &[PredictionRecord]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if !predictions.is_empty() {
        let _ = writeln!(
            s,
            "\npredictions (not fitted; means over the seeds, booleans as seeds true/seeds):"
        );
        for p in predictions {
            // Mean over the seeds that ran; booleans as "k/n" (how many seeds were true).
            let ok: Vec<Value> = p
                .results
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .map(|r| serde_json::to_value(r).expect("a RunResult serializes"))
                .collect();
            let failed = p.results.len() - ok.len();
            let get = |k: &str| -> String {
                let vals: Vec<(f64, bool)> = ok
                    .iter()
                    .filter_map(|v| v.get(k))
                    .filter_map(|x| as_number(x).map(|n| (n, x.is_boolean())))
                    .collect();
                if vals.is_empty() {
                    return "-".into();
                }
                let mean = vals.iter().map(|v| v.0).sum::<f64>() / vals.len() as f64;
                if vals[0].1 {
                    let t = vals.iter().filter(|v| v.0 != 0.0).count();
                    format!("{t}/{}", vals.len())
                } else {
                    format!("{mean:.4e}")
                }
            };
            if failed > 0 {
                let _ = writeln!(
                    s,
                    "  {}: {failed} of {} runs failed",
                    p.name,
                    p.results.len()
                );
            }
            let _ = writeln!(
                s,
                "  {:<14} wt% {:>6}  sigma_ion {:>11} S/cm  strength_md {:>11} kPa  sigma_e {:>11} S/cm  short {}",
                p.name,
                get("ptfe_wt_pct"),
                get("sigma_ion_S_cm"),
                get("tensile_strength_md_kPa"),
                get("sigma_e_S_cm"),
                get("short_circuit")
            );
            for (q, y, m) in &p.compare {
                let m = match m {
                    Some(m) if *y != 0.0 => format!("{m:.4e} (model/measured {:.3})", m / y),
                    Some(m) => format!("{m:.4e}"),
                    None => "-".into(),
                };
                let _ = writeln!(s, "      {q}: measured {y:.4e}, model {m}");
            }
        }
    }
    s
}
