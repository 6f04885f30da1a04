//! gbion-microscopy end to end on synthetic data with known answers (power laws, GB drops, lattices with and
//! without A-site ordering) and on DM3/DM4 fixtures checked against RosettaSciIO.

mod common;
mod dm_fixtures;
mod eels_gb;
mod haadf_images;
mod plain_arrays;
mod vib_gb;
