//! The process stages as drivers of the step schedule: each sets the walls and the active stage,
//! runs the steps and returns its [`StageSummary`](super::StageSummary).

mod calender;
mod pellet;
mod shear;
pub mod tensile;
