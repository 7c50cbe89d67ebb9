//! A minimal, deterministic 2D plotting layer: a [`Figure`] is a list of primitives in pixel
//! coordinates (y down), written as SVG text or rasterized to PNG (anti-aliased by exact
//! coverage for lines, circles and rectangles, 4×4 supersampling for polygons, glyph coverage
//! from `ab_glyph` with the Ubuntu Light font shipped by `epaint_default_fonts`).
//! [`Chart`] adds axes (linear or log10) with ticks, labels, error bars, markers and a legend.
//!
//! Every data marker carries its data coordinates in the SVG (`class="data" data-x=.. data-y=..`,
//! measured points `class="measured"`, error bars `class="errorbar" data-lo=.. data-hi=..`),
//! so tests and users can check what a plot shows against the CSV behind it.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// Black.
    pub const BLACK: Color = Color(0, 0, 0);
    /// Mid grey (grid, frames).
    pub const GREY: Color = Color(190, 190, 190);
    /// Red (short-circuit region, measured points).
    pub const RED: Color = Color(200, 30, 30);

    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
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

/// Horizontal text anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at the point.
    Start,
    /// The text is centred on the point.
    Middle,
    /// The text ends at the point.
    End,
}

/// A drawing primitive, pixel coordinates (y down).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A straight line.
    Line {
        /// Start x.
        x1: f64,
        /// Start y.
        y1: f64,
        /// End x.
        x2: f64,
        /// End y.
        y2: f64,
        /// Colour.
        color: Color,
        /// Width, px.
        width: f64,
        /// Dashed (5 px on, 3 px off).
        dashed: bool,
        /// SVG class (empty: none).
        class: String,
        /// Extra SVG attributes (already formatted, e.g. `data-lo="1"`).
        attrs: String,
    },
    /// A filled axis-aligned rectangle.
    Rect {
        /// Left.
        x: f64,
        /// Top.
        y: f64,
        /// Width.
        w: f64,
        /// Height.
        h: f64,
        /// Fill colour.
        fill: Color,
        /// Opacity in [0, 1].
        opacity: f64,
        /// SVG class (empty: none).
        class: String,
    },
    /// A filled circle with a dark outline.
    Circle {
        /// Centre x.
        cx: f64,
        /// Centre y.
        cy: f64,
        /// Radius, px.
        r: f64,
        /// Fill.
        fill: Color,
        /// SVG class (empty: none).
        class: String,
        /// Extra SVG attributes.
        attrs: String,
    },
    /// A filled closed polygon with a dark outline (used for measured-point diamonds).
    Polygon {
        /// Vertices.
        points: Vec<(f64, f64)>,
        /// Fill.
        fill: Color,
        /// SVG class (empty: none).
        class: String,
        /// Extra SVG attributes.
        attrs: String,
    },
    /// Text with its baseline at `y`.
    Text {
        /// Anchor x.
        x: f64,
        /// Baseline y.
        y: f64,
        /// The text.
        text: String,
        /// Font size, px.
        size: f64,
        /// Horizontal anchor.
        anchor: Anchor,
        /// Rotated 90° counter-clockwise (reads bottom to top).
        vertical: bool,
        /// Colour.
        color: Color,
    },
}

/// A figure: a white canvas and its primitives, drawn in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
    /// Primitives, back to front.
    pub shapes: Vec<Shape>,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn class_attr(class: &str) -> String {
    if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{class}\"")
    }
}

fn font() -> FontRef<'static> {
    FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)
        .expect("the Ubuntu Light font shipped by epaint_default_fonts parses")
}

impl Figure {
    /// A blank figure.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            shapes: Vec::new(),
        }
    }

    /// SVG text (fixed two-decimal coordinates: the same figure gives the same bytes).
    pub fn to_svg(&self) -> String {
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n",
            w = self.width,
            h = self.height
        );
        for shape in &self.shapes {
            match shape {
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    color,
                    width,
                    dashed,
                    class,
                    attrs,
                } => {
                    s.push_str(&format!(
                        "<line{} x1=\"{x1:.2}\" y1=\"{y1:.2}\" x2=\"{x2:.2}\" y2=\"{y2:.2}\" \
                         stroke=\"{}\" stroke-width=\"{width:.2}\"{}{attrs}/>\n",
                        class_attr(class),
                        color.hex(),
                        if *dashed {
                            " stroke-dasharray=\"5,3\""
                        } else {
                            ""
                        }
                    ));
                }
                Shape::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill,
                    opacity,
                    class,
                } => {
                    s.push_str(&format!(
                        "<rect{} x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" \
                         fill=\"{}\" fill-opacity=\"{opacity:.3}\"/>\n",
                        class_attr(class),
                        fill.hex()
                    ));
                }
                Shape::Circle {
                    cx,
                    cy,
                    r,
                    fill,
                    class,
                    attrs,
                } => {
                    s.push_str(&format!(
                        "<circle{} cx=\"{cx:.2}\" cy=\"{cy:.2}\" r=\"{r:.2}\" fill=\"{}\" \
                         stroke=\"#000000\" stroke-width=\"0.8\"{attrs}/>\n",
                        class_attr(class),
                        fill.hex()
                    ));
                }
                Shape::Polygon {
                    points,
                    fill,
                    class,
                    attrs,
                } => {
                    let pts: Vec<String> = points
                        .iter()
                        .map(|(x, y)| format!("{x:.2},{y:.2}"))
                        .collect();
                    s.push_str(&format!(
                        "<polygon{} points=\"{}\" fill=\"{}\" stroke=\"#000000\" \
                         stroke-width=\"0.8\"{attrs}/>\n",
                        class_attr(class),
                        pts.join(" "),
                        fill.hex()
                    ));
                }
                Shape::Text {
                    x,
                    y,
                    text,
                    size,
                    anchor,
                    vertical,
                    color,
                } => {
                    let a = match anchor {
                        Anchor::Start => "start",
                        Anchor::Middle => "middle",
                        Anchor::End => "end",
                    };
                    let rot = if *vertical {
                        format!(" transform=\"rotate(-90 {x:.2} {y:.2})\"")
                    } else {
                        String::new()
                    };
                    s.push_str(&format!(
                        "<text x=\"{x:.2}\" y=\"{y:.2}\" font-size=\"{size:.1}\" \
                         font-family=\"Ubuntu, DejaVu Sans, sans-serif\" text-anchor=\"{a}\" \
                         fill=\"{}\"{rot}>{}</text>\n",
                        color.hex(),
                        xml_escape(text)
                    ));
                }
            }
        }
        s.push_str("</svg>\n");
        s
    }

    /// PNG bytes (8-bit RGB).
    pub fn to_png(&self) -> Result<Vec<u8>, String> {
        let mut r = Raster::new(self.width, self.height);
        let font = font();
        for shape in &self.shapes {
            match shape {
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    color,
                    width,
                    dashed,
                    ..
                } => r.line(*x1, *y1, *x2, *y2, *width, *color, *dashed),
                Shape::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill,
                    opacity,
                    ..
                } => r.rect(*x, *y, *w, *h, *fill, *opacity),
                Shape::Circle {
                    cx,
                    cy,
                    r: rad,
                    fill,
                    ..
                } => r.circle(*cx, *cy, *rad, *fill),
                Shape::Polygon { points, fill, .. } => r.polygon(points, *fill),
                Shape::Text {
                    x,
                    y,
                    text,
                    size,
                    anchor,
                    vertical,
                    color,
                } => r.text(&font, *x, *y, text, *size, *anchor, *vertical, *color),
            }
        }
        let img = image::RgbImage::from_fn(self.width, self.height, |x, y| {
            let p = r.px[(y * self.width + x) as usize];
            image::Rgb(p.map(|c| (c * 255.0).round().clamp(0.0, 255.0) as u8))
        });
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// Width of `text` in px at `size` (advances and kerning of the plot font).
pub fn text_width(text: &str, size: f64) -> f64 {
    let font = font();
    let sf = font.as_scaled(PxScale::from(size as f32));
    let mut w = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    f64::from(w)
}

/// Linear-RGB-free simple raster: colours blended in sRGB space with coverage as alpha.
struct Raster {
    w: u32,
    h: u32,
    px: Vec<[f64; 3]>,
}

impl Raster {
    fn new(w: u32, h: u32) -> Self {
        Self {
            w,
            h,
            px: vec![[1.0; 3]; (w as usize) * (h as usize)],
        }
    }

    fn blend(&mut self, x: i64, y: i64, c: Color, a: f64) {
        if x < 0 || y < 0 || x >= i64::from(self.w) || y >= i64::from(self.h) || a <= 0.0 {
            return;
        }
        let a = a.min(1.0);
        let p = &mut self.px[(y as usize) * (self.w as usize) + x as usize];
        let col = [c.0, c.1, c.2].map(|v| f64::from(v) / 255.0);
        for k in 0..3 {
            p[k] = p[k] * (1.0 - a) + col[k] * a;
        }
    }

    /// Pixel range covering [lo, hi] with a margin.
    fn range(lo: f64, hi: f64, max: u32) -> std::ops::Range<i64> {
        let a = (lo.floor() as i64 - 1).max(0);
        let b = (hi.ceil() as i64 + 2).min(i64::from(max));
        a..b.max(a)
    }

    #[allow(clippy::too_many_arguments)]
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, width: f64, c: Color, dashed: bool) {
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len2 = dx * dx + dy * dy;
        let hw = width / 2.0;
        for y in Self::range(y1.min(y2) - hw, y1.max(y2) + hw, self.h) {
            for x in Self::range(x1.min(x2) - hw, x1.max(x2) + hw, self.w) {
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let t = if len2 > 0.0 {
                    (((px - x1) * dx + (py - y1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                if dashed && (t * len2.sqrt()) % 8.0 > 5.0 {
                    continue;
                }
                let d = ((px - x1 - t * dx).powi(2) + (py - y1 - t * dy).powi(2)).sqrt();
                self.blend(x, y, c, (hw + 0.5 - d).clamp(0.0, 1.0));
            }
        }
    }

    fn rect(&mut self, x0: f64, y0: f64, w: f64, h: f64, c: Color, opacity: f64) {
        for y in Self::range(y0, y0 + h, self.h) {
            let cy = ((y as f64 + 1.0).min(y0 + h) - (y as f64).max(y0)).max(0.0);
            for x in Self::range(x0, x0 + w, self.w) {
                let cx = ((x as f64 + 1.0).min(x0 + w) - (x as f64).max(x0)).max(0.0);
                self.blend(x, y, c, cx * cy * opacity);
            }
        }
    }

    fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: Color) {
        let sw = 0.8;
        for y in Self::range(cy - r - 1.0, cy + r + 1.0, self.h) {
            for x in Self::range(cx - r - 1.0, cx + r + 1.0, self.w) {
                let d = ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)).sqrt();
                self.blend(x, y, fill, (r + 0.5 - d).clamp(0.0, 1.0));
                self.blend(
                    x,
                    y,
                    Color::BLACK,
                    (sw / 2.0 + 0.5 - (d - r).abs()).clamp(0.0, 1.0),
                );
            }
        }
    }

    fn polygon(&mut self, pts: &[(f64, f64)], fill: Color) {
        if pts.len() < 3 {
            return;
        }
        let inside = |px: f64, py: f64| {
            // Even-odd rule.
            let mut c = false;
            let mut j = pts.len() - 1;
            for i in 0..pts.len() {
                let (xi, yi) = pts[i];
                let (xj, yj) = pts[j];
                if (yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi {
                    c = !c;
                }
                j = i;
            }
            c
        };
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        for y in Self::range(y0, y1, self.h) {
            for x in Self::range(x0, x1, self.w) {
                let mut n = 0;
                for sy in 0..4 {
                    for sx in 0..4 {
                        if inside(
                            x as f64 + (sx as f64 + 0.5) / 4.0,
                            y as f64 + (sy as f64 + 0.5) / 4.0,
                        ) {
                            n += 1;
                        }
                    }
                }
                self.blend(x, y, fill, f64::from(n) / 16.0);
            }
        }
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            self.line(a.0, a.1, b.0, b.1, 0.8, Color::BLACK, false);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        font: &FontRef<'_>,
        x: f64,
        y: f64,
        text: &str,
        size: f64,
        anchor: Anchor,
        vertical: bool,
        c: Color,
    ) {
        let scale = PxScale::from(size as f32);
        let sf = font.as_scaled(scale);
        let width = text_width(text, size);
        let start = match anchor {
            Anchor::Start => 0.0,
            Anchor::Middle => -width / 2.0,
            Anchor::End => -width,
        };
        let mut caret = start as f32;
        let mut prev = None;
        for ch in text.chars() {
            let id = sf.glyph_id(ch);
            if let Some(p) = prev {
                caret += sf.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, 0.0));
            caret += sf.h_advance(id);
            prev = Some(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            let mut cov = Vec::new();
            outline.draw(|gx, gy, v| cov.push((gx, gy, v)));
            for (gx, gy, v) in cov {
                // Local text frame: u along the text, v down from the baseline.
                let u = f64::from(b.min.x) + f64::from(gx);
                let w = f64::from(b.min.y) + f64::from(gy);
                let (px, py) = if vertical {
                    (x + w, y - u)
                } else {
                    (x + u, y + w)
                };
                self.blend(px.floor() as i64, py.floor() as i64, c, f64::from(v));
            }
        }
    }
}

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
        if v.is_empty() {
            return if log {
                Self::fit(label, values, false)
            } else {
                Self {
                    label: label.into(),
                    min: 0.0,
                    max: 1.0,
                    log: false,
                }
            };
        }
        let lo = v.iter().copied().fold(f64::MAX, f64::min);
        let hi = v.iter().copied().fold(f64::MIN, f64::max);
        if log {
            let (a, b) = (lo.log10() - 0.15, hi.log10() + 0.15);
            Self {
                label: label.into(),
                min: 10f64.powf(a),
                max: 10f64.powf(b),
                log: true,
            }
        } else {
            let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
            Self {
                label: label.into(),
                min: lo - 0.06 * span,
                max: hi + 0.06 * span,
                log: false,
            }
        }
    }

    /// Position in [0, 1] along the axis.
    pub fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.log10() - self.min.log10()) / (self.max.log10() - self.min.log10())
        } else {
            (v - self.min) / (self.max - self.min)
        }
    }

    /// Tick values and their labels: 1-2-5 steps giving 4–10 ticks (linear), decades (log;
    /// with 2 and 5 added when the range spans fewer than two decades).
    pub fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            let (a, b) = (
                self.min.log10().floor() as i32,
                self.max.log10().ceil() as i32,
            );
            let mults: &[f64] = if b - a <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
            let mut t = Vec::new();
            for k in a..=b {
                for &m in mults {
                    let v = m * 10f64.powi(k);
                    if v >= self.min && v <= self.max {
                        t.push((v, format!("{m}e{k}")));
                    }
                }
            }
            t
        } else {
            let span = self.max - self.min;
            let raw = span / 6.0;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| span / s <= 8.0)
                .unwrap_or(10.0 * mag);
            let decimals = (-(step.log10().floor()) as i32).max(0) as usize;
            let first = (self.min / step).ceil() as i64;
            let last = (self.max / step).floor() as i64;
            (first..=last)
                .map(|i| {
                    let v = i as f64 * step;
                    (
                        v,
                        format!("{:.*}", decimals, if v == 0.0 { 0.0 } else { v }),
                    )
                })
                .collect()
        }
    }
}

/// A chart: a figure with a plot area mapped to data coordinates by two axes.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The figure drawn so far.
    pub fig: Figure,
    /// Plot area left, top, right, bottom (px).
    pub area: (f64, f64, f64, f64),
    /// Horizontal axis.
    pub x: AxisSpec,
    /// Vertical axis.
    pub y: AxisSpec,
    legend: Vec<(String, Color, bool)>,
    /// Pixel centres of the markers drawn, to keep the legend off the data.
    drawn: Vec<(f64, f64)>,
    /// Boxes (left, top, right, bottom, px) of the point labels placed so far, so that later
    /// labels avoid them.
    placed: Vec<(f64, f64, f64, f64)>,
}

impl Chart {
    /// A 800×560 chart with title, frame, grid, ticks and axis labels.
    pub fn new(title: &str, x: AxisSpec, y: AxisSpec) -> Self {
        let (w, h) = (800u32, 560u32);
        let area = (90.0, 50.0, f64::from(w) - 30.0, f64::from(h) - 70.0);
        let mut c = Self {
            fig: Figure::new(w, h),
            area,
            x,
            y,
            legend: Vec::new(),
            drawn: Vec::new(),
            placed: Vec::new(),
        };
        let (l, t, r, b) = area;
        c.text(f64::from(w) / 2.0, 30.0, title, 18.0, Anchor::Middle, false);
        for (v, label) in c.x.ticks() {
            let px = c.px(v);
            c.line(px, t, px, b, Color::GREY, 0.5, false);
            c.line(px, b, px, b + 5.0, Color::BLACK, 1.0, false);
            c.text(px, b + 20.0, &label, 13.0, Anchor::Middle, false);
        }
        for (v, label) in c.y.ticks() {
            let py = c.py(v);
            c.line(l, py, r, py, Color::GREY, 0.5, false);
            c.line(l - 5.0, py, l, py, Color::BLACK, 1.0, false);
            c.text(l - 8.0, py + 4.5, &label, 13.0, Anchor::End, false);
        }
        for (x1, y1, x2, y2) in [(l, t, r, t), (r, t, r, b), (r, b, l, b), (l, b, l, t)] {
            c.line(x1, y1, x2, y2, Color::BLACK, 1.0, false);
        }
        let xl = c.x.label.clone();
        let yl = c.y.label.clone();
        c.text(
            (l + r) / 2.0,
            f64::from(h) - 20.0,
            &xl,
            15.0,
            Anchor::Middle,
            false,
        );
        c.text(24.0, (t + b) / 2.0, &yl, 15.0, Anchor::Middle, true);
        c
    }

    /// Pixel x of a data x (unclamped).
    pub fn px(&self, v: f64) -> f64 {
        self.area.0 + self.x.frac(v) * (self.area.2 - self.area.0)
    }

    /// Pixel y of a data y (unclamped).
    pub fn py(&self, v: f64) -> f64 {
        self.area.3 - self.y.frac(v) * (self.area.3 - self.area.1)
    }

    fn inside(&self, x: f64, y: f64) -> bool {
        let fx = self.x.frac(x);
        let fy = self.y.frac(y);
        fx.is_finite()
            && fy.is_finite()
            && (-1e-9..=1.0 + 1e-9).contains(&fx)
            && (-1e-9..=1.0 + 1e-9).contains(&fy)
    }

    #[allow(clippy::too_many_arguments)]
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, color: Color, width: f64, dashed: bool) {
        self.fig.shapes.push(Shape::Line {
            x1,
            y1,
            x2,
            y2,
            color,
            width,
            dashed,
            class: String::new(),
            attrs: String::new(),
        });
    }

    /// Text at pixel coordinates.
    pub fn text(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: Anchor, vertical: bool) {
        self.fig.shapes.push(Shape::Text {
            x,
            y,
            text: text.into(),
            size,
            anchor,
            vertical,
            color: Color::BLACK,
        });
    }

    /// A vertical error bar from `lo` to `hi` at `x` (clipped to the plot area), with caps.
    /// Skipped when an end is not finite (or not positive on a log axis).
    pub fn error_bar(&mut self, x: f64, lo: f64, hi: f64, color: Color) {
        let ok = |v: f64| v.is_finite() && (!self.y.log || v > 0.0);
        if !(lo.is_finite() && ok(hi) && x.is_finite()) {
            return;
        }
        let px = self.px(x);
        let (t, b) = (self.area.1, self.area.3);
        // A low end ≤ 0 on a log axis runs to the bottom of the plot.
        let y2 = if ok(lo) { self.py(lo).clamp(t, b) } else { b };
        let y1 = self.py(hi).clamp(t, b);
        self.fig.shapes.push(Shape::Line {
            x1: px,
            y1,
            x2: px,
            y2,
            color,
            width: 1.2,
            dashed: false,
            class: "errorbar".into(),
            attrs: format!(" data-x=\"{x:?}\" data-lo=\"{lo:?}\" data-hi=\"{hi:?}\""),
        });
        for yy in [y1, y2] {
            self.line(px - 4.0, yy, px + 4.0, yy, color, 1.2, false);
        }
    }

    /// A horizontal error bar from `lo` to `hi` at `y`.
    pub fn error_bar_x(&mut self, y: f64, lo: f64, hi: f64, color: Color) {
        let ok = |v: f64| v.is_finite() && (!self.x.log || v > 0.0);
        if !(lo.is_finite() && ok(hi) && y.is_finite()) {
            return;
        }
        let py = self.py(y);
        let (l, r) = (self.area.0, self.area.2);
        let x1 = if ok(lo) { self.px(lo).clamp(l, r) } else { l };
        let x2 = self.px(hi).clamp(l, r);
        self.fig.shapes.push(Shape::Line {
            x1,
            y1: py,
            x2,
            y2: py,
            color,
            width: 1.2,
            dashed: false,
            class: "errorbar-x".into(),
            attrs: format!(" data-y=\"{y:?}\" data-lo=\"{lo:?}\" data-hi=\"{hi:?}\""),
        });
        for xx in [x1, x2] {
            self.line(xx, py - 4.0, xx, py + 4.0, color, 1.2, false);
        }
    }

    /// A data marker (circle, class `data`), if inside the axes. Returns whether drawn.
    pub fn marker(&mut self, x: f64, y: f64, color: Color) -> bool {
        if !self.inside(x, y) {
            return false;
        }
        let (cx, cy) = (self.px(x), self.py(y));
        self.drawn.push((cx, cy));
        self.fig.shapes.push(Shape::Circle {
            cx,
            cy,
            r: 5.0,
            fill: color,
            class: "data".into(),
            attrs: format!(" data-x=\"{x:?}\" data-y=\"{y:?}\""),
        });
        true
    }

    /// A measured-point marker (diamond, class `measured`), if inside the axes.
    pub fn measured(&mut self, x: f64, y: f64, fill: Color) -> bool {
        if !self.inside(x, y) {
            return false;
        }
        let (cx, cy) = (self.px(x), self.py(y));
        self.drawn.push((cx, cy));
        let s = 7.0;
        self.fig.shapes.push(Shape::Polygon {
            points: vec![(cx, cy - s), (cx + s, cy), (cx, cy + s), (cx - s, cy)],
            fill,
            class: "measured".into(),
            attrs: format!(" data-x=\"{x:?}\" data-y=\"{y:?}\""),
        });
        true
    }

    /// A polyline through the points (inside the axes only), dashed or solid.
    pub fn polyline(&mut self, pts: &[(f64, f64)], color: Color) {
        let pts: Vec<(f64, f64)> = pts
            .iter()
            .copied()
            .filter(|&(x, y)| self.inside(x, y))
            .collect();
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (x1, y1, x2, y2) = (self.px(a.0), self.py(a.1), self.px(b.0), self.py(b.1));
            self.line(x1, y1, x2, y2, color, 1.5, false);
        }
    }

    /// A shaded band between data x `x0` and `x1` over the full height (class `region`), with a
    /// label at its top.
    pub fn x_band(&mut self, x0: f64, x1: f64, fill: Color, label: &str) {
        let (l, t, r, b) = self.area;
        let (p0, p1) = (self.px(x0).clamp(l, r), self.px(x1).clamp(l, r));
        if p1 <= p0 {
            return;
        }
        self.fig.shapes.push(Shape::Rect {
            x: p0,
            y: t,
            w: p1 - p0,
            h: b - t,
            fill,
            opacity: 0.15,
            class: "region".into(),
        });
        self.fig.shapes.push(Shape::Text {
            x: (p0 + p1) / 2.0,
            y: t + 18.0,
            text: label.into(),
            size: 13.0,
            anchor: Anchor::Middle,
            vertical: false,
            color: fill,
        });
    }

    /// Adds a legend entry (circle for simulated, diamond for measured).
    pub fn legend_entry(&mut self, label: &str, color: Color, measured: bool) {
        self.legend.push((label.into(), color, measured));
    }

    /// The finished figure, with the legend drawn in the corner of the plot area that hides the
    /// fewest markers (top-left, top-right, bottom-left, bottom-right, first wins ties).
    pub fn finish(mut self) -> Figure {
        let (l, t, r, b) = self.area;
        let entries = std::mem::take(&mut self.legend);
        if entries.is_empty() {
            return self.fig;
        }
        let wmax = entries
            .iter()
            .map(|(s, ..)| text_width(s, 12.0))
            .fold(0.0, f64::max);
        let (bw, bh) = (wmax + 40.0, 20.0 * entries.len() as f64 + 8.0);
        let corners = [
            (l + 8.0, t + 8.0),
            (r - 8.0 - bw, t + 8.0),
            (l + 8.0, b - 8.0 - bh),
            (r - 8.0 - bw, b - 8.0 - bh),
        ];
        let hidden = |&(x0, y0): &(f64, f64)| {
            self.drawn
                .iter()
                .filter(|(x, y)| {
                    *x > x0 - 8.0 && *x < x0 + bw + 8.0 && *y > y0 - 8.0 && *y < y0 + bh + 8.0
                })
                .count()
        };
        let (x0, y0) = corners
            .iter()
            .copied()
            .min_by_key(|c| hidden(c))
            .expect("four corners");
        self.fig.shapes.push(Shape::Rect {
            x: x0,
            y: y0,
            w: bw,
            h: bh,
            fill: Color(255, 255, 255),
            opacity: 0.85,
            class: String::new(),
        });
        for (i, (label, color, measured)) in entries.into_iter().enumerate() {
            let (cx, cy) = (x0 + 14.0, y0 + 14.0 + 20.0 * i as f64);
            if measured {
                let s = 6.0;
                self.fig.shapes.push(Shape::Polygon {
                    points: vec![(cx, cy - s), (cx + s, cy), (cx, cy + s), (cx - s, cy)],
                    fill: color,
                    class: "legend".into(),
                    attrs: String::new(),
                });
            } else {
                self.fig.shapes.push(Shape::Circle {
                    cx,
                    cy,
                    r: 5.0,
                    fill: color,
                    class: "legend".into(),
                    attrs: String::new(),
                });
            }
            self.text(cx + 14.0, cy + 4.5, &label, 12.0, Anchor::Start, false);
        }
        self.fig
    }

    /// A text label (12 px) beside the marker at data (x, y): to its right (above the marker, or
    /// below it with `below`), or to its left when it would run past the plot area. A label that
    /// would overlap one placed before moves up or down in 14 px steps (up to 8 lines) to the
    /// nearest free place inside the plot area; if there is none it keeps its first place.
    pub fn label(&mut self, x: f64, y: f64, text: &str, below: bool) {
        let (px, py) = (self.px(x), self.py(y));
        let w = text_width(text, 12.0);
        let dy = if below { 16.0 } else { -8.0 };
        let left = px + 9.0 + w > self.area.2 - 2.0;
        let x0 = if left { px - 9.0 - w } else { px + 9.0 };
        // Baseline at py + dy; the box spans 11 px above the baseline and 3 px below it.
        let boxed = |base: f64| (x0, base - 11.0, x0 + w, base + 3.0);
        let overlaps = |b: (f64, f64, f64, f64), o: &(f64, f64, f64, f64)| {
            b.0 < o.2 && o.0 < b.2 && b.1 < o.3 && o.1 < b.3
        };
        let inside = |b: (f64, f64, f64, f64)| b.1 >= self.area.1 && b.3 <= self.area.3;
        // Candidate baselines: the first place, then 1, −1, 2, −2, … lines of 14 px from it.
        let first = py + dy;
        let base = (0..=16u32)
            .map(|m| {
                let lines = f64::from(m.div_ceil(2));
                first + if m % 2 == 1 { 14.0 } else { -14.0 } * lines
            })
            .find(|&c| inside(boxed(c)) && !self.placed.iter().any(|o| overlaps(boxed(c), o)))
            .unwrap_or(first);
        self.placed.push(boxed(base));
        let (tx, anchor) = if left {
            (px - 9.0, Anchor::End)
        } else {
            (px + 9.0, Anchor::Start)
        };
        self.text(tx, base, text, 12.0, anchor, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_at_one_point_do_not_overlap() {
        let ax = |label: &str| AxisSpec {
            label: label.into(),
            min: 0.0,
            max: 10.0,
            log: false,
        };
        let mut ch = Chart::new("t", ax("x"), ax("y"));
        for k in 0..4 {
            ch.label(5.0, 5.0, &format!("label {k}"), k % 2 == 1);
        }
        assert_eq!(ch.placed.len(), 4);
        for (i, a) in ch.placed.iter().enumerate() {
            assert!(
                a.1 >= ch.area.1 && a.3 <= ch.area.3,
                "label {i} outside the plot"
            );
            for b in &ch.placed[..i] {
                let overlap = a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
                assert!(!overlap, "labels overlap: {a:?} {b:?}");
            }
        }
    }

    #[test]
    fn linear_ticks_are_round_and_inside() {
        let a = AxisSpec {
            label: String::new(),
            min: -0.3,
            max: 5.3,
            log: false,
        };
        let t: Vec<f64> = a.ticks().iter().map(|t| t.0).collect();
        assert_eq!(t, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let a = AxisSpec {
            label: String::new(),
            min: 0.013,
            max: 0.021,
            log: false,
        };
        let t = a.ticks();
        assert!(t.len() >= 4 && t.len() <= 9, "{t:?}");
        assert!(t.iter().all(|(v, _)| *v >= a.min && *v <= a.max));
        assert_eq!(t[0].1, "0.014");
    }

    #[test]
    fn log_axis_maps_decades_evenly() {
        let a = AxisSpec::fit("σ", &[1e-9, 1e-5, -1.0, f64::NAN], true);
        assert!(a.log && a.min < 1e-9 && a.max > 1e-5);
        let f = |v: f64| a.frac(v);
        assert!(((f(1e-6) - f(1e-7)) - (f(1e-8) - f(1e-9))).abs() < 1e-12);
        let labels: Vec<String> = a.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, vec!["1e-9", "1e-8", "1e-7", "1e-6", "1e-5"]);
        // No positive value: falls back to a linear axis.
        assert!(!AxisSpec::fit("x", &[-1.0, 0.0], true).log);
    }

    #[test]
    fn chart_maps_data_to_the_plot_area_and_clips_markers() {
        let x = AxisSpec {
            label: "x".into(),
            min: 0.0,
            max: 10.0,
            log: false,
        };
        let y = AxisSpec {
            label: "y".into(),
            min: 1.0,
            max: 100.0,
            log: true,
        };
        let mut c = Chart::new("t", x, y);
        let (l, t, r, b) = c.area;
        assert_eq!((c.px(0.0), c.px(10.0)), (l, r));
        assert!((c.py(1.0) - b).abs() < 1e-9 && (c.py(100.0) - t).abs() < 1e-9);
        assert!(c.marker(5.0, 10.0, PALETTE[0]));
        assert!(!c.marker(11.0, 10.0, PALETTE[0]));
        assert!(!c.marker(5.0, -1.0, PALETTE[0]));
        let svg = c.finish().to_svg();
        assert_eq!(svg.matches("class=\"data\"").count(), 1);
        assert!(svg.contains("data-x=\"5.0\" data-y=\"10.0\""));
    }

    #[test]
    fn png_is_deterministic_and_draws_text() {
        let mut f = Figure::new(120, 40);
        f.shapes.push(Shape::Text {
            x: 60.0,
            y: 25.0,
            text: "σ 1e-4 µm".into(),
            size: 16.0,
            anchor: Anchor::Middle,
            vertical: false,
            color: Color::BLACK,
        });
        let a = f.to_png().unwrap();
        assert_eq!(a, f.to_png().unwrap());
        let img = image::load_from_memory(&a).unwrap().to_rgb8();
        let dark: Vec<u32> = img
            .enumerate_pixels()
            .filter(|(.., p)| p.0[0] < 128)
            .map(|(x, ..)| x)
            .collect();
        assert!(dark.len() > 40, "text drawn: {} dark pixels", dark.len());
        // Centred: the ink's mean column is near x = 60.
        let mean = dark.iter().map(|&x| f64::from(x)).sum::<f64>() / dark.len() as f64;
        assert!((mean - 60.0).abs() < 8.0, "{mean}");
    }
}
