//! The moment tensor potential (Shapeev 2016), evaluated as the MLIP package does (in progress).
