//! `gbion analyze diffusion` and `gbion analyze arrhenius`.

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args)]
pub struct DiffusionArgs {}

#[derive(Args)]
pub struct ArrheniusArgs {}

pub fn diffusion(_args: DiffusionArgs) -> Result<()> {
    bail!("gbion analyze diffusion is not available yet")
}

pub fn arrhenius(_args: ArrheniusArgs) -> Result<()> {
    bail!("gbion analyze arrhenius is not available yet")
}
