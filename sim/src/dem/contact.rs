//! Pure contact kernels: no ECS, no arrays, just numbers in and forces out.
//!
//! Conventions (SI): overlap `delta = r_i + r_j − d` (m, positive in contact), effective radius
//! `R* = r_i r_j / (r_i + r_j)` (against a wall `R* = r_i`), effective mass `m* = m_i m_j/(m_i+m_j)`.
//!
//! Laws implemented (one enum per model role, see [`NormalModel`]):
//! - **Hertz** (Hertz 1882; Johnson, *Contact Mechanics*, 1985, §4.2):
//!   `F_n = 4/3 · Y* · a · δ`, `a = sqrt(R* δ)`, with `Y* = 1/((1−ν_i²)/E_i + (1−ν_j²)/E_j)`.
//! - **Elastic–perfectly-plastic** (Thornton, J. Appl. Mech. 64, 383, 1997; Thornton & Ning,
//!   Powder Technol. 99, 154, 1998): Hertz until the mean contact pressure reaches the yield
//!   pressure `p_y`, i.e. `δ_y = R* (π p_y / (2 Y*))²`; beyond it `F = F_y + π p_y R* (δ − δ_y)`;
//!   unloading from `(δ_max, F_max)` is Hertzian with an enlarged curvature
//!   `R_p = 4 Y* a_max³ / (3 F_max)` about the plastic overlap
//!   `δ_p = δ_max − (3 F_max / (4 Y* sqrt(R_p)))^(2/3)`. The contact radius reported for the
//!   conductivity solver keeps the plastic flat: `a = max(sqrt(R* δ_p), sqrt(R_p (δ − δ_p)))` on
//!   unloading (the flattened neck does not vanish when the load is removed).
//! - **Damping** from the restitution coefficient `e` (Tsuji et al., Powder Technol. 71, 239, 1992;
//!   the LIGGGHTS/EDEM form): `γ_n = 2 sqrt(5/6) |β| sqrt(S_n m*)`, `S_n = 2 Y* a`,
//!   `β = ln e / sqrt(ln² e + π²)`; tangential damping is zero.
//! - **Mindlin no-slip tangential spring** with history: `k_t = 8 G* a`, `G* = 1/((2−ν_i)/G_i + (2−ν_j)/G_j)`,
//!   capped by Coulomb friction `|F_t| ≤ μ |F_n|` (Mindlin 1949; Di Renzo & Di Maio, Chem. Eng. Sci. 59,
//!   525, 2004).
//! - **Rolling resistance**, elastic–plastic spring with a dashpot (Ai, Chen, Rotter & Ooi, Powder
//!   Technol. 206, 269, 2011, model C; LIGGGHTS `rolling_friction epsd`): the
//!   relative rolling rotation (`ω_i − ω_j` in the tangent plane; twist is free) loads a rolling
//!   spring of stiffness `k_r = 2.25 μ_r² R*² S_n` (`S_n = 2 Y* a` the normal contact stiffness)
//!   whose torque is capped at the full mobilisation torque `μ_r R* |F_n|`; the energy cut off at
//!   the cap is the rolling dissipation. Below the cap a rolling dashpot
//!   `−η_r 2 sqrt(I_r k_r) ω_roll` damps the spring ([`ROLLING_DAMPING_RATIO`]). The spring is kept
//!   as its energy variable `s = √k_r θ_r` (`U = ½|s|²`, `M_r = −√k_r s`), so a contact whose stiffness changes under load keeps the
//!   spring's energy instead of creating or losing it ([`rolling_torque`]). A spring, unlike a
//!   constant torque, holds a grain at rest without the chatter of model A (the torque reversing
//!   the spin every step).
//! - **Adhesion** (DMT, Derjaguin–Muller–Toporov 1975): a constant pull `F_adh = 2π w R*` while in
//!   contact, `w` the work of adhesion.

use glam::{DQuat, DVec3};

/// The elastic history of one contact (zero when it starts): its tangential and rolling springs,
/// both kept in the contact's tangent plane.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ContactSpring {
    /// Mindlin tangential spring ξ, m: the tangential displacement the contact holds elastically.
    pub slide: DVec3,
    /// Rolling spring in its energy variable `s = √k_r θ_r`, √J (`θ_r` the relative rolling
    /// rotation the contact holds elastically, rad; its energy is `½|s|²`).
    pub roll: DVec3,
}

impl ContactSpring {
    /// Both springs turned by `q` (the whole packing turned in place).
    pub fn rotated(self, q: DQuat) -> Self {
        ContactSpring {
            slide: q * self.slide,
            roll: q * self.roll,
        }
    }
}

/// Normal contact law of a material pair (one variant per law; the RON keyword is the variant name).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormalModel {
    /// Elastic Hertz law.
    Hertz,
    /// Thornton elastic–perfectly-plastic law with yield pressure `yield_pressure` (Pa).
    ElastoPlastic {
        /// Contact yield pressure (mean pressure at which the contact flows plastically), Pa.
        yield_pressure: f64,
    },
}

/// The mixed contact parameters of every pair of `n_mat` materials (walls included).
#[derive(Debug, Clone, PartialEq)]
pub struct PairTable {
    /// The parameters of materials `(a, b)` at `a · n_mat + b` (symmetric).
    pub params: Vec<PairParams>,
    /// Number of materials.
    pub n_mat: usize,
}

impl PairTable {
    /// The parameters of a pair of materials `a`, `b` (indices below `n_mat`).
    #[inline]
    pub fn get(&self, a: u8, b: u8) -> &PairParams {
        &self.params[a as usize * self.n_mat + b as usize]
    }
}

/// Contact parameters of one material pair, mixed once at set-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairParams {
    /// Effective Young's modulus `Y*`, Pa.
    pub y_star: f64,
    /// Effective shear modulus `G*`, Pa.
    pub g_star: f64,
    /// Damping factor β = ln e / sqrt(ln² e + π²) (dimensionless, ≤ 0).
    pub beta: f64,
    /// Coulomb friction coefficient (dimensionless).
    pub friction: f64,
    /// Rolling-resistance coefficient (dimensionless).
    pub rolling_friction: f64,
    /// Work of adhesion for DMT, J/m².
    pub surface_energy: f64,
    /// Normal law.
    pub normal: NormalModel,
}

/// Elastic properties of one material, for mixing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaterialProps {
    /// Young's modulus, Pa.
    pub youngs_modulus: f64,
    /// Poisson ratio.
    pub poisson: f64,
    /// Coefficient of restitution (0, 1].
    pub restitution: f64,
    /// Friction coefficient.
    pub friction: f64,
    /// Rolling-resistance coefficient.
    pub rolling_friction: f64,
    /// Work of adhesion, J/m².
    pub surface_energy: f64,
    /// Contact yield pressure, Pa (None: elastic Hertz).
    pub yield_pressure: Option<f64>,
}

impl PairParams {
    /// A pair that does not interact: zero moduli, damping, friction and adhesion, so every force
    /// and torque of the contact law is zero whatever the overlap (for particles that have left
    /// the simulation but keep their slot in the arrays).
    pub const INERT: Self = Self {
        y_star: 0.0,
        g_star: 0.0,
        beta: 0.0,
        friction: 0.0,
        rolling_friction: 0.0,
        surface_energy: 0.0,
        normal: NormalModel::Hertz,
    };

    /// Mix two materials into pair parameters. Restitution, friction and rolling friction take the
    /// smaller value of the pair; the adhesion energy the geometric mean; the yield pressure the
    /// smaller (the softer body flows first); moduli combine as in Hertz theory.
    pub fn mix(a: &MaterialProps, b: &MaterialProps) -> Self {
        let y_star = 1.0
            / ((1.0 - a.poisson * a.poisson) / a.youngs_modulus
                + (1.0 - b.poisson * b.poisson) / b.youngs_modulus);
        let ga = a.youngs_modulus / (2.0 * (1.0 + a.poisson));
        let gb = b.youngs_modulus / (2.0 * (1.0 + b.poisson));
        let g_star = 1.0 / ((2.0 - a.poisson) / ga + (2.0 - b.poisson) / gb);
        let e = a.restitution.min(b.restitution);
        let normal = match (a.yield_pressure, b.yield_pressure) {
            (None, None) => NormalModel::Hertz,
            (Some(p), None) | (None, Some(p)) => NormalModel::ElastoPlastic { yield_pressure: p },
            (Some(p), Some(q)) => NormalModel::ElastoPlastic {
                yield_pressure: p.min(q),
            },
        };
        Self {
            y_star,
            g_star,
            beta: damping_beta(e),
            friction: a.friction.min(b.friction),
            rolling_friction: a.rolling_friction.min(b.rolling_friction),
            surface_energy: (a.surface_energy * b.surface_energy).sqrt(),
            normal,
        }
    }
}

/// β = ln e / sqrt(ln² e + π²) for restitution `e` in (0, 1]; 0 for e = 1 (no damping).
pub fn damping_beta(e: f64) -> f64 {
    let l = e.ln();
    l / (l * l + std::f64::consts::PI * std::f64::consts::PI).sqrt()
}

/// Hertz elastic normal force magnitude, N: `4/3 Y* a δ` with `a = sqrt(R* δ)`.
#[inline]
pub fn hertz_force(y_star: f64, r_eff: f64, delta: f64) -> f64 {
    let a = (r_eff * delta).sqrt();
    4.0 / 3.0 * y_star * a * delta
}

/// Normal damping coefficient, N·s/m: `2 sqrt(5/6) |β| sqrt(2 Y* a m*)`.
#[inline]
pub fn damping_coefficient(beta: f64, y_star: f64, a: f64, m_eff: f64) -> f64 {
    2.0 * (5.0f64 / 6.0).sqrt() * beta.abs() * (2.0 * y_star * a * m_eff).sqrt()
}

/// Plastic history of an elastoplastic contact (zero for a fresh or elastic contact).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlasticState {
    /// Largest overlap reached while yielding, m (0 if never yielded).
    pub delta_max: f64,
    /// Force at `delta_max`, N.
    pub force_max: f64,
}

/// Output of the normal law: elastic(-plastic) force (no damping, no adhesion) and contact radius.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalOut {
    /// Repulsive normal force from the elastic–plastic law, N (≥ 0).
    pub force: f64,
    /// Contact radius, m (what the conductivity solver uses).
    pub radius: f64,
    /// Radius used for the damping and tangential stiffness, m.
    pub stiffness_radius: f64,
}

/// Hertz's elastic sphere contact at overlap `delta` (m): force `4/3 Y* a δ` (N) with contact
/// radius `a = √(R* δ)` (m); zero force and radius for `delta ≤ 0`.
#[inline]
fn hertz_out(y_star: f64, r_eff: f64, delta: f64) -> NormalOut {
    if delta <= 0.0 {
        return NormalOut {
            force: 0.0,
            radius: 0.0,
            stiffness_radius: 0.0,
        };
    }
    let a = (r_eff * delta).sqrt();
    NormalOut {
        force: 4.0 / 3.0 * y_star * a * delta,
        radius: a,
        stiffness_radius: a,
    }
}

/// Evaluate the normal law at overlap `delta` (m), updating the plastic history.
///
/// For [`NormalModel::Hertz`] this is `hertz_force`. For [`NormalModel::ElastoPlastic`] see the module
/// doc (Thornton 1997). `delta ≤ 0` with no plastic history gives zero force and radius.
#[inline]
pub fn normal_law(
    model: NormalModel,
    y_star: f64,
    r_eff: f64,
    delta: f64,
    hist: &mut PlasticState,
) -> NormalOut {
    match model {
        NormalModel::Hertz => hertz_out(y_star, r_eff, delta),
        NormalModel::ElastoPlastic { yield_pressure } => {
            let py = yield_pressure;
            let k = std::f64::consts::PI * py / (2.0 * y_star);
            let delta_y = r_eff * k * k;
            if hist.delta_max == 0.0 && delta <= delta_y {
                // Never yielded: elastic Hertz until δ_y.
                return hertz_out(y_star, r_eff, delta);
            }
            if delta >= hist.delta_max {
                // Plastic loading: first yield, or beyond the previous maximum.
                let fy = hertz_force(y_star, r_eff, delta_y);
                let f = fy + std::f64::consts::PI * py * r_eff * (delta - delta_y);
                hist.delta_max = delta;
                hist.force_max = f;
                let a = (r_eff * delta).sqrt();
                return NormalOut {
                    force: f,
                    radius: a,
                    stiffness_radius: a,
                };
            }
            // Elastic unloading/reloading about the plastic overlap.
            let a_max = (r_eff * hist.delta_max).sqrt();
            let r_p = 4.0 * y_star * a_max * a_max * a_max / (3.0 * hist.force_max);
            // Elastic part of δ_max: (3F/(4Y*·sqrt(R_p)))^(2/3), which with R_p = 4Y*a³/(3F)
            // simplifies exactly to 3F/(4Y*·a_max) (Hertz δ = 3F/(4Y*a)); no pow in the hot loop.
            let d_el_max = 3.0 * hist.force_max / (4.0 * y_star * a_max);
            let delta_p = hist.delta_max - d_el_max;
            let a_flat = (r_eff * delta_p.max(0.0)).sqrt();
            let d = delta - delta_p;
            if d <= 0.0 {
                return NormalOut {
                    force: 0.0,
                    radius: if delta > 0.0 { a_flat } else { 0.0 },
                    stiffness_radius: 0.0,
                };
            }
            let a_el = (r_p * d).sqrt();
            NormalOut {
                force: 4.0 / 3.0 * y_star * a_el * d,
                radius: a_el.max(a_flat),
                stiffness_radius: a_el,
            }
        }
    }
}

/// DMT adhesive pull-off force magnitude, N: `2π w R*`.
#[inline]
pub fn dmt_adhesion(surface_energy: f64, r_eff: f64) -> f64 {
    2.0 * std::f64::consts::PI * surface_energy * r_eff
}

/// Update the Mindlin tangential spring `xi` (m) and return the tangential force (N).
///
/// `v_t` is the tangential relative velocity (m/s), `n` the unit normal, `k_t = 8 G* a` (N/m) and
/// `f_n_abs` the normal force magnitude used for the Coulomb cap. The spring is projected into the
/// current tangent plane before the increment. On sliding, `xi` is reset to `−F_t/k_t`.
///
/// Returns the force (N) and the energy dissipated by sliding in this step (J): the Coulomb force
/// `μ |F_n|` times the slip, the length by which the trial spring is cut back to the cap
/// (`|ξ_trial| − μ|F_n|/k_t`); 0 while the contact sticks.
#[inline]
pub fn tangential_force(
    xi: &mut DVec3,
    v_t: DVec3,
    n: DVec3,
    k_t: f64,
    mu: f64,
    f_n_abs: f64,
    dt: f64,
) -> (DVec3, f64) {
    *xi -= n * xi.dot(n);
    *xi += v_t * dt;
    let mut ft = -k_t * *xi;
    let cap = mu * f_n_abs;
    let ft2 = ft.length_squared();
    let mut slip_work = 0.0;
    if ft2 > cap * cap {
        if ft2 > 0.0 {
            let f = ft2.sqrt();
            ft *= cap / f;
            if k_t > 0.0 {
                slip_work = cap * (f - cap) / k_t;
            }
        }
        *xi = if k_t > 0.0 { -ft / k_t } else { DVec3::ZERO };
    }
    (ft, slip_work)
}

/// Energy one contact dissipated in one step, J: normal viscous damping
/// `γ_n v_n² Δt (1 − γ_n Δt / 2m*)` (with the end-of-step velocity its own force leaves, as
/// velocity Verlet applies a force; docs/model.md, "Energy ledger"), Coulomb sliding
/// ([`tangential_force`]), rolling slip or the rolling dashpot ([`rolling_torque`]) and plastic flow
/// ([`plastic_work`], with the DMT term of a flattening contact). The energy ledger sums them
/// (docs/model.md, "Energy ledger").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ContactDissipation {
    /// Normal viscous damping, J.
    pub damping: f64,
    /// Coulomb sliding, J.
    pub friction: f64,
    /// Rolling: the energy cut off the rolling spring at its cap, or its dashpot's, J.
    pub rolling: f64,
    /// Plastic flow, J (may be slightly negative: see [`plastic_work`]).
    pub plastic: f64,
}

/// Plastic overlap `δ_p` (m) of a contact history: `δ_max − 3 F_max / (4 Y* a_max)`, the overlap at
/// which the unloading curve reaches zero force; 0 for a contact that never yielded.
#[inline]
pub fn plastic_overlap(y_star: f64, r_eff: f64, hist: &PlasticState) -> f64 {
    if hist.delta_max == 0.0 {
        return 0.0;
    }
    let a_max = (r_eff * hist.delta_max).sqrt();
    hist.delta_max - 3.0 * hist.force_max / (4.0 * y_star * a_max)
}

/// Elastic energy (J) stored at the top of a plastic loading, overlap `delta` (m) and force
/// `force` (N): the integral of the Hertzian unloading curve, `2/5 F (δ − δ_p) = 0.3 F² / (Y* a)`
/// with `a = √(R* δ)`.
#[inline]
fn loaded_elastic_energy(y_star: f64, r_eff: f64, delta: f64, force: f64) -> f64 {
    0.3 * force * force / (y_star * (r_eff * delta).sqrt())
}

/// Work (J) dissipated by plastic flow when a Thornton contact's history goes from `before` to
/// `after` (plastic loading, [`normal_law`]): the work of the linear plastic branch from the old
/// maximum (or first yield at `δ_y`) to the new one, less the growth of the elastic energy stored
/// at the maximum ([`loaded_elastic_energy`]). 0 when the maximum did not grow. The loading
/// branch is evaluated exactly, so this is the plastic work whatever the time step.
#[inline]
pub fn plastic_work(
    yield_pressure: f64,
    y_star: f64,
    r_eff: f64,
    before: &PlasticState,
    after: &PlasticState,
) -> f64 {
    if after.delta_max <= before.delta_max {
        return 0.0;
    }
    let (d0, f0) = if before.delta_max == 0.0 {
        let k = std::f64::consts::PI * yield_pressure / (2.0 * y_star);
        let dy = r_eff * k * k;
        (dy, hertz_force(y_star, r_eff, dy))
    } else {
        (before.delta_max, before.force_max)
    };
    let work = 0.5 * (f0 + after.force_max) * (after.delta_max - d0);
    work - loaded_elastic_energy(y_star, r_eff, after.delta_max, after.force_max)
        + loaded_elastic_energy(y_star, r_eff, d0, f0)
}

/// Plastic dissipation, J, of a contact whose history went from `before` to `after`: the
/// plastic work of a Thornton contact's loading branch ([`plastic_work`]) less, with adhesion on
/// (`cohesion`), the work of the DMT pull over the growth of the plastic overlap (docs/model.md,
/// "Energy ledger"); 0 for Hertz contacts and when the maximum overlap did not grow.
#[inline]
pub fn plastic_dissipation(
    pp: &PairParams,
    r_eff: f64,
    before: &PlasticState,
    after: &PlasticState,
    cohesion: bool,
) -> f64 {
    if after.delta_max <= before.delta_max {
        return 0.0;
    }
    let NormalModel::ElastoPlastic { yield_pressure } = pp.normal else {
        return 0.0;
    };
    let mut w = plastic_work(yield_pressure, pp.y_star, r_eff, before, after);
    if cohesion && pp.surface_energy > 0.0 {
        let grown =
            plastic_overlap(pp.y_star, r_eff, after) - plastic_overlap(pp.y_star, r_eff, before);
        w -= dmt_adhesion(pp.surface_energy, r_eff) * grown;
    }
    w
}

/// Elastic energy stored in one contact and the plastic flow pending on it, J, at overlap `delta`
/// (m) with plastic history `hist` and springs `spring`.
///
/// The elastic energy: the normal elastic energy `2/5 F (δ − δ_p)` (Hertz: `8/15 Y* √R* δ^{5/2}`;
/// Thornton: the unloading curve about the plastic overlap `δ_p`), the DMT term `−F_adh (δ − δ_p)`
/// while touching (with cohesion on), the tangential spring `½ k_t |ξ|²`, `k_t = 8 G* a`, and the
/// rolling spring `½ |s|²` ([`rolling_torque`], with cohesion on): the
/// energy whose changes, with the dissipation of [`ContactDissipation`], the contact forces' work
/// balances. The pending flow: the plastic dissipation ([`plastic_dissipation`]) the next force
/// evaluation at this overlap will book, the work beyond the elastic energy that moving the
/// contact here from where its history was last evaluated costs (0 right after an evaluation).
/// An imposed move (a compaction by remapping positions) did the sum of both.
pub fn contact_energy_and_flow(
    pp: &PairParams,
    delta: f64,
    r_eff: f64,
    hist: &PlasticState,
    spring: ContactSpring,
    cohesion: bool,
) -> (f64, f64) {
    let mut h = *hist;
    let law = normal_law(pp.normal, pp.y_star, r_eff, delta, &mut h);
    let flow = plastic_dissipation(pp, r_eff, hist, &h, cohesion);
    let touching = law.force > 0.0 || (delta > 0.0 && h.delta_max == 0.0);
    if !touching {
        return (0.0, flow);
    }
    let dp = plastic_overlap(pp.y_star, r_eff, &h);
    let mut u = 0.4 * law.force * (delta - dp);
    if cohesion && pp.surface_energy > 0.0 {
        u -= dmt_adhesion(pp.surface_energy, r_eff) * (delta - dp);
    }
    u += 0.5 * 8.0 * pp.g_star * law.stiffness_radius * spring.slide.length_squared();
    if cohesion && pp.rolling_friction > 0.0 {
        u += 0.5 * spring.roll.length_squared();
    }
    (u, flow)
}

/// Damping ratio `η_r` of the rolling dashpot, dimensionless: the torque `−η_r C_crit ω_roll` with
/// `C_crit = 2 sqrt(I_r k_r)` (`I_r` the pair's moment of inertia about the contact point) acts
/// while the rolling spring is below its cap. 0.3 is the value Ai et al. recommend for model C
/// (Powder Technol. 206, 269, 2011).
pub const ROLLING_DAMPING_RATIO: f64 = 0.3;

/// Rolling stiffness `k_r = 2.25 μ_r² R*² S_n`, N·m/rad, of a contact with rolling-resistance
/// coefficient `mu_r`, effective radius `r_eff` (m) and normal contact stiffness `s_n` (N/m); the
/// prefactor 2.25 is Ai et al.'s for 3D packings (Powder Technol. 206, 269, 2011).
#[inline]
pub fn rolling_stiffness(mu_r: f64, r_eff: f64, s_n: f64) -> f64 {
    2.25 * mu_r * mu_r * r_eff * r_eff * s_n
}

/// Update the rolling spring `roll` (energy variable `s = √k_r θ_r`, √J) with the relative spin
/// `omega_rel = ω_i − ω_j` (rad/s) over `dt` (s) and return the rolling torque on i (N·m; j
/// receives its negative) and the energy dissipated by rolling in this step (J): slip at the cap,
/// or the dashpot below it.
///
/// The spring is turned into the tangent plane of the unit normal `n` (its length kept), grows by
/// `√k_r ω_roll Δt` with the rolling part `ω_roll` of the spin (its component along `n`, twist, is
/// left free) and gives `M_r = −√k_r s` (`k_r` N·m/rad from [`rolling_stiffness`]). Where
/// `|M_r|` exceeds the full mobilisation torque `cap = μ_r R* |F_n|` (N·m) the spring is cut back to it and the energy cut, `½(|s_trial|² − |s|²)`, is the dissipation;
/// below the cap the dashpot `−c_r ω_roll` (`c_r` N·m·s, see [`ROLLING_DAMPING_RATIO`]) adds its
/// torque and dissipates `c_r |ω_roll|² Δt (1 − c_r Δt / 2I_r)` (with the end-of-step spin its
/// own torque leaves, `i_r` kg·m² the pair's moment of inertia about the contact point). With the
/// energy `½|s|²` independent of `k_r`, the torque's work and the spring's energy balance exactly
/// whatever the contact's stiffness does; in the angle variable a stiffening contact would store
/// `½ Δk_r θ_r²` that no force paid for (a rolling spring at its cap holds about a third of the
/// contact's normal elastic energy, whatever `μ_r`).
#[inline(always)]
pub fn rolling_torque(
    roll: &mut DVec3,
    omega_rel: DVec3,
    n: DVec3,
    (k_r, c_r, i_r): (f64, f64, f64),
    cap: f64,
    dt: f64,
) -> (DVec3, f64) {
    let flat = *roll - n * roll.dot(n);
    let f2 = flat.length_squared();
    *roll = if f2 > 0.0 {
        flat * (roll.length_squared() / f2).sqrt()
    } else {
        DVec3::ZERO
    };
    let sk = k_r.sqrt();
    let w_roll = omega_rel - n * omega_rel.dot(n);
    *roll += w_roll * (sk * dt);
    let trial = roll.length_squared();
    if k_r * trial > cap * cap {
        *roll *= cap / (sk * trial.sqrt());
        return (-sk * *roll, 0.5 * (trial - roll.length_squared()));
    }
    let damped = if c_r > 0.0 {
        c_r * w_roll.length_squared() * dt * (1.0 - 0.5 * c_r * dt / i_r)
    } else {
        0.0
    };
    (-sk * *roll - c_r * w_roll, damped)
}

/// Rayleigh time of a sphere, s: `π r sqrt(ρ/G) / (0.1631 ν + 0.8766)` (Li et al. 2005).
pub fn rayleigh_time(radius: f64, density: f64, youngs_modulus: f64, poisson: f64) -> f64 {
    let g = youngs_modulus / (2.0 * (1.0 + poisson));
    std::f64::consts::PI * radius * (density / g).sqrt() / (0.1631 * poisson + 0.8766)
}

/// Hertz contact duration of a binary collision, s:
/// `t_c = 2.868 (m*² / (R* Y*² v))^(1/5)` (Johnson 1985, eq. 11.24, with `Y*` the effective modulus).
pub fn hertz_contact_time(m_eff: f64, r_eff: f64, y_star: f64, v_impact: f64) -> f64 {
    2.868 * (m_eff * m_eff / (r_eff * y_star * y_star * v_impact)).powf(0.2)
}

/// Normal force magnitude (elastic + damping, no adhesion) at overlap `delta` (m) with approach speed
/// `v_approach` (m/s, positive closing), N: the quantity the benchmark's single-contact checks quote.
pub fn contact_force_check(
    pp: &PairParams,
    delta: f64,
    r_eff: f64,
    m_eff: f64,
    v_approach: f64,
    plastic: &mut PlasticState,
) -> f64 {
    let law = normal_law(pp.normal, pp.y_star, r_eff, delta, plastic);
    law.force + damping_coefficient(pp.beta, pp.y_star, law.stiffness_radius, m_eff) * v_approach
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench_pair() -> PairParams {
        let m = crate::dem::bench::anchor_material();
        PairParams::mix(&m, &m)
    }

    #[test]
    fn hertz_matches_anchor_force() {
        // dem-anchor.md: two r = 2.5 µm spheres at overlap 1e-8 m: 1.6381450385e-05 N.
        let p = bench_pair();
        let f = hertz_force(p.y_star, 1.25e-6, 1e-8);
        assert!((f / 1.6381450385e-05 - 1.0).abs() < 1e-9, "{f}");
        // Against a wall R* = r, the wall has the same material.
        let fw = hertz_force(p.y_star, 2.5e-6, 1e-8);
        assert!((fw / 2.3166869305e-05 - 1.0).abs() < 1e-9, "{fw}");
    }

    #[test]
    fn plastic_law_is_continuous_and_keeps_flat() {
        let y = 1e10;
        let r = 2e-6;
        let model = NormalModel::ElastoPlastic {
            yield_pressure: 4e8,
        };
        let mut h = PlasticState::default();
        let dy = r * (std::f64::consts::PI * 4e8 / (2.0 * y)).powi(2);
        let below = normal_law(model, y, r, dy * 0.999999, &mut h);
        assert_eq!(h.delta_max, 0.0);
        let above = normal_law(model, y, r, dy * 1.000001, &mut h);
        assert!((above.force / below.force - 1.0).abs() < 1e-4);
        // Load well into the plastic range then unload.
        let top = normal_law(model, y, r, 20.0 * dy, &mut h);
        let un = normal_law(model, y, r, 19.5 * dy, &mut h);
        assert!(un.force < top.force && un.force > 0.0);
        // Unloaded below the plastic overlap δ_p (≈ 13.4 δ_y here: most of the 20 δ_y is permanent)
        // the force is zero but the flattened neck keeps its radius sqrt(R* δ_p).
        let mut h2 = h;
        let zero = normal_law(model, y, r, 12.0 * dy, &mut h2);
        assert_eq!(zero.force, 0.0);
        assert!(
            zero.radius > (r * 13.0 * dy).sqrt() && zero.radius < (r * 14.0 * dy).sqrt(),
            "{}",
            zero.radius
        );
        let still = normal_law(model, y, r, 14.0 * dy, &mut h2);
        assert!(still.force > 0.0);
        // Reloading to the maximum recovers the maximum force (elastic unloading curve passes through it).
        let back = normal_law(model, y, r, 20.0 * dy * (1.0 - 1e-12), &mut h);
        assert!(
            (back.force / top.force - 1.0).abs() < 1e-6,
            "{} {}",
            back.force,
            top.force
        );
    }

    #[test]
    fn coulomb_cap_holds() {
        let mut xi = DVec3::new(1e-6, 0.0, 0.0);
        let (ft, slip) = tangential_force(&mut xi, DVec3::ZERO, DVec3::Z, 1e3, 0.5, 1e-4, 1e-9);
        assert!((ft.length() - 0.5e-4).abs() < 1e-16);
        // Cut back from 1e-6 m to 5e-8 m at the Coulomb force 5e-5 N.
        assert!((slip - 0.5e-4 * (1e-6 - 5e-8)).abs() < 1e-20, "{slip}");
        assert!((xi.length() - 0.5e-4 / 1e3).abs() < 1e-18);
    }

    /// The rolling spring: while it holds, the torque is `−k_r θ` for the rolling part of the
    /// accumulated spin (twist about the normal is free); a stiffer contact keeps the spring's
    /// energy; the dashpot adds `−c_r ω_roll` and books `c_r |ω_roll|² Δt (1 − c_r Δt / 2I_r)`;
    /// past the cap the torque is the cap, the dashpot is off and the energy cut is booked.
    #[test]
    fn rolling_spring_holds_then_slips_at_the_cap() {
        let (mu, r, f, dt) = (0.05, 1e-6, 1e-6, 1e-7);
        let k = rolling_stiffness(mu, r, 1e3);
        let cap = mu * r * f;
        let mut roll = DVec3::ZERO;
        let spin = DVec3::new(0.0, 3.0, 4.0);
        let (m, cut) = rolling_torque(&mut roll, spin, DVec3::Z, (k, 0.0, 1.0), cap, dt);
        assert_eq!(cut, 0.0);
        let theta = DVec3::new(0.0, 3.0, 0.0) * dt;
        assert!(
            (m + k * theta).length() <= 1e-12 * m.length(),
            "{m} vs {}",
            -k * theta
        );
        let energy = 0.5 * k * theta.length_squared();
        assert!((0.5 * roll.length_squared() - energy).abs() < 1e-12 * energy);
        // Four times stiffer, no spin: same energy, torque doubled.
        let (m4, cut) = rolling_torque(
            &mut roll,
            DVec3::ZERO,
            DVec3::Z,
            (4.0 * k, 0.0, 1.0),
            cap,
            dt,
        );
        assert_eq!(cut, 0.0);
        assert!((m4 - 2.0 * m).length() <= 1e-12 * m4.length());
        // The dashpot below the cap.
        let (c, inertia) = (1e-3 * m4.length() / 3.0, 1e-20);
        let before = roll;
        let w = DVec3::new(0.0, -1e-3, 0.0);
        let (md, damped) = rolling_torque(&mut roll, w, DVec3::Z, (4.0 * k, c, inertia), cap, dt);
        let spring = -(4.0 * k).sqrt() * (before + w * ((4.0 * k).sqrt() * dt));
        assert!((md - (spring - c * w)).length() <= 1e-12 * md.length());
        let booked = c * w.length_squared() * dt * (1.0 - 0.5 * c * dt / inertia);
        assert!(
            (damped - booked).abs() <= 1e-12 * booked,
            "{damped} vs {booked}"
        );
        // A large spin overshoots the cap: cut back to it, the energy above it booked.
        let big = DVec3::new(0.0, 1e9 * cap / (k * dt), 0.0);
        let trial = (roll + big * (k.sqrt() * dt)).length_squared();
        let (m, cut) = rolling_torque(&mut roll, big, DVec3::Z, (k, 1.0, 1.0), cap, dt);
        assert!((m.length() - cap).abs() < 1e-12 * cap);
        let held = cap * cap / (2.0 * k);
        assert!((0.5 * roll.length_squared() - held).abs() < 1e-9 * held);
        let expected = 0.5 * trial - held;
        assert!(
            (cut - expected).abs() <= 1e-9 * expected,
            "{cut} vs {expected}"
        );
    }
}
