//! gbion-microscopy owns the electron-microscopy side of a grain boundary: readers for Gatan DM3/DM4 and
//! plain arrays, core-loss and vibrational EELS (backgrounds, edge windows, maps, GB line profiles) and
//! HAADF intensity profiles and FFT superlattice detection.

pub mod array;
pub mod background;
pub mod data;
pub mod dm;
pub mod edges;
pub mod eels;
pub mod error;
pub mod haadf;
pub mod profile;
pub mod vib;

pub use data::{Axis, Dataset, Image, SpectrumImage};
pub use error::{Error, Result};
