//! `gbion build`: perovskite supercells and CSL grain-boundary bicrystals (gbion-build).

use anyhow::{Result, bail};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BuildCmd {
    /// A perovskite supercell from a formula (in progress).
    Perovskite,
}

pub fn run(_cmd: BuildCmd) -> Result<()> {
    bail!("gbion build is not available yet")
}
