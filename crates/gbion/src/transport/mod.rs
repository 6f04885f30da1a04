//! `gbion transport ...`: each group of subcommands lives in its own module and is flattened in here.

mod common;
mod inversion;
mod models;
mod simulate;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TransportCmd {
    #[command(flatten)]
    Inversion(inversion::InversionCmd),
    #[command(flatten)]
    Models(models::ModelsCmd),
    #[command(flatten)]
    Simulate(simulate::SimulateCmd),
}

pub fn run(cmd: TransportCmd) -> Result<()> {
    match cmd {
        TransportCmd::Inversion(c) => inversion::run(c),
        TransportCmd::Models(c) => models::run(c),
        TransportCmd::Simulate(c) => simulate::run(c),
    }
}
