//! The film geometry against the powder bed: the first gap must touch the film, no gap may squeeze
//! it far below full density, and the target thickness must leave some porosity.

use super::checker::*;
use super::*;
use crate::scenario::raw::*;
use crate::scenario::validated::*;

/// Checks the gap schedule `gaps` (m, with the path to blame) and the target of a film
/// `scenario` whose loading and domain validated.
pub(super) fn film_geometry(
    c: &mut Checker<'_>,
    scenario: &Scenario,
    gaps: &[(String, f64)],
    k: &RawCalender,
) {
    let target_ok = !c
        .errors
        .iter()
        .any(|e| e.path == "calender.target_thickness_um");
    if !gaps.is_empty() {
        let h_s = scenario.solid_thickness();
        let h_0 = scenario.initial_height();
        let (first_path, first) = &gaps[0];
        if *first > h_0 * (1.0 + 1e-12) {
            c.inconsistent(
                first_path,
                first * 1e6,
                format!("≤ the initial powder height {} µm", num(h_0 * 1e6)),
                "a gap larger than the film never touches it; lower the first gap or raise \
                 domain.mass_loading_mg_cm2",
            );
        }
        for (path, g) in gaps {
            if *g <= MIN_GAP_OVER_SOLID * h_s {
                c.inconsistent(
                    path,
                    g * 1e6,
                    format!(
                        "> {} × the fully dense thickness = {} µm",
                        num(MIN_GAP_OVER_SOLID),
                        num(MIN_GAP_OVER_SOLID * h_s * 1e6)
                    ),
                    "the rolls would squeeze the solid far below full density",
                );
            }
        }
        if target_ok && scenario.calender.target_thickness <= h_s / MAX_RELATIVE_DENSITY {
            c.inconsistent(
                "calender.target_thickness_um",
                k.target_thickness_um,
                format!(
                    "> fully dense thickness / {} = {} µm",
                    num(MAX_RELATIVE_DENSITY),
                    num(h_s / MAX_RELATIVE_DENSITY * 1e6)
                ),
                "a film cannot be denser than 98 %; raise the target or lower the mass loading",
            );
        }
    }
}
