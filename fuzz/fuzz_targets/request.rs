//! Request bodies and query strings of `flow serve`: whatever the bytes, a
//! typed value or a 422 problem, never a panic.
#![no_main]

use flow_server::body;
use flow_server::routes::{reviews, runs, workflows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = body::parse::<runs::StartBody>(data);
    let _ = body::parse::<runs::MessageBody>(data);
    let _ = body::parse::<workflows::RevisionBody>(data);
    let _ = body::parse::<workflows::SettingsBody>(data);
    let _ = body::parse::<reviews::ApprovalBody>(data);
    let _ = body::parse::<reviews::ReturnBody>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = body::query::<body::Page>(Some(text));
        let _ = body::limit(Some(text));
        let _ = body::number_cursor(Some(text));
    }
});
