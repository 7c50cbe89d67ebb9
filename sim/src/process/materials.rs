//! The material table of the process: which material index each particle and wall carries, and the
//! contact parameters of every pair (NPS from the scenario; PTFE lumps and steel walls as below,
//! with their sources in docs/model.md).

use crate::dem::contact::{MaterialProps, PairParams};
use crate::scenario::Scenario;

/// Material index of NPS in the pair table.
pub const MAT_NPS: u8 = 0;
/// Material index of PTFE.
pub const MAT_PTFE: u8 = 1;
/// Material index of the walls/rolls (steel).
pub const MAT_WALL: u8 = 2;

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
    // PTFE lumps: soft, cohesive, flow at ~10 MPa (bulk PTFE yield; the brief's 14–34 MPa tensile).
    let ptfe = MaterialProps {
        youngs_modulus: s.ptfe.youngs_modulus,
        poisson: s.ptfe.poisson,
        restitution: 0.3,
        friction: 0.1,
        rolling_friction: 0.05,
        surface_energy: s.nps.surface_energy,
        yield_pressure: Some(10e6),
    };
    // Steel rolls/walls.
    let wall = MaterialProps {
        youngs_modulus: 200e9,
        poisson: 0.3,
        restitution: 0.5,
        friction: 0.3,
        rolling_friction: 0.0,
        surface_energy: 0.0,
        yield_pressure: None,
    };
    let mats = [nps, ptfe, wall];
    let mut t = Vec::with_capacity(9);
    for a in &mats {
        for b in &mats {
            t.push(PairParams::mix(a, b));
        }
    }
    t
}
