//! The one 2D image type of the crate: f64 pixels, row-major (`data[y * nx + x]`, x fastest), used alike
//! for measured SIMS images ([`crate::io`]), synthetic SIMS ([`crate::sims`]) and the image fits
//! ([`crate::fit`]). Row `y` is a line of the file (or TIFF) it was read from.

use thiserror::Error;

/// Why pixel data cannot form an image.
#[derive(Debug, Clone, Error, PartialEq)]
#[error("image of {nx} x {ny} pixels cannot hold {len} values")]
pub struct ImageSizeError {
    pub nx: usize,
    pub ny: usize,
    pub len: usize,
}

/// A 2D image of f64 values, row-major: `data[y * nx + x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub nx: usize,
    pub ny: usize,
    pub data: Vec<f64>,
}

impl Image {
    /// An image from row-major data; errors when it is empty or `data.len() != nx * ny`.
    pub fn new(nx: usize, ny: usize, data: Vec<f64>) -> Result<Self, ImageSizeError> {
        if nx == 0 || ny == 0 || data.len() != nx * ny {
            return Err(ImageSizeError {
                nx,
                ny,
                len: data.len(),
            });
        }
        Ok(Self { nx, ny, data })
    }

    /// The value at column `x`, row `y`.
    pub fn at(&self, x: usize, y: usize) -> f64 {
        self.data[y * self.nx + x]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_the_pixel_count_and_at_is_row_major() {
        let img = Image::new(3, 2, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(img.at(2, 0), 2.0);
        assert_eq!(img.at(0, 1), 3.0);
        assert_eq!(
            Image::new(3, 1, vec![0.0; 2]),
            Err(ImageSizeError { nx: 3, ny: 1, len: 2 })
        );
        assert!(Image::new(0, 0, vec![]).is_err());
    }
}
