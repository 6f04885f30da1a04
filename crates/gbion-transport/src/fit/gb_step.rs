//! Grain-boundary step analysis (paper 003, eqns 2–3): along a line crossing a GB, the bulk gradient at
//! the GB and the concentration step across it give D_gb/δ by flux continuity; in batch over many GBs
//! (a list of lines, or one line per pair of adjacent grains of a grain map) the distribution of D_gb/δ.
//! Lines are in pixel coordinates with pixel centres at integer (x, y); values are sampled bilinearly.

use super::FitError;
use crate::image::Image;
use crate::io::GrainMap;
use nalgebra::{DMatrix, DVector};
use std::collections::BTreeMap;

/// Eqn 3 of paper 003, thin-GB flux continuity D_bulk ∂C/∂y|bulk = D_gb ΔC_gb / δ, solved for the GB
/// conductance: D_gb/δ = D_bulk (∂C/∂y) / ΔC_gb. Units: D_bulk in m²/s, gradient in m⁻¹ (C is a
/// fraction), ΔC dimensionless → m/s. (Any consistent set works: cm²/s and cm⁻¹ give cm/s.)
pub fn d_gb_over_delta(d_bulk: f64, gradient: f64, delta_c: f64) -> f64 {
    d_bulk * gradient / delta_c
}

/// A straight line in pixel coordinates (x = column, y = row), from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelLine {
    pub start: [f64; 2],
    pub end: [f64; 2],
}

impl PixelLine {
    fn length(&self) -> f64 {
        (self.end[0] - self.start[0]).hypot(self.end[1] - self.start[1])
    }

    /// The point at distance `s` (pixels) from the start.
    fn point(&self, s: f64) -> [f64; 2] {
        let l = self.length();
        let f = if l > 0.0 { s / l } else { 0.0 };
        [
            self.start[0] + f * (self.end[0] - self.start[0]),
            self.start[1] + f * (self.end[1] - self.start[1]),
        ]
    }
}

/// Bilinear interpolation of `image` at (x, y) in pixel coordinates; `None` outside the pixel centres'
/// hull or when a contributing pixel with non-zero weight is invalid.
pub fn bilinear(image: &Image, valid: Option<&[bool]>, x: f64, y: f64) -> Option<f64> {
    let (max_x, max_y) = ((image.nx - 1) as f64, (image.ny - 1) as f64);
    if !(0.0..=max_x).contains(&x) || !(0.0..=max_y).contains(&y) {
        return None;
    }
    let (x0, y0) = (
        (x.floor() as usize).min(image.nx.saturating_sub(2)),
        (y.floor() as usize).min(image.ny.saturating_sub(2)),
    );
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let mut sum = 0.0;
    for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
        for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
            let w = wx * wy;
            if w == 0.0 {
                continue;
            }
            let (xi, yi) = ((x0 + dx).min(image.nx - 1), (y0 + dy).min(image.ny - 1));
            if valid.is_some_and(|v| !v[yi * image.nx + xi]) {
                return None;
            }
            sum += w * image.at(xi, yi);
        }
    }
    Some(sum)
}

/// Options of the step analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOptions {
    /// GB position along the line (pixels from the start); `None`: at the largest step between samples.
    pub gb_position_px: Option<f64>,
    /// Samples closer than this to the GB (pixels) are left out of the bulk fits: the instrument blurs the
    /// step over about its resolution.
    pub exclude_px: f64,
    /// At most this far from the GB (pixels) on each side enters the quadratic fits.
    pub fit_range_px: f64,
    /// Spacing of the samples along the line (pixels).
    pub step_px: f64,
}

impl Default for StepOptions {
    fn default() -> Self {
        Self {
            gb_position_px: None,
            exclude_px: 1.5,
            fit_range_px: f64::INFINITY,
            step_px: 1.0,
        }
    }
}

/// A quadratic C(t) = a + b t + c t² fitted to one bulk side, t = distance from the GB along the line (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideFit {
    pub value_at_gb: f64,
    pub value_err: f64,
    pub gradient_per_m: f64,
    pub gradient_err_per_m: f64,
    /// The quadratic coefficient c (m⁻²).
    pub curvature_per_m2: f64,
    pub n_points: usize,
}

/// The result of one step analysis. The sign convention follows the line direction: ΔC = C(GB⁻) − C(GB⁺)
/// and the gradient is dC/ds along the line; flux continuity makes D_gb/δ = −D_bulk (dC/ds)/ΔC > 0.
#[derive(Debug, Clone, PartialEq)]
pub struct GbStep {
    pub gb_position_px: f64,
    pub before: SideFit,
    pub after: SideFit,
    /// Inverse-variance mean of the two sides' gradients at the GB (m⁻¹); flux continuity makes them equal.
    pub gradient_per_m: f64,
    pub gradient_err_per_m: f64,
    pub delta_c: f64,
    pub delta_c_err: f64,
    pub d_gb_over_delta_m_s: f64,
    pub d_gb_over_delta_err_m_s: f64,
    /// Samples along the line: distance from the start (pixels) and value — for plots.
    pub samples: Vec<(f64, f64)>,
}

impl GbStep {
    /// D_gb = (D_gb/δ)·δ in m²/s, with its uncertainty, for a GB width `delta_m`.
    pub fn d_gb_m2_s(&self, delta_m: f64) -> (f64, f64) {
        (
            self.d_gb_over_delta_m_s * delta_m,
            self.d_gb_over_delta_err_m_s * delta_m,
        )
    }
}

/// Sample `image` along `line` every `step_px` pixels: (distance from start in pixels, value).
pub fn sample_line(image: &Image, valid: Option<&[bool]>, line: &PixelLine, step_px: f64) -> Vec<(f64, f64)> {
    let n = (line.length() / step_px).floor() as usize + 1;
    (0..n)
        .filter_map(|i| {
            let s = i as f64 * step_px;
            let [x, y] = line.point(s);
            bilinear(image, valid, x, y).map(|v| (s, v))
        })
        .collect()
}

/// Unweighted quadratic least squares C = a + b t + c t² on (t, C) pairs with t in pixels; returns
/// ([a, b per pixel, c per pixel²], σ_a, σ_b) with the covariance scaled by the residual variance.
fn quadratic_fit(points: &[(f64, f64)]) -> Result<([f64; 3], f64, f64), FitError> {
    let n = points.len();
    if n < 5 {
        return Err(FitError::TooFewPoints {
            what: "quadratic fit of a bulk side",
            needed: 5,
            got: n,
        });
    }
    let a = DMatrix::from_fn(n, 3, |i, j| points[i].0.powi(j as i32));
    let y = DVector::from_iterator(n, points.iter().map(|p| p.1));
    let inverse = (a.transpose() * &a).try_inverse().ok_or(FitError::Singular)?;
    let coef = &inverse * a.transpose() * &y;
    let rss = (&a * &coef - &y).norm_squared();
    let s2 = rss / (n - 3) as f64;
    let sigma = |k: usize| (inverse[(k, k)] * s2).sqrt();
    Ok(([coef[0], coef[1], coef[2]], sigma(0), sigma(1)))
}

fn side_fit(points: &[(f64, f64)], pixel_m: f64) -> Result<SideFit, FitError> {
    let ([a, b, c], sa, sb) = quadratic_fit(points)?;
    Ok(SideFit {
        value_at_gb: a,
        value_err: sa,
        gradient_per_m: b / pixel_m,
        gradient_err_per_m: sb / pixel_m,
        curvature_per_m2: c / (pixel_m * pixel_m),
        n_points: points.len(),
    })
}

/// The GB position at the largest jump between neighbouring samples: the midpoint of that pair.
fn largest_step_position(samples: &[(f64, f64)]) -> Option<f64> {
    samples
        .windows(2)
        .max_by(|p, q| (p[1].1 - p[0].1).abs().total_cmp(&(q[1].1 - q[0].1).abs()))
        .map(|w| 0.5 * (w[0].0 + w[1].0))
}

/// Eqns 2–3 along one line: locate the GB, fit a quadratic to each bulk side (leaving out `exclude_px`
/// around the GB), extrapolate both to the GB for ΔC and the gradient, and return D_gb/δ (m/s) with its
/// uncertainty propagated from the fits. `d_bulk_m2_s` is the bulk diffusivity (e.g. from PFG-NMR),
/// `pixel_m` the pixel size (m).
pub fn analyse_step(
    image: &Image,
    valid: Option<&[bool]>,
    line: &PixelLine,
    d_bulk_m2_s: f64,
    pixel_m: f64,
    options: &StepOptions,
) -> Result<GbStep, FitError> {
    let samples = sample_line(image, valid, line, options.step_px);
    let gb = match options.gb_position_px {
        Some(s) => s,
        None => largest_step_position(&samples).ok_or(FitError::TooFewPoints {
            what: "line inside the image",
            needed: 2,
            got: samples.len(),
        })?,
    };
    step_from_samples(samples, gb, |_| true, d_bulk_m2_s, pixel_m, options)
}

/// The shared core: fit both sides of `gb` (pixels along the line) using the samples that `keep` accepts.
fn step_from_samples(
    samples: Vec<(f64, f64)>,
    gb: f64,
    keep: impl Fn(f64) -> bool,
    d_bulk_m2_s: f64,
    pixel_m: f64,
    options: &StepOptions,
) -> Result<GbStep, FitError> {
    if !(d_bulk_m2_s > 0.0 && pixel_m > 0.0) {
        return Err(FitError::BadInput("D_bulk and the pixel size must be positive".into()));
    }
    let side = |sign: f64| -> Vec<(f64, f64)> {
        samples
            .iter()
            .map(|&(s, v)| (s - gb, v, s))
            .filter(|&(t, _, s)| t * sign > options.exclude_px && t.abs() <= options.fit_range_px && keep(s))
            .map(|(t, v, _)| (t, v))
            .collect()
    };
    let before = side_fit(&side(-1.0), pixel_m)?;
    let after = side_fit(&side(1.0), pixel_m)?;
    let (wb, wa) = (before.gradient_err_per_m.powi(-2), after.gradient_err_per_m.powi(-2));
    let (gradient, gradient_err) = if wb.is_finite() && wa.is_finite() {
        (
            (wb * before.gradient_per_m + wa * after.gradient_per_m) / (wb + wa),
            (wb + wa).powf(-0.5),
        )
    } else {
        // A noiseless side has zero uncertainty: the plain mean is then exact enough.
        (0.5 * (before.gradient_per_m + after.gradient_per_m), 0.0)
    };
    let delta_c = before.value_at_gb - after.value_at_gb;
    let delta_c_err = before.value_err.hypot(after.value_err);
    let value = d_gb_over_delta(d_bulk_m2_s, -gradient, delta_c);
    if !(value.is_finite() && value > 0.0) {
        return Err(FitError::BadInput(format!(
            "gradient {gradient:.3e} m⁻¹ and step ΔC {delta_c:.3e} do not describe a flux from high to low C across the GB"
        )));
    }
    let rel = (gradient_err / gradient).hypot(delta_c_err / delta_c);
    Ok(GbStep {
        gb_position_px: gb,
        before,
        after,
        gradient_per_m: gradient,
        gradient_err_per_m: gradient_err,
        delta_c,
        delta_c_err,
        d_gb_over_delta_m_s: value,
        d_gb_over_delta_err_m_s: value * rel,
        samples,
    })
}

/// Summary statistics of D_gb/δ over many GBs (m/s).
#[derive(Debug, Clone, PartialEq)]
pub struct StepDistribution {
    pub values_m_s: Vec<f64>,
    pub mean: f64,
    pub median: f64,
    /// Sample standard deviation (n − 1); 0 for a single value.
    pub std: f64,
}

impl StepDistribution {
    /// Statistics of `values` (m/s); `None` when empty.
    pub fn from_values(values: Vec<f64>) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
        };
        Some(Self {
            values_m_s: values,
            mean,
            median,
            std: var.sqrt(),
        })
    }
}

/// One analysed (or rejected) line of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchEntry {
    /// The pair of grains the line crosses (automatic mode), `None` for user-given lines.
    pub grains: Option<(u32, u32)>,
    pub line: PixelLine,
    pub result: Result<GbStep, String>,
}

/// Accept only steps significant at `min_significance` σ: a GB that the flux runs along shows no step,
/// and its ratio of two small numbers says nothing about D_gb/δ.
fn significant(step: GbStep, min_significance: f64) -> Result<GbStep, String> {
    if step.delta_c.abs() < min_significance * step.delta_c_err
        || step.gradient_per_m.abs() < min_significance * step.gradient_err_per_m
    {
        Err(format!(
            "not significant: ΔC = {:.3e} ± {:.1e}, gradient = {:.3e} ± {:.1e} m⁻¹",
            step.delta_c, step.delta_c_err, step.gradient_per_m, step.gradient_err_per_m
        ))
    } else {
        Ok(step)
    }
}

/// The step analysis on each of `lines`; entries failing or below `min_significance` σ are kept with the
/// reason. Returns the entries and the distribution over accepted ones.
pub fn analyse_lines(
    image: &Image,
    valid: Option<&[bool]>,
    lines: &[PixelLine],
    d_bulk_m2_s: f64,
    pixel_m: f64,
    options: &StepOptions,
    min_significance: f64,
) -> (Vec<BatchEntry>, Option<StepDistribution>) {
    let entries: Vec<BatchEntry> = lines
        .iter()
        .map(|line| BatchEntry {
            grains: None,
            line: *line,
            result: analyse_step(image, valid, line, d_bulk_m2_s, pixel_m, options)
                .map_err(|e| e.to_string())
                .and_then(|s| significant(s, min_significance)),
        })
        .collect();
    let distribution = distribution_of(&entries);
    (entries, distribution)
}

fn distribution_of(entries: &[BatchEntry]) -> Option<StepDistribution> {
    StepDistribution::from_values(
        entries
            .iter()
            .filter_map(|e| e.result.as_ref().ok().map(|s| s.d_gb_over_delta_m_s))
            .collect(),
    )
}

/// For every pair of 4-adjacent grains sharing at least `min_faces` pixel faces: the line through the
/// boundary face nearest to the mean of the shared faces, along the local boundary normal (from the
/// centroid of grain a's pixels to that of grain b's within `half_length_px` of it), `half_length_px` to
/// each side.
pub fn lines_across_boundaries(map: &GrainMap, half_length_px: f64, min_faces: usize) -> Vec<((u32, u32), PixelLine)> {
    let mut faces: BTreeMap<(u32, u32), Vec<[f64; 2]>> = BTreeMap::new();
    for y in 0..map.ny {
        for x in 0..map.nx {
            let a = map.at(x, y);
            for (nx, ny) in [(x + 1, y), (x, y + 1)] {
                if nx < map.nx && ny < map.ny && map.at(nx, ny) != a {
                    let b = map.at(nx, ny);
                    let key = (a.min(b), a.max(b));
                    faces
                        .entry(key)
                        .or_default()
                        .push([0.5 * (x + nx) as f64, 0.5 * (y + ny) as f64]);
                }
            }
        }
    }
    faces
        .into_iter()
        .filter(|(_, f)| f.len() >= min_faces)
        .filter_map(|(pair, f)| boundary_line(map, pair, &f, half_length_px).map(|l| (pair, l)))
        .collect()
}

fn boundary_line(map: &GrainMap, (a, b): (u32, u32), faces: &[[f64; 2]], half: f64) -> Option<PixelLine> {
    let n = faces.len() as f64;
    let mean = [
        faces.iter().map(|p| p[0]).sum::<f64>() / n,
        faces.iter().map(|p| p[1]).sum::<f64>() / n,
    ];
    let dist2 = |p: &[f64; 2]| (p[0] - mean[0]).powi(2) + (p[1] - mean[1]).powi(2);
    let mid = *faces.iter().min_by(|p, q| dist2(p).total_cmp(&dist2(q)))?;
    let centroid = |grain: u32| -> Option<[f64; 2]> {
        let (mut sx, mut sy, mut count) = (0.0, 0.0, 0.0);
        // Pixels within `half` of the (possibly half-integer) midpoint: symmetric about a straight boundary.
        let r = half.ceil() as isize + 1;
        let (cx, cy) = (mid[0].floor() as isize, mid[1].floor() as isize);
        for y in (cy - r).max(0)..=(cy + r).min(map.ny as isize - 1) {
            for x in (cx - r).max(0)..=(cx + r).min(map.nx as isize - 1) {
                let d2 = (x as f64 - mid[0]).powi(2) + (y as f64 - mid[1]).powi(2);
                if map.at(x as usize, y as usize) == grain && d2 <= half * half {
                    sx += x as f64;
                    sy += y as f64;
                    count += 1.0;
                }
            }
        }
        (count > 0.0).then(|| [sx / count, sy / count])
    };
    let (ca, cb) = (centroid(a)?, centroid(b)?);
    let (dx, dy) = (cb[0] - ca[0], cb[1] - ca[1]);
    let norm = dx.hypot(dy);
    (norm > 0.0).then(|| PixelLine {
        start: [mid[0] - half * dx / norm, mid[1] - half * dy / norm],
        end: [mid[0] + half * dx / norm, mid[1] + half * dy / norm],
    })
}

/// Where the line leaves grain `from` between distances `lo` and `hi` (pixels), by bisection on the
/// nearest-pixel grain (the boundary between pixel regions lies half-way between pixel centres).
fn boundary_crossing(map: &GrainMap, line: &PixelLine, mut lo: f64, mut hi: f64, from: Option<u32>) -> f64 {
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if grain_at(map, line.point(mid)) == from {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The grain of the pixel nearest to (x, y).
fn grain_at(map: &GrainMap, [x, y]: [f64; 2]) -> Option<u32> {
    let (xi, yi) = (x.round(), y.round());
    (xi >= 0.0 && yi >= 0.0 && (xi as usize) < map.nx && (yi as usize) < map.ny)
        .then(|| map.at(xi as usize, yi as usize))
}

/// Batch step analysis over every boundary of a grain map (see [`lines_across_boundaries`]). On each line
/// the GB sits where the nearest-pixel grain changes from the first grain to the second, and each side's
/// fit uses only samples inside its own grain. Returns all entries and the distribution of D_gb/δ.
#[allow(clippy::too_many_arguments)]
pub fn analyse_grain_map(
    image: &Image,
    valid: Option<&[bool]>,
    map: &GrainMap,
    d_bulk_m2_s: f64,
    pixel_m: f64,
    options: &StepOptions,
    half_length_px: f64,
    min_significance: f64,
) -> Result<(Vec<BatchEntry>, Option<StepDistribution>), FitError> {
    if (map.nx, map.ny) != (image.nx, image.ny) {
        return Err(FitError::BadInput(format!(
            "grain map is {}x{} pixels but the image is {}x{}",
            map.nx, map.ny, image.nx, image.ny
        )));
    }
    let entries: Vec<BatchEntry> = lines_across_boundaries(map, half_length_px, 3)
        .into_iter()
        .map(|(pair, line)| BatchEntry {
            grains: Some(pair),
            line,
            result: step_in_two_grains(image, valid, map, &line, d_bulk_m2_s, pixel_m, options)
                .map_err(|e| e.to_string())
                .and_then(|s| significant(s, min_significance)),
        })
        .collect();
    let distribution = distribution_of(&entries);
    Ok((entries, distribution))
}

/// One line of the grain-map batch: GB at the first change of grain, each side restricted to its grain
/// up to the first sample that leaves it.
fn step_in_two_grains(
    image: &Image,
    valid: Option<&[bool]>,
    map: &GrainMap,
    line: &PixelLine,
    d_bulk_m2_s: f64,
    pixel_m: f64,
    options: &StepOptions,
) -> Result<GbStep, FitError> {
    let samples = sample_line(image, valid, line, options.step_px);
    let grains: Vec<Option<u32>> = samples.iter().map(|&(s, _)| grain_at(map, line.point(s))).collect();
    let centre = 0.5 * line.length();
    // The grain change nearest to the centre of the line (the line is centred on the boundary).
    let change = (1..samples.len())
        .filter(|&i| grains[i] != grains[i - 1])
        .min_by(|&i, &j| (samples[i].0 - centre).abs().total_cmp(&(samples[j].0 - centre).abs()))
        .ok_or(FitError::BadInput("the line does not cross a grain boundary".into()))?;
    let (left_grain, right_grain) = (grains[change - 1], grains[change]);
    let gb = boundary_crossing(map, line, samples[change - 1].0, samples[change].0, left_grain);
    let left_start = (0..change)
        .rev()
        .find(|&i| grains[i] != left_grain)
        .map_or(0, |i| i + 1);
    let right_end = (change..samples.len())
        .find(|&i| grains[i] != right_grain)
        .unwrap_or(samples.len());
    let (lo, hi) = (samples[left_start].0, samples[right_end - 1].0);
    step_from_samples(samples, gb, |s| s >= lo && s <= hi, d_bulk_m2_s, pixel_m, options)
}
