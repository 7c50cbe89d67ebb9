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
    /// What the engine booked over the stage: work in, model events, dissipation by kind.
    #[serde(flatten)]
    pub booked: EnergyBook,
    /// Change of the kinetic energy, J.
    #[serde(rename = "kinetic_change_J")]
    pub kinetic_change: f64,
    /// Change of the elastic energy stored in contacts, J.
    #[serde(rename = "contact_elastic_change_J")]
    pub contact_elastic_change: f64,
    /// Change of the elastic energy stored in fibrils, J.
    #[serde(rename = "fibril_elastic_change_J")]
    pub fibril_elastic_change: f64,
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
        let kinetic_change = end.kinetic - start.kinetic;
        let contact_elastic_change = end.contact - start.contact;
        let fibril_elastic_change = end.fibril - start.fibril;
        let stored = kinetic_change + contact_elastic_change + fibril_elastic_change;
        let external = b.external_work();
        let closure = external + b.events - stored - b.dissipated();
        let flow = b.flow();
        EnergyReport {
            booked: b,
            kinetic_change,
            contact_elastic_change,
            fibril_elastic_change,
            closure_error: closure,
            closure_relative: if flow > 0.0 {
                closure.abs() / flow
            } else {
                f64::NAN
            },
        }
    }
}

impl EnergyReport {
    /// The energy that flowed through the stage, J: the larger of |external work| and the energy
    /// dissipated, what [`EnergyReport::closure_relative`] divides by.
    pub fn flow(&self) -> f64 {
        self.booked.flow()
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

    /// External work (walls and imposed deformations) booked since `start`, J: what a free
    /// relaxation's kinetic-energy criterion refers to.
    pub fn external_work_since(&self, start: &EnergyMark) -> f64 {
        self.dem().ledger.external_work() - start.book.external_work()
    }
}
