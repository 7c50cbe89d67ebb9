//! The short table a merged sweep ends with: one line per point, its swept values and the means
//! over seeds of the results an engineer reads first (from `summary_by_point.csv`).

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;

use dryfilm_sim::sweep::table::read_csv;

/// (column in `summary_by_point.csv`, header).
const SHOWN: [(&str, &str); 5] = [
    ("sigma_ion_S_cm.mean", "σ_ion (S/cm)"),
    ("tensile_strength_md_kPa.mean", "MD strength (kPa)"),
    ("short_circuit.mean", "P(short)"),
    ("sigma_e_S_cm.mean", "σ_e (S/cm)"),
    ("thickness_um.mean", "thickness (µm)"),
];

/// Print the table for the merged sweep in `dir` to stdout, with where the outputs are. Prints
/// nothing if `summary_by_point.csv` is missing or unreadable (the merge already reported why).
pub fn print(dir: &Path) {
    let Ok((header, rows)) = read_csv(&dir.join("summary_by_point.csv")) else {
        return;
    };
    let cols: Vec<&str> = header.iter().map(String::as_str).collect();
    let Some(n_runs) = cols.iter().position(|c| *c == "n_runs") else {
        return;
    };
    // Swept parameters sit between `point` and `n_runs`.
    let swept: Vec<usize> = (1..n_runs).collect();
    let shown: Vec<(usize, &str)> = SHOWN
        .iter()
        .filter_map(|(c, h)| cols.iter().position(|x| x == c).map(|k| (k, *h)))
        .collect();
    println!("Results in {}", dir.display());
    println!(
        "  summary.csv (every run), summary_by_point.csv (mean, sd, 95% CI), plots/ (PNG, SVG, CSV)"
    );
    println!();
    let mut head = format!("  {:>5}", "point");
    for &k in &swept {
        head += &format!("  {:>18}", cols[k]);
    }
    head += &format!("  {:>6}", "seeds");
    for (_, h) in &shown {
        head += &format!("  {h:>17}");
    }
    println!("{head}");
    for v in &rows {
        if v.len() != cols.len() {
            return;
        }
        let mut row = format!("  {:>5}", v[0]);
        for &k in &swept {
            row += &format!("  {:>18}", v[k]);
        }
        row += &format!("  {:>6}", v[n_runs]);
        for (k, h) in &shown {
            let cell = match v[*k].parse::<f64>() {
                Ok(x) if h.starts_with("σ") => format!("{x:.3e}"),
                Ok(x) if h.starts_with('P') => format!("{x:.2}"),
                Ok(x) => format!("{x:.1}"),
                Err(_) => v[*k].to_string(),
            };
            row += &format!("  {cell:>17}");
        }
        println!("{row}");
    }
    println!();
    println!(
        "  σ_ion: Na+ conductivity through the film (what the cell sees); MD strength: handling"
    );
    println!(
        "  strength along the machine direction; P(short): fraction of seeds whose reduced PTFE"
    );
    println!("  connects the faces; σ_e: electronic leakage after reduction against a Na anode.");
}

/// The progress bar of a batch of runs (`N/M runs`, elapsed time and ETA) on stderr, or a hidden
/// one when `quiet` or stderr is not a terminal.
pub fn runs_bar(quiet: bool) -> anyhow::Result<indicatif::ProgressBar> {
    let bar = indicatif::ProgressBar::hidden();
    if !quiet && std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs  {elapsed_precise} elapsed  ETA {eta_precise}  {msg}",
            )
            .context("progress bar template")?,
        );
    }
    Ok(bar)
}
