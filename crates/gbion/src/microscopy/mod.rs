//! `gbion eels` and `gbion haadf`: electron microscopy across grain boundaries (gbion-microscopy). Inputs are
//! DM3/DM4 files or plain arrays (`.npy`, CSV/TSV, TIFF) calibrated by a TOML sidecar or flags (`input`);
//! the GB geometry options are shared (`gb`).

mod eels;
mod gb;
mod haadf;
mod input;
mod simulated;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum EelsCmd {
    /// Core-loss EELS line profile across a GB: power-law background, edge integration, GB-vs-grain change
    /// per element with its uncertainty, overlapping edges flagged; optional maps and the simulated profile
    /// beside it.
    Profile(eels::ProfileArgs),
    /// Vibrational EELS (10–150 meV): ZLP-tail background removed, window profiles and GB-vs-grain changes.
    Vib(eels::VibArgs),
}

#[derive(Subcommand)]
pub enum HaadfCmd {
    /// HAADF intensity profile across a GB: GB direction and position, change at the GB, atomic columns.
    Profile(haadf::ProfileArgs),
    /// FFT of a region: lattice spots and half-order (superlattice) spots from A-site ordering.
    Fft(haadf::FftArgs),
}

pub fn eels(cmd: EelsCmd) -> Result<()> {
    match cmd {
        EelsCmd::Profile(args) => eels::profile(args),
        EelsCmd::Vib(args) => eels::vib(args),
    }
}

pub fn haadf(cmd: HaadfCmd) -> Result<()> {
    match cmd {
        HaadfCmd::Profile(args) => haadf::profile(args),
        HaadfCmd::Fft(args) => haadf::fft(args),
    }
}
