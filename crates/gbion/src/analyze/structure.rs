//! `gbion analyze ordering` and `gbion analyze gb`.

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args)]
pub struct OrderingArgs {}

#[derive(Args)]
pub struct GbArgs {}

pub fn ordering(_args: OrderingArgs) -> Result<()> {
    bail!("gbion analyze ordering is not available yet")
}

pub fn gb(_args: GbArgs) -> Result<()> {
    bail!("gbion analyze gb is not available yet")
}
