//! Vibrational EELS (10–150 meV): the zero-loss-peak tail and the slowly varying background under the phonon
//! features are removed by one power law A·E^−r fitted jointly in a window below the first feature window
//! (on the ZLP tail) and one above the last (past the phonon bands), the usual two-window background of
//! monochromated vibrational EELS; window maps, line profiles and GB-vs-grain changes then follow exactly as
//! for core-loss edges (`eels::WindowIntegrator`). Energies must be calibrated with the ZLP at 0.

use crate::background::Weighting;
use crate::data::Axis;
use crate::eels::WindowIntegrator;
use crate::error::{Error, Result};

/// The automatic background windows for feature windows spanning [lo, hi]: [0.6·lo, 0.9·lo] on the ZLP tail
/// and [1.5·hi, 2·hi] past the features, the latter clipped to the axis and dropped when fewer than 3
/// channels of it are measured.
pub fn auto_background_windows(energy: &Axis, windows: &[(f64, f64)]) -> Result<Vec<(f64, f64)>> {
    let lo = windows.iter().map(|w| w.0).fold(f64::INFINITY, f64::min);
    let hi = windows.iter().map(|w| w.1).fold(f64::NEG_INFINITY, f64::max);
    if !(lo > 0.0 && hi > lo) {
        return Err(Error::Invalid(format!(
            "vibrational windows must lie at positive energies, not {windows:?}"
        )));
    }
    let mut background = vec![(0.6 * lo, 0.9 * lo)];
    let top = energy.value(0.0).max(energy.value(energy.size as f64 - 1.0));
    let upper = (1.5 * hi, (2.0 * hi).min(top));
    if energy.index_range(upper.0, upper.1).is_ok_and(|r| r.len() >= 3) {
        background.push(upper);
    }
    Ok(background)
}

/// The background windows used and one integrator per feature window.
#[derive(Debug, Clone)]
pub struct VibIntegrators {
    pub background: Vec<(f64, f64)>,
    pub integrators: Vec<WindowIntegrator>,
}

/// One integrator per feature window, all sharing the background windows (automatic when `background` is
/// empty).
pub fn integrators(
    energy: &Axis,
    windows: &[(f64, f64)],
    background: &[(f64, f64)],
    weighting: Weighting,
    electrons_per_count: f64,
) -> Result<VibIntegrators> {
    let background = if background.is_empty() {
        auto_background_windows(energy, windows)?
    } else {
        background.to_vec()
    };
    let integrators = windows
        .iter()
        .map(|&w| WindowIntegrator::new(energy, &background, w, weighting, electrons_per_count))
        .collect::<Result<Vec<_>>>()?;
    Ok(VibIntegrators {
        background,
        integrators,
    })
}
