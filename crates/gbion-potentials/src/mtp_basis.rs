//! Generation of the untrained MTP basis of any level from the level definition (in progress).
