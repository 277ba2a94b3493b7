//! Fuzzes compilation plus diagnostic rendering: every diagnostic the
//! compiler produces must render, as text and as JSON, without panicking.
#![no_main]

use flow_compiler::render::{self, HumanStyle, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let output = flow_compiler::compile(text, "f.flow");
    let file = SourceFile::new("f.flow", text);
    for d in &output.diagnostics {
        let _ = render::human(&file, d, HumanStyle { color: false, width: 80 });
        let _ = render::json(&file, d);
    }
});
