//! `gbion eels` and `gbion haadf`: electron microscopy across grain boundaries (gbion-microscopy).

use anyhow::{Result, bail};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum EelsCmd {
    /// Core-loss EELS line profile across a GB (in progress).
    Profile,
}

#[derive(Subcommand)]
pub enum HaadfCmd {
    /// HAADF intensity profile across a GB (in progress).
    Profile,
}

pub fn eels(_cmd: EelsCmd) -> Result<()> {
    bail!("gbion eels is not available yet")
}

pub fn haadf(_cmd: HaadfCmd) -> Result<()> {
    bail!("gbion haadf is not available yet")
}
