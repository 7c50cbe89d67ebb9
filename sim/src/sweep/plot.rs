//! Charts as data ([`ChartSpec`]: axes, series of points with error bars, measured points, a
//! shaded band) drawn by the `plotters` crate, SVG and PNG from the same description
//! ([`ChartSpec::to_svg`], [`ChartSpec::to_png`]). Text uses the Ubuntu Light font shipped by
//! `epaint_default_fonts` (registered once with plotters' `ab_glyph` backend), so the output does
//! not depend on the fonts of the machine.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color as _;

/// Width of every chart, px.
pub const WIDTH: u32 = 800;
/// Height of every chart, px.
pub const HEIGHT: u32 = 560;
/// Radius of a simulated point's marker, px.
pub const MARKER_RADIUS: i32 = 5;
/// Half diagonal of a measured point's diamond, px.
pub const DIAMOND: i32 = 7;
/// The font family registered for charts.
const FONT: &str = "sans-serif";

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// Black.
    pub const BLACK: Color = Color(0, 0, 0);
    /// Red (short-circuit region, measured film points).
    pub const RED: Color = Color(200, 30, 30);
    /// Purple (measured pellet points).
    pub const PURPLE: Color = Color(120, 0, 160);

    fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// A colour-blind-safe palette (Okabe & Ito 2008) for series.
pub const PALETTE: [Color; 7] = [
    Color(0, 114, 178),
    Color(230, 159, 0),
    Color(0, 158, 115),
    Color(204, 121, 167),
    Color(86, 180, 233),
    Color(213, 94, 0),
    Color(100, 100, 100),
];

/// One chart axis.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisSpec {
    /// Label (with unit).
    pub label: String,
    /// Lower end of the range, in data units.
    pub min: f64,
    /// Upper end of the range, in data units.
    pub max: f64,
    /// Logarithmic (base 10) scale; needs `0 < min < max`.
    pub log: bool,
}

impl AxisSpec {
    /// An axis fitted to `values` (non-finite values ignored; for a log axis, non-positive ones
    /// too), padded by 6% of the span (linear) or 0.15 decade (log). A log axis with no positive
    /// value falls back to linear.
    pub fn fit(label: &str, values: &[f64], log: bool) -> Self {
        let v: Vec<f64> = values
            .iter()
            .copied()
            .filter(|x| x.is_finite() && (!log || *x > 0.0))
            .collect();
        let axis = |min, max, log| Self {
            label: label.into(),
            min,
            max,
            log,
        };
        if v.is_empty() {
            return if log {
                Self::fit(label, values, false)
            } else {
                axis(0.0, 1.0, false)
            };
        }
        let lo = v.iter().copied().fold(f64::MAX, f64::min);
        let hi = v.iter().copied().fold(f64::MIN, f64::max);
        if log {
            let (a, b) = (lo.log10() - 0.15, hi.log10() + 0.15);
            axis(10f64.powf(a), 10f64.powf(b), true)
        } else {
            let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
            axis(lo - 0.06 * span, hi + 0.06 * span, false)
        }
    }

    /// Whether `v` lies on the axis (inside its range; positive on a log axis).
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && v >= self.min && v <= self.max && (!self.log || v > 0.0)
    }
}

/// A simulated point: the mean with its interval along y (and x).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// x, data units.
    pub x: f64,
    /// y, data units.
    pub y: f64,
    /// Interval along y (low, high), if any.
    pub y_err: Option<(f64, f64)>,
    /// Interval along x (low, high), if any.
    pub x_err: Option<(f64, f64)>,
    /// Text written beside the marker.
    pub label: Option<String>,
}

/// A series of simulated points in one colour, joined by a line if `line`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Colour of markers, bars and line.
    pub color: Color,
    /// Join the points (in x order) by a line.
    pub line: bool,
    /// The points.
    pub points: Vec<Point>,
}

/// Measured points drawn as diamonds.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Legend label.
    pub label: String,
    /// Fill colour.
    pub color: Color,
    /// (x, y, text written beside it).
    pub points: Vec<(f64, f64, Option<String>)>,
}

/// A shaded band over an x range, the full height of the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Left end, data units.
    pub x0: f64,
    /// Right end, data units.
    pub x1: f64,
    /// Colour (drawn translucent).
    pub color: Color,
    /// Text written at the band's top left.
    pub label: String,
}

/// A whole chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// Title.
    pub title: String,
    /// x axis.
    pub x: AxisSpec,
    /// y axis.
    pub y: AxisSpec,
    /// Simulated series.
    pub series: Vec<Series>,
    /// Measured points, one entry per legend entry.
    pub measured: Vec<Measured>,
    /// Shaded x range, drawn under everything else.
    pub band: Option<Band>,
}

/// Registers the chart font with plotters (once per process).
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let font = epaint_default_fonts::UBUNTU_LIGHT;
        if plotters::style::register_font(FONT, FontStyle::Normal, font).is_err() {
            panic!("the Ubuntu Light font shipped by epaint_default_fonts must parse");
        }
    });
}

impl ChartSpec {
    /// The chart as SVG text.
    pub fn to_svg(&self) -> Result<String, String> {
        register_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg)
    }

    /// The chart as PNG bytes (8-bit RGB).
    pub fn to_png(&self) -> Result<Vec<u8>, String> {
        register_font();
        let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| e.to_string())?;
        }
        let img = image::RgbImage::from_raw(WIDTH, HEIGHT, rgb).ok_or("PNG buffer size")?;
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        Ok(out.into_inner())
    }

    /// Draws the chart on `root` (linear or log y).
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let xr = self.x.min..self.x.max;
        if self.y.log {
            let ticks = log_ticks(self.y.min, self.y.max);
            let yr = (self.y.min..self.y.max).log_scale().with_key_points(ticks);
            self.draw_on(root, xr, yr)
        } else {
            self.draw_on(root, xr, self.y.min..self.y.max)
        }
    }

    fn draw_on<DB, Y>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        xr: std::ops::Range<f64>,
        yr: Y,
    ) -> Result<(), String>
    where
        DB: DrawingBackend,
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(84)
            .build_cartesian_2d(xr, yr)
            .map_err(err)?;
        let y_log = self.y.log;
        chart
            .configure_mesh()
            .x_desc(&self.x.label)
            .y_desc(&self.y.label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(10)
            .y_labels(10)
            .x_label_formatter(&|v| tick_label(*v, false))
            .y_label_formatter(&|v| tick_label(*v, y_log))
            .draw()
            .map_err(err)?;
        if let Some(b) = &self.band {
            let fill = b.color.rgb().mix(0.12).filled();
            let (y0, y1) = (self.y.min, self.y.max);
            chart
                .draw_series([Rectangle::new([(b.x0, y0), (b.x1, y1)], fill)])
                .map_err(err)?;
            let text = Text::new(
                b.label.clone(),
                (6, -22),
                (FONT, 14).into_font().color(&b.color.rgb()),
            );
            chart
                .draw_series([EmptyElement::at((b.x0, y0)) + text])
                .map_err(err)?;
        }
        for s in &self.series {
            let c = s.color.rgb();
            let on: Vec<&Point> = s
                .points
                .iter()
                .filter(|p| self.x.contains(p.x) && self.y.contains(p.y))
                .collect();
            if s.line {
                let mut line: Vec<(f64, f64)> = on.iter().map(|p| (p.x, p.y)).collect();
                line.sort_by(|a, b| a.0.total_cmp(&b.0));
                chart
                    .draw_series(LineSeries::new(line, c.stroke_width(2)))
                    .map_err(err)?;
            }
            let bars_y = on.iter().filter_map(|p| {
                let (lo, hi) = p.y_err?;
                let (lo, hi) = (lo.max(self.y.min), hi.min(self.y.max));
                (lo.is_finite() && hi.is_finite() && lo < hi && (!self.y.log || lo > 0.0))
                    .then(|| ErrorBar::new_vertical(p.x, lo, p.y, hi, c.stroke_width(1), 8))
            });
            chart.draw_series(bars_y).map_err(err)?;
            let bars_x = on.iter().filter_map(|p| {
                let (lo, hi) = p.x_err?;
                let (lo, hi) = (lo.max(self.x.min), hi.min(self.x.max));
                (lo.is_finite() && hi.is_finite() && lo < hi)
                    .then(|| ErrorBar::new_horizontal(p.y, lo, p.x, hi, c.stroke_width(1), 8))
            });
            chart.draw_series(bars_x).map_err(err)?;
            let marker = move |(x, y): (i32, i32)| Circle::new((x, y), MARKER_RADIUS, c.filled());
            chart
                .draw_series(
                    on.iter()
                        .map(|p| Circle::new((p.x, p.y), MARKER_RADIUS, c.filled())),
                )
                .map_err(err)?
                .label(&s.label)
                .legend(marker);
        }
        for m in &self.measured {
            let c = m.color.rgb();
            let on: Vec<&(f64, f64, Option<String>)> = m
                .points
                .iter()
                .filter(|p| self.x.contains(p.0) && self.y.contains(p.1))
                .collect();
            if on.is_empty() {
                continue;
            }
            let d = DIAMOND;
            let diamond = move |(x, y): (i32, i32)| {
                Polygon::new(
                    vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)],
                    c.filled(),
                )
            };
            let shape = move |x: f64, y: f64| {
                EmptyElement::at((x, y))
                    + Polygon::new(vec![(0, -d), (d, 0), (0, d), (-d, 0)], c.filled())
            };
            chart
                .draw_series(on.iter().map(|p| shape(p.0, p.1)))
                .map_err(err)?
                .label(&m.label)
                .legend(diamond);
        }
        let to_px = |x: f64, y: f64| chart.backend_coord(&(x, y));
        let corner = self.legend_corner(to_px, chart.plotting_area().get_pixel_range());
        let placed = self.place_labels(to_px);
        chart
            .draw_series(placed.into_iter().map(|(x, y, text, (dx, dy), right)| {
                let anchor = if right { HPos::Right } else { HPos::Left };
                let style =
                    TextStyle::from((FONT, 14).into_font()).pos(Pos::new(anchor, VPos::Top));
                EmptyElement::at((x, y)) + Text::new(text, (dx, dy), style)
            }))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(corner)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font((FONT, 14))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

impl ChartSpec {
    /// The corner of the plot area (pixel ranges `area`) for the legend: the one whose legend-sized
    /// box covers the fewest markers, upper right first.
    fn legend_corner(
        &self,
        to_px: impl Fn(f64, f64) -> (i32, i32),
        area: (std::ops::Range<i32>, std::ops::Range<i32>),
    ) -> SeriesLabelPosition {
        let (w, h) = (
            250,
            30 + 20 * (self.series.len() + self.measured.len()) as i32,
        );
        let on = |x: f64, y: f64| self.x.contains(x) && self.y.contains(y);
        let pts: Vec<(i32, i32)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| (p.x, p.y)))
            .chain(
                self.measured
                    .iter()
                    .flat_map(|m| m.points.iter().map(|p| (p.0, p.1))),
            )
            .filter(|&(x, y)| on(x, y))
            .map(|(x, y)| to_px(x, y))
            .collect();
        let (xs, ys) = area;
        let corners = [
            (SeriesLabelPosition::UpperRight, xs.end - w, ys.start),
            (SeriesLabelPosition::UpperLeft, xs.start, ys.start),
            (SeriesLabelPosition::LowerRight, xs.end - w, ys.end - h),
            (SeriesLabelPosition::LowerLeft, xs.start, ys.end - h),
        ];
        let covered = |x0: i32, y0: i32| {
            pts.iter()
                .filter(|p| {
                    p.0 >= x0 - 10 && p.0 <= x0 + w + 10 && p.1 >= y0 - 10 && p.1 <= y0 + h + 10
                })
                .count()
        };
        let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
        for (pos, x0, y0) in corners {
            let n = covered(x0, y0);
            if n < best.0 {
                best = (n, pos);
            }
        }
        best.1
    }
}

/// A point label placed: (x, y of its point in data units, text, pixel offset from the point,
/// anchored at its right end).
type PlacedLabel = (f64, f64, String, (i32, i32), bool);

/// Width of a label's text, px (an estimate: 7 px a character at the 14 px label font).
fn label_width(text: &str) -> i32 {
    7 * text.chars().count() as i32
}

impl ChartSpec {
    /// Every point label with where to write it: (x, y, text, pixel offset from the point, anchored
    /// at its right end). Labels go beside their marker, to the left of it in the right 35% of the
    /// plot (so that they stay inside), above the marker or else below it, moving out in 14 px
    /// steps (up to 6 each way) until they overlap no other label or marker. `to_px` maps data to
    /// pixel coordinates.
    fn place_labels(&self, to_px: impl Fn(f64, f64) -> (i32, i32)) -> Vec<PlacedLabel> {
        let on = |x: f64, y: f64| self.x.contains(x) && self.y.contains(y);
        let mut items: Vec<(f64, f64, String)> = Vec::new();
        let mut markers: Vec<(i32, i32)> = Vec::new();
        for s in &self.series {
            for p in s.points.iter().filter(|p| on(p.x, p.y)) {
                markers.push(to_px(p.x, p.y));
                if let Some(t) = &p.label {
                    items.push((p.x, p.y, t.clone()));
                }
            }
        }
        for m in &self.measured {
            for p in m.points.iter().filter(|p| on(p.0, p.1)) {
                markers.push(to_px(p.0, p.1));
                if let Some(t) = &p.2 {
                    items.push((p.0, p.1, t.clone()));
                }
            }
        }
        let split = self.x.min + 0.65 * (self.x.max - self.x.min);
        let mut boxes: Vec<(i32, i32, i32, i32)> = markers
            .iter()
            .map(|&(x, y)| (x - 8, y - 8, x + 8, y + 8))
            .collect();
        let overlaps = |a: (i32, i32, i32, i32), b: &(i32, i32, i32, i32)| {
            a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
        };
        let mut out = Vec::new();
        for (x, y, text) in items {
            let (px, py) = to_px(x, y);
            let right = x > split;
            let w = label_width(&text);
            let dx = if right { -10 } else { 10 };
            let mut best = (dx, -22);
            for k in 0..13 {
                // Above the marker, then below it, then further out on either side.
                let dy = if k % 2 == 0 {
                    -22 - 14 * (k / 2)
                } else {
                    6 + 14 * (k / 2)
                };
                let x0 = if right { px + dx - w } else { px + dx };
                let b = (x0, py + dy, x0 + w, py + dy + 14);
                if !boxes.iter().any(|o| overlaps(b, o)) {
                    best = (dx, dy);
                    break;
                }
            }
            let x0 = if right { px + best.0 - w } else { px + best.0 };
            boxes.push((x0, py + best.1, x0 + w, py + best.1 + 14));
            out.push((x, y, text, best, right));
        }
        out
    }
}

/// Ticks of a log axis from `min` to `max` (both > 0): every decade, with 2 and 5 added when the
/// range spans two decades or less.
fn log_ticks(min: f64, max: f64) -> Vec<f64> {
    let (a, b) = (min.log10().floor() as i32, max.log10().ceil() as i32);
    let mults: &[f64] = if b - a <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    (a..=b)
        .flat_map(|k| mults.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|v| *v >= min && *v <= max)
        .collect()
}

/// A tick label: `1e-4`-style on a log axis, plain with few decimals on a linear one.
fn tick_label(v: f64, log: bool) -> String {
    if log {
        let k = (v.log10() + 1e-9).floor();
        let m = (v / 10f64.powf(k) * 10.0).round() / 10.0;
        format!("{m}e{k}")
    } else {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(log: bool) -> ChartSpec {
        ChartSpec {
            title: "t".into(),
            x: AxisSpec::fit("x", &[0.0, 5.0], false),
            y: AxisSpec::fit("y", &[1e-5, 1e-3], log),
            series: vec![Series {
                label: "sim".into(),
                color: PALETTE[0],
                line: true,
                points: vec![
                    Point {
                        x: 1.0,
                        y: 1e-4,
                        y_err: Some((5e-5, 2e-4)),
                        x_err: None,
                        label: Some("p1".into()),
                    },
                    Point {
                        x: 4.0,
                        y: 1e-3,
                        y_err: None,
                        x_err: Some((3.0, 4.5)),
                        label: None,
                    },
                ],
            }],
            measured: vec![Measured {
                label: "measured".into(),
                color: Color::RED,
                points: vec![(2.0, 3e-4, None)],
            }],
            band: Some(Band {
                x0: 3.0,
                x1: 5.0,
                color: Color::RED,
                label: "band".into(),
            }),
        }
    }

    #[test]
    fn svg_and_png_from_one_description() {
        for log in [false, true] {
            let s = spec(log);
            let svg = s.to_svg().unwrap();
            assert_eq!(
                svg.matches(&format!("r=\"{MARKER_RADIUS}\"")).count(),
                3,
                "2 points + legend"
            );
            assert!(
                svg.contains("\np1\n</text>") && svg.contains("\nband\n</text>"),
                "{svg}"
            );
            assert!(svg.contains("\nmeasured\n</text>") && svg.contains("<polygon"));
            let png = s.to_png().unwrap();
            let img = image::load_from_memory(&png).unwrap().to_rgb8();
            assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        }
        assert_eq!(tick_label(1e-4, true), "1e-4");
        assert_eq!(tick_label(2e-4, true), "2e-4");
        assert_eq!(tick_label(5e-5, true), "5e-5");
        assert_eq!(log_ticks(3e-5, 2.2e-4), vec![5e-5, 1e-4, 2e-4]);
        assert_eq!(log_ticks(3e-9, 2e-4).len(), 5);
        assert_eq!(tick_label(0.25, false), "0.25");
        assert_eq!(tick_label(-0.0, false), "0");
    }
}
