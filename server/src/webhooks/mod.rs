//! Webhooks' self-contained parts (SERVER.md "Webhooks"): Standard Webhooks
//! signatures ([`sign`]), which addresses a webhook may reach ([`address`],
//! the refused blocks in [`ranges`]), the client that sends them with a
//! resolver that enforces that on every connection ([`connect`]), and when a
//! failed delivery is tried again ([`retry`]).

pub mod address;
pub mod connect;
pub mod ranges;
pub mod retry;
pub mod sign;
