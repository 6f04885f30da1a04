//! HAADF-STEM images across a grain boundary: the intensity profile integrated along the GB, the atomic
//! columns resolved in it, the GB direction from the image itself, and the FFT of a region with detection
//! of half-order (superlattice) spots from A-site ordering (paper 000, Fig. 1b–c).

use crate::data::{Image, ImageAxis};
use crate::error::{Error, Result};
use crate::profile::{LineProfile, median};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use serde::Serialize;

/// The profile across a GB running along `gb_along`: the mean over each line along the GB, with the
/// standard error of that mean as σ. Positions are calibrated.
pub fn intensity_profile(image: &Image, gb_along: ImageAxis) -> LineProfile {
    let (n_across, n_along) = match gb_along {
        ImageAxis::Y => (image.nx(), image.ny()),
        ImageAxis::X => (image.ny(), image.nx()),
    };
    let axis = if gb_along == ImageAxis::Y { &image.x } else { &image.y };
    let mut profile = LineProfile::default();
    for k in 0..n_across {
        let line: Vec<f64> = (0..n_along)
            .map(|j| {
                if gb_along == ImageAxis::Y {
                    image.at(k, j)
                } else {
                    image.at(j, k)
                }
            })
            .collect();
        let n = line.len() as f64;
        let mean = line.iter().sum::<f64>() / n;
        let var = line.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        profile.position.push(axis.value(k as f64));
        profile.value.push(mean);
        profile.sigma.push((var / n).sqrt());
    }
    profile
}

/// An atomic column resolved in a profile: fractional index (parabolic refinement of a local maximum) and
/// the interpolated peak intensity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Column {
    pub index: f64,
    pub intensity: f64,
}

/// The local maxima of `values` that are the largest within ±`min_separation`/2 positions, refined by the
/// parabola through the maximum and its neighbours.
pub fn column_peaks(values: &[f64], min_separation: usize) -> Vec<Column> {
    let half = (min_separation / 2).max(1);
    let n = values.len();
    (1..n.saturating_sub(1))
        .filter(|&i| {
            let window = &values[i.saturating_sub(half)..(i + half + 1).min(n)];
            window.iter().all(|&v| v <= values[i]) && values[i] > values[i - 1]
        })
        .map(|i| {
            let (a, b, c) = (values[i - 1], values[i], values[i + 1]);
            let curvature = a - 2.0 * b + c;
            let shift = if curvature < 0.0 {
                0.5 * (a - c) / curvature
            } else {
                0.0
            };
            Column {
                index: i as f64 + shift,
                intensity: b - 0.25 * (a - c) * shift,
            }
        })
        .collect()
}

/// The GB direction found from the image: the structure tensor J = Σ ∇I ∇Iᵀ of the image smoothed over
/// `smoothing` pixels (a box filter applied twice, to wash out the lattice) has its main eigenvector across the GB; the GB
/// runs perpendicular to it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GbDirection {
    /// Angle of the GB line from the +x axis, degrees in [0, 180).
    pub line_angle_deg: f64,
    /// (λ₁ − λ₂)/(λ₁ + λ₂) of the structure tensor: 1 for a perfectly straight edge, 0 for no direction.
    pub coherence: f64,
    /// The image axis nearest to the GB line.
    pub nearest_axis: ImageAxis,
}

/// Find the GB direction of `image` (see [`GbDirection`]).
pub fn gb_direction(image: &Image, smoothing: usize) -> Result<GbDirection> {
    let (nx, ny) = (image.nx(), image.ny());
    if nx < 3 || ny < 3 {
        return Err(Error::Invalid(format!("GB direction: image {nx}×{ny} is too small")));
    }
    let smooth = box_blur(&box_blur(&image.data, nx, ny, smoothing / 2), nx, ny, smoothing / 2);
    let (mut jxx, mut jxy, mut jyy) = (0.0, 0.0, 0.0);
    for iy in 1..ny - 1 {
        for ix in 1..nx - 1 {
            let gx = 0.5 * (smooth[iy * nx + ix + 1] - smooth[iy * nx + ix - 1]);
            let gy = 0.5 * (smooth[(iy + 1) * nx + ix] - smooth[(iy - 1) * nx + ix]);
            jxx += gx * gx;
            jxy += gx * gy;
            jyy += gy * gy;
        }
    }
    let normal = 0.5 * (2.0 * jxy).atan2(jxx - jyy);
    let line = (normal.to_degrees() + 90.0).rem_euclid(180.0);
    let spread = ((jxx - jyy).powi(2) + 4.0 * jxy * jxy).sqrt();
    let coherence = if jxx + jyy > 0.0 { spread / (jxx + jyy) } else { 0.0 };
    let nearest_axis = if (45.0..135.0).contains(&line) {
        ImageAxis::Y
    } else {
        ImageAxis::X
    };
    Ok(GbDirection {
        line_angle_deg: line,
        coherence,
        nearest_axis,
    })
}

/// Box blur with half-width `half` (separable, shrinking at the edges).
fn box_blur(data: &[f64], nx: usize, ny: usize, half: usize) -> Vec<f64> {
    let blur_lines = |src: &[f64], n_lines: usize, len: usize, index: &dyn Fn(usize, usize) -> usize| {
        let mut out = vec![0.0; src.len()];
        for line in 0..n_lines {
            let values: Vec<f64> = (0..len).map(|k| src[index(line, k)]).collect();
            for (k, v) in crate::profile::moving_average(&values, 2 * half + 1)
                .into_iter()
                .enumerate()
            {
                out[index(line, k)] = v;
            }
        }
        out
    };
    let rows = blur_lines(data, ny, nx, &|y, x| y * nx + x);
    blur_lines(&rows, nx, ny, &|x, y| y * nx + x)
}

/// A rectangular region `x0..x1`, `y0..y1` in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Region {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

/// A spot of the power spectrum: frequency index (kx, ky) (signed, DC at 0), its frequency in cycles per
/// pixel, and its power.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spot {
    pub kx: i64,
    pub ky: i64,
    pub power: f64,
}

/// A tested half-order position: its spot, the median power of the surrounding box (9 × 9 without the
/// central 3 × 3) and their ratio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SuperlatticeTest {
    /// Which combination of the fundamentals: `"g1/2"`, `"g2/2"`, `"(g1+g2)/2"`, `"(g1-g2)/2"`.
    pub label: &'static str,
    pub spot: Spot,
    pub local_background: f64,
    pub ratio: f64,
    pub present: bool,
    /// Direction of the ordering wavevector in real space, degrees from +x in [0, 180).
    pub direction_deg: f64,
    /// Real-space period of the ordering, pixels.
    pub period_px: f64,
}

/// The FFT analysis of a region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FftAnalysis {
    pub region: Region,
    /// The two strongest non-collinear lattice spots.
    pub fundamentals: Vec<Spot>,
    pub superlattice: Vec<SuperlatticeTest>,
    /// Whether any half-order spot is present.
    pub ordered: bool,
    /// The power spectrum, DC centred (index (kx + w/2) + (ky + h/2)·w), for plotting.
    #[serde(skip)]
    pub power: Vec<f64>,
    pub width: usize,
    pub height: usize,
}

/// The weakest power, relative to the strongest lattice spot g₁, that the half-order test can call a spot
/// (60 dB below the fundamental; real superlattice spots of A-site ordering are within ~30 dB of it).
pub const DYNAMIC_RANGE_FLOOR: f64 = 1e-6;

/// FFT of `region` of `image` (mean removed, Hann window), the two strongest non-collinear spots g₁, g₂
/// beyond `min_radius` frequency indices from DC, and the test of the half-order positions g₁/2, g₂/2,
/// (g₁ ± g₂)/2: a spot is present when its power exceeds `threshold` times the local background, the
/// median of the power around it but at least [`DYNAMIC_RANGE_FLOOR`] times the power of g₁ (so the
/// window's leakage in a noise-free image, far below any real spot, is not taken for one).
pub fn fft_superlattice(image: &Image, region: Region, min_radius: f64, threshold: f64) -> Result<FftAnalysis> {
    let Region { x0, y0, x1, y1 } = region;
    if !(x0 < x1 && y0 < y1 && x1 <= image.nx() && y1 <= image.ny() && x1 - x0 >= 16 && y1 - y0 >= 16) {
        return Err(Error::Invalid(format!(
            "FFT region {x0},{y0},{x1},{y1} must lie inside the {}×{} image and be at least 16×16",
            image.nx(),
            image.ny()
        )));
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let power = power_spectrum(image, region);
    let at = |kx: i64, ky: i64| power[(kx.rem_euclid(w as i64) as usize) + (ky.rem_euclid(h as i64) as usize) * w];
    let freq = |kx: i64, ky: i64| (kx as f64 / w as f64, ky as f64 / h as f64);
    let mut peaks = Vec::new();
    let (hw, hh) = (w as i64 / 2, h as i64 / 2);
    for ky in -hh..(h as i64 - hh) {
        for kx in -hw..(w as i64 - hw) {
            let radius = ((kx * kx + ky * ky) as f64).sqrt();
            let p = at(kx, ky);
            let is_max = (-1..=1).all(|dy| (-1..=1).all(|dx| (dx == 0 && dy == 0) || at(kx + dx, ky + dy) < p));
            if radius >= min_radius && is_max {
                peaks.push(Spot { kx, ky, power: p });
            }
        }
    }
    peaks.sort_by(|a, b| b.power.total_cmp(&a.power));
    let g1 = *peaks
        .first()
        .ok_or_else(|| Error::Invalid("FFT: no spot beyond the DC region".into()))?;
    let cross = |a: &Spot, b: &Spot| {
        let (fa, fb) = (freq(a.kx, a.ky), freq(b.kx, b.ky));
        (fa.0 * fb.1 - fa.1 * fb.0).abs() / (fa.0.hypot(fa.1) * fb.0.hypot(fb.1))
    };
    let g2 = peaks.iter().find(|s| cross(&g1, s) > 0.25).copied();
    let mut candidates = vec![("g1/2", g1.kx as f64 / 2.0, g1.ky as f64 / 2.0)];
    if let Some(g2) = g2 {
        candidates.push(("g2/2", g2.kx as f64 / 2.0, g2.ky as f64 / 2.0));
        candidates.push(("(g1+g2)/2", (g1.kx + g2.kx) as f64 / 2.0, (g1.ky + g2.ky) as f64 / 2.0));
        candidates.push(("(g1-g2)/2", (g1.kx - g2.kx) as f64 / 2.0, (g1.ky - g2.ky) as f64 / 2.0));
    }
    let superlattice: Vec<SuperlatticeTest> = candidates
        .into_iter()
        .map(|(label, fx, fy)| {
            let (cx, cy) = (fx.round() as i64, fy.round() as i64);
            let mut best = Spot {
                kx: cx,
                ky: cy,
                power: f64::NEG_INFINITY,
            };
            let mut ring = Vec::new();
            for dy in -4..=4i64 {
                for dx in -4..=4i64 {
                    let p = at(cx + dx, cy + dy);
                    if dx.abs() <= 1 && dy.abs() <= 1 {
                        if p > best.power {
                            best = Spot {
                                kx: cx + dx,
                                ky: cy + dy,
                                power: p,
                            };
                        }
                    } else {
                        ring.push(p);
                    }
                }
            }
            let local_background = median(&ring).max(DYNAMIC_RANGE_FLOOR * g1.power);
            let ratio = best.power / local_background.max(f64::MIN_POSITIVE);
            let (f0, f1) = freq(fx.round() as i64, fy.round() as i64);
            SuperlatticeTest {
                label,
                spot: best,
                local_background,
                ratio,
                present: ratio > threshold,
                direction_deg: f1.atan2(f0).to_degrees().rem_euclid(180.0),
                period_px: 1.0 / (fx / w as f64).hypot(fy / h as f64),
            }
        })
        .collect();
    let ordered = superlattice.iter().any(|t| t.present);
    let fundamentals = std::iter::once(g1).chain(g2).collect();
    Ok(FftAnalysis {
        region,
        fundamentals,
        superlattice,
        ordered,
        power: centred(&power, w, h),
        width: w,
        height: h,
    })
}

/// |FFT|² of the mean-subtracted, Hann-windowed region, in FFT order (DC at index 0).
fn power_spectrum(image: &Image, region: Region) -> Vec<f64> {
    let Region { x0, y0, x1, y1 } = region;
    let (w, h) = (x1 - x0, y1 - y0);
    let hann = |i: usize, n: usize| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
    let mean = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| image.at(x, y))
        .sum::<f64>()
        / (w * h) as f64;
    let mut buffer: Vec<Complex<f64>> = (0..h)
        .flat_map(|j| (0..w).map(move |i| (i, j)))
        .map(|(i, j)| Complex::new((image.at(x0 + i, y0 + j) - mean) * hann(i, w) * hann(j, h), 0.0))
        .collect();
    let mut planner = FftPlanner::new();
    let row_fft = planner.plan_fft_forward(w);
    row_fft.process(&mut buffer);
    let col_fft = planner.plan_fft_forward(h);
    let mut column = vec![Complex::new(0.0, 0.0); h];
    for i in 0..w {
        for j in 0..h {
            column[j] = buffer[j * w + i];
        }
        col_fft.process(&mut column);
        for j in 0..h {
            buffer[j * w + i] = column[j];
        }
    }
    buffer.iter().map(|c| c.norm_sqr()).collect()
}

/// FFT order → DC-centred order.
fn centred(power: &[f64], w: usize, h: usize) -> Vec<f64> {
    let mut out = vec![0.0; power.len()];
    for j in 0..h {
        for i in 0..w {
            out[((j + h / 2) % h) * w + (i + w / 2) % w] = power[j * w + i];
        }
    }
    out
}
