//! The interpreter of compiled `.flow` graphs (issue 5): it will depend on
//! `flow-graph` only, never on the compiler front end. Empty for now.
