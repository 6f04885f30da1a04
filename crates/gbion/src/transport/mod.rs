//! `gbion transport ...`: each group of subcommands lives in its own module and is flattened in here.

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TransportCmd {}

pub fn run(cmd: TransportCmd) -> Result<()> {
    match cmd {}
}
