//! The features of the server, one module each. Every handler is a plain
//! function of a document's [`Analysis`](crate::store::Analysis) and the
//! request's parameters, so it can be read and tested apart from the protocol.

pub mod actions;
pub mod completion;
pub mod context;
pub mod diagnostics;
pub mod fixes;
pub mod folding;
pub mod formatting;
pub mod hover;
pub mod lookup;
pub mod navigation;
pub mod semantic;
pub mod symbols;
