//! Figures for every subcommand's `--plot FILE.png|FILE.svg`: line/point plots with error bars and optional
//! log axes, and heatmaps of 2D fields with a colour bar. The format follows the file extension; files are
//! written atomically (see [`crate::output::write_atomic`]). Text uses the committed DejaVu Sans font
//! (`assets/DejaVuSans.ttf`, Bitstream Vera licence in `assets/DejaVuSans-LICENSE.txt`), registered with
//! plotters' `ab_glyph` backend, so no system font library is needed.
//!
//! Not for: interactive plots, multi-panel layouts, or publication styling — these are quick-look figures.

use anyhow::{Context, Result, anyhow, bail, ensure};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::path::Path;
use std::sync::Once;

use crate::output::write_atomic;

/// The font family name under which the committed font is registered (plotters' default family).
const FONT_FAMILY: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER_FONT: Once = Once::new();

/// Figure size in pixels (also the SVG viewport).
const FIGURE_SIZE: (u32, u32) = (900, 600);
/// Fraction of the data range added on each side of a line plot's axes.
const AXIS_PADDING: f64 = 0.05;
/// At most this many heatmap cells are drawn along an axis; larger maps are block-averaged.
const MAX_HEATMAP_CELLS_PER_AXIS: usize = 512;
/// Smallest data span, relative to the largest magnitude, that an axis or colour bar resolves; narrower
/// ranges are treated as one value (see [`axis_range`]).
const MIN_RELATIVE_SPAN: f64 = 1e-6;
/// Number of colour steps in a heatmap's colour bar.
const COLORBAR_STEPS: usize = 128;

/// Matplotlib's "tab10" palette: distinguishable colours for successive series.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStyle {
    /// A polyline through the points in the given order.
    Line,
    /// A marker at each point (with error bars when `y_err` is given).
    Points,
}

/// One labelled data series of a line plot. `y_err`, when present, is a symmetric ±1σ error bar per point.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub y_err: Option<Vec<f64>>,
    pub style: SeriesStyle,
}

impl Series {
    /// A series drawn as a line.
    pub fn line(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            label: label.into(),
            x,
            y,
            y_err: None,
            style: SeriesStyle::Line,
        }
    }

    /// A series drawn as markers, with optional error bars.
    pub fn points(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>, y_err: Option<Vec<f64>>) -> Self {
        Series {
            label: label.into(),
            x,
            y,
            y_err,
            style: SeriesStyle::Points,
        }
    }
}

fn ensure_font_registered() {
    REGISTER_FONT.call_once(|| {
        // The bytes are a valid TrueType font committed with the crate; the test suite renders text with it.
        if register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_err() {
            eprintln!("warning: the bundled font could not be registered; plot text may be missing");
        }
    });
}

/// Something that can draw itself on any plotters backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Render `figure` to `path` as PNG or SVG (chosen by extension), atomically.
fn save(path: &Path, figure: &impl Figure) -> Result<()> {
    ensure_font_registered();
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("svg") => save_svg(path, figure),
        Some("png") => save_png(path, figure),
        _ => bail!(
            "cannot plot to {}: the file name must end in .png or .svg",
            path.display()
        ),
    }
    .with_context(|| format!("while writing the plot {}", path.display()))
}

fn save_svg(path: &Path, figure: &impl Figure) -> Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, FIGURE_SIZE).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    write_atomic(path, |w| Ok(w.write_all(svg.as_bytes())?))
}

fn save_png(path: &Path, figure: &impl Figure) -> Result<()> {
    let (width, height) = FIGURE_SIZE;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, FIGURE_SIZE).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    write_atomic(path, |w| {
        let mut encoder = png::Encoder::new(w, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
        writer.finish()?;
        Ok(())
    })
}

fn plot_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// A line/point plot of `series`, written to `path` (`.png` or `.svg`). With `log_x`/`log_y` the axis is
/// logarithmic (base 10) and every value on it must be positive. Errors name the offending series.
pub fn line_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
    log_y: bool,
) -> Result<()> {
    let figure = LinePlot::new(title, x_label, y_label, series, log_x, log_y)?;
    save(path, &figure)
}

/// An axis scale: values are drawn at `to_axis(v)` (log10 on a log axis).
#[derive(Clone, Copy)]
struct Scale {
    log: bool,
}

impl Scale {
    fn to_axis(self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// Tick label for an axis coordinate.
    fn label(self, a: f64) -> String {
        if self.log {
            format_number(10f64.powf(a))
        } else {
            format_number(a)
        }
    }
}

/// A short human label for a tick value: plain for moderate magnitudes, scientific otherwise.
fn format_number(v: f64) -> String {
    let magnitude = v.abs();
    if v == 0.0 {
        "0".to_string()
    } else if (1e-3..1e4).contains(&magnitude) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.2e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exponent}")
    }
}

/// A validated line plot with its data already mapped to axis coordinates.
struct LinePlot<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Series],
    x_scale: Scale,
    y_scale: Scale,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl<'a> LinePlot<'a> {
    fn new(
        title: &'a str,
        x_label: &'a str,
        y_label: &'a str,
        series: &'a [Series],
        log_x: bool,
        log_y: bool,
    ) -> Result<Self> {
        ensure!(!series.is_empty(), "nothing to plot: no data series");
        let (x_scale, y_scale) = (Scale { log: log_x }, Scale { log: log_y });
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for s in series {
            validate_series(s, log_x, log_y)?;
            xs.extend(s.x.iter().map(|&v| x_scale.to_axis(v)));
            ys.extend(s.y.iter().map(|&v| y_scale.to_axis(v)));
            if let Some(err) = &s.y_err {
                for (&y, &e) in s.y.iter().zip(err) {
                    ys.push(y_scale.to_axis(y + e));
                    if !log_y || y - e > 0.0 {
                        ys.push(y_scale.to_axis(y - e));
                    }
                }
            }
        }
        let x_range = padded_range(&xs)?;
        let y_range = padded_range(&ys)?;
        Ok(LinePlot {
            title,
            x_label,
            y_label,
            series,
            x_scale,
            y_scale,
            x_range,
            y_range,
        })
    }
}

fn validate_series(s: &Series, log_x: bool, log_y: bool) -> Result<()> {
    let name = &s.label;
    ensure!(
        s.x.len() == s.y.len(),
        "series {name:?}: {} x values but {} y values",
        s.x.len(),
        s.y.len()
    );
    if let Some(err) = &s.y_err {
        ensure!(
            err.len() == s.y.len(),
            "series {name:?}: {} error bars for {} points",
            err.len(),
            s.y.len()
        );
        ensure!(
            err.iter().all(|e| e.is_finite() && *e >= 0.0),
            "series {name:?}: error bars must be finite and non-negative"
        );
    }
    for (i, (&x, &y)) in s.x.iter().zip(&s.y).enumerate() {
        ensure!(
            x.is_finite() && y.is_finite(),
            "series {name:?}: point {i} is not finite ({x}, {y})"
        );
        ensure!(
            !log_x || x > 0.0,
            "series {name:?}: point {i} has x = {x}, which a log axis cannot show"
        );
        ensure!(
            !log_y || y > 0.0,
            "series {name:?}: point {i} has y = {y}, which a log axis cannot show"
        );
    }
    Ok(())
}

/// The range of `values` widened by [`AXIS_PADDING`] on each side; see [`axis_range`].
fn padded_range(values: &[f64]) -> Result<(f64, f64)> {
    let lo = values.iter().copied().reduce(f64::min).context("no points to plot")?;
    let hi = values.iter().copied().reduce(f64::max).context("no points to plot")?;
    axis_range(lo, hi, AXIS_PADDING)
}

/// An axis (or colour-bar) range from the data's `lo..=hi`, widened by `padding` × span on each side, that
/// plotters can draw: a span below [`MIN_RELATIVE_SPAN`] of the magnitude (all values equal, or equal but
/// for round-off, where plotters' tick search and colour maps fail) is widened to ±10 % of the value (±1
/// around 0). A range that is not finite (values near ±f64::MAX) is an error, not a panic.
fn axis_range(lo: f64, hi: f64, padding: f64) -> Result<(f64, f64)> {
    let span = hi - lo;
    let magnitude = lo.abs().max(hi.abs());
    let (lo, hi) = if span > MIN_RELATIVE_SPAN * magnitude {
        (lo - padding * span, hi + padding * span)
    } else {
        let mid = lo + 0.5 * span;
        let half = if mid == 0.0 { 1.0 } else { 0.1 * mid.abs() };
        (mid - half, mid + half)
    };
    ensure!(
        lo.is_finite() && hi.is_finite() && (hi - lo).is_finite(),
        "cannot plot values spanning {lo:e} to {hi:e}: the range is too wide"
    );
    Ok((lo, hi))
}

impl Figure for LinePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, (FONT_FAMILY, 22))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(self.x_range.0..self.x_range.1, self.y_range.0..self.y_range.1)
            .map_err(plot_err)?;
        let (xs, ys) = (self.x_scale, self.y_scale);
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&|v| xs.label(*v))
            .y_label_formatter(&|v| ys.label(*v))
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 16))
            .draw()
            .map_err(plot_err)?;
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let points: Vec<(f64, f64)> =
                s.x.iter()
                    .zip(&s.y)
                    .map(|(&x, &y)| (xs.to_axis(x), ys.to_axis(y)))
                    .collect();
            let drawn = match s.style {
                SeriesStyle::Line => chart.draw_series(LineSeries::new(points, color.stroke_width(2))),
                SeriesStyle::Points => chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled()))),
            }
            .map_err(plot_err)?;
            if !s.label.is_empty() {
                drawn
                    .label(s.label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            }
            if let Some(err) = &s.y_err {
                let floor = self.y_range.0;
                let bars = s.x.iter().zip(&s.y).zip(err).map(|((&x, &y), &e)| {
                    let low = if ys.log && y - e <= 0.0 {
                        floor
                    } else {
                        ys.to_axis(y - e)
                    };
                    ErrorBar::new_vertical(
                        xs.to_axis(x),
                        low,
                        ys.to_axis(y),
                        ys.to_axis(y + e),
                        color.stroke_width(1),
                        8,
                    )
                });
                chart.draw_series(bars).map_err(plot_err)?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT_FAMILY, 14))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}

/// A heatmap of a 2D field `data` of `nx` × `ny` values, row-major with x fastest (`data[iy * nx + ix]`,
/// the order of `Microstructure` and of image files), drawn with row 0 at the top as an image is shown,
/// and a viridis colour bar labelled `colorbar_label`. Maps larger than 512 cells along an axis are
/// block-averaged for drawing. Non-finite values are an error.
pub fn heatmap(path: &Path, title: &str, data: &[f64], nx: usize, ny: usize, colorbar_label: &str) -> Result<()> {
    ensure!(nx > 0 && ny > 0, "cannot plot an empty {nx} × {ny} map");
    ensure!(
        data.len() == nx * ny,
        "heatmap data has {} values, expected {nx} × {ny} = {}",
        data.len(),
        nx * ny
    );
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        bail!(
            "heatmap value at x = {}, y = {} is not finite ({})",
            i % nx,
            i / nx,
            data[i]
        );
    }
    let figure = Heatmap::new(title, data, nx, ny, colorbar_label)?;
    save(path, &figure)
}

/// A heatmap, already reduced to at most [`MAX_HEATMAP_CELLS_PER_AXIS`] blocks per axis.
struct Heatmap<'a> {
    title: &'a str,
    colorbar_label: &'a str,
    /// Averaged blocks, row-major, `cols` × `rows`.
    blocks: Vec<f64>,
    cols: usize,
    rows: usize,
    /// Size of one block in data cells (x, y).
    block: (usize, usize),
    nx: usize,
    ny: usize,
    range: (f64, f64),
}

impl<'a> Heatmap<'a> {
    fn new(title: &'a str, data: &[f64], nx: usize, ny: usize, colorbar_label: &'a str) -> Result<Self> {
        let bx = nx.div_ceil(MAX_HEATMAP_CELLS_PER_AXIS);
        let by = ny.div_ceil(MAX_HEATMAP_CELLS_PER_AXIS);
        let (cols, rows) = (nx.div_ceil(bx), ny.div_ceil(by));
        let mut blocks = vec![0.0; cols * rows];
        for (b, value) in blocks.iter_mut().enumerate() {
            let (c, r) = (b % cols, b / cols);
            let (x0, x1) = (c * bx, ((c + 1) * bx).min(nx));
            let (y0, y1) = (r * by, ((r + 1) * by).min(ny));
            let sum: f64 = (y0..y1).flat_map(|y| (x0..x1).map(move |x| data[y * nx + x])).sum();
            *value = sum / ((x1 - x0) * (y1 - y0)) as f64;
        }
        let lo = data.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let range = axis_range(lo, hi, 0.0)?;
        Ok(Heatmap {
            title,
            colorbar_label,
            blocks,
            cols,
            rows,
            block: (bx, by),
            nx,
            ny,
            range,
        })
    }

    /// The viridis colour of `v`, normalised in f64 (plotters' own normalisation is in f32, which
    /// overflows for large values and divides by zero for spans below f32 precision).
    fn color(&self, v: f64) -> RGBColor {
        let (lo, hi) = self.range;
        ViridisRGB::get_color((((v - lo) / (hi - lo)).clamp(0.0, 1.0)) as f32)
    }
}

impl Figure for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(self.title, (FONT_FAMILY, 22)).map_err(plot_err)?;
        let (map_area, bar_area) = root.split_horizontally(FIGURE_SIZE.0 * 82 / 100);
        let (nx, ny) = (self.nx as f64, self.ny as f64);
        let mut chart = ChartBuilder::on(&map_area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..nx, 0.0..ny)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x (pixel)")
            .y_desc("y (pixel)")
            .x_label_formatter(&|v| format_number(*v))
            .y_label_formatter(&|v| format_number(ny - v))
            .label_style((FONT_FAMILY, 14))
            .draw()
            .map_err(plot_err)?;
        let (bx, by) = (self.block.0 as f64, self.block.1 as f64);
        let cells = self.blocks.iter().enumerate().map(|(b, &v)| {
            let (c, r) = ((b % self.cols) as f64, (b / self.cols) as f64);
            let top = ny - r * by;
            let bottom = (ny - (r + 1.0) * by).max(0.0);
            Rectangle::new(
                [(c * bx, bottom), (((c + 1.0) * bx).min(nx), top)],
                self.color(v).filled(),
            )
        });
        chart.draw_series(cells).map_err(plot_err)?;
        debug_assert_eq!(self.blocks.len(), self.cols * self.rows);
        self.draw_colorbar(&bar_area)
    }
}

impl Heatmap<'_> {
    fn draw_colorbar<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let (lo, hi) = self.range;
        let mut bar = ChartBuilder::on(area)
            .margin_top(10)
            .margin_bottom(50)
            .margin_right(10)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, lo..hi)
            .map_err(plot_err)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(self.colorbar_label)
            .y_label_formatter(&|v| format_number(*v))
            .label_style((FONT_FAMILY, 13))
            .axis_desc_style((FONT_FAMILY, 15))
            .draw()
            .map_err(plot_err)?;
        let step = (hi - lo) / COLORBAR_STEPS as f64;
        let stripes = (0..COLORBAR_STEPS).map(|k| {
            let y0 = lo + k as f64 * step;
            Rectangle::new([(0.0, y0), (1.0, y0 + step)], self.color(y0 + 0.5 * step).filled())
        });
        bar.draw_series(stripes).map_err(plot_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode a PNG and return (width, height, RGB bytes).
    fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let mut reader = png::Decoder::new(file).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// Number of distinct RGB colours in an image: a blank or single-colour image has 1.
    fn distinct_colors(rgb: &[u8]) -> usize {
        let mut colors: Vec<[u8; 3]> = rgb.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        colors.sort_unstable();
        colors.dedup();
        colors.len()
    }

    fn sample_series() -> Vec<Series> {
        let x: Vec<f64> = (1..=20).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 1e-9 * v * v).collect();
        let err: Vec<f64> = y.iter().map(|v| 0.1 * v).collect();
        vec![
            Series::line("model", x.clone(), y.clone()),
            Series::points("data", x, y, Some(err)),
        ]
    }

    #[test]
    fn line_plot_png_decodes_and_has_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.png");
        line_plot(&path, "D(x) µm²", "x (µm)", "D (cm²/s)", &sample_series(), false, true).unwrap();
        let (w, h, rgb) = decode_png(&path);
        assert_eq!((w, h), FIGURE_SIZE);
        assert!(
            distinct_colors(&rgb) > 20,
            "expected lines, markers and anti-aliased text"
        );
        let palette_blue = rgb.chunks_exact(3).filter(|c| c == &[31, 119, 180]).count();
        assert!(
            palette_blue > 50,
            "the first series is drawn in the first palette colour"
        );
    }

    #[test]
    fn line_plot_svg_is_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.svg");
        line_plot(&path, "title here", "x", "y", &sample_series(), true, true).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.trim_start().starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("title here"), "the title is written as text");
        assert!(
            svg.contains("<polyline") || svg.contains("<path"),
            "the line series is drawn"
        );
        assert!(svg.matches("<circle").count() >= 20, "one marker per data point");
    }

    #[test]
    fn heatmap_png_shows_the_field_in_viridis() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.png");
        let (nx, ny) = (60, 30);
        let data: Vec<f64> = (0..nx * ny).map(|i| (i % nx) as f64).collect();
        heatmap(&path, "fraction", &data, nx, ny, "6Li fraction").unwrap();
        let (_, _, rgb) = decode_png(&path);
        let lo = ViridisRGB::get_color(0.0f32);
        let hi = ViridisRGB::get_color(1.0f32);
        let has = |c: RGBColor| rgb.chunks_exact(3).any(|p| p == [c.0, c.1, c.2]);
        assert!(has(lo) && has(hi), "both ends of the colour map appear");
        assert!(distinct_colors(&rgb) > 60);
    }

    #[test]
    fn large_heatmap_is_block_averaged() {
        let (nx, ny) = (1030, 3);
        let data: Vec<f64> = (0..nx * ny).map(|i| (i % nx) as f64).collect();
        let map = Heatmap::new("", &data, nx, ny, "").unwrap();
        assert_eq!(map.block, (3, 1));
        assert_eq!(map.cols, 344);
        assert_eq!(map.blocks[0], 1.0, "mean of 0, 1, 2");
        assert_eq!(map.blocks[343], 1029.0, "the last, partial block holds only x = 1029");
    }

    #[test]
    fn bad_input_is_an_error_not_a_blank_figure() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("p.png");
        let bad_len = [Series::line("a", vec![1.0, 2.0], vec![1.0])];
        assert!(
            line_plot(&png, "", "", "", &bad_len, false, false)
                .unwrap_err()
                .to_string()
                .contains("\"a\"")
        );
        let negative = [Series::line("neg", vec![1.0, 2.0], vec![1.0, -1.0])];
        assert!(line_plot(&png, "", "", "", &negative, false, true).is_err());
        let nan = [Series::line("nan", vec![1.0], vec![f64::NAN])];
        assert!(line_plot(&png, "", "", "", &nan, false, false).is_err());
        assert!(line_plot(&png, "", "", "", &[], false, false).is_err());
        let txt = dir.path().join("p.txt");
        assert!(line_plot(&txt, "", "", "", &sample_series(), false, false).is_err());
        assert!(heatmap(&png, "", &[1.0, f64::INFINITY], 2, 1, "").is_err());
        assert!(heatmap(&png, "", &[1.0, 2.0, 3.0], 2, 1, "").is_err());
        assert!(!png.exists(), "no file is left behind by a failed plot");
    }

    #[test]
    fn uniform_and_near_uniform_heatmaps_plot_without_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (nx, ny) = (20, 10);
        let near: Vec<f64> = (0..nx * ny).map(|i| 1.0 + 1e-9 * (i % nx) as f64).collect();
        let fields = [
            ("uniform", vec![0.25; nx * ny]),
            ("zero", vec![0.0; nx * ny]),
            ("near", near),
            ("tiny", vec![1e-300; nx * ny]),
            ("huge", vec![1e300; nx * ny]),
        ];
        for (name, data) in fields {
            for ext in ["png", "svg"] {
                let path = dir.path().join(format!("{name}.{ext}"));
                heatmap(&path, name, &data, nx, ny, "f").unwrap();
                assert!(path.exists(), "{name}.{ext}");
            }
            // the colour range is resolvable (its ends get the two ends of the colour map) and holds every value
            let map = Heatmap::new("", &data, nx, ny, "").unwrap();
            let (lo, hi) = map.range;
            assert!(
                hi - lo > MIN_RELATIVE_SPAN * lo.abs().max(hi.abs()),
                "{name}: {lo}..{hi}"
            );
            assert_eq!(map.color(lo), ViridisRGB::get_color(0.0f32), "{name}");
            assert_eq!(map.color(hi), ViridisRGB::get_color(1.0f32), "{name}");
            assert!(data.iter().all(|&v| lo <= v && v <= hi), "{name}");
        }
    }

    #[test]
    fn degenerate_line_plots_draw_or_error_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("p.png");
        let plot = |s: Series, log_x: bool, log_y: bool| line_plot(&png, "t", "x", "y", &[s], log_x, log_y);
        plot(Series::line("one", vec![2.0], vec![3.0]), false, false).unwrap();
        plot(Series::points("one", vec![2.0], vec![3.0], Some(vec![0.0])), true, true).unwrap();
        plot(Series::line("zero", vec![0.0, 0.0], vec![0.0, 0.0]), false, false).unwrap();
        plot(Series::line("flat", vec![1.0, 2.0, 3.0], vec![5.0; 3]), false, false).unwrap();
        plot(Series::line("flat log", vec![1.0, 2.0, 3.0], vec![5.0; 3]), true, true).unwrap();
        let near: Vec<f64> = (0..5).map(|i| 1.0 + 1e-15 * f64::from(i)).collect();
        plot(Series::line("near", near.clone(), near.clone()), false, false).unwrap();
        plot(Series::line("near log", near.clone(), near), true, true).unwrap();
        plot(Series::line("wide", vec![-1e308, 1e308], vec![0.0, 1.0]), false, false).unwrap_err();
        plot(
            Series::points("wide", vec![1.0], vec![1e308], Some(vec![1e308])),
            false,
            false,
        )
        .unwrap_err();
        plot(
            Series::line("tiny", vec![1e-300, 2e-300], vec![1e-300, 1e-300]),
            false,
            false,
        )
        .unwrap();
        plot(Series::line("empty", vec![], vec![]), false, false).unwrap_err();
        for (x, y) in [(0.0, 1.0), (-1.0, 1.0)] {
            plot(Series::line("log x", vec![x, 1.0], vec![y, 1.0]), true, false).unwrap_err();
            plot(Series::line("log y", vec![y, 1.0], vec![x, 1.0]), false, true).unwrap_err();
        }
        // an error bar reaching below zero on a log axis is cut at the axis floor, not an error
        plot(
            Series::points("bar", vec![1.0, 2.0], vec![1.0, 2.0], Some(vec![2.0, 0.5])),
            false,
            true,
        )
        .unwrap();
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(100.0), "100");
        assert_eq!(format_number(2.6e-8), "2.6e-8");
        assert_eq!(Scale { log: true }.label(-8.0), "1e-8");
    }
}
