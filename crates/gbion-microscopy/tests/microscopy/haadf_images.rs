//! HAADF: FFT half-order spots on synthetic lattices with and without a doubled A-site period, the GB
//! direction from an image, column positions in a profile.

use crate::common::{poisson, rng};
use gbion_microscopy::data::ImageAxis;
use gbion_microscopy::haadf::{Region, column_peaks, fft_superlattice, gb_direction, intensity_profile};
use gbion_microscopy::{Axis, Image};

const N: usize = 128;
const PERIOD: f64 = 8.0;

/// A square lattice of Gaussian columns (period 8 px, σ 1.5 px); the column at lattice site (i, j) has
/// intensity `column(i, j)`; multiplied by `envelope(x, y)`; Poisson noise at 200 counts per unit.
fn lattice(column: impl Fn(i64, i64) -> f64, envelope: impl Fn(f64, f64) -> f64, seed: u64) -> Image {
    let mut r = rng(seed);
    let mut data = Vec::with_capacity(N * N);
    for y in 0..N {
        for x in 0..N {
            let (fx, fy) = (x as f64, y as f64);
            let mut v = 0.1;
            let (i0, j0) = ((fx / PERIOD).floor() as i64, (fy / PERIOD).floor() as i64);
            for i in i0 - 1..=i0 + 1 {
                for j in j0 - 1..=j0 + 1 {
                    let (cx, cy) = (i as f64 * PERIOD + 4.0, j as f64 * PERIOD + 4.0);
                    v += column(i, j) * (-((fx - cx).powi(2) + (fy - cy).powi(2)) / (2.0 * 1.5 * 1.5)).exp();
                }
            }
            data.push(poisson(&mut r, 200.0 * v * envelope(fx, fy)) / 200.0);
        }
    }
    Image::new(Axis::pixels(N), Axis::pixels(N), data).unwrap()
}

const FULL: Region = Region {
    x0: 0,
    y0: 0,
    x1: N,
    y1: N,
};

#[test]
fn no_half_order_spots_without_ordering() {
    let image = lattice(|_, _| 1.0, |_, _| 1.0, 1);
    let fft = fft_superlattice(&image, FULL, 3.0, 20.0).unwrap();
    assert!(!fft.ordered, "{:?}", fft.superlattice);
    // The fundamentals are the (10) and (01) spots: 128/8 = 16 frequency indices.
    for g in &fft.fundamentals {
        assert_eq!(g.kx.abs() + g.ky.abs(), 16, "{g:?}");
    }
    assert_eq!(fft.fundamentals.len(), 2);
}

#[test]
fn doubled_a_site_period_gives_half_order_spots_in_its_direction() {
    for (along_x, direction) in [(true, 0.0), (false, 90.0)] {
        let image = lattice(
            |i, j| {
                if (if along_x { i } else { j }).rem_euclid(2) == 0 {
                    1.0
                } else {
                    0.75
                }
            },
            |_, _| 1.0,
            2,
        );
        let fft = fft_superlattice(&image, FULL, 3.0, 20.0).unwrap();
        assert!(fft.ordered);
        let present: Vec<_> = fft.superlattice.iter().filter(|t| t.present).collect();
        assert_eq!(present.len(), 1, "{present:?}");
        assert!((present[0].direction_deg - direction).abs() < 1e-9, "{:?}", present[0]);
        assert!((present[0].period_px - 2.0 * PERIOD).abs() < 1e-9);
        assert!((present[0].spot.kx.abs() + present[0].spot.ky.abs()) == 8);
    }
}

#[test]
fn fft_region_must_fit() {
    let image = lattice(|_, _| 1.0, |_, _| 1.0, 3);
    let region = Region {
        x0: 100,
        y0: 0,
        x1: 140,
        y1: 64,
    };
    assert!(
        fft_superlattice(&image, region, 3.0, 20.0)
            .unwrap_err()
            .to_string()
            .contains("inside")
    );
}

#[test]
fn gb_direction_from_a_dark_band_across_the_lattice() {
    for angle in [90.0f64, 0.0, 30.0, 120.0] {
        let (s, c) = angle.to_radians().sin_cos();
        // Distance from the line through the centre at `angle`: |(p − centre) × direction|.
        let band = |x: f64, y: f64| {
            let d = (x - 64.0) * s - (y - 64.0) * c;
            1.0 - 0.5 * (-d * d / (2.0 * 6.0 * 6.0)).exp()
        };
        let image = lattice(|_, _| 1.0, band, 4);
        let dir = gb_direction(&image, 9).unwrap();
        let diff = (dir.line_angle_deg - angle).rem_euclid(180.0);
        assert!(diff.min(180.0 - diff) < 3.0, "{angle}: {dir:?}");
        assert!(dir.coherence > 0.5, "{dir:?}");
        let expected = if (45.0..135.0).contains(&angle) {
            ImageAxis::Y
        } else {
            ImageAxis::X
        };
        assert_eq!(dir.nearest_axis, expected);
    }
}

#[test]
fn column_positions_and_profile_along_a_vertical_gb() {
    let positions = [5.3, 13.1, 21.4, 29.0];
    let values: Vec<f64> = (0..36)
        .map(|i| positions.iter().map(|p| (-(i as f64 - p).powi(2) / 2.0).exp()).sum())
        .collect();
    let columns = column_peaks(&values, 4);
    assert_eq!(columns.len(), positions.len());
    for (c, p) in columns.iter().zip(positions) {
        assert!((c.index - p).abs() < 0.1, "{c:?} vs {p}");
    }
    // A vertical GB: the profile along x is each column's mean over y, with zero spread here.
    let data: Vec<f64> = (0..5).flat_map(|_| values.iter().copied()).collect();
    let image = Image::new(
        Axis {
            size: 36,
            offset: -9.0,
            scale: 0.5,
            units: "nm".into(),
        },
        Axis::pixels(5),
        data,
    );
    let profile = intensity_profile(&image.unwrap(), ImageAxis::Y);
    for (got, want) in profile.value.iter().zip(&values) {
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
    }
    assert_eq!(profile.position[0], -9.0);
    assert!(profile.sigma.iter().all(|&s| s < 1e-12));
}
