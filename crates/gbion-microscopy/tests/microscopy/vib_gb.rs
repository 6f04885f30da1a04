//! Vibrational EELS: a ZLP tail with two phonon bands; the Sr/Ta–O band (10–50 meV) drops at the GB, the
//! Li–O band (50–100 meV) does not (paper 000, Fig. 5). Both recovered within their uncertainty.

use crate::common::{gb_composition, rng, spectrum_image};
use gbion_microscopy::Axis;
use gbion_microscopy::background::Weighting;
use gbion_microscopy::data::ImageAxis;
use gbion_microscopy::profile::{GbWindows, gb_change};
use gbion_microscopy::vib::{auto_background_windows, integrators};

const GB: usize = 15;
const HEAVY_DROP: f64 = 0.2;

fn axis() -> Axis {
    Axis {
        size: 500,
        offset: -10.0,
        scale: 0.5,
        units: "meV".into(),
    }
}

fn gaussian(e: f64, centre: f64, sigma: f64) -> f64 {
    (-0.5 * ((e - centre) / sigma).powi(2)).exp()
}

fn bands(ix: usize, e: f64) -> [f64; 2] {
    [
        400.0 * gb_composition(ix, GB, 1, HEAVY_DROP) * gaussian(e, 30.0, 6.0),
        150.0 * gaussian(e, 75.0, 8.0),
    ]
}

fn model(ix: usize, e: f64) -> f64 {
    let tail = if e > 0.0 { 5e5 * e.powf(-2.5) } else { 5e5 };
    tail + bands(ix, e).iter().sum::<f64>()
}

#[test]
fn heavy_band_drops_and_li_band_does_not() {
    let windows = [(10.0, 50.0), (50.5, 100.0)];
    let energy = axis();
    assert_eq!(
        auto_background_windows(&energy, &windows).unwrap(),
        vec![(6.0, 9.0), (150.0, 200.0)]
    );
    let si = spectrum_image(31, 8, energy.clone(), model, Some(&mut rng(11)));
    let integrators = integrators(&energy, &windows, &[], Weighting::Poisson, 1.0)
        .unwrap()
        .integrators;
    let gb_windows = GbWindows {
        gb_index: GB,
        gb_half_width: 1,
        grain_inner: 4,
        grain_outer: 12,
    };
    for (band, integrator) in integrators.iter().enumerate() {
        let profile = integrator.profile(&si, ImageAxis::Y).unwrap();
        let change = gb_change(&profile, &gb_windows).unwrap();
        // The truth from the noise-free bands themselves (band tails cross the window edges).
        let in_window = |ix: usize| -> f64 {
            let range = energy.index_range(windows[band].0, windows[band].1).unwrap();
            range
                .map(|c| bands(ix, energy.value(c as f64)).iter().sum::<f64>())
                .sum()
        };
        let truth = 100.0 * (in_window(GB) / in_window(0) - 1.0);
        let (got, err) = (change.gb_change_percent, change.gb_change_err_percent);
        assert!(err > 0.01 && err < 5.0, "band {band}: implausible uncertainty {err}");
        assert!((got - truth).abs() < 3.0 * err, "band {band}: {got} ± {err} vs {truth}");
    }
}
