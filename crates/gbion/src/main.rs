//! The `gbion` binary: composes the library crates into subcommands. Every analysis prints a human summary,
//! or a stable JSON object with `--json`; errors go to stderr with a non-zero exit status.

mod output;
mod plot;
mod transport;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gbion",
    version,
    about = "Li transport through grains and grain boundaries, from atoms to SIMS images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tracer diffusion in polycrystals: models, forward simulation, SIMS inversion (paper 003).
    #[command(subcommand)]
    Transport(transport::TransportCmd),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transport(cmd) => transport::run(cmd),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
