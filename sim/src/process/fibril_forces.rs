//! Fibril tensions on the grains: the fibril (bond) law of `dem::fibril_law` applied to every intact
//! bundle in the step's `PreForce` slot, into the engine's external-force array, with multiple time
//! stepping for the soft bundles and node drawing from the source lumps. docs/model.md, "Fibril law".

use super::*;
use crate::dem::engine::Dem;
use crate::dem::fibril_law::{fibril_response, FibrilEvent, FibrilLawParams};
use crate::dem::schedule::DemWorld;
use crate::snapshot::{Anchor, FibrilState};
use bevy_ecs::prelude::*;
use glam::DVec3;
use rayon::iter::{
    IndexedParallelIterator, IntoParallelRefIterator, IntoParallelRefMutIterator, ParallelIterator,
};

/// World position of an anchor, m.
/// Radius, m, of a PTFE lump holding `volume` (m³): the sphere of that volume. A spent lump keeps
/// 1 pm so the engine's arrays stay valid (its volume is 0, so nothing more is drawn from it).
/// Fibrils per parallel work item of the fibril force passes.
const FIBRIL_CHUNK: usize = 512;

pub(crate) fn anchor_pos(d: &Dem, a: &Anchor) -> DVec3 {
    let k = a.particle as usize;
    d.p.pos[k] + d.p.quat[k] * DVec3::from_array(a.local)
}

/// (vector from a to b with minimum image, unit vector, length m).
pub(crate) fn fibril_vector(d: &Dem, a: &Anchor, b: &Anchor) -> (DVec3, DVec3, f64) {
    let v = d.wrap(anchor_pos(d, b) - anchor_pos(d, a));
    let l = v.length();
    (v, if l > 0.0 { v / l } else { DVec3::X }, l)
}

/// Largest phase, rad, by which a bundle's held tension may lag its motion: a bundle whose
/// ω·Δt_hold (ω = sqrt(k/m_red), Δt_hold = `fibril_force_interval`·dt) exceeds it is evaluated
/// every step. A force held for Δt_hold acts on average Δt_hold/2 late, i.e. as a negative damping
/// of ratio ω·Δt_hold/4 ≤ 0.025 here, well under the contacts' damping (docs/model.md).
pub const FIBRIL_HOLD_PHASE: f64 = 0.1;

/// Phase, rad, by which bundle `f`'s tension held for `hold` (s) lags its motion: ω·hold, with
/// ω = sqrt(k/m_red) for its elastic stiffness k = n E π r² / L₀ (`modulus` E, Pa) between its two
/// grains (reduced scaled mass m_red, kg).
pub(crate) fn hold_phase(d: &Dem, f: &FibrilC, modulus: f64, hold: f64) -> f64 {
    let (a, b) = (f.a.particle as usize, f.b.particle as usize);
    let k = f.count * modulus * f.law.area() / f.law.rest_length.max(1e-12);
    let m_red = d.p.mass[a] * d.p.mass[b] / (d.p.mass[a] + d.p.mass[b]);
    (k / m_red).sqrt() * hold
}

/// Scratch of [`fibril_forces`] kept between steps.
#[derive(Default)]
pub(crate) struct FibrilScratch {
    /// Per evaluated bundle: unit vector and length, then force on end A and a tag.
    geo: Vec<(DVec3, f64)>,
    /// Bundles stiff enough to be evaluated every step, in id order (set at each full evaluation).
    fast: bevy_ecs::entity::index_set::EntityIndexSet,
    /// Per particle, the held sum of the other (slow) bundles' forces, N.
    slow: Vec<DVec3>,
}

/// PreForce system: fibril tensions (bond law) into the external-force array.
///
/// Multiple time stepping: every `force_interval` steps (and at the first step of a stage or after
/// a turn) all intact bundles are evaluated and sorted into stiff ones, whose held force would lag
/// by more than [`FIBRIL_HOLD_PHASE`], and the rest, whose forces are summed per particle and held
/// until the next full evaluation; in between only the stiff bundles are evaluated. Bundles drawn
/// in between start stress-free and join at the next full evaluation.
///
/// Each evaluation runs four passes over the bundles in id (creation) order: (1) in parallel, each
/// intact fibril's end-to-end vector; (2) in order, node drawing from the fibrils' source lumps
/// (several fibrils share a lump, so the order matters); (3) in parallel, the bond law; (4) in
/// order, the forces added to the particles. Every sum therefore runs in the same order on any
/// thread count.
pub(crate) fn fibril_forces(
    mut dem: ResMut<DemWorld>,
    mut src: ResMut<PtfeSources>,
    mut q: Query<(Entity, &mut FibrilC)>,
    mut scratch: Local<FibrilScratch>,
) {
    let d = &mut dem.0;
    let FibrilScratch { geo, fast, slow } = &mut *scratch;
    let full = src.force_refresh || d.step.is_multiple_of(src.force_interval);
    src.force_refresh = false;
    let n = d.p.len();
    if slow.len() != n {
        slow.clear();
        slow.resize(n, DVec3::ZERO);
    }
    let law = src.law;
    if full {
        // Fibrils are summed in id (creation) order so the force sums do not depend on storage.
        // They are never despawned and keep their components, so the query already yields them in
        // spawn order; sort only if that ever stops being true.
        let mut fibs: Vec<(Entity, &mut FibrilC)> =
            q.iter_mut().map(|(e, m)| (e, m.into_inner())).collect();
        if !fibs.windows(2).all(|w| w[0].1.id < w[1].1.id) {
            fibs.sort_by_key(|(_, f)| f.id);
        }
        let (ents, mut refs): (Vec<Entity>, Vec<&mut FibrilC>) = fibs.into_iter().unzip();
        let failed = evaluate_fibrils(d, &mut src, &law, &mut refs, geo);
        src.broken_in_stage += failed;
        // Sort into stiff (evaluated every step) and held bundles; sum the held forces.
        let hold = src.force_interval as f64 * d.dt;
        fast.clear();
        slow.iter_mut().for_each(|f| *f = DVec3::ZERO);
        let mut stiff = Vec::new();
        for ((f, &(force, tag)), e) in refs.iter().zip(geo.iter()).zip(ents) {
            if f.state != FibrilState::Intact {
                continue;
            }
            let (a, b) = (f.a.particle as usize, f.b.particle as usize);
            if src.force_interval > 1 && hold_phase(d, f, law.modulus, hold) > FIBRIL_HOLD_PHASE {
                fast.insert(e);
                stiff.push((a, b, force, tag));
            } else if tag == 0.0 {
                slow[a] += force;
                slow[b] -= force;
            }
        }
        held_plus_stiff(&mut d.p.ext_force, slow, stiff);
    } else {
        let mut refs: Vec<&mut FibrilC> = q
            .iter_many_unique_mut(&*fast)
            // Bundles are never despawned, so every listed entity is found.
            .filter_map(|r| r.ok().map(|(_, m)| m.into_inner()))
            .collect();
        let failed = evaluate_fibrils(d, &mut src, &law, &mut refs, geo);
        src.broken_in_stage += failed;
        let stiff = refs
            .iter()
            .zip(geo.iter())
            .map(|(f, &(force, tag))| (f.a.particle as usize, f.b.particle as usize, force, tag));
        held_plus_stiff(&mut d.p.ext_force, slow, stiff);
    }
}

/// Pass (4) of [`fibril_forces`]: the external forces are the held sums `slow` (N, per particle)
/// plus, in order, the force of each stiff bundle (ends a and b, force on a in N, tag 0 = apply).
fn held_plus_stiff(
    ext: &mut [DVec3],
    slow: &[DVec3],
    stiff: impl IntoIterator<Item = (usize, usize, DVec3, f64)>,
) {
    ext.copy_from_slice(slow);
    for (a, b, force, tag) in stiff {
        if tag == 0.0 {
            ext[a] += force;
            ext[b] -= force;
        }
    }
}

/// Passes (1)–(3) of [`fibril_forces`] on `fibs` (in id order): leaves in `geo[k]` the force of
/// bundle k on its end A, N, and a tag (0 = apply, 1 = failed in this step, NaN = not intact);
/// returns the number of bundles that failed.
fn evaluate_fibrils(
    d: &mut Dem,
    src: &mut PtfeSources,
    law: &FibrilLawParams,
    fibs: &mut [&mut FibrilC],
    geo: &mut Vec<(DVec3, f64)>,
) -> u32 {
    // (1) Unit vector and length of every intact fibril.
    {
        let d: &Dem = d;
        fibs.par_iter()
            .with_min_len(FIBRIL_CHUNK)
            .map(|f| {
                if f.state == FibrilState::Intact {
                    let (_, u, len) = fibril_vector(d, &f.a, &f.b);
                    (u, len)
                } else {
                    (DVec3::ZERO, f64::NAN)
                }
            })
            .collect_into_vec(geo);
    }
    // (2) Node drawing: while its source lump still holds PTFE, a fibril stretched past the drawing
    // stress pulls new material out of the lump at constant radius (the node–fibril structure of
    // drawn PTFE) instead of thinning: its rest length grows to L₀' = L·E/(E + σ_y), the length at
    // which it carries exactly σ_y, and the lump gives up π r² (L₀' − L₀).
    for (f, &(_, len)) in fibs.iter_mut().zip(geo.iter()) {
        let s = f.source as usize;
        if f.state != FibrilState::Intact || src.volume[s] <= 0.0 || !len.is_finite() {
            continue;
        }
        let area = f.count * f.law.area();
        let l0_node = len * law.modulus / (law.modulus + law.yield_stress);
        if l0_node > f.law.rest_length {
            let take = (area * (l0_node - f.law.rest_length)).min(src.volume[s]);
            f.law.rest_length += take / area;
            src.volume[s] -= take;
            resize_lump(d, src, s);
        }
    }
    // (3) The bond law; the geometry slot is overwritten with the bundle's force on end A and a
    // tag: 0 = apply the force, 1 = the fibril failed in this step, NaN = not intact.
    fibs.par_iter_mut()
        .zip(geo.par_iter_mut())
        .with_min_len(FIBRIL_CHUNK)
        .for_each(|(f, g)| {
            if f.state != FibrilState::Intact {
                return;
            }
            let (u, len) = *g;
            let out = fibril_response(len, f.law, law);
            f.law = out.state;
            f.length = len;
            f.tension = f.count * out.tension;
            *g = match out.event {
                FibrilEvent::Broke => {
                    f.state = FibrilState::Broken;
                    (DVec3::ZERO, 1.0)
                }
                FibrilEvent::Detached => {
                    f.state = FibrilState::Detached;
                    (DVec3::ZERO, 1.0)
                }
                _ => (f.count * out.tension * u, 0.0),
            };
        });
    geo.iter().filter(|g| g.1 == 1.0).count() as u32
}
