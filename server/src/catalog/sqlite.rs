//! The SQLite catalog (to be written).

/// The catalog's tables in the run store's SQLite file.
pub struct SqliteCatalog;
