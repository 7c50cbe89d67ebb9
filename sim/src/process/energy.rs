//! The energy ledger of a stage or calender pass: marks of the engine's [`EnergyBook`] and of the
//! stored energies (kinetic, contacts, fibrils) at its start, and the report of what happened in
//! between, with the closure error of the balance
//!
//! `W_walls + W_imposed + E_events = ΔE_kin + ΔU_contacts + ΔU_fibrils + D`,
//!
//! `D` the sum of the dissipation terms. docs/model.md, "Energy ledger".

use super::fibril_forces::fibril_energy;
use super::*;
use crate::dem::ledger::EnergyBook;

/// The ledger and the stored energies at one moment, J.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnergyMark {
    /// The engine's running totals.
    pub book: EnergyBook,
    /// Kinetic energy (translation and rotation, scaled masses), J.
    pub kinetic: f64,
    /// Elastic energy of the contacts (pairs and walls), J.
    pub contact: f64,
    /// Elastic energy of the intact fibril bundles, J.
    pub fibril: f64,
}

/// The energy balance of a stage or pass, J (each term over the stage), with its closure error.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct EnergyReport {
    /// Work of the walls on the particles, J.
    #[serde(rename = "wall_work_J")]
    pub wall_work: f64,
    /// Work of imposed deformations (MD stretch, roll set to its gap), J.
    #[serde(rename = "imposed_work_J")]
    pub imposed_work: f64,
    /// Energy added by model events (lumps resized as they are drawn, strands joining stretched
    /// bundles, spent lumps stopped), J.
    #[serde(rename = "model_events_J")]
    pub model_events: f64,
    /// Change of the kinetic energy, J.
    #[serde(rename = "kinetic_change_J")]
    pub kinetic_change: f64,
    /// Change of the elastic energy stored in contacts, J.
    #[serde(rename = "contact_elastic_change_J")]
    pub contact_elastic_change: f64,
    /// Change of the elastic energy stored in fibrils, J.
    #[serde(rename = "fibril_elastic_change_J")]
    pub fibril_elastic_change: f64,
    /// Dissipated by normal contact damping, J.
    #[serde(rename = "contact_damping_J")]
    pub contact_damping: f64,
    /// Dissipated by Coulomb sliding, J.
    #[serde(rename = "friction_J")]
    pub friction: f64,
    /// Dissipated by rolling resistance, J.
    #[serde(rename = "rolling_J")]
    pub rolling: f64,
    /// Dissipated by plastic flow of contacts, J.
    #[serde(rename = "plasticity_J")]
    pub plasticity: f64,
    /// Dissipated by the relaxation damping of a released film, J.
    #[serde(rename = "relaxation_damping_J")]
    pub relaxation_damping: f64,
    /// Dissipated by the fibrils' axial dashpots, J.
    #[serde(rename = "fibril_dashpot_J")]
    pub fibril_dashpot: f64,
    /// Dissipated by plastic drawing of fibrils, J.
    #[serde(rename = "fibril_drawing_J")]
    pub fibril_drawing: f64,
    /// Elastic energy lost with broken or detached fibrils, J.
    #[serde(rename = "fibril_breakage_J")]
    pub fibril_breakage: f64,
    /// Closure error: inputs (walls, imposed work, events) less stored changes and dissipation, J.
    #[serde(rename = "closure_error_J")]
    pub closure_error: f64,
    /// |closure error| over the energy that flowed through the stage, dimensionless: the larger
    /// of |external work| (walls plus imposed) and the energy dissipated (a released film's
    /// relaxation dissipates stored energy with almost no external work); NaN when neither.
    pub closure_relative: f64,
}

impl EnergyReport {
    /// The balance between two marks.
    pub fn between(start: &EnergyMark, end: &EnergyMark) -> Self {
        let b = end.book.since(&start.book);
        let stored = (end.kinetic - start.kinetic)
            + (end.contact - start.contact)
            + (end.fibril - start.fibril);
        let external = b.wall_work + b.imposed_work;
        let closure = external + b.events - stored - b.dissipated();
        EnergyReport {
            wall_work: b.wall_work,
            imposed_work: b.imposed_work,
            model_events: b.events,
            kinetic_change: end.kinetic - start.kinetic,
            contact_elastic_change: end.contact - start.contact,
            fibril_elastic_change: end.fibril - start.fibril,
            contact_damping: b.contact_damping,
            friction: b.friction,
            rolling: b.rolling,
            plasticity: b.plastic,
            relaxation_damping: b.relaxation_damping,
            fibril_dashpot: b.fibril_dashpot,
            fibril_drawing: b.fibril_drawing,
            fibril_breakage: b.fibril_breakage,
            closure_error: closure,
            closure_relative: {
                let flow = external.abs().max(b.dissipated());
                if flow > 0.0 {
                    closure.abs() / flow
                } else {
                    f64::NAN
                }
            },
        }
    }
}

impl FilmSim {
    /// The ledger and stored energies now.
    pub fn energy_mark(&mut self) -> EnergyMark {
        let law = self.world.resource::<PtfeSources>().law;
        let fibril = {
            let mut q = self.world.query::<&FibrilC>();
            let d = &self.world.resource::<crate::dem::schedule::DemWorld>().0;
            fibril_energy(d, q.iter(&self.world), &law)
        };
        let d = self.dem();
        EnergyMark {
            book: d.ledger,
            kinetic: d.kinetic_energy(),
            contact: d.contact_energy(),
            fibril,
        }
    }

    /// The energy balance from `start` to now.
    pub fn energy_since(&mut self, start: &EnergyMark) -> EnergyReport {
        let end = self.energy_mark();
        EnergyReport::between(start, &end)
    }
}
