//! Window integration of EELS spectra with a power-law background: for each spectrum, fit B(E) = A·E^−r in
//! the background channels, subtract it over the signal window and sum (Egerton, §4.4), with the variance
//! of the net counts from counting statistics (Poisson: var Σ I = Σ I / g for g electrons per count) plus
//! the background extrapolation (fit covariance). Core-loss edges use one pre-edge window; vibrational EELS
//! (module `vib`) uses windows on both sides. Maps integrate every pixel; line profiles first sum the
//! spectra along the GB.

use crate::background::{PowerLaw, Weighting, fit_power_law};
use crate::data::{Axis, ImageAxis, SpectrumImage};
use crate::edges::{Overlap, overlaps};
use crate::error::{Error, Result};
use crate::profile::LineProfile;
use rayon::prelude::*;
use serde::Serialize;
use std::ops::Range;

/// Most pixels in one rayon job of [`WindowIntegrator::map`] (≈ 1.5 ms of work at 2048 channels): an idle
/// thread takes the next job, where rayon's default splitting (a few pieces per thread) would leave it
/// waiting for a thread that the machine slows.
const PIXELS_PER_JOB: usize = 256;

/// A core-loss edge to integrate: the signal window starts at the edge onset; the background is fitted in
/// the pre-edge window. Energies in the units of the energy axis (eV).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeWindow {
    /// The element (`"Sr"`), used as label and to look up overlapping edges.
    pub element: String,
    pub signal: (f64, f64),
    pub pre_edge: (f64, f64),
}

impl EdgeWindow {
    /// An edge with the automatic pre-edge window [0.90·E₀, 0.98·E₀] below its onset E₀ (= signal start):
    /// wide enough for a stable fit, ending before the onset's near-edge rise.
    pub fn with_auto_pre_edge(element: &str, signal: (f64, f64)) -> Self {
        let e0 = signal.0;
        EdgeWindow {
            element: element.to_string(),
            signal,
            pre_edge: (0.90 * e0, 0.98 * e0),
        }
    }

    /// Other elements' edges whose onsets lie in the windows.
    pub fn overlaps(&self) -> Vec<Overlap> {
        overlaps(&self.element, self.pre_edge, self.signal)
    }
}

/// Net (background-subtracted) counts in a window and their variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowSignal {
    pub net: f64,
    pub variance: f64,
    /// The integrated background that was subtracted.
    pub background: f64,
    pub fit: PowerLaw,
}

/// Integrates one signal window over a power-law background fitted in given channels; built once per
/// energy axis, applied to every spectrum.
#[derive(Debug, Clone)]
pub struct WindowIntegrator {
    background_channels: Vec<usize>,
    background_ln_e: Vec<f64>,
    signal_channels: Range<usize>,
    signal_ln_e: Vec<f64>,
    weighting: Weighting,
    electrons_per_count: f64,
}

impl WindowIntegrator {
    /// An integrator of `signal` with the background fitted in the union of `background` windows, on the
    /// energy axis `energy`. All energies must be positive (the fit is in ln E).
    pub fn new(
        energy: &Axis,
        background: &[(f64, f64)],
        signal: (f64, f64),
        weighting: Weighting,
        electrons_per_count: f64,
    ) -> Result<Self> {
        if electrons_per_count.is_nan() || electrons_per_count <= 0.0 {
            return Err(Error::Invalid(format!(
                "electrons per count must be positive, not {electrons_per_count}"
            )));
        }
        let mut background_channels = Vec::new();
        for &(lo, hi) in background {
            background_channels.extend(energy.index_range(lo, hi)?);
        }
        background_channels.sort_unstable();
        background_channels.dedup();
        let signal_channels = energy.index_range(signal.0, signal.1)?;
        if background_channels.iter().any(|c| signal_channels.contains(c)) {
            return Err(Error::Invalid(format!(
                "the background windows {background:?} overlap the signal window {signal:?}"
            )));
        }
        let ln_e = |c: usize| {
            let e = energy.value(c as f64);
            if e > 0.0 {
                Ok(e.ln())
            } else {
                Err(Error::Invalid(format!(
                    "a power-law background needs positive energies; channel {c} is at {e}"
                )))
            }
        };
        let background_ln_e = background_channels
            .iter()
            .map(|&c| ln_e(c))
            .collect::<Result<Vec<_>>>()?;
        let signal_ln_e = signal_channels.clone().map(ln_e).collect::<Result<Vec<_>>>()?;
        Ok(WindowIntegrator {
            background_channels,
            background_ln_e,
            signal_channels,
            signal_ln_e,
            weighting,
            electrons_per_count,
        })
    }

    /// An integrator for a core-loss edge.
    pub fn for_edge(energy: &Axis, edge: &EdgeWindow, weighting: Weighting, electrons_per_count: f64) -> Result<Self> {
        Self::new(energy, &[edge.pre_edge], edge.signal, weighting, electrons_per_count)
    }

    /// Fit, subtract and integrate one spectrum.
    pub fn integrate(&self, spectrum: &[f64]) -> Result<WindowSignal> {
        let counts: Vec<f64> = self.background_channels.iter().map(|&c| spectrum[c]).collect();
        let fit = fit_power_law(&self.background_ln_e, &counts, self.weighting, self.electrons_per_count)?;
        let total: f64 = spectrum[self.signal_channels.clone()].iter().sum();
        let counting: f64 = spectrum[self.signal_channels.clone()]
            .iter()
            .map(|&c| c.max(0.0))
            .sum::<f64>();
        let (background, background_var) = fit.sum_with_variance(&self.signal_ln_e);
        Ok(WindowSignal {
            net: total - background,
            variance: counting / self.electrons_per_count + background_var,
            background,
            fit,
        })
    }

    /// Integrate every pixel of a spectrum image (in parallel): the map of net counts and variances.
    pub fn map(&self, si: &SpectrumImage) -> WindowMap {
        let results: Vec<Option<WindowSignal>> = si
            .data
            .par_chunks(si.ne())
            .with_max_len(PIXELS_PER_JOB)
            .map(|spectrum| self.integrate(spectrum).ok())
            .collect();
        let failed = results.iter().filter(|r| r.is_none()).count();
        let (net, variance) = results
            .iter()
            .map(|r| r.map_or((f64::NAN, f64::NAN), |s| (s.net, s.variance)))
            .unzip();
        WindowMap {
            nx: si.nx(),
            ny: si.ny(),
            net,
            variance,
            failed,
        }
    }

    /// The line profile across a GB running along `gb_along`: spectra summed along the GB (one spectrum per
    /// position across it), then fitted and integrated. Positions are the calibrated coordinates across.
    pub fn profile(&self, si: &SpectrumImage, gb_along: ImageAxis) -> Result<LineProfile> {
        let summed = si.sum_along(gb_along)?;
        let mut profile = LineProfile::default();
        for (k, spectrum) in summed.data.chunks(summed.ne()).enumerate() {
            let signal = self
                .integrate(spectrum)
                .map_err(|e| Error::Invalid(format!("profile position {k}: {e}")))?;
            profile.position.push(summed.x.value(k as f64));
            profile.value.push(signal.net);
            profile.sigma.push(signal.variance.sqrt());
        }
        Ok(profile)
    }
}

/// A map of net window counts; pixels whose background could not be fitted are NaN and counted in `failed`.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowMap {
    pub nx: usize,
    pub ny: usize,
    pub net: Vec<f64>,
    pub variance: Vec<f64>,
    pub failed: usize,
}
