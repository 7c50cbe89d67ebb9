//! The material table of the process: which material index each particle and wall carries, and the
//! contact parameters of every pair, mixed once into a pair table.
//!
//! | material | values | from |
//! |---|---|---|
//! | NPS grains | modulus, Poisson, yield pressure, restitution, friction, rolling friction, surface energy | the scenario (`powder.nps`, defaults in `scenario/defaults.rs`, sources in docs/model.md and docs/scenario-reference.md; the surface energy is fitted, docs/calibration.md) |
//! | PTFE lumps | modulus, Poisson | the scenario (`powder.ptfe`) |
//! | PTFE lumps | restitution, friction, rolling friction, yield pressure | [`PTFE_LUMP`] |
//! | PTFE lumps | surface energy | NPS's (a lump sticks to the grains as the grains stick to each other) |
//! | steel walls and rolls | all | [`STEEL`] |
//!
//! The constants are fixed, not fitted; each says where its values come from.

use crate::dem::contact::{MaterialProps, PairParams};
use crate::scenario::Scenario;

/// The materials of the process: a particle's or wall's index in the pair table is
/// `Material::id()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Material {
    /// Na3PS4 grains.
    Nps = 0,
    /// PTFE lumps.
    Ptfe = 1,
    /// The walls and rolls (steel).
    Wall = 2,
    /// A spent PTFE lump (all its PTFE drawn into fibrils): it touches nothing
    /// ([`PairParams::INERT`] with every material), stands still and is left out of snapshots.
    Spent = 3,
}

impl Material {
    /// Number of materials in the pair table.
    pub const COUNT: usize = 4;

    /// The material's index in the pair table and in the particles' `material` array.
    pub const fn id(self) -> u8 {
        self as u8
    }
}

/// Contact constants of PTFE lumps that the scenario does not set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PtfeLumpContact {
    /// Coefficient of restitution, dimensionless.
    pub restitution: f64,
    /// Sliding friction coefficient, dimensionless.
    pub friction: f64,
    /// Rolling-resistance coefficient, dimensionless.
    pub rolling_friction: f64,
    /// Contact yield pressure, Pa.
    pub yield_pressure: f64,
}

/// PTFE lumps: restitution 0.3, a soft, lossy polymer (a choice in the range of polymer granules,
/// 0.2–0.5; the quasi-static stages make it all but irrelevant); friction 0.1, PTFE's famously low
/// friction (0.05–0.1 against hard surfaces); rolling friction 0.05, small like the NPS default;
/// yield pressure 10 MPa, about the bulk PTFE yield stress (its tensile strength is 14–34 MPa,
/// domain brief §4).
pub const PTFE_LUMP: PtfeLumpContact = PtfeLumpContact {
    restitution: 0.3,
    friction: 0.1,
    rolling_friction: 0.05,
    yield_pressure: 10e6,
};

/// Steel walls and rolls: Young's modulus 200 GPa and Poisson's ratio 0.3 (handbook values);
/// restitution 0.5 of grain–steel impacts (a choice; quasi-static stages make it all but
/// irrelevant); sliding friction 0.3 of grains on steel (a typical dry value); no rolling
/// resistance, adhesion or yield.
pub const STEEL: MaterialProps = MaterialProps {
    youngs_modulus: 200e9,
    poisson: 0.3,
    restitution: 0.5,
    friction: 0.3,
    rolling_friction: 0.0,
    surface_energy: 0.0,
    yield_pressure: None,
};

/// The pair table of a scenario: `table[a * Material::COUNT + b]` mixes materials `a` and `b` (NPS,
/// PTFE, wall, spent lump).
pub(crate) fn pair_table(s: &Scenario) -> Vec<PairParams> {
    let nps = MaterialProps {
        youngs_modulus: s.nps.youngs_modulus,
        poisson: s.nps.poisson,
        restitution: s.nps.restitution,
        friction: s.nps.friction,
        rolling_friction: s.nps.rolling_friction,
        surface_energy: s.nps.surface_energy,
        yield_pressure: Some(s.nps.yield_pressure),
    };
    let ptfe = MaterialProps {
        youngs_modulus: s.ptfe.youngs_modulus,
        poisson: s.ptfe.poisson,
        restitution: PTFE_LUMP.restitution,
        friction: PTFE_LUMP.friction,
        rolling_friction: PTFE_LUMP.rolling_friction,
        surface_energy: s.nps.surface_energy,
        yield_pressure: Some(PTFE_LUMP.yield_pressure),
    };
    // In `Material` order: NPS, PTFE, wall, spent.
    let mats = [Some(nps), Some(ptfe), Some(STEEL), None];
    debug_assert_eq!(mats.len(), Material::COUNT);
    let mut t = Vec::with_capacity(Material::COUNT * Material::COUNT);
    for a in &mats {
        for b in &mats {
            t.push(match (a, b) {
                (Some(a), Some(b)) => PairParams::mix(a, b),
                _ => PairParams::INERT,
            });
        }
    }
    t
}
