//! What a run reports: [`RunResult`], the typed content of `result.json`.
//!
//! `dryfilm run` writes it, sweeps merge it into `summary.csv`, calibration reads its quantities by
//! name ([`RunResult::quantity`]) and the run's printed table shows it; `docs/results.md` documents
//! every field, which a test checks against this struct. Units are in the field names (as in the
//! file); dimensionless fields say so.
//!
//! The fields are declared in the order of their names, so that the file lists them sorted like the
//! merged tables do.

use serde::{Deserialize, Deserializer, Serialize};

/// Reads a number, or `null` (what JSON writes for a non-finite number) as NaN.
fn number_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The results of one run (`result.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunResult {
    /// Largest closure error of the energy ledger over the stages and calender passes, relative
    /// to the energy that flowed through each (docs/model.md, "Energy ledger"), dimensionless.
    #[serde(deserialize_with = "number_or_null")]
    pub energy_closure_max: f64,
    /// Intact model fibrils (bundles) after calendering (after pressing for a pellet: 0).
    pub fibril_count: usize,
    /// Mean anchor-to-anchor length of the intact bundles, µm.
    #[serde(deserialize_with = "number_or_null")]
    pub fibril_mean_length_um: f64,
    /// ⟨P2(cos θ)⟩ of the intact bundles with respect to MD, dimensionless (1 along MD, 0
    /// isotropic, −0.5 normal to it).
    #[serde(deserialize_with = "number_or_null")]
    pub fibril_orientation_md: f64,
    /// Strands in the intact bundles (Σ bundle counts): the number of real fibrils, dimensionless.
    #[serde(deserialize_with = "number_or_null")]
    pub fibril_strands: f64,
    /// Whether the NPS contact network connects the two electrodes.
    pub ion_percolates: bool,
    /// NPS particles.
    pub nps_particles: usize,
    /// What was made: `Film` or `Pellet`.
    pub product: String,
    /// PTFE clusters found by the continuity solver.
    pub ptfe_clusters: usize,
    /// Fraction of the PTFE volume held by intact fibrils, dimensionless.
    #[serde(deserialize_with = "number_or_null")]
    pub ptfe_fibrillated_fraction: f64,
    /// PTFE lumps still in the film (a spent lump, all its PTFE drawn into fibrils, has left it).
    pub ptfe_particles: usize,
    /// Whether a PTFE cluster touches both faces.
    pub ptfe_spanning: bool,
    /// PTFE loading achieved by the particle counts, wt%.
    #[serde(deserialize_with = "number_or_null")]
    pub ptfe_wt_pct: f64,
    /// Solid volume over film volume, dimensionless.
    #[serde(deserialize_with = "number_or_null")]
    pub relative_density: f64,
    /// Scenario name.
    pub scenario: String,
    /// Scenario seed.
    pub seed: u64,
    /// Whether a reduced PTFE cluster connects the two faces.
    pub short_circuit: bool,
    /// Electronic conductivity through the thickness after the anode-connected PTFE is reduced to
    /// carbon, S/cm.
    #[serde(rename = "sigma_e_S_cm", deserialize_with = "number_or_null")]
    pub sigma_e_s_cm: f64,
    /// Na+ conductivity through the thickness (contact network), S/cm.
    #[serde(rename = "sigma_ion_S_cm", deserialize_with = "number_or_null")]
    pub sigma_ion_s_cm: f64,
    /// Na+ conductivity along the machine direction (contact network), S/cm.
    #[serde(rename = "sigma_ion_md_S_cm", deserialize_with = "number_or_null")]
    pub sigma_ion_md_s_cm: f64,
    /// Na+ conductivity along the transverse direction (contact network), S/cm.
    #[serde(rename = "sigma_ion_td_S_cm", deserialize_with = "number_or_null")]
    pub sigma_ion_td_s_cm: f64,
    /// σ_bulk · D_eff/D_bulk of the NPS phase from the voxel solver (no contact resistance), S/cm.
    #[serde(rename = "sigma_ion_voxel_S_cm", deserialize_with = "number_or_null")]
    pub sigma_ion_voxel_s_cm: f64,
    /// Peak engineering stress of the virtual tensile test along MD, kPa; `None` (null) when the
    /// scenario turns the test off.
    #[serde(rename = "tensile_strength_md_kPa")]
    pub tensile_strength_md_kpa: Option<f64>,
    /// Peak engineering stress of the virtual tensile test along TD, kPa; `None` (null) when off.
    #[serde(rename = "tensile_strength_td_kPa")]
    pub tensile_strength_td_kpa: Option<f64>,
    /// Free-standing thickness after springback, µm.
    #[serde(deserialize_with = "number_or_null")]
    pub thickness_um: f64,
    /// Tortuosity factor τ = ε D_bulk / D_eff of the NPS phase (voxel solver), dimensionless;
    /// `None` (null) when the phase does not percolate.
    pub tortuosity_factor: Option<f64>,
    /// What the run warns about, in words (a free relaxation stopped at its step cap before the
    /// film was at rest); empty when nothing.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl RunResult {
    /// Every field name as written in `result.json`, in file order.
    pub fn field_names() -> Vec<String> {
        match serde_json::to_value(RunResult::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => unreachable!("RunResult serializes to a JSON object"),
        }
    }

    /// The names of the fields that are numbers or booleans (the quantities a calibration point
    /// or a plot may name), in file order. `seed` is not one.
    pub fn quantity_names() -> Vec<String> {
        let probe = RunResult {
            tensile_strength_md_kpa: Some(0.0),
            tensile_strength_td_kpa: Some(0.0),
            tortuosity_factor: Some(0.0),
            ..RunResult::default()
        };
        match serde_json::to_value(probe) {
            Ok(serde_json::Value::Object(m)) => m
                .into_iter()
                .filter(|(k, v)| k != "seed" && (v.is_number() || v.is_boolean()))
                .map(|(k, _)| k)
                .collect(),
            _ => unreachable!("RunResult serializes to a JSON object"),
        }
    }

    /// The value of the number or boolean field `name` (its `result.json` name), booleans as 0
    /// or 1; `None` for an unknown name, a text field or a null value.
    pub fn quantity(&self, name: &str) -> Option<f64> {
        match serde_json::to_value(self).ok()?.get(name)? {
            serde_json::Value::Bool(b) => Some(f64::from(u8::from(*b))),
            v => v.as_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_file_names_in_sorted_order() {
        let names = RunResult::field_names();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "fields must be declared in name order");
        assert!(names.contains(&"sigma_ion_S_cm".to_string()));
        let q = RunResult::quantity_names();
        assert!(
            q.contains(&"short_circuit".to_string()) && q.contains(&"tortuosity_factor".into())
        );
        assert!(!q.contains(&"scenario".to_string()) && !q.contains(&"seed".to_string()));
    }

    #[test]
    fn quantities_by_name_and_non_finite_numbers_round_trip() {
        let r = RunResult {
            sigma_ion_s_cm: 1.2e-4,
            short_circuit: true,
            fibril_mean_length_um: f64::NAN,
            ..RunResult::default()
        };
        assert_eq!(r.quantity("sigma_ion_S_cm"), Some(1.2e-4));
        assert_eq!(r.quantity("short_circuit"), Some(1.0));
        assert_eq!(r.quantity("scenario"), None);
        assert_eq!(r.quantity("tensile_strength_md_kPa"), None);
        assert_eq!(r.quantity("no_such_field"), None);
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("\"fibril_mean_length_um\":null"), "{text}");
        let back: RunResult = serde_json::from_str(&text).unwrap();
        assert!(back.fibril_mean_length_um.is_nan());
        assert_eq!(back.sigma_ion_s_cm, 1.2e-4);
        let bad = text.replace("\"seed\"", "\"sead\"");
        assert!(serde_json::from_str::<RunResult>(&bad).is_err());
    }
}

/// A stress–strain curve of a tensile test (written by [`crate::pipeline::curve_csv`] to
/// `tensile_md.csv`, `tensile_td.csv`): what both the
/// reduced test ([`crate::solvers::tensile`]) and the process test
/// ([`crate::process::FilmSim::tensile_process`]) return.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StressStrainCurve {
    /// Strain of each recorded point, dimensionless (the test says whether nominal or true).
    pub strain: Vec<f64>,
    /// Engineering stress of each recorded point, Pa (tension positive).
    pub stress_pa: Vec<f64>,
    /// The strength, Pa: the largest recorded stress, or the largest running mean where the test
    /// smooths its samples.
    pub peak_stress_pa: f64,
    /// Strain at the peak, dimensionless.
    pub strain_at_peak: f64,
}

impl StressStrainCurve {
    /// Appends a point: `strain` (dimensionless) and `stress` (Pa).
    pub fn push(&mut self, strain: f64, stress: f64) {
        self.strain.push(strain);
        self.stress_pa.push(stress);
    }

    /// Appends a point (`strain` dimensionless, `stress` Pa) and makes it the peak if its stress
    /// exceeds the peak so far.
    pub fn push_max(&mut self, strain: f64, stress: f64) {
        self.push(strain, stress);
        if stress > self.peak_stress_pa {
            self.peak_stress_pa = stress;
            self.strain_at_peak = strain;
        }
    }
}
