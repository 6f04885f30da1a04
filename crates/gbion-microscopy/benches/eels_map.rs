//! Background fit + edge integration of a 300 × 300 × 2048 spectrum image on one core (issue 10's target:
//! under 5 s; HyperSpy's linear fit takes about 5 s, its nonlinear fit about 30 minutes).

use criterion::{Criterion, criterion_group, criterion_main};
use gbion_microscopy::background::Weighting;
use gbion_microscopy::eels::{EdgeWindow, WindowIntegrator};
use gbion_microscopy::{Axis, SpectrumImage};

const SIDE: usize = 300;
const CHANNELS: usize = 2048;

/// 300 × 300 spectra 1500–2524 eV (0.5 eV/channel): a power-law background and an Sr-L3-like edge, the 64
/// distinct spectra tiled over the image.
fn spectrum_image() -> SpectrumImage {
    let energy = Axis {
        size: CHANNELS,
        offset: 1500.0,
        scale: 0.5,
        units: "eV".into(),
    };
    let distinct: Vec<Vec<f64>> = (0..64)
        .map(|k| {
            (0..CHANNELS)
                .map(|i| {
                    let e = energy.value(i as f64);
                    let edge = if e >= 1940.0 {
                        (50.0 + k as f64) * (e / 1940.0).powf(-3.0)
                    } else {
                        0.0
                    };
                    4e12 * e.powf(-3.0) + edge + (i * 7919 % 13) as f64
                })
                .collect()
        })
        .collect();
    let mut data = Vec::with_capacity(SIDE * SIDE * CHANNELS);
    for p in 0..SIDE * SIDE {
        data.extend_from_slice(&distinct[p % 64]);
    }
    let x = Axis::pixels(SIDE);
    SpectrumImage::new(x.clone(), x, energy, data).expect("sizes")
}

fn bench(c: &mut Criterion) {
    let si = spectrum_image();
    let edge = EdgeWindow::with_auto_pre_edge("Sr", (1940.0, 2100.0));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    let mut group = c.benchmark_group("eels_map_300x300x2048_one_core");
    group.sample_size(10);
    for weighting in [Weighting::Uniform, Weighting::Poisson] {
        let integrator = WindowIntegrator::for_edge(&si.energy, &edge, weighting, 1.0).expect("windows");
        group.bench_function(format!("{weighting:?}"), |b| {
            b.iter(|| pool.install(|| integrator.map(&si)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
