//! `gbion eval`: energies, forces, stresses and per-atom energies of structures with a potential.

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args)]
pub struct EvalArgs {}

pub fn run(_args: EvalArgs) -> Result<()> {
    bail!("gbion eval is not available yet")
}
