//! The five sweep charts, each written as SVG, PNG and the CSV of exactly what is plotted:
//!
//! | file stem | x | y | error bars |
//! |---|---|---|---|
//! | `sigma_ion_vs_x` | plot x (default wt% PTFE) | σ_ion, S/cm (log) | 95% CI of the mean |
//! | `strength_vs_x` | plot x | tensile strength, kPa | 95% CI of the mean |
//! | `spanning_vs_x` | plot x | P(PTFE spans) | Wilson 95% interval |
//! | `sigma_e_vs_x` | plot x | σ_e, S/cm (log) | 95% CI of the mean |
//! | `tradeoff` | strength, kPa | σ_ion, S/cm (log) | both CIs; points labelled by x |
//!
//! Points are grouped into series by the values of the other swept axes. Measured points
//! ([`MeasuredSet`](super::measured::MeasuredSet)) are overlaid as diamonds. On the trade-off
//! chart, the strength range of the points whose spanning probability is ≥ 0.5 (PTFE likely
//! spans the film: short circuit against a Na or Na–Sn anode, domain brief §2) is shaded.
//!
//! Each chart is a [`ChartSpec`] (what is drawn, in data units) drawn by [`super::plot`].

use std::path::Path;

use super::measured::{MeasuredSet, Product, Quantity};
use super::plot::{AxisSpec, Band, ChartSpec, Color, Measured, Point, Series, PALETTE};
use super::spec::value_text;
use super::stats::wilson95;
use super::table::{fmt_f64, Merged};
use super::{write_atomic, SweepError};
use crate::fileio::csv_text;

/// One plotted simulated point.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotPoint {
    /// Series label ("" for a single series).
    pub series: String,
    /// Point index.
    pub point: usize,
    /// x.
    pub x: f64,
    /// y (mean or proportion).
    pub y: f64,
    /// Error bar low end (NaN: none).
    pub lo: f64,
    /// Error bar high end (NaN: none).
    pub hi: f64,
    /// Number of runs behind the value.
    pub n: usize,
}

/// Series label of a point: the values of the swept axes other than `x_key`.
fn series_of(m: &Merged, point: usize, x_key: &str) -> String {
    m.manifest
        .axis_paths
        .iter()
        .zip(&m.manifest.points[point].values)
        .filter(|(p, _)| p.as_str() != x_key)
        .map(|(p, v)| format!("{}={}", p.rsplit('.').next().unwrap_or(p), value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The points of a property chart: mean ± 95% CI of `key` (or the Wilson interval of its
/// proportion of ones when `proportion`) against the x key.
pub fn property_points(m: &Merged, key: &str, proportion: bool) -> Vec<PlotPoint> {
    let x_key = &m.manifest.plots.x;
    (0..m.manifest.points.len())
        .filter_map(|p| {
            let st = m.by_point[p].get(key)?;
            let x = m.point_value(p, x_key)?;
            let (y, lo, hi) = if proportion {
                let (lo, hi) = wilson95(st.ones, st.n);
                (st.ones as f64 / st.n as f64, lo, hi)
            } else {
                (st.mean, st.ci_lo, st.ci_hi)
            };
            Some(PlotPoint {
                series: series_of(m, p, x_key),
                point: p,
                x,
                y,
                lo,
                hi,
                n: st.n,
            })
        })
        .collect()
}

/// Series names in order of first appearance (point order), each with its palette colour.
fn series_colors(points: &[PlotPoint]) -> Vec<(String, Color)> {
    let mut names: Vec<&String> = Vec::new();
    for p in points {
        if !names.contains(&&p.series) {
            names.push(&p.series);
        }
    }
    names
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), PALETTE[i % PALETTE.len()]))
        .collect()
}

fn points_csv(points: &[PlotPoint], x_name: &str, y_name: &str) -> String {
    let header: Vec<String> = ["series", "point", x_name, y_name, "lo", "hi", "n"]
        .map(str::to_string)
        .to_vec();
    let rows = points.iter().map(|p| {
        let mut row = point_cells(p);
        row.push(p.n.to_string());
        row
    });
    csv_text(&header, rows)
}

/// The CSV cells of a point: series, point id, x, y, y interval (lo, hi).
fn point_cells(p: &PlotPoint) -> Vec<String> {
    vec![
        p.series.clone(),
        p.point.to_string(),
        fmt_f64(p.x),
        fmt_f64(p.y),
        fmt_f64(p.lo),
        fmt_f64(p.hi),
    ]
}

/// The y interval of a point, if it has one.
fn interval(lo: f64, hi: f64) -> Option<(f64, f64)> {
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

/// The simulated series of a chart: one per series label, points with their y intervals.
fn series(points: &[PlotPoint], line: bool) -> Vec<Series> {
    series_colors(points)
        .into_iter()
        .map(|(name, color)| Series {
            label: if name.is_empty() {
                "simulated (mean, 95% CI)".into()
            } else {
                name.clone()
            },
            color,
            line,
            points: points
                .iter()
                .filter(|p| p.series == name)
                .map(|p| Point {
                    x: p.x,
                    y: p.y,
                    y_err: interval(p.lo, p.hi),
                    x_err: None,
                    label: None,
                })
                .collect(),
        })
        .collect()
}

/// What one chart needs.
struct PropertyChart<'a> {
    stem: &'a str,
    title: &'a str,
    y_label: &'a str,
    key: &'a str,
    log: bool,
    proportion: bool,
    quantity: Quantity,
}

fn property_chart(
    m: &Merged,
    c: &PropertyChart<'_>,
    measured: Option<&MeasuredSet>,
) -> Option<(ChartSpec, String)> {
    let pts = property_points(m, c.key, c.proportion);
    if pts.is_empty() {
        return None;
    }
    let meas: Vec<(f64, f64, Product)> = measured
        .map(|ms| {
            ms.of(c.quantity)
                .map(|p| (p.wt_pct, p.value, p.product))
                .collect()
        })
        .unwrap_or_default();
    let x_is_wt = m.manifest.plots.x.ends_with("wt_pct");
    let mut xs: Vec<f64> = pts.iter().map(|p| p.x).collect();
    let mut ys: Vec<f64> = pts.iter().flat_map(|p| [p.y, p.lo, p.hi]).collect();
    if x_is_wt {
        xs.extend(meas.iter().map(|m| m.0));
        ys.extend(meas.iter().map(|m| m.1));
    }
    let x_label = if x_is_wt {
        "PTFE loading (wt%)".to_string()
    } else {
        m.manifest.plots.x.clone()
    };
    let xa = AxisSpec::fit(&x_label, &xs, false);
    let mut ya = AxisSpec::fit(c.y_label, &ys, c.log);
    if c.proportion {
        ya = AxisSpec {
            label: c.y_label.into(),
            min: -0.05,
            max: 1.05,
            log: false,
        };
    }
    let mut measured_sets = Vec::new();
    if x_is_wt {
        for (prod, label, color) in [
            (Product::Film, "measured (film)", Color::RED),
            (Product::Pellet, "measured (pellet)", Color::PURPLE),
        ] {
            let points: Vec<(f64, f64, Option<String>)> = meas
                .iter()
                .filter(|m| m.2 == prod)
                .map(|m| (m.0, m.1, None))
                .collect();
            if !points.is_empty() {
                measured_sets.push(Measured {
                    label: label.into(),
                    color,
                    points,
                });
            }
        }
    }
    let spec = ChartSpec {
        title: format!("{}: {}", m.manifest.name, c.title),
        x: xa,
        y: ya,
        series: series(&pts, true),
        measured: measured_sets,
        band: None,
    };
    let csv = points_csv(&pts, &m.manifest.plots.x, c.key);
    Some((spec, csv))
}

/// The trade-off chart: per point (strength, σ_ion, P(span)) with both CIs, labelled by x.
fn tradeoff(m: &Merged, measured: Option<&MeasuredSet>) -> Option<(ChartSpec, String)> {
    let k = &m.manifest.plots;
    let st = property_points(m, &k.strength, false);
    let sg = property_points(m, &k.sigma_ion, false);
    let sp = property_points(m, &k.spanning, true);
    let rows: Vec<(&PlotPoint, &PlotPoint, Option<&PlotPoint>)> = st
        .iter()
        .filter_map(|a| {
            let b = sg.iter().find(|b| b.point == a.point)?;
            Some((a, b, sp.iter().find(|c| c.point == a.point)))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut xs: Vec<f64> = rows.iter().flat_map(|r| [r.0.y, r.0.lo, r.0.hi]).collect();
    let mut ys: Vec<f64> = rows.iter().flat_map(|r| [r.1.y, r.1.lo, r.1.hi]).collect();
    let meas: Vec<(f64, f64, f64)> = measured
        .map(|ms| {
            ms.of(Quantity::Strength)
                .filter_map(|s| {
                    ms.of(Quantity::SigmaIon)
                        .find(|g| g.wt_pct == s.wt_pct && g.product == s.product)
                        .map(|g| (s.wt_pct, s.value, g.value))
                })
                .collect()
        })
        .unwrap_or_default();
    xs.extend(meas.iter().map(|m| m.1));
    ys.extend(meas.iter().map(|m| m.2));
    let xa = AxisSpec::fit("tensile strength (kPa)", &xs, false);
    let ya = AxisSpec::fit("σ_ion (S/cm)", &ys, true);

    // Short-circuit region: the strengths above which every simulated point shorts (P ≥ 0.5): from
    // midway between the strongest safe point and the weakest shorting point stronger than all safe
    // points to the right edge. With a strength that is not monotonic in the swept parameter a
    // shorting point may lie below a safe one; it is then outside the band, and its label says
    // that it shorts.
    let shorting =
        |r: &(&PlotPoint, &PlotPoint, Option<&PlotPoint>)| r.2.is_some_and(|c| c.y >= 0.5);
    let safe_max = rows
        .iter()
        .filter(|r| !shorting(r))
        .map(|r| r.0.y)
        .fold(f64::NEG_INFINITY, f64::max);
    let first_short = rows
        .iter()
        .filter(|r| shorting(r) && r.0.y > safe_max)
        .map(|r| r.0.y)
        .fold(f64::INFINITY, f64::min);
    let band = first_short.is_finite().then(|| Band {
        x0: if safe_max.is_finite() {
            0.5 * (safe_max + first_short)
        } else {
            xa.min
        },
        x1: xa.max,
        color: Color::RED,
        label: "short-circuit risk: P(PTFE spans) ≥ 0.5".into(),
    });
    let region = band.as_ref().map(|b| fmt_f64(b.x0)).unwrap_or_default();
    let x_is_wt = k.x.ends_with("wt_pct");
    let pts: Vec<PlotPoint> = rows.iter().map(|r| r.0.clone()).collect();
    let mut sets = series(&pts, false);
    for set in &mut sets {
        set.points.clear();
    }
    for (a, b, c) in &rows {
        let mut label = if x_is_wt {
            format!("{} wt%", fmt_num(a.x))
        } else {
            fmt_num(a.x)
        };
        if let Some(p) = c.filter(|p| p.y >= 0.5) {
            label += &format!(" (shorts, P = {:.2})", p.y);
        }
        let name = if a.series.is_empty() {
            "simulated (mean, 95% CI)"
        } else {
            a.series.as_str()
        };
        if let Some(set) = sets.iter_mut().find(|s| s.label == name) {
            set.points.push(Point {
                x: a.y,
                y: b.y,
                y_err: interval(b.lo, b.hi),
                x_err: interval(a.lo, a.hi),
                label: Some(label),
            });
        }
    }
    let measured_film: Vec<(f64, f64, Option<String>)> = meas
        .iter()
        .map(|&(w, s, g)| (s, g, Some(format!("{} wt% (measured)", fmt_num(w)))))
        .collect();
    let spec = ChartSpec {
        title: format!("{}: conductivity vs strength", m.manifest.name),
        x: xa,
        y: ya,
        series: sets,
        measured: if measured_film.is_empty() {
            Vec::new()
        } else {
            vec![Measured {
                label: "measured (film)".into(),
                color: Color::RED,
                points: measured_film,
            }]
        },
        band,
    };
    let header: Vec<String> = [
        "series",
        "point",
        k.x.as_str(),
        "strength",
        "strength_lo",
        "strength_hi",
        "sigma_ion",
        "sigma_ion_lo",
        "sigma_ion_hi",
        "p_span",
        "short_region_from",
    ]
    .map(str::to_string)
    .to_vec();
    let csv_rows = rows.iter().map(|(a, b, c)| {
        let mut row = point_cells(a);
        row.extend([
            fmt_f64(b.y),
            fmt_f64(b.lo),
            fmt_f64(b.hi),
            c.map(|c| fmt_f64(c.y)).unwrap_or_default(),
            region.clone(),
        ]);
        row
    });
    Some((spec, csv_text(&header, csv_rows)))
}

/// The x key of the property charts: `plots.x` if it is a swept path or a numeric result
/// field, else the first swept axis whose values are all numbers, else None.
pub fn resolve_x(m: &Merged) -> Option<String> {
    let x = &m.manifest.plots.x;
    if m.manifest.axis_paths.contains(x) || m.numeric.contains(x) {
        return Some(x.clone());
    }
    m.manifest
        .axis_paths
        .iter()
        .enumerate()
        .find(|(a, _)| m.manifest.points.iter().all(|p| p.values[*a].is_number()))
        .map(|(_, p)| p.clone())
}

/// A short label for a number (shortest round-trip text, no trailing `.0`).
fn fmt_num(x: f64) -> String {
    let s = format!("{x}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Draws every chart into `dir` (created). Returns the files written and the charts skipped
/// (with the reason).
pub fn write_all(m: &Merged, dir: &Path) -> Result<(Vec<String>, Vec<String>), SweepError> {
    let mut notes = Vec::new();
    let resolved;
    let m = match resolve_x(m) {
        Some(x) if x != m.manifest.plots.x => {
            notes.push(format!(
                "note: x {:?} is neither swept nor a result; plotting against {x:?}",
                m.manifest.plots.x
            ));
            let mut c = m.clone();
            c.manifest.plots.x = x;
            resolved = c;
            &resolved
        }
        _ => m,
    };
    let k = &m.manifest.plots;
    let measured = m.manifest.measured.as_ref();
    let specs = [
        PropertyChart {
            stem: "sigma_ion_vs_x",
            title: "Na+ conductivity",
            y_label: "σ_ion (S/cm)",
            key: &k.sigma_ion,
            log: true,
            proportion: false,
            quantity: Quantity::SigmaIon,
        },
        PropertyChart {
            stem: "strength_vs_x",
            title: "tensile strength",
            y_label: "tensile strength (kPa)",
            key: &k.strength,
            log: false,
            proportion: false,
            quantity: Quantity::Strength,
        },
        PropertyChart {
            stem: "spanning_vs_x",
            title: "PTFE spanning probability",
            y_label: "P(PTFE spans the film)",
            key: &k.spanning,
            log: false,
            proportion: true,
            quantity: Quantity::Spanning,
        },
        PropertyChart {
            stem: "sigma_e_vs_x",
            title: "electronic conductivity after reduction",
            y_label: "σ_e (S/cm)",
            key: &k.sigma_e,
            log: true,
            proportion: false,
            quantity: Quantity::SigmaE,
        },
    ];
    let mut written = Vec::new();
    let mut skipped = notes;
    type Drawn<'a> = (&'a str, Option<(ChartSpec, String)>, String);
    let mut charts: Vec<Drawn<'_>> = specs
        .iter()
        .map(|c| {
            (
                c.stem,
                property_chart(m, c, measured),
                format!(
                    "no numeric result field {:?} or no numeric x {:?}",
                    c.key, k.x
                ),
            )
        })
        .collect();
    charts.push((
        "tradeoff",
        tradeoff(m, measured),
        format!("needs result fields {:?} and {:?}", k.strength, k.sigma_ion),
    ));
    std::fs::create_dir_all(dir).map_err(super::io_err(dir))?;
    for (stem, chart, why) in charts {
        let Some((fig, csv)) = chart else {
            skipped.push(format!("{stem}: {why}"));
            continue;
        };
        let plot_err = |message| SweepError::Plot {
            name: stem.into(),
            message,
        };
        let png = fig.to_png().map_err(plot_err)?;
        let svg = fig.to_svg().map_err(plot_err)?;
        write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        write_atomic(&dir.join(format!("{stem}.png")), &png)?;
        write_atomic(&dir.join(format!("{stem}.csv")), csv.as_bytes())?;
        written.extend(["svg", "png", "csv"].map(|e| format!("{stem}.{e}")));
    }
    Ok((written, skipped))
}
