//! Line profiles across a grain boundary and the relative change of a signal at the GB against the
//! abutting grains, with its uncertainty propagated from the per-position uncertainties.

use crate::error::{Error, Result};
use serde::Serialize;

/// A profile across a GB: calibrated positions, values and their 1σ uncertainties.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LineProfile {
    pub position: Vec<f64>,
    pub value: Vec<f64>,
    pub sigma: Vec<f64>,
}

/// Which profile positions count as GB and as grain, in pixels from the GB position: the GB is
/// |i − gb| ≤ `gb_half_width`, the grains are `grain_inner` ≤ |i − gb| ≤ `grain_outer` on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GbWindows {
    pub gb_index: usize,
    pub gb_half_width: usize,
    pub grain_inner: usize,
    pub grain_outer: usize,
}

/// The mean signal at the GB and in the grains, and the relative change
/// Δ = 100 (G/B − 1) % with σ_Δ = 100 (G/B) √((σ_G/G)² + (σ_B/B)²), σ of a mean of n independent
/// positions being √(Σσᵢ²)/n.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GbChange {
    pub gb_mean: f64,
    pub gb_err: f64,
    pub grain_mean: f64,
    pub grain_err: f64,
    pub gb_change_percent: f64,
    pub gb_change_err_percent: f64,
    /// Standard error of the grain mean from the scatter of the grain positions (lattice contrast,
    /// composition variation): compare with `grain_err`, which is noise only.
    pub grain_scatter_err: f64,
    pub n_gb: usize,
    pub n_grain: usize,
}

/// The GB-vs-grain change of `profile` in the given windows.
pub fn gb_change(profile: &LineProfile, windows: &GbWindows) -> Result<GbChange> {
    let n = profile.value.len();
    let distance = |i: usize| i.abs_diff(windows.gb_index);
    let gb: Vec<usize> = (0..n).filter(|&i| distance(i) <= windows.gb_half_width).collect();
    let grain: Vec<usize> = (0..n)
        .filter(|&i| (windows.grain_inner..=windows.grain_outer).contains(&distance(i)))
        .collect();
    if gb.is_empty() || grain.is_empty() || windows.grain_inner <= windows.gb_half_width {
        return Err(Error::Invalid(format!(
            "GB windows {windows:?} on a profile of {n} positions leave {} GB and {} grain positions (need at \
             least one each, grains beyond the GB)",
            gb.len(),
            grain.len()
        )));
    }
    let (gb_mean, gb_err) = mean_with_error(profile, &gb);
    let (grain_mean, grain_err) = mean_with_error(profile, &grain);
    if grain_mean == 0.0 || !grain_mean.is_finite() || !gb_mean.is_finite() {
        return Err(Error::Invalid(format!(
            "the grain mean is {grain_mean}: no relative change can be formed"
        )));
    }
    let ratio = gb_mean / grain_mean;
    let rel = ((gb_err / gb_mean).powi(2) + (grain_err / grain_mean).powi(2)).sqrt();
    let scatter = {
        let m = grain.len() as f64;
        let ss: f64 = grain.iter().map(|&i| (profile.value[i] - grain_mean).powi(2)).sum();
        if grain.len() > 1 {
            (ss / (m - 1.0) / m).sqrt()
        } else {
            0.0
        }
    };
    Ok(GbChange {
        gb_mean,
        gb_err,
        grain_mean,
        grain_err,
        gb_change_percent: 100.0 * (ratio - 1.0),
        gb_change_err_percent: 100.0 * ratio.abs() * rel,
        grain_scatter_err: scatter,
        n_gb: gb.len(),
        n_grain: grain.len(),
    })
}

fn mean_with_error(profile: &LineProfile, indices: &[usize]) -> (f64, f64) {
    let n = indices.len() as f64;
    let mean = indices.iter().map(|&i| profile.value[i]).sum::<f64>() / n;
    let var = indices.iter().map(|&i| profile.sigma[i].powi(2)).sum::<f64>() / (n * n);
    (mean, var.sqrt())
}

/// The index of the deepest dip of the profiles taken together: each profile is divided by its median, the
/// mean of these relative profiles is smoothed by a moving average over `smooth` positions (odd), and its
/// minimum is returned — the middle of the minimum when a flat-bottomed dip has several positions equal to
/// it within 1e-9 relative. The GB is where the signals drop (paper 000, Figs. 1 and 3).
pub fn dip_index(profiles: &[&[f64]], smooth: usize) -> Result<usize> {
    let n = profiles.first().map_or(0, |p| p.len());
    if n == 0 || profiles.iter().any(|p| p.len() != n) {
        return Err(Error::Invalid(
            "GB search: no profiles, or profiles of different lengths".into(),
        ));
    }
    let mut relative = vec![0.0; n];
    for p in profiles {
        let m = median(p);
        if m == 0.0 || m.is_nan() {
            return Err(Error::Invalid(format!("GB search: a profile has median {m}")));
        }
        for (r, v) in relative.iter_mut().zip(p.iter()) {
            *r += v / m;
        }
    }
    let smoothed = moving_average(&relative, smooth.max(1));
    let lowest = smoothed
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .min_by(f64::total_cmp)
        .ok_or_else(|| Error::Invalid("GB search: the profiles hold no finite values".into()))?;
    let tolerance = 1e-9 * lowest.abs().max(f64::MIN_POSITIVE);
    let at_minimum: Vec<usize> = (0..n).filter(|&i| (smoothed[i] - lowest).abs() <= tolerance).collect();
    let index = at_minimum[at_minimum.len() / 2];
    Ok(index)
}

/// Centred moving average over `width` positions (shrinking at the ends).
pub fn moving_average(values: &[f64], width: usize) -> Vec<f64> {
    let half = width / 2;
    (0..values.len())
        .map(|i| {
            let window = &values[i.saturating_sub(half)..(i + half + 1).min(values.len())];
            window.iter().sum::<f64>() / window.len() as f64
        })
        .collect()
}

/// The median of the finite values (NaN if there are none).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}
