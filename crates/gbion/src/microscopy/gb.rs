//! The GB geometry options shared by `gbion eels profile|vib` and `gbion haadf profile`: which image axis the
//! GB runs along (given, or found from an image), where it is on the profile (given, or the deepest dip) and
//! the GB and grain windows of the comparison.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use gbion_microscopy::Image;
use gbion_microscopy::data::ImageAxis;
use gbion_microscopy::haadf::{GbDirection, gb_direction};
use gbion_microscopy::profile::{GbChange, GbWindows, LineProfile, dip_index};
use serde::Serialize;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GbAxisArg {
    X,
    Y,
    Auto,
}

#[derive(Args, Debug, Clone)]
pub struct GbArgs {
    /// Image axis the GB runs along; the profile runs across it and is integrated along it. `y`: a vertical
    /// GB (profile along x, as in paper 000's figures); `auto`: from the image's structure tensor.
    #[arg(long, value_enum, default_value_t = GbAxisArg::Auto)]
    pub gb_axis: GbAxisArg,
    /// GB position along the profile, pixels (default: the deepest common dip of the profiles).
    #[arg(long)]
    pub gb_position: Option<usize>,
    /// Full width of the GB window, pixels (odd; the GB position ± half of it).
    #[arg(long, default_value_t = 3)]
    pub gb_width: usize,
    /// Grain windows as pixel distances from the GB, "A-B", on both sides.
    #[arg(long, default_value = "4-15")]
    pub grain_window: String,
    /// Smoothing width, pixels, for the automatic GB direction (box blur) and dip (moving average); for
    /// `haadf profile` also the averaging width of the GB change (set it to the column period).
    #[arg(long, default_value_t = 5)]
    pub smooth: usize,
}

/// Where the GB is and how it was found; distances in the units of the profile axis.
#[derive(Debug, Clone, Serialize)]
pub struct GbGeometry {
    /// The image axis the GB runs along.
    pub gb_along: ImageAxis,
    /// The direction found from the image (`--gb-axis auto`).
    pub direction: Option<GbDirection>,
    pub gb_index: usize,
    pub gb_position: f64,
    pub units: String,
    pub windows: GbWindows,
}

impl GbArgs {
    /// The axis the GB runs along, from the option or from `image()` (the structure tensor).
    pub fn axis(&self, image: impl FnOnce() -> Result<Image>) -> Result<(ImageAxis, Option<GbDirection>)> {
        Ok(match self.gb_axis {
            GbAxisArg::X => (ImageAxis::X, None),
            GbAxisArg::Y => (ImageAxis::Y, None),
            GbAxisArg::Auto => {
                let direction = gb_direction(&image()?, self.smooth)?;
                (direction.nearest_axis, Some(direction))
            }
        })
    }

    /// The GB and grain windows on profiles of this length: the given position, or the common dip.
    pub fn windows(&self, profiles: &[&[f64]]) -> Result<GbWindows> {
        let (inner, outer) = self
            .grain_window
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse::<usize>().ok()?, b.trim().parse::<usize>().ok()?)))
            .with_context(|| {
                format!(
                    "--grain-window {:?}: expected A-B in pixels, e.g. 4-15",
                    self.grain_window
                )
            })?;
        let half = self.gb_width / 2;
        if inner <= half || outer < inner {
            bail!("--grain-window {inner}-{outer} must start beyond the GB half-width {half} and end after it starts");
        }
        let n = profiles.first().map_or(0, |p| p.len());
        let gb_index = match self.gb_position {
            Some(p) if p < n => p,
            Some(p) => bail!("--gb-position {p} is outside the profile (0..{n})"),
            None => dip_index(profiles, self.smooth)?,
        };
        Ok(GbWindows {
            gb_index,
            gb_half_width: half,
            grain_inner: inner,
            grain_outer: outer,
        })
    }
}

/// A profile as reported: distances from the GB, values, 1σ.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileReport {
    pub distance: Vec<f64>,
    pub value: Vec<f64>,
    pub sigma: Vec<f64>,
}

impl ProfileReport {
    pub fn new(profile: &LineProfile, gb_index: usize) -> Self {
        let origin = profile.position[gb_index];
        ProfileReport {
            distance: profile.position.iter().map(|p| p - origin).collect(),
            value: profile.value.clone(),
            sigma: profile.sigma.clone(),
        }
    }
}

/// One line of the human summary for a GB change.
pub fn describe_change(change: &GbChange) -> String {
    format!(
        "GB change {:+.1} ± {:.1} % (counting + background; grain scatter ± {:.1} %)",
        change.gb_change_percent,
        change.gb_change_err_percent,
        100.0 * change.grain_scatter_err / change.grain_mean.abs()
    )
}
