//! (module being written: see the owner's commit)
