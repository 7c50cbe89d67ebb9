//! The convergence table: the quantities compared, the seed-paired change of each under a
//! setting with its standard error and verdict, and the Markdown it is written as.

use serde::Serialize;

use super::Setting;
use crate::results::RunResult;
use crate::sweep::stats::{mean, std_dev};

/// How a quantity's change is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scale {
    /// Relative to the baseline mean; PASS below max(5 %, 2 SE).
    Relative,
    /// A probability (0/1 per seed), absolute; PASS below max(0.1, 2 SE).
    Probability,
}

/// A quantity of the table: its column title, scale and how to read it from a result (None
/// when the run has no value, e.g. a tensile test that was not run).
pub struct Quantity {
    /// Column title.
    pub title: &'static str,
    /// How the change is measured.
    pub scale: Scale,
    /// The value of one run.
    pub read: fn(&RunResult) -> Option<f64>,
}

/// The quantities compared: σ_ion through the film (S/cm), MD tensile strength (kPa), PTFE
/// spanning (probability), σ_e after reduction (S/cm), intact fibril bundles (count), fibrillated
/// PTFE fraction (–) and film thickness (µm).
pub fn quantities() -> Vec<Quantity> {
    vec![
        Quantity {
            title: "σ_ion",
            scale: Scale::Relative,
            read: |r| Some(r.sigma_ion_s_cm).filter(|x| x.is_finite()),
        },
        Quantity {
            title: "strength MD",
            scale: Scale::Relative,
            read: |r| r.tensile_strength_md_kpa.filter(|x| x.is_finite()),
        },
        Quantity {
            title: "spanning",
            scale: Scale::Probability,
            read: |r| Some(f64::from(u8::from(r.ptfe_spanning))),
        },
        Quantity {
            title: "σ_e",
            scale: Scale::Relative,
            read: |r| Some(r.sigma_e_s_cm).filter(|x| x.is_finite()),
        },
        Quantity {
            title: "fibrils",
            scale: Scale::Relative,
            read: |r| Some(r.fibril_count as f64),
        },
        Quantity {
            title: "fibrillated",
            scale: Scale::Relative,
            read: |r| Some(r.ptfe_fibrillated_fraction).filter(|x| x.is_finite()),
        },
        Quantity {
            title: "thickness",
            scale: Scale::Relative,
            read: |r| Some(r.thickness_um).filter(|x| x.is_finite()),
        },
    ]
}

/// The change of one quantity under one setting, from the seed-paired differences.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Change {
    /// Baseline mean over the paired seeds (the quantity's unit).
    pub baseline_mean: f64,
    /// The setting's mean over the paired seeds (the quantity's unit).
    pub mean: f64,
    /// Change: relative (fraction of the baseline mean) or, for a probability, absolute.
    pub change: f64,
    /// Standard error of the change, in the same scale.
    pub standard_error: f64,
    /// Seeds paired (runs of both settings with a value).
    pub seeds: usize,
    /// |change| < max(tolerance, 2 standard errors): 5 % relative, 0.1 in probability.
    pub pass: bool,
}

impl Change {
    /// Compares paired values `(baseline, setting)` on `scale`; None with fewer than 2 pairs.
    pub fn of(pairs: &[(f64, f64)], scale: Scale) -> Option<Self> {
        let n = pairs.len();
        if n < 2 {
            return None;
        }
        let b: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let x: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let d: Vec<f64> = pairs.iter().map(|p| p.1 - p.0).collect();
        let (mb, md) = (mean(&b), mean(&d));
        let se_d = std_dev(&d) / (n as f64).sqrt();
        let (change, standard_error, tolerance) = match scale {
            Scale::Probability => (md, se_d, 0.1_f64),
            Scale::Relative if md == 0.0 => (0.0, se_d / mb.abs().max(f64::MIN_POSITIVE), 0.05),
            Scale::Relative => (md / mb.abs(), se_d / mb.abs(), 0.05),
        };
        Some(Self {
            baseline_mean: mb,
            mean: mean(&x),
            change,
            standard_error,
            seeds: n,
            pass: change.abs() < tolerance.max(2.0 * standard_error),
        })
    }

    /// Whether the change is known well enough: standard error ≤ 0.10 (10 %, or 0.1 in
    /// probability), so that the table can see a 20 % shift.
    pub fn precise(&self) -> bool {
        self.standard_error <= 0.10
    }
}

/// One row of the table: a setting and the change of every quantity (None: too few values).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The setting.
    pub setting: Setting,
    /// Seeds run with this setting.
    pub seeds: Vec<u64>,
    /// Runs of this setting that warned (a relaxation stopped at its cap, ...).
    pub runs_with_warnings: usize,
    /// Per quantity, in [`quantities`] order.
    pub changes: Vec<Option<Change>>,
}

/// The convergence table of one base scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The base scenario, as given.
    pub scenario: String,
    /// Column titles, in [`quantities`] order.
    pub quantities: Vec<String>,
    /// Baseline seeds and mean of every quantity (its unit).
    pub baseline_seeds: Vec<u64>,
    /// Baseline runs that warned.
    pub baseline_runs_with_warnings: usize,
    /// Baseline mean of every quantity over its seeds (the quantity's unit; None: no value).
    pub baseline_means: Vec<Option<f64>>,
    /// The rows, one per changed knob.
    pub rows: Vec<Row>,
}

impl Table {
    /// Whether every change passes.
    pub fn all_pass(&self) -> bool {
        self.rows
            .iter()
            .all(|r| r.changes.iter().flatten().all(|c| c.pass))
    }

    /// The table as Markdown: one row per knob, cells `change ± standard error` and PASS/FAIL
    /// (`*` marks a standard error above 10 %: more seeds needed to see a 20 % shift).
    pub fn markdown(&self, command: &str) -> String {
        let q = quantities();
        let mut s = format!(
            "### {}\n\nMade by `{command}`. Baseline: {} seeds ({}), {} of them with warnings.\n\n",
            self.scenario,
            self.baseline_seeds.len(),
            seed_text(&self.baseline_seeds),
            self.baseline_runs_with_warnings
        );
        s.push_str("| knob | seeds |");
        for t in &self.quantities {
            s.push_str(&format!(" {t} |"));
        }
        s.push_str("\n|---|---|");
        s.push_str(&"---|".repeat(self.quantities.len()));
        s.push_str("\n| baseline mean | |");
        for (k, m) in self.baseline_means.iter().enumerate() {
            let cell = m.map_or("–".to_string(), |m| number(m, q[k].scale));
            s.push_str(&format!(" {cell} |"));
        }
        s.push('\n');
        for r in &self.rows {
            s.push_str(&format!("| {} | {} |", r.setting.knob, r.seeds.len()));
            for (k, c) in r.changes.iter().enumerate() {
                s.push_str(&format!(" {} |", cell(c.as_ref(), q[k].scale)));
            }
            s.push('\n');
        }
        let warned: usize = self.rows.iter().map(|r| r.runs_with_warnings).sum();
        s.push_str(&format!(
            "\nRuns with warnings outside the baseline: {warned}. Overall: {}.\n",
            if self.all_pass() {
                "every knob PASSES"
            } else {
                "at least one knob FAILS"
            }
        ));
        s
    }
}

fn seed_text(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.len() as u64 == b - a + 1 => format!("{a}–{b}"),
        _ => format!("{seeds:?}"),
    }
}

fn number(x: f64, scale: Scale) -> String {
    match scale {
        Scale::Probability => format!("{x:.2}"),
        Scale::Relative => format!("{x:.3e}"),
    }
}

fn cell(c: Option<&Change>, scale: Scale) -> String {
    let Some(c) = c else {
        return "–".into();
    };
    let verdict = if c.pass { "PASS" } else { "**FAIL**" };
    let star = if c.precise() { "" } else { "*" };
    match scale {
        Scale::Probability => format!("{:+.2} ± {:.2}{star} {verdict}", c.change, c.standard_error),
        Scale::Relative => format!(
            "{:+.1}% ± {:.1}%{star} {verdict}",
            100.0 * c.change,
            100.0 * c.standard_error
        ),
    }
}
