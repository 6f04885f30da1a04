//! The A-site ordering parameter S (paper 000, Fig. 2b; core in [`crate::ordering`]) along a trajectory,
//! and the mean ± standard deviation of any per-frame quantity.
//!
//! The layering axis is the one given, or the one [`a_site_ordering`] finds on the first frame; it is kept
//! for every later frame, so the series follows one set of layers (as paper 000 follows S of its MC/MD runs
//! from the ordered start) instead of jumping between axes where S is near 0.

use crate::ordering::{AsiteOrdering, a_site_ordering, a_site_ordering_of};
use crate::{Error, Result};
use gbion_atoms::Structure;

/// Mean and standard deviation of a per-frame quantity over frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1); 0 for a single frame.
    pub std: f64,
}

impl MeanStd {
    /// Mean and sample standard deviation of `values` (at least one).
    pub fn of(values: &[f64]) -> MeanStd {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        MeanStd { mean, std }
    }
}

/// S of every frame of a trajectory and its statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderingSeries {
    /// The ordering of each frame, in order; all along the same axis.
    pub frames: Vec<AsiteOrdering>,
    /// Mean ± standard deviation of S over the frames.
    pub s: MeanStd,
}

/// S along `frames`, on lattice `axis` (0, 1, 2) or the axis found on the first frame. Errors name the
/// frame (0-based) that could not be read or analysed.
pub fn ordering_series<I>(frames: I, axis: Option<usize>) -> Result<OrderingSeries>
where
    I: IntoIterator<Item = gbion_atoms::Result<Structure>>,
{
    let mut series: Vec<AsiteOrdering> = Vec::new();
    for (index, frame) in frames.into_iter().enumerate() {
        let in_frame = |e: Error| Error::Invalid(format!("frame {index}: {e}"));
        let frame = frame.map_err(|e| in_frame(e.into()))?;
        let ordering = match series.first() {
            None => a_site_ordering(&frame, axis),
            Some(first) => a_site_ordering_of(&frame, Some(first.axis), first.species),
        }
        .map_err(in_frame)?;
        series.push(ordering);
    }
    if series.is_empty() {
        return Err(Error::Invalid("the trajectory has no frames".into()));
    }
    let s: Vec<f64> = series.iter().map(|o| o.s).collect();
    Ok(OrderingSeries {
        s: MeanStd::of(&s),
        frames: series,
    })
}
