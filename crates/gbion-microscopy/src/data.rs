//! In-memory datasets: calibrated axes, 2-D images and spectrum images (a spectrum is a 1 × 1 spectrum
//! image), whatever file they came from.

use crate::error::{Error, Result};
use serde::Serialize;

/// A calibrated axis: the value at index `i` is `offset + scale · i` in `units` (HyperSpy's convention; a DM
/// file's `Origin` is the index of the value 0, so `offset = −Origin · Scale`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Axis {
    pub size: usize,
    pub offset: f64,
    pub scale: f64,
    pub units: String,
}

impl Axis {
    /// An uncalibrated axis: index = value, no units.
    pub fn pixels(size: usize) -> Self {
        Axis {
            size,
            offset: 0.0,
            scale: 1.0,
            units: String::new(),
        }
    }

    /// The calibrated value at (possibly fractional) index `i`.
    pub fn value(&self, i: f64) -> f64 {
        self.offset + self.scale * i
    }

    /// The indices `a..b` of the channels whose values lie in `[lo, hi]` (scale may be negative).
    pub fn index_range(&self, lo: f64, hi: f64) -> Result<std::ops::Range<usize>> {
        let (i0, i1) = ((lo - self.offset) / self.scale, (hi - self.offset) / self.scale);
        let (i0, i1) = (
            i0.min(i1).ceil().max(0.0),
            i0.max(i1).floor().min(self.size as f64 - 1.0),
        );
        if i0.is_nan() || i1.is_nan() || i0 > i1 {
            return Err(Error::Invalid(format!(
                "the window {lo}–{hi} {} lies outside the axis {}–{} {}",
                self.units,
                self.value(0.0),
                self.value(self.size as f64 - 1.0),
                self.units
            )));
        }
        Ok(i0 as usize..i1 as usize + 1)
    }
}

/// A 2-D image, row-major: the pixel (ix, iy) is `data[iy * x.size + ix]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub x: Axis,
    pub y: Axis,
    pub data: Vec<f64>,
}

impl Image {
    /// An image with the given axes; `data.len()` must be `x.size · y.size`.
    pub fn new(x: Axis, y: Axis, data: Vec<f64>) -> Result<Self> {
        check_len(data.len(), x.size * y.size, "image")?;
        Ok(Image { x, y, data })
    }

    pub fn nx(&self) -> usize {
        self.x.size
    }

    pub fn ny(&self) -> usize {
        self.y.size
    }

    pub fn at(&self, ix: usize, iy: usize) -> f64 {
        self.data[iy * self.x.size + ix]
    }
}

/// A spectrum image, energy fastest: the channel `ie` of pixel (ix, iy) is
/// `data[(iy · nx + ix) · ne + ie]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumImage {
    pub x: Axis,
    pub y: Axis,
    pub energy: Axis,
    pub data: Vec<f64>,
}

impl SpectrumImage {
    /// A spectrum image with the given axes; `data.len()` must be `x.size · y.size · energy.size`.
    pub fn new(x: Axis, y: Axis, energy: Axis, data: Vec<f64>) -> Result<Self> {
        check_len(data.len(), x.size * y.size * energy.size, "spectrum image")?;
        if energy.size == 0 {
            return Err(Error::Invalid(
                "a spectrum image needs at least one energy channel".into(),
            ));
        }
        Ok(SpectrumImage { x, y, energy, data })
    }

    pub fn nx(&self) -> usize {
        self.x.size
    }

    pub fn ny(&self) -> usize {
        self.y.size
    }

    pub fn ne(&self) -> usize {
        self.energy.size
    }

    /// The spectrum of pixel (ix, iy).
    pub fn spectrum(&self, ix: usize, iy: usize) -> &[f64] {
        let ne = self.ne();
        let start = (iy * self.nx() + ix) * ne;
        &self.data[start..start + ne]
    }

    /// The calibrated energies of all channels.
    pub fn energies(&self) -> Vec<f64> {
        (0..self.ne()).map(|i| self.energy.value(i as f64)).collect()
    }

    /// The spectra summed along the image axis `along` (the GB direction): a 1-row spectrum image whose
    /// pixels run along the other axis. Summing before fitting is the binning that gives a line profile
    /// its counting statistics.
    pub fn sum_along(&self, along: ImageAxis) -> Result<SpectrumImage> {
        // One block spanning the whole axis `along`; a single column (along X) and a single row have the
        // same memory layout, so the result is laid out as one row either way.
        let (bx, by) = match along {
            ImageAxis::Y => (1, self.ny()),
            ImageAxis::X => (self.nx(), 1),
        };
        let summed = self.binned(bx, by)?;
        let across = match along {
            ImageAxis::Y => self.x.clone(),
            ImageAxis::X => self.y.clone(),
        };
        Ok(SpectrumImage {
            x: across,
            y: Axis::pixels(1),
            energy: summed.energy,
            data: summed.data,
        })
    }

    /// The spectra summed over blocks of `bx × by` pixels (binning before a per-pixel fit trades spatial
    /// resolution for counts: the relative counting error of a window falls by √(bx·by)). Pixels left over
    /// at the right and bottom edges, when the sizes are not multiples of the block, are dropped (as
    /// HyperSpy's `rebin(crop=True)`). Each binned axis has scale · b and its offset at the block's centre,
    /// offset + scale · (b − 1)/2.
    pub fn binned(&self, bx: usize, by: usize) -> Result<SpectrumImage> {
        if bx == 0 || by == 0 || bx > self.nx() || by > self.ny() {
            return Err(Error::Invalid(format!(
                "cannot bin {}×{} pixels in blocks of {bx}×{by}",
                self.nx(),
                self.ny()
            )));
        }
        let (nx, ny, ne) = (self.nx() / bx, self.ny() / by, self.ne());
        let mut data = vec![0.0; nx * ny * ne];
        for iy in 0..ny * by {
            for ix in 0..nx * bx {
                let k = (iy / by) * nx + ix / bx;
                for (d, s) in data[k * ne..(k + 1) * ne].iter_mut().zip(self.spectrum(ix, iy)) {
                    *d += s;
                }
            }
        }
        let bin_axis = |axis: &Axis, b: usize, size: usize| Axis {
            size,
            offset: axis.value((b as f64 - 1.0) / 2.0),
            scale: axis.scale * b as f64,
            units: axis.units.clone(),
        };
        Ok(SpectrumImage {
            x: bin_axis(&self.x, bx, nx),
            y: bin_axis(&self.y, by, ny),
            energy: self.energy.clone(),
            data,
        })
    }

    /// The image of the total counts of each pixel (summed over energy).
    pub fn total_image(&self) -> Image {
        let data = self.data.chunks(self.ne()).map(|s| s.iter().sum()).collect();
        Image {
            x: self.x.clone(),
            y: self.y.clone(),
            data,
        }
    }
}

/// An image axis: `X` runs along a row (columns index it), `Y` down the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageAxis {
    X,
    Y,
}

impl ImageAxis {
    /// The other axis.
    pub fn other(self) -> Self {
        match self {
            ImageAxis::X => ImageAxis::Y,
            ImageAxis::Y => ImageAxis::X,
        }
    }
}

/// What a file held.
#[derive(Debug, Clone, PartialEq)]
pub enum Dataset {
    Image(Image),
    SpectrumImage(SpectrumImage),
}

fn check_len(got: usize, want: usize, what: &str) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{what}: {got} values for {want} pixels")))
    }
}
