//! `gbion transport ...`: each group of subcommands lives in its own module and is flattened in here.

mod models;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TransportCmd {
    #[command(flatten)]
    Models(models::ModelsCmd),
}

pub fn run(cmd: TransportCmd) -> Result<()> {
    match cmd {
        TransportCmd::Models(c) => models::run(c),
    }
}
