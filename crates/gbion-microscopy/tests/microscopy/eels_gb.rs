//! Core-loss EELS: power laws recovered exactly, edge integrals exact without noise, GB drops of paper 000's
//! size (Sr 26 %, Ta 11 %, Zr 7 %) recovered within their stated uncertainty, and that uncertainty
//! calibrated over many noise realisations.

use crate::common::{gb_composition, rng, spectrum_image};
use gbion_microscopy::background::{Weighting, fit_power_law};
use gbion_microscopy::data::ImageAxis;
use gbion_microscopy::eels::{EdgeWindow, WindowIntegrator};
use gbion_microscopy::profile::{GbWindows, dip_index, gb_change};
use gbion_microscopy::{Axis, SpectrumImage};

/// Background exponent; the edges' sawtooth tails decay with the same exponent, so a lower edge's tail adds
/// a pure power law to a higher edge's pre-edge window and the true background there is exactly A·E^−r.
const R: f64 = 3.0;
const A: f64 = 4e12;
const GB: usize = 20;
const NX: usize = 41;
const NY: usize = 10;

/// (element, onset eV, jump counts at onset, relative drop on the GB): paper 000's drops.
const EDGES: [(&str, f64, f64, f64); 3] = [
    ("Ta", 1735.0, 80.0, 0.11),
    ("Sr", 1940.0, 100.0, 0.26),
    ("Zr", 2222.0, 60.0, 0.07),
];

fn axis() -> Axis {
    Axis {
        size: 900,
        offset: 1500.0,
        scale: 1.0,
        units: "eV".into(),
    }
}

fn model(ix: usize, e: f64) -> f64 {
    let mut v = A * e.powf(-R);
    for (_, onset, jump, drop) in EDGES {
        if e >= onset {
            v += jump * gb_composition(ix, GB, 1, drop) * (e / onset).powf(-R);
        }
    }
    v
}

fn windows() -> Vec<EdgeWindow> {
    vec![
        EdgeWindow::with_auto_pre_edge("Ta", (1735.0, 1900.0)),
        EdgeWindow::with_auto_pre_edge("Sr", (1940.0, 2100.0)),
        EdgeWindow::with_auto_pre_edge("Zr", (2222.0, 2350.0)),
    ]
}

const GB_WINDOWS: GbWindows = GbWindows {
    gb_index: GB,
    gb_half_width: 1,
    grain_inner: 4,
    grain_outer: 15,
};

#[test]
fn power_law_recovered_exactly_from_noise_free_data() {
    let ln_e: Vec<f64> = (0..50).map(|i| (300.0 + 2.0 * i as f64).ln()).collect();
    let counts: Vec<f64> = ln_e.iter().map(|l| (17.3 - 2.7 * l).exp()).collect();
    for weighting in [Weighting::Uniform, Weighting::Poisson] {
        let fit = fit_power_law(&ln_e, &counts, weighting, 1.0).unwrap();
        assert!((fit.ln_a - 17.3).abs() < 1e-9 && (fit.r - 2.7).abs() < 1e-10, "{fit:?}");
    }
    // Noise-free: the unweighted fit's residual variance, hence its covariance, is zero.
    let fit = fit_power_law(&ln_e, &counts, Weighting::Uniform, 1.0).unwrap();
    assert!(fit.covariance[1][1] < 1e-20);
    // Too few positive channels is an error, not a NaN.
    assert!(fit_power_law(&ln_e[..2], &counts[..2], Weighting::Poisson, 1.0).is_err());
    assert!(fit_power_law(&ln_e, &vec![0.0; 50], Weighting::Uniform, 1.0).is_err());
}

#[test]
fn noise_free_edge_integrals_are_exact_in_every_pixel() {
    let si = spectrum_image(NX, 2, axis(), model, None);
    for (edge, (_, onset, jump, drop)) in windows().iter().zip(EDGES) {
        let integrator = WindowIntegrator::for_edge(&si.energy, edge, Weighting::Poisson, 1.0).unwrap();
        let map = integrator.map(&si);
        assert_eq!(map.failed, 0);
        for (k, net) in map.net.iter().enumerate() {
            let ix = k % NX;
            let truth: f64 = (edge.signal.0 as usize..=edge.signal.1 as usize)
                .map(|e| jump * gb_composition(ix, GB, 1, drop) * (e as f64 / onset).powf(-R))
                .sum();
            assert!(
                (net - truth).abs() < 1e-6 * truth,
                "{} pixel {k}: {net} vs {truth}",
                edge.element
            );
        }
    }
}

#[test]
fn a_pixel_without_counts_is_reported_as_failed() {
    let mut si = spectrum_image(4, 1, axis(), model, None);
    let ne = si.ne();
    si.data[ne..2 * ne].fill(0.0);
    let integrator = WindowIntegrator::for_edge(&si.energy, &windows()[1], Weighting::Uniform, 1.0).unwrap();
    let map = integrator.map(&si);
    assert_eq!(map.failed, 1);
    assert!(map.net[1].is_nan() && map.net[0].is_finite());
}

fn measured_changes(si: &SpectrumImage) -> Vec<(f64, f64)> {
    windows()
        .iter()
        .map(|edge| {
            let integrator = WindowIntegrator::for_edge(&si.energy, edge, Weighting::Poisson, 1.0).unwrap();
            let profile = integrator.profile(si, ImageAxis::Y).unwrap();
            let change = gb_change(&profile, &GB_WINDOWS).unwrap();
            (change.gb_change_percent, change.gb_change_err_percent)
        })
        .collect()
}

#[test]
fn paper_000_drops_recovered_within_their_uncertainty() {
    let si = spectrum_image(NX, NY, axis(), model, Some(&mut rng(2026)));
    for ((name, _, _, drop), (change, err)) in EDGES.iter().zip(measured_changes(&si)) {
        let truth = -100.0 * drop;
        assert!(err > 0.05 && err < 4.0, "{name}: implausible uncertainty {err}");
        assert!(
            (change - truth).abs() < 3.0 * err,
            "{name}: {change} ± {err} vs {truth}"
        );
    }
}

#[test]
fn stated_uncertainty_matches_the_scatter_over_noise_realisations() {
    let mut z2 = [0.0; 3];
    let seeds = 24;
    for seed in 0..seeds {
        let si = spectrum_image(NX, 4, axis(), model, Some(&mut rng(seed)));
        for (k, ((_, _, _, drop), (change, err))) in EDGES.iter().zip(measured_changes(&si)).enumerate() {
            z2[k] += ((change + 100.0 * drop) / err).powi(2);
        }
    }
    for (k, z) in z2.iter().enumerate() {
        let rms = (z / seeds as f64).sqrt();
        // χ² with 24 degrees of freedom: the RMS z-score lies in [0.6, 1.45] with probability > 99.9 %.
        assert!((0.6..1.45).contains(&rms), "{}: RMS z = {rms}", EDGES[k].0);
    }
}

#[test]
fn gb_found_at_the_dip_and_overlaps_flagged() {
    let si = spectrum_image(NX, NY, axis(), model, Some(&mut rng(5)));
    let profiles: Vec<Vec<f64>> = windows()
        .iter()
        .map(|e| {
            WindowIntegrator::for_edge(&si.energy, e, Weighting::Poisson, 1.0)
                .unwrap()
                .profile(&si, ImageAxis::Y)
        })
        .map(|p| p.unwrap().value)
        .collect();
    let refs: Vec<&[f64]> = profiles.iter().map(Vec::as_slice).collect();
    assert_eq!(dip_index(&refs, 3).unwrap(), GB);
    // The automatic Sr-L pre-edge window (1746–1901 eV) holds the Ta-M4 onset; Li-K sits on Ta-O2,3.
    let sr = &windows()[1];
    assert_eq!(sr.pre_edge, (0.90 * 1940.0, 0.98 * 1940.0));
    let flagged: Vec<(String, &str)> = sr.overlaps().into_iter().map(|o| (o.edge, o.window)).collect();
    assert_eq!(
        flagged,
        vec![
            ("Ta-M5".to_string(), "below pre-edge"),
            ("Ta-M4".to_string(), "pre-edge")
        ]
    );
    let li = EdgeWindow::with_auto_pre_edge("Li", (55.0, 75.0));
    let flagged: Vec<(String, &str)> = li.overlaps().into_iter().map(|o| (o.edge, o.window)).collect();
    assert_eq!(flagged, vec![("Ta-O2,3".to_string(), "below pre-edge")]);
    // O-K's pre-edge sits on the Ti-L2,3 tail (LLTO); La-M4,5 is clear of the tabulated edges.
    let flagged: Vec<String> = EdgeWindow::with_auto_pre_edge("O", (532.0, 570.0))
        .overlaps()
        .into_iter()
        .map(|o| o.edge)
        .collect();
    assert_eq!(flagged, vec!["Ti-L3".to_string(), "Ti-L2".to_string()]);
    assert!(
        EdgeWindow::with_auto_pre_edge("La", (832.0, 870.0))
            .overlaps()
            .is_empty()
    );
}

#[test]
fn windows_outside_the_data_are_errors() {
    let edge = EdgeWindow::with_auto_pre_edge("O", (532.0, 570.0));
    let err = WindowIntegrator::for_edge(&axis(), &edge, Weighting::Poisson, 1.0).unwrap_err();
    assert!(err.to_string().contains("outside the axis"), "{err}");
    let overlapping = EdgeWindow {
        element: "Sr".into(),
        signal: (1940.0, 2000.0),
        pre_edge: (1900.0, 1950.0),
    };
    assert!(WindowIntegrator::for_edge(&axis(), &overlapping, Weighting::Poisson, 1.0).is_err());
}

#[test]
fn binned_maps_sum_pixel_blocks_and_keep_the_calibration() {
    let si = spectrum_image(NX, 5, axis(), model, None);
    let binned = si.binned(2, 2).unwrap();
    // 41 × 5 pixels in 2 × 2 blocks: the last column and row are cropped.
    assert_eq!((binned.nx(), binned.ny(), binned.ne()), (20, 2, si.ne()));
    assert_eq!(
        (binned.x.scale, binned.x.offset, binned.x.units.as_str()),
        (1.0, 0.25, "nm")
    );
    assert_eq!((binned.y.scale, binned.y.offset), (2.0, 0.5));
    for (bx, by) in [(0, 0), (19, 1)] {
        let block: Vec<f64> = (0..si.ne())
            .map(|e| {
                (0..2)
                    .flat_map(|dy| (0..2).map(move |dx| (2 * bx + dx, 2 * by + dy)))
                    .map(|(ix, iy)| si.spectrum(ix, iy)[e])
                    .sum()
            })
            .collect();
        assert_eq!(binned.spectrum(bx, by), block.as_slice());
    }
    // Noise-free data: a binned pixel's net edge counts are exactly the sum over its block.
    let edge = &windows()[1];
    let (_, onset, jump, drop) = EDGES[1];
    let integrator = WindowIntegrator::for_edge(&si.energy, edge, Weighting::Poisson, 1.0).unwrap();
    let map = integrator.map(&binned);
    assert_eq!((map.nx, map.ny, map.failed), (20, 2, 0));
    for (k, net) in map.net.iter().enumerate() {
        let truth: f64 = [2 * (k % 20), 2 * (k % 20) + 1]
            .iter()
            .map(|&ix| {
                (edge.signal.0 as usize..=edge.signal.1 as usize)
                    .map(|e| 2.0 * jump * gb_composition(ix, GB, 1, drop) * (e as f64 / onset).powf(-R))
                    .sum::<f64>()
            })
            .sum();
        assert!((net - truth).abs() < 1e-6 * truth, "binned pixel {k}: {net} vs {truth}");
    }
    // The whole-axis block is the sum along the GB that line profiles use.
    assert_eq!(si.sum_along(ImageAxis::Y).unwrap().data, si.binned(1, 5).unwrap().data);
    assert_eq!(si.sum_along(ImageAxis::X).unwrap().data, si.binned(NX, 1).unwrap().data);
    for (bx, by) in [(0, 1), (1, 0), (NX + 1, 1), (1, 6)] {
        assert!(si.binned(bx, by).is_err(), "{bx}×{by}");
    }
}

#[test]
fn binning_n_by_n_pixels_cuts_the_relative_counting_error_by_n() {
    let si = spectrum_image(8, 8, axis(), |_, e| model(0, e), Some(&mut rng(11)));
    let integrator = WindowIntegrator::for_edge(&si.energy, &windows()[1], Weighting::Poisson, 1.0).unwrap();
    let relative_error = |si: &SpectrumImage| {
        let map = integrator.map(si);
        let rel: Vec<f64> = map.net.iter().zip(&map.variance).map(|(n, v)| v.sqrt() / n).collect();
        rel.iter().sum::<f64>() / rel.len() as f64
    };
    let per_pixel = relative_error(&si);
    let binned = relative_error(&si.binned(4, 4).unwrap());
    assert!((per_pixel / binned - 4.0).abs() < 0.4, "{per_pixel} / {binned}");
}
