//! Synthetic data shared by the tests: seeded Poisson noise and a spectrum-image builder.

use gbion_microscopy::{Axis, SpectrumImage};
use rand::SeedableRng;
use rand_distr::{Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A seeded generator.
pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// A Poisson sample of mean `lambda` (0 for λ ≤ 0).
pub fn poisson(rng: &mut Xoshiro256PlusPlus, lambda: f64) -> f64 {
    if lambda > 0.0 {
        Poisson::new(lambda).expect("valid mean").sample(rng)
    } else {
        0.0
    }
}

/// A spectrum image nx × ny whose spectrum at (ix, iy) is `model(ix, E)`, with Poisson noise when `rng` is
/// given.
pub fn spectrum_image(
    nx: usize,
    ny: usize,
    energy: Axis,
    model: impl Fn(usize, f64) -> f64,
    mut rng: Option<&mut Xoshiro256PlusPlus>,
) -> SpectrumImage {
    let mut data = Vec::with_capacity(nx * ny * energy.size);
    for _iy in 0..ny {
        for ix in 0..nx {
            for ie in 0..energy.size {
                let mean = model(ix, energy.value(ie as f64));
                data.push(match rng.as_deref_mut() {
                    Some(r) => poisson(r, mean),
                    None => mean,
                });
            }
        }
    }
    let x = Axis {
        size: nx,
        offset: 0.0,
        scale: 0.5,
        units: "nm".into(),
    };
    SpectrumImage::new(x, Axis::pixels(ny), energy, data).expect("consistent sizes")
}

/// The relative composition at profile position `ix` for a GB at `gb` with half-width `half`: 1 − drop
/// on the GB, 1 elsewhere.
pub fn gb_composition(ix: usize, gb: usize, half: usize, drop: f64) -> f64 {
    if ix.abs_diff(gb) <= half { 1.0 - drop } else { 1.0 }
}
