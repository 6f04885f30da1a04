//! `gbion analyze`: analyses of simulations (gbion-analysis): diffusion and conductivity, Arrhenius fits,
//! the A-site ordering parameter, grain-boundary composition and energy.

mod diffusion;
mod structure;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AnalyzeCmd {
    /// Tracer and charge diffusivity, Haven ratio and Nernst–Einstein conductivity from a trajectory.
    Diffusion(diffusion::DiffusionArgs),
    /// Arrhenius fit of D or σT over temperatures from a CSV table.
    Arrhenius(diffusion::ArrheniusArgs),
    /// A-site ordering parameter S, with the layering axis found automatically.
    Ordering(structure::OrderingArgs),
    /// Grain-boundary planes, composition profiles, region diffusivities and GB energy.
    Gb(structure::GbArgs),
}

pub fn run(cmd: AnalyzeCmd) -> Result<()> {
    match cmd {
        AnalyzeCmd::Diffusion(args) => diffusion::diffusion(args),
        AnalyzeCmd::Arrhenius(args) => diffusion::arrhenius(args),
        AnalyzeCmd::Ordering(args) => structure::ordering(args),
        AnalyzeCmd::Gb(args) => structure::gb(args),
    }
}
