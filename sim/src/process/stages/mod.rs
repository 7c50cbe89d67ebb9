//! The process stages as drivers of the step schedule: each sets the walls and the active stage,
//! runs the steps and returns its [`StageSummary`](super::StageSummary).

mod calender;
mod pellet;
pub use pellet::{HOLD_MAX_STEPS, HOLD_TOLERANCE};
mod shear;
pub mod tensile;
