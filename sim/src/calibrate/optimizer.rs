//! The bounded Nelder–Mead optimiser (on the unit box, with restarts).

/// Nelder–Mead settings.
#[derive(Debug, Clone, Copy)]
pub struct NelderMeadOptions {
    /// Maximum number of objective evaluations.
    pub max_evals: usize,
    /// Initial simplex edge: vertex `j` is `x0 + step·e_j` (or `− step·e_j` when that leaves the
    /// box).
    pub initial_step: f64,
    /// Convergence: `max_i ‖x_i − x_best‖_∞ ≤ xtol` …
    pub xtol: f64,
    /// … and `max_i |f_i − f_best| ≤ ftol`.
    pub ftol: f64,
}

/// Outcome of [`nelder_mead`].
#[derive(Debug, Clone)]
pub struct NelderMeadResult {
    /// Best point found.
    pub x: Vec<f64>,
    /// Objective at `x`.
    pub f: f64,
    /// Objective evaluations used.
    pub evals: usize,
    /// Whether the tolerances were met (false: stopped at `max_evals`).
    pub converged: bool,
}

/// Minimises `f` over the box `[lower, upper]` with the Nelder–Mead simplex method (Nelder &
/// Mead 1965, *Comput. J.* 7:308) in the formulation of Lagarias et al. (1998, *SIAM J. Optim.*
/// 9:112): reflection ρ = 1, expansion χ = 2, contraction γ = ½ (outside and inside), shrink
/// σ = ½, ties broken by vertex order so the run is deterministic. Every trial point is projected
/// onto the box (clamped per coordinate). A non-finite objective counts as +∞, so a failed
/// evaluation is simply never accepted. Evaluations happen strictly one after another, in a
/// fixed order.
///
/// Projection can collapse the simplex onto a face of the box (or it can stagnate in a valley),
/// so after a converged run the search restarts from the best vertex with a fresh simplex, up to
/// [`NM_RESTARTS`] times, and stops when a restart improves the objective by no more than `ftol`
/// (restarts as the remedy for stagnation: Kelley 1999, *SIAM J. Optim.* 10:43). All runs share
/// the `max_evals` budget.
pub fn nelder_mead<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x0: &[f64],
    lower: &[f64],
    upper: &[f64],
    opts: &NelderMeadOptions,
) -> NelderMeadResult {
    let mut best = nm_run(&mut f, x0, (lower, upper), opts);
    let mut used = best.evals;
    for _ in 0..NM_RESTARTS {
        if !best.converged || used >= opts.max_evals {
            break;
        }
        let budget = NelderMeadOptions {
            max_evals: opts.max_evals - used,
            ..*opts
        };
        let r = nm_run(&mut f, &best.x.clone(), (lower, upper), &budget);
        used += r.evals;
        let improved = r.f < best.f - opts.ftol;
        if r.f < best.f {
            best.x = r.x;
            best.f = r.f;
        }
        best.converged = r.converged;
        if !improved {
            break;
        }
    }
    best.evals = used;
    best
}

/// Maximum number of restarts of [`nelder_mead`] after a converged run.
pub const NM_RESTARTS: usize = 3;

/// One Nelder–Mead run from `x0` (see [`nelder_mead`]).
pub(super) fn nm_run(
    f: &mut impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    (lower, upper): (&[f64], &[f64]),
    opts: &NelderMeadOptions,
) -> NelderMeadResult {
    let n = x0.len();
    let clamp = |x: &mut Vec<f64>| {
        for (k, v) in x.iter_mut().enumerate() {
            *v = v.max(lower[k]).min(upper[k]);
        }
    };
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let mut start = x0.to_vec();
    clamp(&mut start);
    let mut simplex: Vec<Vec<f64>> = vec![start.clone()];
    for j in 0..n {
        let mut v = start.clone();
        let h = opts.initial_step * (upper[j] - lower[j]).max(0.0);
        v[j] = if v[j] + h <= upper[j] {
            v[j] + h
        } else {
            v[j] - h
        };
        clamp(&mut v);
        simplex.push(v);
    }
    let mut fv: Vec<f64> = Vec::with_capacity(n + 1);
    for v in &simplex {
        if evals >= opts.max_evals {
            break;
        }
        fv.push(eval(v, &mut evals));
    }
    if fv.len() < simplex.len() {
        // Budget smaller than the first simplex: report the best evaluated vertex.
        let (i, &fb) =
            fv.iter()
                .enumerate()
                .fold((0, &f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
        return NelderMeadResult {
            x: simplex[i].clone(),
            f: fb,
            evals,
            converged: false,
        };
    }
    let (rho, chi, gamma, sigma) = (1.0, 2.0, 0.5, 0.5);
    let mut converged = false;
    loop {
        // Order: stable sort keeps earlier vertices first among ties.
        let mut idx: Vec<usize> = (0..=n).collect();
        idx.sort_by(|&a, &b| fv[a].total_cmp(&fv[b]));
        simplex = idx.iter().map(|&i| simplex[i].clone()).collect();
        fv = idx.iter().map(|&i| fv[i]).collect();
        let xspread = simplex[1..]
            .iter()
            .flat_map(|v| v.iter().zip(&simplex[0]).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        let fspread = fv[1..]
            .iter()
            .map(|v| (v - fv[0]).abs())
            .fold(0.0, f64::max);
        if xspread <= opts.xtol && fspread <= opts.ftol {
            converged = true;
            break;
        }
        if evals >= opts.max_evals {
            break;
        }
        let mut c = vec![0.0; n];
        for v in &simplex[..n] {
            for (ck, vk) in c.iter_mut().zip(v) {
                *ck += vk / n as f64;
            }
        }
        let along = |t: f64| -> Vec<f64> {
            let mut p: Vec<f64> = c
                .iter()
                .zip(&simplex[n])
                .map(|(ck, wk)| ck + t * (ck - wk))
                .collect();
            clamp(&mut p);
            p
        };
        let xr = along(rho);
        let fr = eval(&xr, &mut evals);
        if fr < fv[0] {
            if evals >= opts.max_evals {
                simplex[n] = xr;
                fv[n] = fr;
                continue;
            }
            let xe = along(rho * chi);
            let fe = eval(&xe, &mut evals);
            if fe < fr {
                simplex[n] = xe;
                fv[n] = fe;
            } else {
                simplex[n] = xr;
                fv[n] = fr;
            }
        } else if fr < fv[n - 1] {
            simplex[n] = xr;
            fv[n] = fr;
        } else {
            if evals >= opts.max_evals {
                if fr < fv[n] {
                    simplex[n] = xr;
                    fv[n] = fr;
                }
                continue;
            }
            let outside = fr < fv[n];
            let xc = if outside {
                along(rho * gamma)
            } else {
                along(-gamma)
            };
            let fc = eval(&xc, &mut evals);
            if (outside && fc <= fr) || (!outside && fc < fv[n]) {
                simplex[n] = xc;
                fv[n] = fc;
            } else {
                // Shrink towards the best vertex.
                for i in 1..=n {
                    if evals >= opts.max_evals {
                        break;
                    }
                    let mut v: Vec<f64> = simplex[0]
                        .iter()
                        .zip(&simplex[i])
                        .map(|(b, x)| b + sigma * (x - b))
                        .collect();
                    clamp(&mut v);
                    fv[i] = eval(&v, &mut evals);
                    simplex[i] = v;
                }
            }
        }
    }
    NelderMeadResult {
        x: simplex[0].clone(),
        f: fv[0],
        evals,
        converged,
    }
}
