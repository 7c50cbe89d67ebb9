//! The per-pair and per-wall contact evaluation of the force loop: the distance test, the contact
//! law of [`super::contact`] with the pair's history, and the wall contacts.

use super::contact::{
    damping_coefficient, dmt_adhesion, normal_law, plastic_dissipation, rolling_stiffness,
    rolling_torque, tangential_force, ContactDissipation, ContactSpring, PairParams, PairTable,
    PlasticState, ROLLING_DAMPING_RATIO,
};
use super::engine::*;
use super::ledger::ParticleLedger;
use super::pairs::PairOutput;
use super::pairs::{EVALUATED, PLASTIC, TOUCHING};
use glam::DVec3;

/// The particle arrays the force computation reads.
#[derive(Clone, Copy)]
pub(crate) struct ParticleView<'a> {
    pub(crate) pos: &'a [DVec3],
    pub(crate) vel: &'a [DVec3],
    pub(crate) omega: &'a [DVec3],
    pub(crate) radius: &'a [f64],
    pub(crate) mass: &'a [f64],
    pub(crate) material: &'a [u8],
}
/// What the pair kernel needs besides the pair itself.
pub(crate) struct PairCtx<'a> {
    pub(crate) p: ParticleView<'a>,
    pub(crate) table: &'a PairTable,
    pub(crate) lx: f64,
    pub(crate) ly: f64,
    pub(crate) dt: f64,
    pub(crate) cohesion: bool,
}
/// One evaluated pair: its force and torques (zero when not touching) and its next-step state,
/// springs, plastic history and output record.
pub(crate) struct Eval {
    pub(crate) touching: bool,
    pub(crate) force: DVec3,
    pub(crate) torque_i: DVec3,
    pub(crate) torque_j: DVec3,
    pub(crate) state: u8,
    pub(crate) spring: ContactSpring,
    pub(crate) plastic: PlasticState,
    pub(crate) out: PairOutput,
    /// Energy dissipated in this step, J.
    pub(crate) diss: ContactDissipation,
}
impl PairCtx<'_> {
    /// Distance test of pair (i, j) (position `pi`, radius `ri` of i; image shift `sh`; pair
    /// state `state`): the pair vector `d = x_i − x_j + shift` (m), |d|² (m²) and whether the pair
    /// is apart without plastic history (then force, torques and springs are zero and the kernel
    /// is skipped).
    #[inline(always)]
    pub(crate) fn test(
        &self,
        pi: DVec3,
        ri: f64,
        j: usize,
        sh: [i8; 2],
        state: u8,
    ) -> (DVec3, f64, bool) {
        let p = &self.p;
        let d = pi - p.pos[j] + DVec3::new(sh[0] as f64 * self.lx, sh[1] as f64 * self.ly, 0.0);
        let dist2 = d.length_squared();
        let sum = ri + p.radius[j];
        (d, dist2, dist2 >= sum * sum && state & PLASTIC == 0)
    }

    /// The contact kernel of pair (i, j) with pair vector `d` and |d|² = `dist2`, from its current
    /// state bits `st`, springs `spring` and plastic history `pl` (each used only where `st` says
    /// it is valid). `record`: fill the output record.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn kernel(
        &self,
        i: usize,
        j: usize,
        d: DVec3,
        dist2: f64,
        st: u8,
        spring: ContactSpring,
        pl: PlasticState,
        record: bool,
    ) -> Eval {
        let p = &self.p;
        let (ri, rj) = (p.radius[i], p.radius[j]);
        let sum = ri + rj;
        let dist = dist2.sqrt();
        let n = d / dist;
        let delta = sum - dist;
        let pp = self.table.get(p.material[i], p.material[j]);
        let r_eff = ri * rj / sum;
        let m_eff = p.mass[i] * p.mass[j] / (p.mass[i] + p.mass[j]);
        // Moment of inertia about the contact point, only needed by the rolling dashpot.
        let i_roll = if self.cohesion && pp.rolling_friction > 0.0 {
            let (ii, ij) = (1.4 * p.mass[i] * ri * ri, 1.4 * p.mass[j] * rj * rj);
            ii * ij / (ii + ij)
        } else {
            0.0
        };
        let vrel = p.vel[i] - p.vel[j];
        let mut spring = if st & TOUCHING != 0 {
            spring
        } else {
            ContactSpring::default()
        };
        let mut pls = if st & PLASTIC != 0 {
            pl
        } else {
            PlasticState::default()
        };
        let o = contact_force(
            pp,
            delta,
            r_eff,
            m_eff,
            i_roll,
            n,
            vrel,
            p.omega[i],
            p.omega[j],
            ri,
            rj,
            &mut pls,
            &mut spring,
            self.dt,
            self.cohesion,
        );
        if delta <= 0.0 {
            pls = PlasticState::default();
        }
        let mut ns = 0;
        if o.touching {
            ns |= TOUCHING;
        }
        if pls.delta_max != 0.0 {
            ns |= PLASTIC;
        }
        let mut out = PairOutput::default();
        if record {
            ns |= EVALUATED;
            out = PairOutput {
                force: o.force,
                torque_i: o.torque_i,
                torque_j: o.torque_j,
                normal_force: o.normal_force,
                contact_radius: o.contact_radius,
                overlap: delta,
            };
        }
        Eval {
            touching: o.touching,
            force: o.force,
            torque_i: o.torque_i,
            torque_j: o.torque_j,
            state: ns,
            spring,
            plastic: pls,
            out,
            diss: o.dissipation,
        }
    }
}
/// Result of one contact evaluation.
#[derive(Debug, Clone, Copy)]
pub struct ContactOut {
    /// Force on body i, N.
    pub force: DVec3,
    /// Torque on i, N·m.
    pub torque_i: DVec3,
    /// Torque on j, N·m.
    pub torque_j: DVec3,
    /// Touching?
    pub touching: bool,
    /// Contact radius, m.
    pub contact_radius: f64,
    /// Signed normal force (positive repulsive), N.
    pub normal_force: f64,
    /// Energy the contact dissipated in this step, J.
    pub dissipation: ContactDissipation,
}
/// The full contact force between body i and body j (a sphere or a wall), the pure kernel the engine
/// loops over. `n` points from j to i, `vrel = v_i − v_j` (m/s), `rj = f64::INFINITY`-like walls are
/// handled by passing `rj` only into the lever arm (0 for a wall). `i_roll` (kg·m²) is the pair's
/// moment of inertia about the contact point, `(I_i + m_i r_i²)(I_j + m_j r_j²)/(sum)` (the first
/// for a wall), for the rolling dashpot ([`rolling_torque`]). `spring` holds the contact's
/// tangential and rolling springs, updated here (reset when the contact ends).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn contact_force(
    pp: &PairParams,
    delta: f64,
    r_eff: f64,
    m_eff: f64,
    i_roll: f64,
    n: DVec3,
    vrel: DVec3,
    wi: DVec3,
    wj: DVec3,
    ri: f64,
    rj: f64,
    plastic: &mut PlasticState,
    spring: &mut ContactSpring,
    dt: f64,
    cohesion: bool,
) -> ContactOut {
    let before = *plastic;
    let law = normal_law(pp.normal, pp.y_star, r_eff, delta, plastic);
    let touching = law.force > 0.0 || (delta > 0.0 && plastic.delta_max == 0.0);
    // Plastic flow of this step (the loading branch, exactly); with adhesion, the DMT pull acts
    // down to the plastic overlap, whose growth is booked here too (docs/model.md, "Energy ledger").
    let mut diss = ContactDissipation {
        plastic: plastic_dissipation(pp, r_eff, &before, plastic, cohesion),
        ..Default::default()
    };
    if !touching {
        *spring = ContactSpring::default();
        return ContactOut {
            force: DVec3::ZERO,
            torque_i: DVec3::ZERO,
            torque_j: DVec3::ZERO,
            touching: false,
            contact_radius: law.radius,
            normal_force: 0.0,
            dissipation: diss,
        };
    }
    let vn = vrel.dot(n);
    let gamma = damping_coefficient(pp.beta, pp.y_star, law.stiffness_radius, m_eff);
    // Booked with the normal velocity at the end of the step as this force alone leaves it,
    // `v_n (1 − γ Δt / 2m*)` (velocity Verlet: a force evaluated at step n+1 works with the
    // velocity at n+1; docs/model.md, "Energy ledger"); the other forces' share averages out.
    diss.damping = gamma * vn * vn * dt * (1.0 - 0.5 * gamma * dt / m_eff);
    let mut fn_ = law.force - gamma * vn;
    if cohesion && pp.surface_energy > 0.0 {
        fn_ -= dmt_adhesion(pp.surface_energy, r_eff);
    }
    let vc = vrel - (ri * wi + rj * wj).cross(n);
    let vt = vc - n * vc.dot(n);
    let kt = 8.0 * pp.g_star * law.stiffness_radius;
    let (ft, slip) = tangential_force(&mut spring.slide, vt, n, kt, pp.friction, fn_.abs(), dt);
    diss.friction = slip;
    let mut ti = (-ri * n).cross(ft);
    // Contact point of j is at x_j + r_j n, and j receives −F_t (LAMMPS/LIGGGHTS convention).
    let mut tj = (rj * n).cross(-ft);
    if cohesion && pp.rolling_friction > 0.0 {
        let s_n = 2.0 * pp.y_star * law.stiffness_radius;
        let kr = rolling_stiffness(pp.rolling_friction, r_eff, s_n);
        let cr = ROLLING_DAMPING_RATIO * 2.0 * (i_roll * kr).sqrt();
        let cap = pp.rolling_friction * r_eff * fn_.abs();
        let (mr, rolling) = rolling_torque(&mut spring.roll, wi - wj, n, (kr, cr, i_roll), cap, dt);
        diss.rolling = rolling;
        ti += mr;
        tj -= mr;
    }
    ContactOut {
        force: fn_ * n + ft,
        torque_i: ti,
        torque_j: tj,
        touching: true,
        contact_radius: law.radius,
        normal_force: fn_,
        dissipation: diss,
    }
}
/// The contact of a sphere with a flat wall moving at `wall_vel` (m/s); adds the force and torque
/// to `fs`, `ts`, updates the history `h` and, given a `ledger`, books the contact's dissipation
/// and the wall's work on the particle (`F · v_wall Δt`, J). Returns whether the contact kernel
/// ran (false: apart without plastic history, `h` reset to the default).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn wall_contact(
    pp: &PairParams,
    delta: f64,
    r: f64,
    m: f64,
    n: DVec3,
    (vel, wall_vel): (DVec3, DVec3),
    w: DVec3,
    h: &mut WallHistory,
    dt: f64,
    cohesion: bool,
    fs: &mut DVec3,
    ts: &mut DVec3,
    ledger: Option<&mut ParticleLedger>,
) -> bool {
    if delta <= 0.0 && h.plastic.delta_max == 0.0 {
        *h = WallHistory::default();
        return false;
    }
    let out = contact_force(
        pp,
        delta,
        r,
        m,
        1.4 * m * r * r,
        n,
        vel - wall_vel,
        w,
        DVec3::ZERO,
        r,
        0.0,
        &mut h.plastic,
        &mut h.spring,
        dt,
        cohesion,
    );
    if delta <= 0.0 {
        h.plastic = PlasticState::default();
    }
    h.contact_radius = if out.touching {
        out.contact_radius
    } else {
        0.0
    };
    h.normal_force = out.normal_force;
    *fs += out.force;
    *ts += out.torque_i;
    if let Some(l) = ledger {
        l.add_contact(&out.dissipation);
        l.wall_work += out.force.dot(wall_vel) * dt;
    }
    true
}
