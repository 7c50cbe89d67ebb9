//! Measured points overlaid on the sweep plots (`data/measured.ron`).
//!
//! ```ron
//! (points: [
//!     (quantity: SigmaIon, wt_pct: 0.2, value: 1.20e-4, product: Film, role: Calibration,
//!      note: "~125 µm film"),
//! ])
//! ```
//! Units: σ in S/cm, strength in kPa, spanning as a 0/1 outcome (1 = the film shorted).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{io_err, SweepError};

/// Which measured quantity a point gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantity {
    /// Through-plane Na+ conductivity, S/cm.
    SigmaIon,
    /// Tensile strength, kPa.
    Strength,
    /// PTFE spans the film (short circuit against Na9Sn4): 1 yes, 0 no.
    Spanning,
    /// Electronic conductivity after contact with the anode, S/cm.
    SigmaE,
}

/// What the point is used for (domain brief §3: calibrate on some, predict the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Role {
    /// A calibration point.
    #[default]
    Calibration,
    /// A point used only to judge predictions.
    Validation,
}

/// What kind of sample was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Product {
    /// A dry-processed film.
    #[default]
    Film,
    /// A cold-pressed pellet (the NPS reference, no PTFE).
    Pellet,
}

/// One measured value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredPoint {
    /// The quantity.
    pub quantity: Quantity,
    /// PTFE loading, wt%.
    pub wt_pct: f64,
    /// The value, in the quantity's unit.
    pub value: f64,
    /// Sample kind. Default `Film`.
    #[serde(default)]
    pub product: Product,
    /// Calibration or validation. Default `Calibration`.
    #[serde(default)]
    pub role: Role,
    /// Free text: source, conditions.
    #[serde(default)]
    pub note: String,
}

/// A set of measured points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MeasuredSet {
    /// The points.
    pub points: Vec<MeasuredPoint>,
}

impl MeasuredSet {
    /// Reads a measured-points RON file; refuses non-finite values.
    pub fn load(path: &Path) -> Result<Self, SweepError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        let set: MeasuredSet = ron::from_str(&text).map_err(|e| SweepError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if let Some(p) = set
            .points
            .iter()
            .find(|p| !(p.value.is_finite() && p.wt_pct.is_finite()))
        {
            return Err(SweepError::Parse {
                path: path.to_path_buf(),
                message: format!("non-finite measured point {p:?}"),
            });
        }
        Ok(set)
    }

    /// The points of one quantity, as (wt%, value, point).
    pub fn of(&self, q: Quantity) -> impl Iterator<Item = &MeasuredPoint> {
        self.points.iter().filter(move |p| p.quantity == q)
    }
}
